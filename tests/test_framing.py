"""28x28 inputs: taken as they are when MNIST could have framed them, located and framed again otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime.pictures.framed import mnist_framed
from aeonnx.runtime.pictures.images import preprocess

from .helpers import invoke
from .real_inputs import as_features


def box_centred(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit cropped to 28x28 by another data set's rules: its box scaled to 24-26 px tall, centred by the box."""
    rows, columns = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    box = digit[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1].astype(np.float32)
    height = int(rng.integers(24, 27))
    width = min(28, max(1, round(box.shape[1] * height / box.shape[0])))
    scaled = np.asarray(Image.fromarray(box).resize((width, height), Image.Resampling.BICUBIC))
    crop = np.zeros((28, 28), np.float32)
    top, left = (28 - height) // 2, (28 - width) // 2
    crop[top : top + height, left : left + width] = scaled
    return np.clip(np.rint(crop), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def other_rules(mnist):
    rng = np.random.default_rng(22)
    return np.stack([box_centred(digit, rng) for digit in mnist["x_test"][:300]])


def test_every_mnist_digit_is_taken_as_it_is(mnist):
    digits = np.concatenate([mnist["x_train"], mnist["x_test"]])
    assert mnist_framed(digits).all()
    for digit in digits[:50]:
        assert np.array_equal(preprocess(Image.fromarray(digit)), digit)
        assert np.array_equal(preprocess(Image.fromarray(255 - digit)), digit)  # dark on light: only inverted


def test_crops_by_other_rules_are_framed_again_and_keep_their_class(other_rules, mnist, ae, digit_classifier):
    assert not mnist_framed(other_rules).any()
    located = np.stack([preprocess(Image.fromarray(crop)) for crop in other_rules])
    assert mnist_framed(located).mean() > 0.95  # framed as MNIST frames its digits (a few touch the 20x20 box)
    labels = mnist["y_test"][: len(other_rules)]

    def kept(digits):
        return float(np.mean(digit_classifier.predict(as_features(ae.decode(ae.encode(digits)))) == labels))

    reference = kept(mnist["x_test"][: len(other_rules)])
    assert kept(located) >= reference - 0.05 and kept(other_rules) < reference - 0.2, (kept(located), reference)


def test_fit_takes_a_28x28_image_as_it_is(other_rules):
    crop = other_rules[0]
    assert np.array_equal(preprocess(Image.fromarray(crop), framing="fit"), crop)
    assert not np.array_equal(preprocess(Image.fromarray(crop)), crop)


def test_arrays_are_framed_as_image_files_are(other_rules, mnist, tmp_path):
    digits = np.concatenate([mnist["x_test"][:5], other_rules[:5]])
    np.save(tmp_path / "digits.npy", digits)
    (tmp_path / "pngs").mkdir()
    for index, digit in enumerate(digits):
        Image.fromarray(digit).save(tmp_path / "pngs" / f"{index:02d}.png")
    for extra, name in (([], "located"), (["--fit"], "as-is")):
        from_array = invoke("encode", tmp_path / "digits.npy", *extra)
        from_files = invoke("encode", *sorted((tmp_path / "pngs").iterdir()), *extra)
        assert from_array.exit_code == from_files.exit_code == 0, from_array.output + from_files.output
        codes = [line.split('"z":')[1] for line in from_array.stdout.splitlines()]
        assert codes == [line.split('"z":')[1] for line in from_files.stdout.splitlines()], name
