"""Shapes that are not digits get a warning that says what they are; no real digit does."""

from __future__ import annotations

import numpy as np

from aeonnx.runtime.pictures import shapes


def drawn(*boxes) -> np.ndarray:
    """A 28x28 frame (floats, flat) with ink in each (top, bottom, left, right) box, and holes: negative boxes."""
    digit = np.zeros((28, 28), np.float32)
    for top, bottom, left, right, value in boxes:
        digit[top:bottom, left:right] = value
    return digit.reshape(1, -1)


def test_a_line_a_block_and_a_frame_are_named():
    assert shapes.concerns(drawn((13, 15, 4, 24, 1))) == [shapes.LINE]
    assert shapes.concerns(drawn((4, 24, 8, 20, 1))) == [shapes.BLOCK]
    frame_around_a_one = drawn((4, 24, 4, 24, 1), (7, 21, 7, 21, 0), (10, 18, 13, 15, 1))
    assert shapes.concerns(frame_around_a_one) == [shapes.FRAME]


def test_no_real_digit_and_no_noise_is_called_a_shape(mnist):
    digits = np.concatenate([mnist["x_train"], mnist["x_test"]])
    assert set(shapes.concerns(digits.reshape(len(digits), -1) / 255.0)) == {None}
    noise = np.random.default_rng(0).random((50, 784)).astype(np.float32)
    assert set(shapes.concerns(noise)) == {None}


def test_the_warning_says_what_was_found(ae):
    line = (drawn((13, 15, 4, 24, 1)) * 255).astype(np.uint8).reshape(1, 28, 28)
    assert ae.assess(line).warnings == [shapes.LINE]
