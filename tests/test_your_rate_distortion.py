"""Issue 33: the EntropyBottleneck layer in a Keras autoencoder of your own. A team puts the layer between its
encoder and decoder, trains with model.fit (the layer adds the rate to the loss), saves one .keras file, and
`aeonnx export --autoencoder` finds the layer, splits the model there and stores its densities as the integer
tables `compress --quality` codes with; decoding gives the pixels the Keras model gives."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from aeonnx.runtime import metrics
from aeonnx.train.entropy_bottleneck import EntropyBottleneck

from .helpers import invoke
from .team_models.rate_distortion import autoencoder
from .test_team_models import export, pictures, refused, round_trip, verified


def trained_and_exported(model, x: np.ndarray, epochs: int, held_out: np.ndarray, folder, name: str):
    """`model` fitted on x -> x (MSE, as a team compiles it), saved to one .keras file and exported from it
    with `held_out` as its data: the export's stdout."""
    model.compile("adam", "mse")
    model.fit(x, x, epochs=epochs, batch_size=64, verbose=0)
    model.save(folder / f"{name}.keras")
    np.save(folder / "val.npy", held_out)
    yours = ["--autoencoder", folder / f"{name}.keras", "--data", folder / "val.npy"]
    result = export(*yours, "--name", name, "--out", folder / "models")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def dense_rd(mnist, tmp_path_factory):
    """docs/your-own-model.md's dense autoencoder with a three-level bottleneck (tests/team_models), trained
    briefly and exported from its .keras file: (the Keras model, the models folder, the export's stdout)."""
    keras.utils.set_random_seed(0)
    model, folder = autoencoder(), tmp_path_factory.mktemp("dense_rd")
    x = mnist["x_train"][:4000].astype(np.float32) / 255
    said = trained_and_exported(model, x, 6, mnist["x_test"][:300], folder, "mine")
    return model, folder / "models", said


def test_export_splits_at_the_layer_and_info_shows_the_levels(dense_rd):
    _, models, said = dense_rd
    assert "split at its EntropyBottleneck 'rate' (3 quality levels, code of 16 values)" in said
    verified(models)
    info = invoke("info", "--models", models)
    assert info.exit_code == 0 and "--quality 1-3, default" in info.stdout, info.output
    levels = json.loads(
        json.loads((models / "mine_decoder.json").read_text())["metadata_props"]["aeonnx.quality_levels"]
    )
    bytes_, psnr = zip(*[(m["bytes"], m["psnr"]) for m in levels["measured"]])
    assert list(bytes_) == sorted(bytes_) and list(psnr) == sorted(psnr), levels["measured"]


def test_each_quality_is_bigger_and_better_and_the_top_one_is_the_keras_models_picture(dense_rd, mnist, tmp_path):
    model, models, _ = dense_rd
    held_out = mnist["x_test"][300:340]
    inputs = pictures(held_out, tmp_path / "digits")
    sizes, quality = [], []
    for level in (1, 2, 3):
        codes = tmp_path / f"q{level}.aez"
        result = invoke("compress", inputs, "--models", models, "--model", "mine", "--quality", level, "-o", codes)
        assert result.exit_code == 0, result.output
        decoded = invoke("decompress", codes, "--models", models, "-o", tmp_path / f"q{level}")
        assert decoded.exit_code == 0, decoded.output
        pixels = np.stack([np.asarray(Image.open(p)) for p in sorted((tmp_path / f"q{level}").glob("*.png"))])
        sizes.append(codes.stat().st_size)
        quality.append(metrics.psnr(held_out / 255, pixels / 255))
    assert sizes == sorted(set(sizes)) and quality == sorted(set(quality)), (sizes, quality)
    keras_pixels = np.rint(np.clip(np.asarray(model.predict(held_out / 255, verbose=0)), 0, 1) * 255)
    differs = np.abs(keras_pixels - pixels.astype(np.float64))
    assert differs.max() <= 1 and np.mean(differs == 0) >= 0.99, (differs.max(), np.mean(differs == 0))


