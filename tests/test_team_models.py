"""Issue 31: the Keras autoencoders teams really have, built as their sources write them, trained briefly, and
put through `aeonnx export`, `aeonnx verify` and the command that serves them: custom layers (keras.io's VAE
and its unregistered Sampling layer, a subclassed encoder, Lambda layers), one-model autoencoders split at
their code layer (keras.io's denoising and timeseries anomaly-detection autoencoders), an encoder with a
classifier head, pixels in [-1, 1] and in 0..255, float signals, and Keras' JAX backend. Every refusal is one
line on stderr, a non-zero exit, and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from aeonnx.runtime import metrics, spec
from aeonnx.runtime.jobs.generate import manifold_size

from .helpers import REPO, invoke, one_line_error

TEAM = REPO / "tests" / "team_models"
JAX_TRAINED = REPO / "tests" / "fixtures" / "keras" / "jax_trained_ae.keras"
QUIET = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}  # a team's own script's TensorFlow start-up lines


def export(*args):
    return invoke("export", *args)


def refused(result, fragment: str, folder) -> None:
    """One line on stderr, exit 1, and no models folder."""
    one_line_error(result, fragment, alone=True)
    assert not folder.exists(), list(folder.iterdir())


def verified(models) -> None:
    result = invoke("verify", models)
    assert result.exit_code == 0 and "0 failed" in result.stdout, result.output


def pictures(digits: np.ndarray, folder):
    folder.mkdir()
    for index, digit in enumerate(digits):
        Image.fromarray(digit).save(folder / f"{index:03d}.png")
    return folder


def round_trip(models, name: str, inputs, tmp_path) -> np.ndarray:
    """compress then decompress from the command line: the decoded pictures, uint8 [N, H, W]."""
    codes, out = tmp_path / f"{name}.aez", tmp_path / f"{name}-decoded"
    compressed = invoke("compress", inputs, "--models", models, "--model", name, "-o", codes)
    assert compressed.exit_code == 0, compressed.output
    decoded = invoke("decompress", codes, "--models", models, "-o", out)
    assert decoded.exit_code == 0, decoded.output
    return np.stack([np.asarray(Image.open(path)) for path in sorted(out.glob("*.png"))])


def psnr_in(values: np.ndarray, outputs: np.ndarray, value_range: tuple[float, float]) -> float:
    """PSNR in a model's own convention, peak HI - LO: of its outputs, or of decoded uint8 pixels read into
    [LO, HI] as pixel / 255 reads them."""
    low, high = value_range
    if outputs.dtype == np.uint8:
        outputs = low + outputs.astype(np.float64) / 255 * (high - low)
    mse = np.mean((values.reshape(len(values), -1) - outputs.reshape(len(outputs), -1)) ** 2, axis=1)
    return float(np.mean(10 * np.log10((high - low) ** 2 / np.maximum(mse, 1e-12))))


# --- custom layers ---------------------------------------------------------------------------------------------


def test_keras_io_vae_with_its_unregistered_sampling_layer(mnist, tmp_path):
    """keras.io's VAE, run as its script is run; exported with the script itself as --custom-objects (its
    training is not run again)."""
    script = subprocess.run([sys.executable, TEAM / "vae.py", tmp_path], capture_output=True, text=True, env=QUIET)
    assert script.returncode == 0, script.stderr
    models, val = tmp_path / "models", tmp_path / "val.npy"
    np.save(val, mnist["x_test"][:300])
    parts = ["--encoder", tmp_path / "vae_encoder.keras", "--decoder", tmp_path / "vae_decoder.keras"]
    yours = [*parts, "--data", val, "--name", "kvae", "--out", models]
    refused(export(*yours), "built with the class 'Sampling', which Keras does not know: give the Python file", models)
    result = export(*yours, "--custom-objects", TEAM / "vae.py")
    assert result.exit_code == 0, result.output
    assert "encoder outputs: mean = 'z_mean', log-variance = 'z_log_var'; left out: 'sampling'" in result.stdout
    assert all(stage in result.stdout for stage in ("start", "load", "measure", "convert", "gate", "vectors", "files"))
    assert "Traceback" not in result.output and "absl" not in result.output and "UserWarning" not in result.output
    verified(models)
    sampled = invoke("sample", "--models", models, "--model", "kvae", "-n", "4", "-o", tmp_path / "new.png")
    assert sampled.exit_code == 0 and sampled.stdout.strip().endswith(": 4 image(s)"), sampled.output
    plane = invoke("manifold", "--models", models, "--model", "kvae", "-n", "4", "-o", tmp_path / "plane.png")
    assert plane.exit_code == 0 and Image.open(tmp_path / "plane.png").size == manifold_size(4), plane.output
    assert round_trip(models, "kvae", pictures(mnist["x_test"][300:310], tmp_path / "digits"), tmp_path).shape == (
        10,
        28,
        28,
    )


def test_a_subclassed_encoder_and_a_lambda_of_a_named_function(mnist, tmp_path):
    from .team_models.subclassed import ConvEncoder, sampling

    encoder = ConvEncoder(12)
    code = keras.Input((12,))
    decoder = keras.Model(code, layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(code)))
    x = mnist["x_train"][:512, :, :, None].astype(np.float32) / 255
    image = keras.Input((28, 28, 1))
    autoencoder = keras.Model(image, decoder(encoder(image)))
    autoencoder.compile("adam", "binary_crossentropy")
    autoencoder.fit(x, x, epochs=1, verbose=0)
    encoder.save(tmp_path / "enc.keras")
    decoder.save(tmp_path / "dec.keras")
    models, val = tmp_path / "models", tmp_path / "val.npz"
    np.savez(val, x=mnist["x_test"][:200])
    yours = ["--encoder", tmp_path / "enc.keras", "--decoder", tmp_path / "dec.keras", "--data", val, "--out", models]
    refused(export(*yours, "--name", "sub"), "the class 'ConvEncoder', which Keras does not know", models)
    by_module = export(*yours, "--name", "sub", "--custom-objects", "tests.team_models.subclassed")
    assert by_module.exit_code == 0, by_module.output
    verified(models)

    mean, log_var = layers.Dense(2, name="z_mean"), layers.Dense(2, name="z_log_var")
    h = layers.Dense(32, activation="relu")(layers.Flatten()(image))
    z_mean, z_log_var = mean(h), log_var(h)
    vae_encoder = keras.Model(image, [z_mean, z_log_var, layers.Lambda(sampling, name="z")([z_mean, z_log_var])])
    vae_encoder.save(tmp_path / "lambda_enc.keras")
    generator = keras.Model(code := keras.Input((2,)), layers.Reshape((28, 28, 1))(layers.Dense(784, "sigmoid")(code)))
    generator.save(tmp_path / "gen.keras")
    lambdas = ["--encoder", tmp_path / "lambda_enc.keras", "--decoder", tmp_path / "gen.keras", "--data", val]
    elsewhere = tmp_path / "elsewhere"
    refused(export(*lambdas, "--name", "lam", "--out", elsewhere), "the function 'sampling'", elsewhere)
    named = export(*lambdas, "--name", "lam", "--out", models, "--custom-objects", TEAM / "subclassed.py")
    assert named.exit_code == 0, named.output  # Keras' safe mode on: a named function needs no bytecode


def test_a_python_lambda_needs_unsafe_deserialization_and_says_so(mnist, tmp_path):
    image = keras.Input((784,))
    encoder = keras.Model(image, layers.Lambda(lambda v: v * 2.0)(layers.Dense(8)(image)))
    decoder = keras.Sequential([keras.Input((8,)), layers.Dense(784, activation="sigmoid")])
    encoder.save(tmp_path / "enc.keras")
    decoder.save(tmp_path / "dec.keras")
    np.save(tmp_path / "val.npy", mnist["x_test"][:100].reshape(100, 784))
    models = tmp_path / "models"
    yours = ["--encoder", tmp_path / "enc.keras", "--decoder", tmp_path / "dec.keras", "--data", tmp_path / "val.npy"]
    yours += ["--name", "lam", "--out", models]
    refused(
        export(*yours), "a Python lambda (a Lambda layer), whose stored bytecode Keras' safe mode does not run", models
    )
    result = export(*yours, "--unsafe-deserialization")
    assert result.exit_code == 0, result.output
    assert "aeonnx: warning: --unsafe-deserialization runs the Python code stored in the .keras files" in result.stderr


def test_custom_objects_that_cannot_be_read_are_one_line(tmp_path):
    models = tmp_path / "models"
    (tmp_path / "broken.py").write_text("import keras\nclass Layer(keras.layers.Layer:\n")
    yours = ["--autoencoder", JAX_TRAINED, "--data", tmp_path / "none.npy", "--name", "x", "--out", models]
    refused(export(*yours, "--custom-objects", tmp_path / "broken.py"), "cannot read it as Python", models)
    refused(
        export(*yours, "--custom-objects", "no.such.module"),
        "--custom-objects no.such.module: cannot import it",
        models,
    )


# --- one model, split at its code layer ----------------------------------------------------------------------


def denoising_autoencoder():
    """keras.io's convolutional denoising autoencoder, one model: two Conv2D + MaxPooling2D down to 7 x 7 x 32,
    two Conv2DTranspose up, a sigmoid Conv2D out; the layers keep Keras' own names."""
    image = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(image)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(image, x)


