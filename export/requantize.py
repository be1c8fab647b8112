"""Make the int8 copies of exported models again, when export/quantize.py's method changes:

    python -m aeonnx.export.requantize MODELS_DIR MODEL=RUN_DIR...

from their float32 files as they are (same bytes, same model ids) and the validation digits of their
training runs, then those of the model history (export/history.py). artifacts/requantize.sh runs it on
the shipped models. No TensorFlow needed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aeonnx.runtime.errors import AeonnxError

from . import history
from .exporter import requantize


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or not all("=" in arg for arg in args[1:]):
        print("usage: python -m aeonnx.export.requantize MODELS_DIR MODEL=RUN_DIR...", file=sys.stderr)
        return 2
    models_dir = Path(args[0])
    try:
        for model_name, run_dir in (arg.split("=", 1) for arg in args[1:]):
            quality = requantize(model_name, Path(run_dir), models_dir)["quality"]
            print(f"{model_name}: int8 copies made again, PSNR drop {quality['psnr_drop']:.3f} dB")
        for folder in history.requantize(models_dir):
            print(f"{folder}: int8 copies made again")
    except AeonnxError as e:
        print(f"aeonnx: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