def test_a_feature_map_bottleneck_in_a_sequential_model_stores_its_tables_once(mnist, tmp_path):
    """A conv autoencoder whose code is a 7 x 7 x 4 feature map: one density per channel, repeated at the 49
    positions in the runtime, stored once in the metadata."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((28, 28, 1)), layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
         layers.Conv2D(4, 3, strides=2, padding="same"), EntropyBottleneck(4, rate_weight=1e-4, name="rate"),
         layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
         layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")]
    )  # fmt: skip
    x = mnist["x_train"][:2000, :, :, None].astype(np.float32) / 255
    said = trained_and_exported(model, x, 2, mnist["x_test"][:200], tmp_path, "fm")
    models = tmp_path / "models"
    assert "EntropyBottleneck 'rate' (1 quality level, code of 7 x 7 x 4 = 196 values)" in said
    levels = json.loads(json.loads((models / "fm_encoder.json").read_text())["metadata_props"]["aeonnx.quality_levels"])
    assert levels["positions"] == 49 and len(levels["levels"][0]["offsets"]) == 4
    held_out = mnist["x_test"][200:220]
    decoded = round_trip(models, "fm", pictures(held_out, tmp_path / "digits"), tmp_path)
    keras_pixels = np.rint(np.clip(np.asarray(model.predict(held_out[..., None] / 255, verbose=0)), 0, 1) * 255)
    differs = np.abs(keras_pixels[..., 0] - decoded.astype(np.float64))
    assert differs.max() <= 1 and np.mean(differs == 0) >= 0.99, (differs.max(), np.mean(differs == 0))


def test_a_bottleneck_inside_a_part_is_refused_in_one_line(mnist, tmp_path):
    encoder = keras.Sequential([keras.Input((784,)), layers.Dense(8), EntropyBottleneck(8, rate_weight=1e-4)])
    decoder = keras.Sequential([keras.Input((8,)), layers.Dense(784, activation="sigmoid")])
    image = keras.Input((784,))
    keras.Model(image, decoder(encoder(image))).save(tmp_path / "nested.keras")
    np.save(tmp_path / "val.npy", mnist["x_test"][:50].reshape(50, 784))
    models = tmp_path / "models"
    yours = ["--autoencoder", tmp_path / "nested.keras", "--data", tmp_path / "val.npy", "--name", "n", "--out", models]
    refused(export(*yours), "sits inside a part: call it between the encoder and the decoder", models)


@pytest.mark.parametrize(
    "weights, fragment",
    [((1e-4, 1e-3), "each below the last"), ((), "a positive weight, or one per quality level"), (-1.0, "positive")],
)
def test_rate_weights_are_one_per_level_from_the_smallest_files_up(weights, fragment):
    with pytest.raises(ValueError, match=fragment):
        EntropyBottleneck(8, rate_weight=weights)


def test_a_model_of_float_signals_measures_its_levels_in_squared_error(tmp_path):
    """Signals (--floats): no PSNR; each level's error is its MSE in the model's own units, and info says so."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    phase = rng.uniform(0, 2 * np.pi, (1200, 1))
    windows = (np.sin(np.linspace(0, 4 * np.pi, 64)[None] + phase) + rng.normal(0, 0.1, (1200, 64))).astype(np.float32)
    signal = keras.Input((64,))
    code = EntropyBottleneck(4, rate_weight=(1e-2, 1e-3), name="rate")(layers.Dense(4)(signal))
    model = keras.Model(signal, layers.Dense(64)(layers.Dense(32, activation="relu")(code)))
    model.compile("adam", "mse")
    model.fit(windows[:1000], windows[:1000], epochs=8, batch_size=32, verbose=0)
    model.save(tmp_path / "signals.keras")
    np.save(tmp_path / "val.npy", windows[1000:])
    models = tmp_path / "models"
    yours = ["--autoencoder", tmp_path / "signals.keras", "--data", tmp_path / "val.npy", "--floats"]
    result = export(*yours, "--name", "sig", "--out", models)
    assert result.exit_code == 0, result.output
    info = invoke("info", "--models", models)
    assert info.exit_code == 0 and "--quality 1-2, default" in info.stdout and "MSE " in info.stdout, info.output
    levels = json.loads(
        json.loads((models / "sig_decoder.json").read_text())["metadata_props"]["aeonnx.quality_levels"]
    )
    (low, high) = levels["measured"]
    assert low["bytes"] < high["bytes"] and low["mse"] > high["mse"] and "psnr" not in low, levels["measured"]
