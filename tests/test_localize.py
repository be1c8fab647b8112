"""Digit localisation (runtime/localize.py): where it looks, what it keeps, and what it returns for inspect."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from aeonnx.cli import app
from aeonnx.runtime import spec
from aeonnx.runtime.aez import codefile
from aeonnx.runtime.pictures import localize, strokes
from aeonnx.runtime.pictures.images import preprocess, read_image

runner = CliRunner()


@pytest.fixture(scope="module")
def digit(mnist):
    return mnist["x_test"][3]  # a 0


def on_page(ink: np.ndarray, top: int, left: int, side: int, size=(640, 480), paper=215, pen=40, seed=0):
    """A dark digit of `side` px at (top, left) on a light page with a lighting gradient and sensor noise."""
    width, height = size
    coverage = np.zeros((height, width), np.float32)
    coverage[top : top + side, left : left + side] = (
        np.asarray(Image.fromarray(ink).resize((side, side), Image.Resampling.BICUBIC), np.float32) / 255
    )
    xx = np.mgrid[0:height, 0:width][1] / width
    light = 1.0 - 0.3 * xx  # darker to the right
    pixels = (paper * (1 - coverage) + pen * coverage) * light
    pixels += np.random.default_rng(seed).normal(0, 3, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def true_box(ink: np.ndarray, top: int, left: int, side: int) -> tuple[int, int, int, int]:
    rows, columns = np.flatnonzero(ink.max(axis=1) > 64), np.flatnonzero(ink.max(axis=0) > 64)
    scale = side / ink.shape[0]
    return (
        top + rows[0] * scale,
        left + columns[0] * scale,
        top + (rows[-1] + 1) * scale,
        left + (columns[-1] + 1) * scale,
    )


def assert_near(steps, expected, tolerance):
    """The located box, in the input's pixels, within `tolerance` of `expected`."""
    assert steps.box is not None
    box = np.divide(steps.box, steps.scale)
    assert np.abs(np.subtract(box, expected)).max() <= tolerance, (box, expected)


def test_finds_a_small_off_centre_digit_on_an_unevenly_lit_page(digit):
    page = on_page(digit, top=60, left=380, side=120)
    steps = localize.locate_steps(page)
    assert steps.light_background and steps.scale == localize.WORK_SIDE / 640
    assert_near(steps, true_box(digit, 60, 380, 120), tolerance=6)
    twin = localize.locate_steps(Image.fromarray(255 - np.asarray(page)))  # light ink on a dark page
    assert not twin.light_background
    assert_near(twin, np.divide(steps.box, steps.scale), tolerance=6)


def test_specks_a_desk_edge_and_a_shadow_band_are_not_the_digit(digit):
    page = np.asarray(on_page(digit, top=180, left=250, side=140)).copy()
    page[:, :40] = 50  # the desk beyond the page's left edge
    page[440:] = (page[440:] * 0.7).astype(np.uint8)  # a shadow's band along the bottom
    for y, x in ((30, 600), (400, 100), (90, 200)):
        page[y : y + 3, x : x + 3] = 30  # dust
    steps = localize.locate_steps(Image.fromarray(page))
    assert_near(steps, true_box(digit, 180, 250, 140), tolerance=6)


def test_a_broken_stroke_stays_one_digit():
    seven = Image.new("L", (300, 300), 230)
    draw = ImageDraw.Draw(seven)
    draw.line([(90, 80), (210, 80)], fill=20, width=12)  # the bar ...
    draw.line([(205, 102), (130, 230)], fill=20, width=12)  # ... and, after a gap, the stem
    steps = localize.locate_steps(seven)
    assert_near(steps, (74, 84, 236, 216), tolerance=6)


def test_of_two_digits_one_is_taken_whole(mnist):
    page = np.full((240, 480), 225, np.uint8)
    for left, index in ((40, 0), (280, 1)):
        ink = np.asarray(Image.fromarray(mnist["x_test"][index]).resize((160, 160)), np.float32) / 255
        page[40:200, left : left + 160] = (225 * (1 - ink) + 30 * ink).astype(np.uint8)
    steps = localize.locate_steps(Image.fromarray(page))
    box = np.divide(steps.box, steps.scale)
    assert box[3] - box[1] < 160  # one digit's width, not both
    inside_one = [box[1] >= left - 2 and box[3] <= left + 162 for left in (40, 280)]
    assert any(inside_one)


@pytest.mark.parametrize("picture", ["white", "grey noise", "gradient", "black"])
def test_a_blank_page_gives_a_black_digit(picture, tmp_path):
    rng = np.random.default_rng(1)
    pixels = {
        "white": np.full((300, 400), 245),
        "black": np.zeros((300, 400)),
        "grey noise": 200 + rng.normal(0, 6, (300, 400)),
        "gradient": 100 + 120 * np.mgrid[0:300, 0:400][1] / 400 + rng.normal(0, 3, (300, 400)),
    }[picture]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    steps = localize.locate_steps(image)
    assert steps.box is None and not steps.digit.any()
    image.save(tmp_path / "blank.jpg", quality=80)
    assert not read_image(tmp_path / "blank.jpg")[0].any()  # a digit like any other: no error