def test_keras_io_denoising_autoencoder_saved_as_one_model(mnist, tmp_path):
    keras.utils.set_random_seed(0)
    model = denoising_autoencoder()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    clean = mnist["x_train"][:512, :, :, None].astype(np.float32) / 255
    noisy = np.clip(clean + 0.4 * np.random.default_rng(0).normal(size=clean.shape), 0, 1).astype(np.float32)
    model.fit(noisy, clean, epochs=2, batch_size=64, verbose=0)
    model.save(tmp_path / "denoiser.keras")
    models, val = tmp_path / "models", tmp_path / "val.npz"
    np.savez(val, x=mnist["x_test"][:300])
    same = ["--encoder", tmp_path / "denoiser.keras", "--decoder", tmp_path / "denoiser.keras"]
    refused(export(*same, "--data", val, "--name", "den", "--out", models), "give it as --autoencoder FILE", models)
    yours = ["--autoencoder", tmp_path / "denoiser.keras", "--data", val, "--name", "den", "--out", models]
    refused(
        export(*yours, "--code-layer", "nosuch"),
        "--code-layer 'nosuch': the model has no such layer; its layers are",
        models,
    )
    result = export(*yours)
    assert result.exit_code == 0, result.output
    pooled = model.layers[4].name  # the second MaxPooling2D, whatever number Keras gave it
    assert f"split at code layer '{pooled}' (7 x 7 x 32 = 1,568 values; the narrowest" in result.stdout
    verified(models)
    held_out = mnist["x_test"][300:340]
    decoded = round_trip(models, "den", pictures(held_out, tmp_path / "digits"), tmp_path)
    x = held_out[..., None].astype(np.float32) / 255
    keras_psnr = metrics.psnr(x, np.asarray(model(x)))
    assert abs(metrics.psnr(x, decoded[..., None].astype(np.float32) / 255) - keras_psnr) <= 0.15


