"""Is a 28x28 digit already framed as MNIST frames its digits? Then it is taken as it is, bit for bit.

MNIST scaled each digit's box into 20x20 and placed it by its centre of mass at pixel 14.0, on black.
Measured on all 60,000 MNIST training digits (../shared/data/mnist-60k.npz): the box of the pixels above a
tenth of the brightest is at most 20 pixels long for every one, and the centre of mass lies within half a
pixel of 14.0 on both axes (it was placed by whole pixels) for all but two, which are 0.507 and 0.520 off
(MNIST's own rounding); so 0.55 is allowed and every one of the 60,000 passes. A crop framed by other
rules (a digit 24-26 pixels tall, centred by its box), a scan with a grey page or a digit touching the
edge fails one of these and is located and framed again like a photo.
"""

from __future__ import annotations

import numpy as np

from ..spec import IMAGE_SIDE

MNIST_BOX = 20  # the longest side of MNIST's digit boxes
INK = 0.1  # a pixel is ink above this share of the digit's brightest
CENTRE = IMAGE_SIDE / 2  # MNIST's centre of mass, pixel index 14.0
CENTRE_SLACK = 0.55  # placed by whole pixels: half a pixel off, and MNIST's own rounding


def mnist_framed(digits: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) white-on-black digits -> bool (N,): framed as MNIST frames its digits.
    Works on row and column profiles only (maxima and sums): a few microseconds per digit."""
    digits = digits.reshape(-1, IMAGE_SIDE, IMAGE_SIDE)
    if len(digits) == 1:  # compress reads picture files one at a time: a third of the numpy calls
        return np.array([_one_framed(digits[0])])
    row_max, column_max = digits.max(axis=2), digits.max(axis=1)
    brightest = row_max.max(axis=1, keepdims=True).astype(np.float32)
    threshold = INK * brightest
    boxed = (_extent(row_max > threshold) <= MNIST_BOX) & (_extent(column_max > threshold) <= MNIST_BOX)
    rows, columns = np.einsum("nij->ni", digits, dtype=np.int32), np.einsum("nij->nj", digits, dtype=np.int32)
    return (brightest[:, 0] > 0) & boxed & _centred(rows) & _centred(columns)


def _one_framed(digit: np.ndarray) -> bool:
    """mnist_framed of one digit with the same arithmetic (a float32 threshold, exact integer profiles), on
    28-value profiles in plain Python: fewer numpy calls, each of which costs more than the work."""
    row_max, column_max = digit.max(axis=1).tolist(), digit.max(axis=0).tolist()
    brightest = max(row_max)
    if brightest == 0:
        return False
    threshold = float(np.float32(INK) * np.float32(brightest))
    for line in (row_max, column_max):
        ink = [index for index, value in enumerate(line) if value > threshold]
        if ink[-1] - ink[0] + 1 > MNIST_BOX:
            return False
    profiles = (digit.sum(axis=1, dtype=np.int32).tolist(), digit.sum(axis=0, dtype=np.int32).tolist())
    return all(abs(_centre_of(profile) - CENTRE) <= CENTRE_SLACK for profile in profiles)


def _centre_of(profile: list[int]) -> float:
    return sum(index * value for index, value in enumerate(profile)) / max(sum(profile), 1)


def _extent(lines: np.ndarray) -> np.ndarray:
    """(N, 28) bool rows (or columns) holding ink -> the span from the first to the last, per digit."""
    first = lines.argmax(axis=1)
    last = IMAGE_SIDE - 1 - lines[:, ::-1].argmax(axis=1)
    return np.where(lines.any(axis=1), last - first + 1, 0)


def _centred(profile: np.ndarray) -> np.ndarray:
    """(N, 28) ink per row (or column) -> its centre of mass is MNIST's, within the slack."""
    total = np.maximum(profile.sum(axis=1), 1)
    centre = (profile @ np.arange(IMAGE_SIDE)) / total
    return np.abs(centre - CENTRE) <= CENTRE_SLACK
