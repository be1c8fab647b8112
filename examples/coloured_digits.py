"""Colour pictures to train on, where no camera could be used: MNIST digits from the repository, padded to
32x32, with ink and paper of their own colour per picture. docs/your-own-images.md trains on them.

    python examples/coloured_digits.py OUT_FOLDER [--count N] [--start I]
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

DIGITS = Path(__file__).resolve().parent.parent / "tests" / "data" / "mnist-10k.npz"


def coloured(digits: np.ndarray, seed: int) -> np.ndarray:
    """uint8 (N, 32, 32, 3): each digit padded by 2, its ink one colour and its paper the opposite one."""
    padded = np.pad(digits, ((0, 0), (2, 2), (2, 2)))[..., None] / 255
    tint = np.random.default_rng(seed).integers(0, 256, (len(digits), 1, 1, 3))
    return np.rint(padded * tint + (1 - padded) * (255 - tint)).astype(np.uint8)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--start", type=int, default=0)
    args = parser.parse_args()
    with np.load(DIGITS) as mnist:
        digits = mnist["x_train"][args.start : args.start + args.count]
    args.out.mkdir(parents=True, exist_ok=True)
    for index, picture in enumerate(coloured(digits, args.start), start=args.start):
        Image.fromarray(picture).save(args.out / f"picture_{index:05d}.png")