def test_one_model_of_an_encoder_and_a_decoder_and_a_subclass_holding_them(mnist, tmp_path):
    """keras.Model(x, decoder(encoder(x))), saved whole, splits where the encoder ends; a keras.Model subclass
    (keras.io's VAE class) gives the `encoder` and `decoder` it holds."""
    from aeonnx.export.your_model import export_keras_autoencoder

    image = keras.Input((28, 28))
    encoder = keras.Model(image, layers.Dense(16, activation="relu")(layers.Flatten()(image)), name="enc")
    code = keras.Input((16,))
    decoder = keras.Model(code, layers.Reshape((28, 28))(layers.Dense(784, activation="sigmoid")(code)), name="dec")
    x = keras.Input((28, 28))
    keras.Model(x, decoder(encoder(x))).save(tmp_path / "whole.keras")
    said = []
    entry = export_keras_autoencoder(
        tmp_path / "whole.keras", mnist["x_test"][:200], tmp_path / "m", "whole", say=said.append
    )
    assert entry["latent_size"] == 16 and any("split at code layer 'enc' (16 values" in line for line in said), said

    class Holder(keras.Model):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder

        def call(self, x):
            return self.decoder(self.encoder(x))

    entry = export_keras_autoencoder(Holder(encoder, decoder), mnist["x_test"][:200], tmp_path / "m", "held")
    assert entry["latent_size"] == 16


