"""Issue 20: train on your own images (a folder of pictures, arrays of any shape, colour), dense or
convolutional, and the exported model through compress and decompress at its own size and colours."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime import metrics, spec
from aeonnx.runtime.errors import DataError

from .helpers import invoke, one_line_error


def photo_patches(folder: Path, per_photo: int, columns: tuple[float, float], seed: int) -> Path:
    """Squares of 32-96 pixels cut from scikit-learn's two sample photographs (real photographs that the test
    extra installs), as PNG files in a subfolder per photograph (its class); `columns`: the share of each
    photograph's width they come from, so that training and held-out patches never overlap."""
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    photos = load_sample_images()
    for path, photo in zip(photos.filenames, photos.images):
        height, width = photo.shape[:2]
        left, right = int(columns[0] * width), int(columns[1] * width)
        (folder / Path(path).stem).mkdir(parents=True, exist_ok=True)
        for i in range(per_photo):
            side = int(rng.integers(32, 97))
            top, start = int(rng.integers(0, height - side)), int(rng.integers(left, right - side))
            Image.fromarray(photo[top : top + side, start : start + side]).save(folder / Path(path).stem / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("photos")
    return {
        "train": photo_patches(root / "train", 400, (0.0, 0.75), seed=0),
        "held_out": photo_patches(root / "held-out", 20, (0.75, 1.0), seed=1),
    }


@pytest.fixture(scope="module")
def colour_run(photos, tmp_path_factory) -> Path:
    """Issue 20's command: a conv AE from a folder of colour pictures, at 32x32, 5 epochs."""
    run = tmp_path_factory.mktemp("colour") / "run"
    arguments = ["--arch", "conv", "--data", photos["train"], "--size", "32x32", "--channels", "3"]
    result = invoke("train", "ae", *arguments, "--epochs", "5", "--out", run)
    assert result.exit_code == 0, result.output
    return run


def test_a_conv_model_from_a_folder_of_colour_pictures_compresses_pictures_it_never_saw(colour_run, photos, tmp_path):
    """The issue's "done when": train, export, compress held-out pictures, decompress: 32x32 colour images,
    clearly better than the mean image."""
    models = tmp_path / "models"
    assert invoke("export", "ae", "--run", colour_run, "--out", models).exit_code == 0
    entry = json.loads((models / spec.MANIFEST_FILE).read_text())["models"]["ae"]
    assert (entry["kind"], entry["input_shape"], entry["preprocessing"]) == ("ae", [32, 32, 3], "crop")
    result = invoke("compress", photos["held_out"], "--models", models, "-o", tmp_path / "c.aez")
    assert result.exit_code == 0, result.output
    result = invoke("decompress", tmp_path / "c.aez", "--models", models, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output

    from aeonnx.train.image_folder import read_folder

    held_out = read_folder(photos["held_out"], (32, 32), 3)[0].astype(np.float32) / 255  # as compress reads them
    decoded = [Image.open(path) for path in sorted((tmp_path / "out").rglob("*.png"), key=_by_class_and_number)]
    assert len(decoded) == len(held_out) == 40
    assert {(image.size, image.mode) for image in decoded} == {((32, 32), "RGB")}
    got = np.stack([np.asarray(image) for image in decoded]).astype(np.float32) / 255
    mean_image = read_folder(photos["train"], (32, 32), 3)[0].astype(np.float32).mean(axis=0) / 255
    baseline = metrics.psnr(held_out, np.broadcast_to(mean_image, held_out.shape))
    # Measured: 14.6 dB against the mean image's 9.5 (5 epochs on 720 pictures, 40 held out from apart).
    assert metrics.psnr(held_out, got) >= baseline + 3.0


def _by_class_and_number(path: Path) -> tuple[str, int]:
    return path.parent.name, int(path.stem)


def test_the_run_says_what_it_trained_on_and_draws_it_in_colour(colour_run):
    record = json.loads((colour_run / spec.RUN_CONFIG_FILE).read_text())
    assert record["config"]["arch"] == "conv" and record["config"]["batch_size"] == 20  # (720 - 72 held out) // 32
    assert record["input_shape"] == [32, 32, 3] and record["picture_reading"] == "crop"
    data = record["data"]
    assert (data["image_shape"], data["classes"], data["train_images"], data["test_images"]) == (
        [32, 32, 3], ["china", "flower"], 720, 80
    )  # fmt: skip
    assert "Lanczos" in data["converted"] and "--val-fraction" in data["test_split"]
    with Image.open(colour_run / "reconstructions.png") as picture:
        pixels = np.asarray(picture.convert("RGB")).astype(int)
    assert np.abs(pixels[..., 0] - pixels[..., 2]).max() > 60  # colour drawn, not grey


def test_a_conv_vae_at_a_size_that_does_not_halve_evenly(small_mnist_path, tmp_path):
    """A 2-D conv VAE on digits resized to 22x26 (padded inside to 24x28): its run draws the plane and what it
    generates; exported, it samples and round-trips images of its size."""
    run, models = tmp_path / "run", tmp_path / "models"
    arguments = ["--arch", "conv", "--data", small_mnist_path, "--size", "22x26", "--epochs", "2"]
    assert invoke("train", "vae", *arguments, "--out", run).exit_code == 0
    assert {"latent.png", "manifold.png", "reconstructions.png", "loss.png"} <= {p.name for p in run.iterdir()}
    assert invoke("export", "vae", "--run", run, "--out", models).exit_code == 0
    result = invoke("sample", "--model", "vae", "--models", models, "-n", "4", "--seed", "0", "-o", tmp_path / "s.png")
    assert result.exit_code == 0, result.output
    from aeonnx.runtime import load

    vae = load("vae", models, device="cpu")
    assert vae.image_shape == (22, 26) and vae.spec.input_shape == (22, 26, 1)
    digits = np.load(small_mnist_path)["x_test"][:5]
    assert vae.decompress(vae.compress(np.zeros((5, 22, 26), np.uint8))).images.shape == (5, 22, 26)
    with pytest.raises(DataError, match=r"\(N, 22, 26\)"):
        vae.encode(digits)  # 28x28 arrays are not its images


def test_a_dense_model_of_colour_arrays_and_an_npy_file(tmp_path):
    """--arch dense at any shape: the image flattened inside the model, (H, W, C) outside it."""
    from aeonnx.export.exporter import export_model
    from aeonnx.runtime import load
    from aeonnx.train.fit import TrainConfig, train

    rng = np.random.default_rng(0)
    images = (rng.random((300, 12, 10, 3)) * 255).astype(np.uint8)
    np.save(tmp_path / "images.npy", images)
    config = TrainConfig("ae", str(tmp_path / "run"), str(tmp_path / "images.npy"), epochs=1, arch="dense")
    run = train(config, verbose=0)
    export_model("ae", run, tmp_path / "models")
    model = load("ae", tmp_path / "models", device="cpu")
    assert model.spec.input_shape == (12, 10, 3) and model.image_shape == (12, 10, 3)
    assert model.decompress(model.compress(images[:3])).images.shape == (3, 12, 10, 3)


def test_the_seed_models_on_mnist_are_unchanged(trained_runs):
    """The default for 28x28 grey digits stays the seed's dense models, exported as the shipped ones are."""
    from aeonnx.export.exporter import read_run, run_spec
    from aeonnx.export.metadata import train_config

    for name, run_dir in trained_runs.items():
        record = read_run(run_dir, name)
        assert record["config"]["arch"] == "dense"
        assert "input_shape" not in record and "image_shape" not in record["data"]
        assert run_spec(name, record) is spec.MODELS[name]
        assert not {"arch", "size", "channels", "val_fraction", "augment"} & set(train_config(record))


def test_a_run_exports_under_a_name_of_its_own(colour_run, tmp_path):
    assert invoke("export", "ae", "--run", colour_run, "--name", "photos", "--out", tmp_path).exit_code == 0
    from aeonnx.runtime import load

    assert load("photos", tmp_path, device="cpu").image_shape == (32, 32, 3)
    one_line_error(invoke("export", "ae", "--run", colour_run, "--name", "vae", "--out", tmp_path), "shipped vae")
    one_line_error(
        invoke("export", "ae", "--run", colour_run, "--preprocessing", "locate", "--out", tmp_path), "28x28 grey"
    )


# --- reading images ----------------------------------------------------------------------------------


def test_a_folder_is_read_recursively_by_class_with_unreadable_files_skipped(tmp_path, capsys):
    from aeonnx.train.data import Conversion, load_dataset

    for cls, count in (("cats", 12), ("dogs/big", 8)):
        (tmp_path / cls).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (40, 30), (i * 20, 0, 255 - i * 20)).save(tmp_path / cls / f"{i}.png")
    transparent = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
    transparent.save(tmp_path / "cats" / "clear.png")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not a picture")
    (tmp_path / "notes.txt").write_text("not a picture either")
    dataset = load_dataset(tmp_path, Conversion(size=(16, 16), held_out=0.25))
    assert dataset.classes == ("cats", "dogs") and dataset.skipped == 1
    assert dataset.image_shape == (16, 16, 3) and len(dataset.x_train) + len(dataset.x_test) == 21
    assert sorted(np.bincount(dataset.y_test)) == [2, 3]  # a quarter of each class: 13 -> 3, 8 -> 2
    assert "broken.png" in capsys.readouterr().err
    grey = load_dataset(tmp_path, Conversion(size=(16, 16), channels=1))
    assert grey.image_shape == (16, 16)
    white = 255 in grey.x_train.max(axis=(1, 2)) or 255 in grey.x_test.max(axis=(1, 2))
    assert white  # the transparent picture is white paper, not black


def test_pictures_of_several_sizes_need_a_size(tmp_path):
    from aeonnx.train.data import load_dataset

    Image.new("L", (20, 20)).save(tmp_path / "a.png")
    Image.new("L", (30, 20)).save(tmp_path / "b.png")
    with pytest.raises(DataError, match="--size"):
        load_dataset(tmp_path)


def test_arrays_of_any_shape_convert_and_split(tmp_path):
    from aeonnx.train.data import Conversion, load_dataset

    rng = np.random.default_rng(0)
    images, labels = (rng.random((200, 20, 24, 3)) * 255).astype(np.uint8), np.repeat([0, 1, 2, 3], 50)
    np.savez(tmp_path / "set.npz", x=images, y=labels)
    dataset = load_dataset(tmp_path / "set.npz", Conversion(size=(10, 12), channels=1, held_out=0.2))
    assert dataset.image_shape == (10, 12) and len(dataset.x_test) == 40
    assert np.bincount(dataset.y_test).tolist() == [10, 10, 10, 10]
    luma = Image.fromarray(images[0]).convert("L").resize((12, 10), Image.Resampling.LANCZOS)
    first = np.flatnonzero(~np.isin(np.arange(200), _test_indices(labels, 0.2)))[0]
    assert first == 0 and np.array_equal(dataset.x_train[0], np.asarray(luma))


def _test_indices(labels, share):
    from aeonnx.train.data import held_out_indices

    return held_out_indices(labels, share)


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--size", "32"], None),  # a side alone is a square: accepted, the folder is refused further on
        (["--size", "thirty"], "HEIGHTxWIDTH"),
        (["--channels", "2"], "grey (1) or colour (3)"),
        (["--val-fraction", "1.5"], "between 0 and 1"),
        (["--arch", "resnet"], "unknown --arch"),
        (["--arch", "conv", "--hidden-size", "64"], "conv models have none"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path, arguments, fragment):
    (tmp_path / "empty").mkdir()
    result = invoke("train", "ae", "--data", tmp_path / "empty", *arguments, "--out", tmp_path / "run")
    one_line_error(result, fragment or "no pictures in it")
    assert not (tmp_path / "run").exists()


def test_a_folder_of_unreadable_files_is_one_line_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"nothing")
    (tmp_path / "b.jpg").write_bytes(b"")
    one_line_error(invoke("train", "ae", "--data", tmp_path, "--out", tmp_path / "run"), "none of its 2 pictures")