def test_steps_are_what_compress_encodes(digit):
    page = on_page(digit, top=100, left=200, side=200)
    steps = localize.locate_steps(page)
    height, width = round(480 * steps.scale), round(640 * steps.scale)  # a working copy, WORK_SIDE long
    assert steps.page.dtype == np.float32 and steps.page.shape == (height, width) and width == localize.WORK_SIDE
    assert 0.0 <= steps.page.min() and steps.page.max() <= 1.0
    top, left, bottom, right = steps.box
    assert 0 <= top < bottom <= height and 0 <= left < right <= width
    assert steps.digit.dtype == np.uint8 and steps.digit.shape == (28, 28)
    np.testing.assert_array_equal(preprocess(page), steps.digit)


def test_a_big_photo_is_analysed_on_a_smaller_copy(digit):
    big = on_page(digit, top=600, left=1500, side=1200, size=(4000, 3000))
    steps = localize.locate_steps(big)
    assert steps.scale == pytest.approx(localize.WORK_SIDE / 4000) and max(steps.page.shape) == localize.WORK_SIDE
    # within one pixel of the 28x28 original, which is 43 px here
    assert_near(steps, true_box(digit, 600, 1500, 1200), tolerance=1200 / 28)
    small = localize.locate_steps(big.resize((800, 600), Image.Resampling.BOX))
    assert np.abs(small.digit.astype(int) - steps.digit).mean() < 3


def test_an_enlarged_mnist_digit_is_framed_as_mnist_framed_it(mnist):
    """MNIST's own recipe, undone and redone: the box into 20x20 and the centre of mass at the centre."""
    differences = []
    for original in mnist["x_test"][:50]:
        enlarged = Image.fromarray(255 - original).resize((112, 112), Image.Resampling.LANCZOS)
        located = localize.locate_steps(enlarged).digit.astype(float)
        differences.append(np.abs(located - original).mean())
        total = located.sum()
        centre = (located.sum(axis=1) @ np.arange(28) / total, located.sum(axis=0) @ np.arange(28) / total)
        assert np.abs(np.subtract(centre, 14.0)).max() <= 0.75
    assert np.median(differences) < 12  # grey levels of 0..255


def test_forced_polarity_is_obeyed(digit):
    page = on_page(digit, top=100, left=200, side=200)
    assert localize.locate_steps(page, invert=True).light_background
    assert not localize.locate_steps(page, invert=False).light_background


def test_label_matches_a_plain_flood_fill():
    rng = np.random.default_rng(5)
    for _ in range(30):
        mask = rng.random((int(rng.integers(1, 40)), int(rng.integers(1, 40)))) < rng.uniform(0.2, 0.7)
        labels, count = strokes.label(mask)
        expected, expected_count = flood_fill(mask)
        assert count == expected_count
        pairs = set(zip(labels[mask].tolist(), expected[mask].tolist()))
        assert len(pairs) == count  # the same partition, whatever the numbering
        assert (labels[~mask] == -1).all()


def flood_fill(mask):
    labels = np.full(mask.shape, -1)
    count = 0
    for start in zip(*np.nonzero(mask)):
        if labels[start] >= 0:
            continue
        stack = [start]
        labels[start] = count
        while stack:
            y, x = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and labels[ny, nx] < 0:
                        labels[ny, nx] = count
                        stack.append((ny, nx))
        count += 1
    return labels, count


def test_otsu_splits_two_levels():
    paper, ink = np.random.default_rng(0).normal(0.1, 0.03, 5000), np.random.default_rng(1).normal(0.7, 0.05, 300)
    threshold = localize.otsu(np.clip(np.concatenate([paper, ink]), 0, 1))
    assert np.mean(paper > threshold) < 0.01 and np.mean(ink < threshold) < 0.01


# --- the CLI's framing options --------------------------------------------------------------------
@pytest.fixture
def photo(digit, tmp_path):
    path = tmp_path / "photo.jpg"
    on_page(digit, top=60, left=380, side=120).save(path, quality=85)
    return path


def codes(path):
    """The latents a code file holds (entropy-coded in format 2: decoded with the model's priors)."""
    from aeonnx.runtime import load

    return codefile.latents(codefile.from_bytes(path.read_bytes()), load(spec.DEFAULT_MODEL, device="cpu").binding)