def test_keras_io_timeseries_anomaly_autoencoder_on_z_scored_windows(tmp_path):
    """keras.io's anomaly detector, run as its script is run (tests/team_models/timeseries.py): scores equal
    Keras' own reconstruction error, windows with a jump are flagged, at most 2% of normal ones are."""
    script = subprocess.run(
        [sys.executable, TEAM / "timeseries.py", tmp_path], capture_output=True, text=True, env=QUIET
    )
    assert script.returncode == 0, script.stderr
    model = keras.models.load_model(tmp_path / "ts.keras")
    normal = np.load(tmp_path / "normal.npy")
    models = tmp_path / "models"
    yours = ["--autoencoder", tmp_path / "ts.keras", "--data", tmp_path / "train.npy", "--name", "ts", "--out", models]
    refused(export(*yours), "signals or tables: --floats", models)
    result = export(*yours, "--floats")
    assert result.exit_code == 0, result.output
    verified(models)

    ours = ["--models", models, "--model", "ts", "--metric", "mae", "--json"]
    scored = invoke("score", tmp_path / "normal.npy", *ours)
    assert scored.exit_code == 0, scored.output
    lines = [json.loads(line) for line in scored.stdout.splitlines()]
    keras_mae = np.mean(np.abs(model.predict(normal, verbose=0) - normal), axis=1)[:, 0]
    np.testing.assert_allclose([line["score"] for line in lines], keras_mae, rtol=1e-4, atol=1e-6)
    assert sum(line["anomaly"] for line in lines) <= 0.02 * len(lines), scored.stderr
    assert "mae above" in scored.stderr and "99.5th percentile of 600 export inputs' mae" in scored.stderr
    spiked = invoke("score", tmp_path / "jumps.npy", *ours, "--histogram", tmp_path / "hist.png")
    flags = [json.loads(line)["anomaly"] for line in spiked.stdout.splitlines()]
    assert sum(flags) >= 0.9 * len(flags), spiked.stderr
    assert Image.open(tmp_path / "hist.png").size == (640, 360)

    codes = tmp_path / "normal.aez"
    assert invoke("compress", tmp_path / "normal.npy", "--models", models, "--model", "ts", "-o", codes).exit_code == 0
    for out in (tmp_path / "back.npy", tmp_path / "back.npz"):
        decoded = invoke("decompress", codes, "--models", models, "-o", out)
        assert decoded.exit_code == 0, decoded.output
    back = np.load(tmp_path / "back.npy")
    assert back.shape == normal.shape and back.dtype == np.float32
    keras_error = np.mean((model.predict(normal, verbose=0) - normal) ** 2)
    assert np.mean((back - normal) ** 2) <= 1.1 * keras_error  # through codes at the default bits
    with np.load(tmp_path / "back.npz") as archive:
        assert list(archive["names"][:2]) == ["normal/00000", "normal/00001"]
    refused(invoke("decompress", codes, "--models", models, "-o", tmp_path / "back.png"), "FILE.npy", tmp_path / "x")
    picture = invoke("compress", REPO / "examples" / "digit-6-on-paper.png", "--models", models, "--model", "ts")
    assert (
        picture.exit_code == 1
        and "the model takes arrays of (288, 1) numbers (.npy, .npz), not pictures" in picture.stderr
    )


# --- several outputs, other pixel values -----------------------------------------------------------------------


