"""One command for every figure of docs/benchmarks.md.

    python -m bench.run [--quick] [--data PATH] [--train-data PATH] [--only speed|rd|int8|levels]

Prints the tables and writes bench/results/results.json (the sections it ran, each with the date,
machine and command that measured it; `--only` replaces that one section) and the plots
bench/results/rate_distortion.png and quality_levels.png (the quality knob: bench/quality_levels.py);
`python -m bench.report` turns the results into docs/benchmarks.md.
Needs the [train] extra (for the Keras comparisons and the AE variants). Timings are medians over
repeated, interleaved runs, with min-max; ratios are taken within one run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .common import DEFAULT_DATA, RESULTS, TRAIN_DATA, machine
from .report import render


def int8_report(data: Path) -> dict:
    """Size, speed and quality of the shipped int8 copies against float32."""
    import numpy as np

    from aeonnx.runtime import load, metrics, spec
    from aeonnx.runtime.model import shipped_models_dir

    from .common import per_call, summary

    with np.load(data) as archive:
        digits = archive["x_test"]
    x = digits.reshape(len(digits), -1).astype(np.float32) / 255
    many = np.resize(digits, (10_000, 28, 28))
    report = {}
    for name in spec.MODEL_NAMES:
        for variant in spec.VARIANTS:
            model = load(name, device="cpu", variant=variant)
            model_spec = spec.get_model(name)
            size = sum(
                shipped_models_dir().joinpath(model_spec.onnx_file(p.name, variant)).read_bytes().__len__()
                for p in model_spec.parts
            )
            z = model.encode(many)
            report[f"{name} {variant}"] = {
                "bytes": size,
                "psnr": metrics.psnr(x, model.decode(model.encode(digits), as_float=True)),
                "encode_batch1_seconds": summary(per_call(lambda: model.encode(digits[:1]), 1000)),
                "encode_images_per_s": summary([10_000 / t for t in per_call(lambda: model.encode(many), 5)]),
                "decode_images_per_s": summary([10_000 / t for t in per_call(lambda: model.decode(z), 5)]),
            }
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="Keras-layout mnist.npz")
    parser.add_argument(
        "--train-data", type=Path, default=TRAIN_DATA, help="what the rate-distortion AE family trains on (as shipped)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds, no AE variants: a smoke run")
    parser.add_argument("--only", choices=("speed", "rd", "int8", "levels"), help="run one section")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for results.json and the plot")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"bench: {args.data}: no such file; pass --data PATH to a Keras-layout mnist.npz", file=sys.stderr)
        return 1
    if args.only in (None, "rd", "levels") and not args.quick and not args.train_data.is_file():
        print(f"bench: {args.train_data}: no such file; pass --train-data PATH (all of MNIST)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    report = _previous(args.out / "results.json")
    command = "python -m bench.run" + (f" --only {args.only}" if args.only else "") + (" --quick" if args.quick else "")
    measured = {"date": datetime.date.today().isoformat(), "command": command, "machine": machine()}
    sections = {"speed": "speed", "int8": "int8", "rd": "rate_distortion", "levels": "quality_levels"}
    ran = [section for only, section in sections.items() if args.only in (None, only)]
    report.setdefault("measured", {}).update(dict.fromkeys(ran, measured))
    if args.only in (None, "speed"):
        from .speed import run_speed

        report["speed"] = run_speed(args.data, args.quick)
        print(render("speed", report["speed"]))
    if args.only in (None, "int8"):
        report["int8"] = int8_report(args.data)
        print(render("int8", report["int8"]))
    if args.only in (None, "rd"):
        from .rate_distortion import plot, run_rate_distortion

        report["rate_distortion"] = run_rate_distortion(args.data, args.train_data, args.out / "cache", args.quick)
        print(render("rate_distortion", report["rate_distortion"]))
        plot(report["rate_distortion"], args.out / "rate_distortion.png")
    if args.only in (None, "levels") and not args.quick:
        from . import quality_levels

        report["quality_levels"] = quality_levels.run_quality_levels(args.data, args.train_data)
        print(render("quality_levels", report["quality_levels"]))
        quality_levels.plot(report["quality_levels"], args.out / "quality_levels.png")
    (args.out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out / 'results.json'}; python -m bench.report writes docs/benchmarks.md", file=sys.stderr)
    return 0


def _previous(path: Path) -> dict:
    """The results measured before: a run of one section keeps the others."""
    return json.loads(path.read_text()) if path.is_file() else {}


if __name__ == "__main__":
    sys.exit(main())
