"""Issue 34, a newcomer's first hour: what the commands say about models of one's own. A flat input is values, not
an image; sample and manifold name the VAEs there are; a folder of several models asks for --model; a model of
one's own is not said to know digits; verify's table keeps its columns; manifold draws any VAE with a 2-D latent."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from aeonnx.runtime import quality
from aeonnx.runtime.jobs.generate import manifold_size

from .helpers import REPO, invoke, one_line_error

SIX = REPO / "examples" / "digit-6-on-paper.png"
COLOUR = "colour-pictures-of-our-team"  # a long name: verify's table must still line up
OURS = (COLOUR, "flat256", "signal120", "vae2", "vae3")


def dense_pair(shape: tuple[int, ...], latent: int, variational: bool = False):
    """An untrained dense encoder and decoder (or VAE encoder and generator) of `shape`: quick to export, and
    what these messages say does not depend on training."""
    image = keras.Input(shape)
    h = layers.Flatten()(image)
    outputs = [layers.Dense(latent, name="z_mean")(h), layers.Dense(latent, name="z_log_var")(h)]
    encoder = keras.Model(image, outputs if variational else outputs[0])
    code = keras.Input((latent,))
    decoded = layers.Reshape(shape)(layers.Dense(int(np.prod(shape)), activation="sigmoid")(code))
    return encoder, keras.Model(code, decoded)


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """A team's models folder, deep in a long path: colour pictures, a flat input of 256 pixels, float signals,
    and two VAEs (latent 2 and 3); no rd, no ae."""
    from aeonnx.export.your_model import export_keras_pair

    keras.utils.set_random_seed(0)
    folder = tmp_path_factory.mktemp("a-newcomers-first-hour-" + "in-a-folder-of-a-rather-long-name-" * 3) / "models"
    pixels = np.random.default_rng(0).integers(0, 256, (60, 256), dtype=np.uint8)
    export_keras_pair(*dense_pair((8, 8, 3), 4), pixels.reshape(-1, 8, 8, 3)[:60], folder, COLOUR)
    export_keras_pair(*dense_pair((256,), 4), pixels, folder, "flat256")
    signals = np.random.default_rng(1).random((60, 120), np.float32)
    export_keras_pair(*dense_pair((120,), 4), signals, folder, "signal120", floats=True)
    for latent in (2, 3):
        export_keras_pair(*dense_pair((16, 16), latent, True), pixels.reshape(-1, 16, 16), folder, f"vae{latent}")
    return folder


def compressed(ours, picture, name: str, out) -> None:
    result = invoke("compress", picture, "--models", ours, "--model", name, "-o", out)
    assert result.exit_code == 0, result.output


# --- 1. info of a code file --------------------------------------------------------------------------------------


def test_info_says_a_flat_input_is_values_and_an_image_is_an_image(ours, tmp_path):
    compressed(ours, SIX, "flat256", tmp_path / "flat.aez")
    np.save(tmp_path / "signals.npy", np.random.default_rng(2).random((3, 120), np.float32))
    compressed(ours, tmp_path / "signals.npy", "signal120", tmp_path / "signals.aez")
    compressed(ours, SIX, COLOUR, tmp_path / "colour.aez")
    for name, said in [("flat", "inputs of 256 values"), ("signals", "inputs of 120 values")]:
        lines = invoke("info", tmp_path / f"{name}.aez").stdout.splitlines()
        assert f"  {said}" in lines and not any("height, width" in line for line in lines), lines
    assert "  images of 8 x 8 x 3 (height, width, channels)" in invoke("info", tmp_path / "colour.aez").stdout


# --- 2, 4, 7. sample and manifold ------------------------------------------------------------------------------


def test_sample_and_manifold_of_a_model_without_a_generator_name_the_vaes(ours, tmp_path):
    out = tmp_path / "new.png"
    shipped = "has no generator. VAEs in the shipped models: vae"
    said = one_line_error(invoke("sample", "--model", "ae", "-o", out))
    assert said == f"aeonnx: error: sample needs a VAE; ae {shipped}"
    said = one_line_error(invoke("manifold", "--model", "rd", "-o", out))
    assert said == f"aeonnx: error: manifold needs a VAE; rd {shipped}"
    said = one_line_error(invoke("sample", "--models", ours, "--model", "flat256", "-o", out))
    assert said == f"aeonnx: error: sample needs a VAE; flat256 has no generator. VAEs in {ours}: vae2, vae3"
    said = one_line_error(invoke("sample", "--models", ours, "-o", out))
    assert said == f"aeonnx: error: sample needs a VAE; choose one with --model. VAEs in {ours}: vae2, vae3"
    said = one_line_error(invoke("manifold", "--models", ours, "--model", "vae3", "-o", out))
    assert said == "aeonnx: error: the manifold needs a 2-D latent; vae3's latent size is 3"
    assert not out.exists()


def test_sample_says_digits_for_the_shipped_vae_and_images_for_a_vae_of_ones_own(ours, tmp_path):
    shipped = invoke("sample", "-n", "2", "-o", tmp_path / "digits.png")
    assert shipped.exit_code == 0 and shipped.stdout.strip() == f"{tmp_path / 'digits.png'}: 2 digit(s)"
    yours = invoke("sample", "--models", ours, "--model", "vae2", "-n", "3", "-o", tmp_path / "ours.png")
    assert yours.exit_code == 0 and yours.stdout.strip() == f"{tmp_path / 'ours.png'}: 3 image(s)", yours.output


def test_manifold_draws_a_vae_of_ones_own_with_a_2d_latent(ours, tmp_path):
    result = invoke("manifold", "--models", ours, "--model", "vae2", "-n", "5", "-o", tmp_path / "plane.png")
    assert result.exit_code == 0 and result.stdout.strip() == str(tmp_path / "plane.png"), result.output
    with Image.open(tmp_path / "plane.png") as picture:
        assert picture.size == manifold_size(5, (16, 16)) and picture.mode == "L"
    assert manifold_size(5, (16, 16))[0] > 5 * 16 * 2  # a small image is drawn larger, for its tick labels
    assert manifold_size(6) == (6 * 56 + 76, 6 * 56 + 68)  # the shipped VAE's picture, as before


# --- 3. a folder of several models ------------------------------------------------------------------------------


def test_a_folder_of_several_models_and_no_default_asks_for_one(ours, tmp_path):
    expected = (
        f"aeonnx: error: {ours} holds 5 models, none of them the default (rd, else ae): {', '.join(OURS)}; "
        "choose one with --model"
    )
    written = {"compress": ["-o", tmp_path / "six.aez"], "inspect": ["-o", tmp_path / "seen.png"]}
    for command in ("compress", "encode", "inspect", "score"):
        assert one_line_error(invoke(command, SIX, "--models", ours, *written.get(command, []))) == expected
    assert not list(tmp_path.iterdir())
    compressed(ours, SIX, "flat256", tmp_path / "six.aez")
    decoded = invoke("decompress", tmp_path / "six.aez", "--models", ours, "-o", tmp_path / "six.png")
    assert decoded.exit_code == 0 and (tmp_path / "six.png").is_file(), decoded.output  # the file names its model


# --- 5. the warning ---------------------------------------------------------------------------------------------


def test_the_warning_of_a_model_of_ones_own_speaks_of_its_training_pictures(ours, tmp_path):
    Image.new("RGB", (40, 40), (2, 2, 2)).save(tmp_path / "dark.png")
    yours = ["--models", ours, "--model", COLOUR]
    result = invoke("compress", tmp_path / "dark.png", *yours, "-o", tmp_path / "dark.aez")
    assert result.exit_code == 0, result.output
    warned = f"aeonnx: {tmp_path / 'dark.png'}: unlike the pictures {COLOUR} was trained on (a nearly black picture)"
    assert result.stderr.strip() == warned
    assert result.stdout.strip().endswith(f"; 1 unlike the pictures {COLOUR} was trained on")
    strict = invoke("compress", tmp_path / "dark.png", *yours, "-o", tmp_path / "strict.aez", "--strict")
    said = one_line_error(strict)
    assert said == f"aeonnx: error: 1 input(s) unlike the pictures {COLOUR} was trained on (--strict); nothing written"
    profile = quality.profile_of({"p0.1": 14.6, "p0.5": 15.4}, {"p0.1": 0.04})
    assert profile.judge(9.8, 0.1, "pictures") == "9.8 dB; 99.9% of its training pictures give >= 14.6 dB"
    assert profile.judge(25.0, 0.015, "pictures") == "very dark (1.5% mean brightness)"
    assert "digit" not in result.output


def test_the_shipped_models_still_speak_of_digits(tmp_path):
    Image.new("L", (40, 40), 255).save(tmp_path / "blank.png")
    result = invoke("compress", tmp_path / "blank.png", "-o", tmp_path / "blank.aez")
    assert result.exit_code == 0, result.output
    warned = f"aeonnx: {tmp_path / 'blank.png'}: unlike the digits this model knows (no digit found)"
    assert result.stderr.strip() == warned
    assert result.stdout.strip().endswith("; 1 unlike the digits the model knows")


# --- 6. verify's table ------------------------------------------------------------------------------------------


def test_verify_lines_up_its_columns_for_long_names_and_paths(ours):
    result = invoke("verify", ours, "--device", "cpu")
    assert result.exit_code == 0, result.output
    header, *rows, summary = result.stdout.splitlines()
    assert summary == "10 passed, 0 failed" and any(row.split()[1] == COLOUR for row in rows)
    for row in rows:  # each cell starts where its column's heading does
        verdict, model, part, file, provider = row.split()[:5]
        for cell, column in ((model, "model"), (part, "part"), (file, "file"), (provider, "provider")):
            assert row.index(f" {cell} ") + 1 == header.index(column), (row, header)