def test_an_encoder_with_a_classifier_head(mnist, tmp_path):
    image = keras.Input((28, 28))
    h = layers.Dense(64, activation="relu")(layers.Flatten()(image))
    encoder = keras.Model(image, [layers.Dense(16, name="code")(h), layers.Dense(10, name="logits")(h)])
    code = keras.Input((16,))
    decoder = keras.Model(code, layers.Reshape((28, 28))(layers.Dense(784, activation="sigmoid")(code)))
    encoder.save(tmp_path / "enc.keras")
    decoder.save(tmp_path / "dec.keras")
    np.save(tmp_path / "val.npy", mnist["x_test"][:200])
    models = tmp_path / "models"
    yours = ["--encoder", tmp_path / "enc.keras", "--decoder", tmp_path / "dec.keras", "--data", tmp_path / "val.npy"]
    yours += ["--name", "head", "--out", models]
    refused(
        export(*yours, "--code-output", "logits"), "the decoder takes (16,), the encoder gives codes of (10,)", models
    )
    result = export(*yours)
    assert result.exit_code == 0, result.output
    assert "encoder outputs: code = 'code'; left out: 'logits'" in result.stdout
    verified(models)
    assert round_trip(models, "head", pictures(mnist["x_test"][:5], tmp_path / "d"), tmp_path).shape == (5, 28, 28)


def dense_digits(activation: str, rescale_in: float | None = None, rescale_out: float | None = None):
    """A dense digit autoencoder of one model; `rescale_in`/`rescale_out`: Rescaling layers at its ends, as
    keras.io writes a model that takes pixels 0..255."""
    image = keras.Input((28, 28, 1))
    h = layers.Rescaling(rescale_in)(image) if rescale_in else image
    h = layers.Dense(32, activation="relu", name="code")(layers.Flatten()(h))
    out = layers.Reshape((28, 28, 1))(layers.Dense(784, activation=activation)(h))
    return keras.Model(image, layers.Rescaling(rescale_out)(out) if rescale_out else out)


@pytest.mark.parametrize(
    ("case", "value_range", "output_range"),
    [("tanh", (-1.0, 1.0), None), ("rescaling", (0.0, 255.0), None), ("sigmoid-out", (0.0, 255.0), (0.0, 1.0))],
)
def test_pixels_in_the_models_own_values(case, value_range, output_range, mnist, tmp_path):
    """A tanh model on [-1, 1]; a model that rescales 0..255 itself (Rescaling(1/255) in, x255 out); one that
    takes 0..255 and gives [0, 1]. Refused without the flags, each naming the one it needs; with them, the
    pictures' round trip reaches Keras' own PSNR in the model's own values within 0.1 dB."""
    low, high = value_range
    model = {
        "tanh": lambda: dense_digits("tanh"),
        "rescaling": lambda: dense_digits("sigmoid", 1 / 255, 255.0),
        "sigmoid-out": lambda: dense_digits("sigmoid", 1 / 255),
    }[case]()
    x = mnist["x_train"][:3000, :, :, None].astype(np.float32) / 255 * (high - low) + low
    target = x if output_range is None else x / 255
    keras.utils.set_random_seed(0)
    model.compile("adam", "mse")
    model.fit(x, target, epochs=4, batch_size=64, verbose=0)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "val.npy", mnist["x_test"][:300])
    models = tmp_path / "models"
    yours = ["--autoencoder", tmp_path / "model.keras", "--code-layer", "code", "--data", tmp_path / "val.npy"]
    yours += ["--name", case, "--out", models]
    hint = {"tanh": "--value-range LO,HI (e.g. -1,1", "rescaling": "--value-range 0,255"}.get(
        case, "--output-range 0,1"
    )
    given = [] if case != "sigmoid-out" else ["--value-range", "0,255"]
    refused(export(*yours, *given), hint, models)
    ranges = [f"--value-range={low:g},{high:g}"] + ([f"--output-range={output_range[0]:g},1"] if output_range else [])
    result = export(*yours, *ranges)
    assert result.exit_code == 0, result.output
    verified(models)
    entry = json.loads((models / spec.MANIFEST_FILE).read_text())["models"][case]
    assert entry["value_range"] == [low, high] and entry.get("output_range") == (
        list(output_range) if output_range else None
    )
    held_out = mnist["x_test"][300:400]
    decoded = round_trip(models, case, pictures(held_out, tmp_path / "digits"), tmp_path)
    values = held_out[..., None].astype(np.float32) / 255 * (high - low) + low
    out_low, out_high = output_range or value_range
    expected = (values - low) / (high - low) * (out_high - out_low) + out_low  # the inputs in the outputs' values
    keras_psnr = psnr_in(expected, np.asarray(model(values)), (out_low, out_high))
    ours = psnr_in(expected, decoded[..., None], (out_low, out_high))
    assert abs(ours - keras_psnr) <= 0.1, (ours, keras_psnr)
    mean_picture = psnr_in(expected, np.broadcast_to(expected.mean(axis=0), expected.shape), (out_low, out_high))
    assert keras_psnr >= mean_picture + 1  # it learned something: a real test


