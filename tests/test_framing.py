"""28x28 inputs: taken as they are when MNIST could have framed them, located and framed again otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime.pictures.framed import mnist_framed
from aeonnx.runtime.pictures.images import preprocess

from . import real_documents
from .helpers import invoke
from .real_inputs import as_features


@pytest.fixture(scope="module")
def other_rules(mnist):
    rng = np.random.default_rng(22)
    return np.stack([np.asarray(real_documents.other28(digit, rng, None)[0]) for digit in mnist["x_test"][:300]])


def test_every_mnist_digit_is_taken_as_it_is(mnist):
    digits = np.concatenate([mnist["x_train"], mnist["x_test"]])
    assert mnist_framed(digits).all()
    for digit in digits[:50]:
        assert np.array_equal(preprocess(Image.fromarray(digit)), digit)
        assert np.array_equal(preprocess(Image.fromarray(255 - digit)), digit)  # dark on light: only inverted


def test_one_digit_is_judged_as_a_batch_judges_it(mnist, other_rules):
    """mnist_framed has a path of its own for one digit (compress reads files one at a time): the same answer
    on MNIST digits, on them shifted, on crops framed by other rules, on noise, sparse dots and black."""
    rng = np.random.default_rng(3)
    digits = mnist["x_test"][:500]
    shifted = np.stack([np.roll(digit, tuple(rng.integers(-2, 3, 2)), (0, 1)) for digit in digits])
    noise = rng.integers(0, 256, (100, 28, 28), dtype=np.uint8)
    dots = (rng.random((100, 28, 28)) < 0.01).astype(np.uint8) * 255
    cases = np.concatenate([digits, shifted, other_rules, noise, dots, np.zeros((1, 28, 28), np.uint8)])
    judged = mnist_framed(cases)
    assert 0 < judged.sum() < len(cases)
    assert [bool(mnist_framed(case)[0]) for case in cases] == judged.tolist()


def test_crops_by_other_rules_are_framed_again_and_keep_their_class(other_rules, mnist, ae, digit_classifier):
    assert not mnist_framed(other_rules).any()
    located = np.stack([preprocess(Image.fromarray(crop)) for crop in other_rules])
    assert mnist_framed(located).mean() > 0.95  # framed as MNIST frames its digits (a few touch the 20x20 box)
    labels = mnist["y_test"][: len(other_rules)]

    def kept(digits):
        return float(np.mean(digit_classifier.predict(as_features(ae.decode(ae.encode(digits)))) == labels))

    reference, as_they_were, framed_again = kept(mnist["x_test"][: len(other_rules)]), kept(other_rules), kept(located)
    print(
        f"\n28x28 crops by other rules: class kept {as_they_were:.1%} as they were, {framed_again:.1%} framed again, "
        f"{reference:.1%} for the MNIST digits themselves ({len(other_rules)} digits)"
    )
    assert framed_again >= reference - 0.05 and as_they_were < reference - 0.2, (framed_again, reference)


def test_fit_takes_a_28x28_image_as_it_is(other_rules):
    crop = other_rules[0]
    assert np.array_equal(preprocess(Image.fromarray(crop), framing="fit"), crop)
    assert not np.array_equal(preprocess(Image.fromarray(crop)), crop)


def test_arrays_are_taken_as_they_are(other_rules, mnist, tmp_path):
    """An array file holds a data set's digits, framed by its own rules: the codes of the digits as given,
    as image files give them with --fit; as image files, the crops by other rules are framed again."""
    digits = np.concatenate([mnist["x_test"][:5], other_rules[:5]])
    np.save(tmp_path / "digits.npy", digits)
    (tmp_path / "pngs").mkdir()
    for index, digit in enumerate(digits):
        Image.fromarray(digit).save(tmp_path / "pngs" / f"{index:02d}.png")

    def codes(*args):
        result = invoke("encode", *args)
        assert result.exit_code == 0, result.output
        return [line.split('"z":')[1] for line in result.stdout.splitlines()]

    files = sorted((tmp_path / "pngs").iterdir())
    from_array = codes(tmp_path / "digits.npy")
    assert from_array == codes(*files, "--fit")
    located = codes(*files)
    assert located[:5] == from_array[:5] and all(a != b for a, b in zip(located[5:], from_array[5:]))
