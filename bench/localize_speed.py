"""What localisation costs: per 640x480 photo in-process, and the cold start of `aeonnx compress`.

    python -m bench.localize_speed [--rounds 15] [--data PATH]

The photos are the rendered real inputs (tests/real_inputs.py) of 640x480; the cold starts compare a
plain 28x28 PNG (which never loads the localiser) with a 640x480 JPEG photo, interleaved.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

import numpy as np

from tests import real_inputs

from .common import DEFAULT_DATA, aeonnx_command, interleaved, span, summary, table, timed_process


def photos(data: Path) -> list:
    from PIL import Image

    with np.load(data) as archive:
        made = real_inputs.real_inputs(archive["x_test"], archive["y_test"], 300, seed=0)
    loaded = []
    for item in made:
        image = Image.open(io.BytesIO(item.data))
        if image.size == (640, 480):
            image.load()
            loaded.append(image)
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    from aeonnx.runtime.pictures.localize import locate_steps

    images = photos(args.data)
    locate_steps(images[0])  # warm-up
    per_photo = []
    for image in images:
        started = time.perf_counter()
        locate_steps(image)
        per_photo.append(time.perf_counter() - started)
    print(f"locate_steps per 640x480 photo: {span(summary(per_photo))} over {len(images)} photos")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        with np.load(args.data) as archive:
            from PIL import Image

            Image.fromarray(archive["x_test"][0]).save(folder / "one.png")
        images[0].save(folder / "photo.jpg", quality=85)
        command = aeonnx_command()
        runs = {
            name: (
                lambda name=name: timed_process([*command, "compress", name, "-o", "x.aez", "--force"], cwd=folder)[0]
            )
            for name in ("one.png", "photo.jpg")
        }
        results = interleaved(runs, args.rounds)
    print(
        table(
            [[f"`aeonnx compress {name}`", span(stats)] for name, stats in results.items()],
            ["command", f"wall time, median (min-max) of {args.rounds}"],
        )
    )


if __name__ == "__main__":
    main()