# --- Keras' other backends ---------------------------------------------------------------------------------------


def test_with_keras_backend_jax_set_export_runs_on_tensorflow_and_a_jax_trained_file_exports(mnist, tmp_path):
    """KERAS_BACKEND=jax (JAX need not be installed): export says in one line that it runs on TensorFlow; the
    .keras file was trained on JAX (tests/fixtures/keras/make_jax_trained.py)."""
    np.save(tmp_path / "val.npy", mnist["x_test"][:200])
    models = tmp_path / "models"
    command = [sys.executable, "-c", "from aeonnx.cli import main; main()", "export", "--autoencoder", str(JAX_TRAINED)]
    command += ["--data", str(tmp_path / "val.npy"), "--name", "fromjax", "--out", str(models)]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": "jax"})
    assert result.returncode == 0, result.stderr
    assert "KERAS_BACKEND=jax: Keras runs on TensorFlow here (tf2onnx converts TensorFlow graphs)" in result.stdout
    assert result.stderr == "", result.stderr  # no TensorFlow start-up lines, no warnings: a clean run
    assert "split at code layer 'code' (12 values" in result.stdout
    verified(models)
    decoded = round_trip(models, "fromjax", pictures(mnist["x_test"][200:230], tmp_path / "d"), tmp_path)
    x = mnist["x_test"][200:230].reshape(30, -1).astype(np.float32) / 255
    assert metrics.psnr(x, decoded.reshape(30, -1).astype(np.float32) / 255) > 14  # trained on JAX: it learned


# --- scores of the shipped models ------------------------------------------------------------------------------


def test_the_shipped_ae_scores_digits_and_flags_pictures_that_are_no_digits(mnist, fashion, tmp_path):
    """The shipped models predate the recorded threshold: their mse threshold comes from the quality profile
    they carry (the same percentile of their training digits' errors)."""
    from aeonnx.runtime import load

    np.save(tmp_path / "digits.npy", mnist["x_test"])
    np.save(tmp_path / "fashion.npy", fashion)
    digits = invoke("score", tmp_path / "digits.npy", "--json")
    flagged = [json.loads(line)["anomaly"] for line in digits.stdout.splitlines()]
    assert digits.exit_code == 0 and len(flagged) == 1000 and sum(flagged) <= 10, digits.stderr
    assert "the 99.5th percentile of 55,000 training inputs' mse" in digits.stderr
    clothes = load("ae", device="cpu").score(fashion)
    assert clothes.anomalous.mean() >= 0.9 and clothes.metric == "mse"
    mae = invoke("score", tmp_path / "digits.npy", "--metric", "mae")
    assert mae.exit_code == 0 and "give --threshold" in mae.stderr and " - " in mae.stdout.splitlines()[0]
    given = invoke("score", tmp_path / "digits.npy", "--metric", "mae", "--threshold", "0.05", "--json")
    assert given.exit_code == 0 and "(given)" in given.stderr
    refused(invoke("score", tmp_path / "digits.npy", "--metric", "rmse"), "--metric 'rmse'", tmp_path / "none")


def test_a_script_whose_keras_runs_on_another_backend_is_told_how_to_export(monkeypatch, mnist, tmp_path):
    """Keras' backend is fixed when it is first imported: a script on JAX calling the export API is refused
    in one line that says what to do."""
    from aeonnx.export.your_model import export_keras_pair
    from aeonnx.runtime.errors import ModelError

    monkeypatch.setattr(keras.config, "backend", lambda: "jax")
    with pytest.raises(ModelError, match=r"Keras runs on jax in this process.*run `aeonnx export`"):
        export_keras_pair(tmp_path / "enc.keras", tmp_path / "dec.keras", mnist["x_test"][:10], tmp_path, "mine")