def test_fit_and_center_keep_the_whole_image_framings(photo, tmp_path):
    results = {}
    for name, options in {"locate": [], "fit": ["--fit"], "center": ["--center"]}.items():
        out = tmp_path / f"{name}.aez"
        result = runner.invoke(app, ["compress", str(photo), "-o", str(out), *options])
        assert result.exit_code == 0, result.output
        results[name] = codes(out)
    assert not np.array_equal(results["locate"], results["fit"])
    assert not np.array_equal(results["locate"], results["center"])
    fitted = read_image(photo, framing="fit")[0]
    encoded = json.loads(runner.invoke(app, ["encode", str(photo), "--fit"]).stdout)
    from aeonnx.runtime import load

    model = load(spec.DEFAULT_MODEL, device="cpu")  # what encode uses unless told
    np.testing.assert_allclose(encoded["z"], model.encode(fitted[None])[0], atol=1e-5)


def test_fit_with_center_is_one_line_error(photo, tmp_path):
    result = runner.invoke(app, ["compress", str(photo), "--fit", "--center", "-o", str(tmp_path / "x.aez")])
    assert result.exit_code == 1 and "choose one" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "x.aez").exists()
    assert "--center" not in runner.invoke(app, ["compress", "--help"]).output  # kept for old scripts, hidden


LOCALIZE_PROBE = """
import sys
from typer.testing import CliRunner
from aeonnx.cli import app
from aeonnx.runtime import spec
result = CliRunner().invoke(app, ["compress", sys.argv[1], "-o", sys.argv[2]])
assert result.exit_code == 0, result.output
print("aeonnx.runtime.pictures.localize" in sys.modules)
"""


def test_a_28x28_input_never_loads_the_localiser(mnist, photo, tmp_path):
    plain = tmp_path / "plain.png"
    Image.fromarray(mnist["x_test"][0]).save(plain)
    for path, expected in ((plain, "False"), (photo, "True")):  # the probe can tell
        done = subprocess.run(
            [sys.executable, "-c", LOCALIZE_PROBE, str(path), str(tmp_path / "x.aez")],
            capture_output=True,
            text=True,
            check=True,
        )
        assert done.stdout.strip().splitlines()[-1] == expected
        (tmp_path / "x.aez").unlink()


def test_jpeg_of_a_photographed_digit_round_trips_as_that_digit(digit, tmp_path):
    """The issue's own example, as a user runs it: compress a photo, decompress, get the digit back."""
    from aeonnx.runtime import load

    photo = on_page(digit, top=150, left=230, side=180).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=75)
    (tmp_path / "zero.jpg").write_bytes(buffer.getvalue())
    assert runner.invoke(app, ["compress", str(tmp_path / "zero.jpg")]).exit_code == 0
    assert runner.invoke(app, ["decompress", str(tmp_path / "zero.aez")]).exit_code == 0
    back = np.asarray(Image.open(tmp_path / "zero-decoded.png"), np.float32)
    ae = load("ae", device="cpu")
    reference = ae.decode(ae.encode(digit[None]))[0].astype(np.float32)
    assert np.corrcoef(back.ravel(), reference.ravel())[0, 1] > 0.8


def test_tiny_tight_crops_are_enlarged_before_the_search(mnist, digit_classifier):
    """A digit scanned at 8x8 or 12x12 and cropped to its ink (as in other handwriting sets) is still found
    whole: the search runs on a smooth enlargement, where strokes span several pixels."""
    from .real_inputs import as_features

    digits, labels = mnist["x_test"][:100], mnist["y_test"][:100]
    for side in (8, 12):
        located = []
        for index, original in enumerate(digits):
            rows, columns = np.flatnonzero(original.max(axis=1)), np.flatnonzero(original.max(axis=0))
            tight = Image.fromarray(original[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1])
            small = tight.resize((side, side), Image.Resampling.BOX)  # stretched to fill, as USPS did
            located.append(preprocess(small if index % 2 else Image.fromarray(255 - np.asarray(small))))
        kept = np.mean(digit_classifier.predict(as_features(np.stack(located))) == labels)
        assert kept >= 0.8, (side, kept)


def test_a_small_scan_enlarged_is_a_crop_of_the_digit_alone(digit):
    """Issue 34: whatever its size, a picture that holds no more than a small crop (repeated pixels, or a smooth
    enlargement) is one, so no filled loop of its bold digit is a punch hole; a photo of a page is not one."""
    small = Image.fromarray(digit).resize((8, 8), Image.Resampling.BOX)
    for side, method in (
        (64, Image.Resampling.NEAREST),
        (100, Image.Resampling.BICUBIC),
        (48, Image.Resampling.BILINEAR),
    ):
        gray = np.asarray(small.resize((side, side), method), np.float32) / 255
        assert localize.enlarged_crop(gray, localize.working_copy(gray)[0]), (side, method)
    page = np.asarray(on_page(digit, 150, 250, 120), np.float32) / 255
    assert not localize.enlarged_crop(page, localize.working_copy(page)[0])