def test_val_fraction_is_for_data_without_a_test_split(small_mnist_path, tmp_path):
    result = invoke("train", "ae", "--data", small_mnist_path, "--val-fraction", "0.2", "--out", tmp_path / "r")
    one_line_error(result, "test split of its own")


def test_augmented_batches_move_the_images_and_keep_their_pixels(tmp_path):
    from aeonnx.train.augment import augmented
    from aeonnx.train.fit import TrainConfig

    x = np.zeros((64, 32, 32, 3), np.float32)
    x[:, 12:20, 12:20] = 1.0  # a white square in the middle
    config = TrainConfig("ae", "r", batch_size=64, seed=0)
    moved, target = next(iter(augmented(x, config, flips=True)))
    moved = np.asarray(moved)
    assert moved.shape == x.shape and np.array_equal(moved, np.asarray(target))
    assert 0.0 <= moved.min() and moved.max() <= 1.0
    centres = [np.argwhere(image[..., 0] > 0.5).mean(axis=0) for image in moved]
    offsets = np.abs(np.array(centres) - 15.5).max(axis=1)
    assert offsets.max() <= 2.5 and (offsets > 0.4).mean() > 0.5  # most moved, none by more than 2 pixels


def test_large_arrays_need_a_size_even_when_converted_to_grey(tmp_path):
    from aeonnx.train.data import Conversion, load_dataset

    np.save(tmp_path / "big.npy", np.zeros((20, 300, 260, 3), np.uint8))
    with pytest.raises(DataError, match="--size"):
        load_dataset(tmp_path / "big.npy", Conversion(channels=1))
    assert load_dataset(tmp_path / "big.npy", Conversion(size=(30, 26), channels=1)).image_shape == (30, 26)
