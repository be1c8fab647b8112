"""Issue 19: a Keras autoencoder aeonnx did not make, written as a team would write it, through
`aeonnx export --encoder --decoder`, the parity gate and `aeonnx verify`."""

from __future__ import annotations

import json

import keras
import numpy as np
import onnxruntime
import pytest
from keras import layers
from PIL import Image

from aeonnx.runtime import spec

from .helpers import REPO, invoke, one_line_error


def conv_autoencoder(shape: tuple[int, int, int], latent: int = 24):
    """Conv2D + BatchNormalization down, Conv2DTranspose up: the common convolutional autoencoder."""
    image = keras.Input(shape, name="image")
    h = layers.Conv2D(16, 3, strides=2, padding="same")(image)
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(h))
    h = layers.Conv2D(32, 3, strides=2, padding="same")(h)
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(h))
    encoder = keras.Model(image, layers.Dense(latent, name="code")(layers.Flatten()(h)), name="encoder")
    code = keras.Input((latent,))
    g = layers.Reshape((shape[0] // 4, shape[1] // 4, 32))(
        layers.Dense(shape[0] * shape[1] * 2, activation="relu")(code)
    )
    g = layers.Conv2DTranspose(16, 3, strides=2, padding="same")(g)
    g = layers.ReLU()(layers.BatchNormalization(momentum=0.9)(g))
    g = layers.Conv2DTranspose(shape[2], 3, strides=2, padding="same", activation="sigmoid")(g)
    return encoder, keras.Model(code, g, name="decoder")


def trained(encoder, decoder, x, epochs: int = 3):
    keras.utils.set_random_seed(0)
    image = encoder.inputs[0]
    model = keras.Model(image, decoder(encoder(image)))
    model.compile("adam", "binary_crossentropy")
    model.fit(x, x, epochs=epochs, batch_size=128, verbose=0)
    return encoder, decoder


def digits32(mnist, part: str, count: int) -> np.ndarray:
    """MNIST digits padded to 32x32 (as LeNet took them), uint8 [N, 32, 32]."""
    return np.pad(mnist[part][:count], ((0, 0), (2, 2), (2, 2)))


def coloured(digits: np.ndarray, seed: int) -> np.ndarray:
    """Each digit in an ink colour of its own on a paper colour of its own: uint8 [N, H, W, 3]."""
    rng = np.random.default_rng(seed)
    ink, paper = rng.integers(0, 256, (2, len(digits), 1, 1, 3))
    share = digits[..., None].astype(np.float32) / 255
    return np.rint(share * ink + (1 - share) * paper).astype(np.uint8)


@pytest.fixture(scope="module")
def grey32(mnist, tmp_path_factory):
    """A 32x32 grey conv autoencoder saved as a team saves it, and 300 validation images of theirs."""
    folder = tmp_path_factory.mktemp("grey32")
    x = digits32(mnist, "x_train", 3000)[..., None].astype(np.float32) / 255
    encoder, decoder = trained(*conv_autoencoder((32, 32, 1)), x, epochs=20)  # 20.2 dB; the mean image: 13.0
    encoder.save(folder / "enc.keras")
    decoder.save(folder / "dec.keras")
    np.savez(folder / "val.npz", x=digits32(mnist, "x_test", 300))
    return folder


@pytest.fixture(scope="module")
def exported32(grey32):
    """The 32x32 model exported as its team would: `aeonnx export --encoder --decoder --data --name`."""
    out = grey32 / "models"
    result = invoke(
        "export", "--encoder", grey32 / "enc.keras", "--decoder", grey32 / "dec.keras",
        "--data", grey32 / "val.npz", "--name", "digits32", "--out", out, "--quantize", "int8", "--edge",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_a_conv_autoencoder_of_your_own_goes_through_the_gate_and_verify(grey32, exported32):
    out = exported32
    entry = json.loads((out / spec.MANIFEST_FILE).read_text())["models"]["digits32"]
    assert entry["kind"] == "ae" and entry["input_shape"] == [32, 32, 1] and entry["latent_size"] == 24
    assert all(info["parity_max_abs_diff"] <= 1e-4 for info in entry["files"].values())
    session = onnxruntime.InferenceSession(out / "digits32_encoder.onnx", providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    assert [i.name for i in session.get_inputs()] == [spec.X] and session.get_inputs()[0].shape == ["batch", 32, 32, 1]
    assert json.loads(meta[spec.META_IMAGE_SHAPE]) == [32, 32, 1] and meta[spec.META_KIND] == "ae"
    assert json.loads(meta[spec.META_LATENT_CODING])["default_bits"] in range(4, 9)
    assert json.loads(meta[spec.META_QUALITY])["psnr_db"]  # the warning's profile, from their images
    for flags in ([], ["--int8"]):
        verified = invoke("verify", out, *flags)
        assert verified.exit_code == 0 and "0 failed" in verified.stdout, verified.output
    again = invoke("export", "--encoder", grey32 / "enc.keras", "--decoder", grey32 / "dec.keras",
                   "--data", grey32 / "val.npz", "--name", "digits32", "--out", out)  # fmt: skip
    assert again.exit_code == 1 and "already exists" in again.stderr  # nothing overwritten unasked


def test_your_model_compresses_and_decompresses_its_own_images(grey32, exported32, mnist, tmp_path):
    """The issue's path: compress pictures with --models DIR --model NAME, decompress with --models DIR:
    32x32 images within 0.1 dB of Keras' own round trip, at the default bits."""
    digits = digits32(mnist, "x_test", 300)[200:]  # not among the images the export measured (the first 300)
    (tmp_path / "scans").mkdir()
    for index, digit in enumerate(digits):
        Image.fromarray(digit).save(tmp_path / "scans" / f"{index:03d}.png")
    Image.fromarray(digits[0]).resize((96, 96)).save(tmp_path / "big.png")  # resized to the model's 32x32
    codes = tmp_path / "codes.aez"
    result = invoke("compress", tmp_path / "scans", tmp_path / "big.png", "--models", exported32, "--model", "digits32",
                    "-o", codes)  # fmt: skip
    assert result.exit_code == 0, result.output
    decoded = invoke("decompress", codes, "--models", exported32, "-o", tmp_path / "out")
    assert decoded.exit_code == 0, decoded.output
    pictures = [Image.open(tmp_path / "out" / f"{i:03d}.png") for i in range(len(digits))]
    assert {(p.size, p.mode) for p in pictures} == {((32, 32), "L")}
    assert Image.open(tmp_path / "out" / "big.png").size == (32, 32)

    from aeonnx.runtime import load, metrics

    x = digits[..., None].astype(np.float32) / 255
    encoder = keras.models.load_model(grey32 / "enc.keras")
    decoder = keras.models.load_model(grey32 / "dec.keras")
    keras_psnr = metrics.psnr(x, np.asarray(decoder(encoder(x))))
    assert keras_psnr >= metrics.psnr(x, np.broadcast_to(x.mean(axis=0), x.shape)) + 5  # it learned: a real test
    ours = np.stack([np.asarray(p) for p in pictures])[..., None].astype(np.float32) / 255
    assert abs(metrics.psnr(x, ours) - keras_psnr) <= 0.1, (metrics.psnr(x, ours), keras_psnr)
    grid = invoke("decompress", codes, "--models", exported32, "--grid", "-o", tmp_path / "all.png")
    assert grid.exit_code == 0 and Image.open(tmp_path / "all.png").size == (11 * 34 - 2, 10 * 34 - 2)  # 101 images
    encoded = invoke("encode", tmp_path / "big.png", "--models", exported32, "--model", "digits32")
    assert encoded.exit_code == 0 and len(json.loads(encoded.stdout)["z"]) == 24, encoded.output
    seen = invoke(
        "inspect", tmp_path / "big.png", "--models", exported32, "--model", "digits32", "-o", tmp_path / "i.png"
    )
    assert seen.exit_code == 0 and "round trip" in seen.stdout, seen.output
    assert Image.open(tmp_path / "i.png").width < 4 * 224  # three panels: input, resized to 32x32, reconstruction
    described = invoke("info", codes)
    assert described.exit_code == 0 and "images of 32 x 32 x 1" in described.stdout, described.output
    model = load("digits32", exported32, device="cpu", part="decoder")
    names, images, _ = model.decompress(codes.read_bytes())
    assert names[-1] == "big" and images.shape == (len(digits) + 1, 32, 32)
    assert np.array_equal(images[:-1], np.stack(pictures))


def test_a_colour_model_exports_from_a_folder_of_images(mnist, tmp_path):
    x = coloured(digits32(mnist, "x_train", 2000), seed=1)
    encoder, decoder = trained(*conv_autoencoder((32, 32, 3), latent=32), x.astype(np.float32) / 255, epochs=2)
    (tmp_path / "photos").mkdir()
    for index, picture in enumerate(coloured(digits32(mnist, "x_test", 260), seed=2)):
        Image.fromarray(picture).resize((64, 64)).save(tmp_path / "photos" / f"{index:04d}.png")  # resized back to 32
    encoder.save(tmp_path / "enc.keras")
    decoder.save(tmp_path / "dec.keras")
    result = invoke("export", "--encoder", tmp_path / "enc.keras", "--decoder", tmp_path / "dec.keras",
                    "--data", tmp_path / "photos", "--name", "colour", "--out", tmp_path / "models")  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = json.loads((tmp_path / "models" / spec.MANIFEST_FILE).read_text())["models"]["colour"]
    assert entry["input_shape"] == [32, 32, 3]
    assert invoke("verify", tmp_path / "models").exit_code == 0
    models = ["--models", tmp_path / "models"]
    result = invoke(
        "compress", tmp_path / "photos" / "0000.png", *models, "--model", "colour", "-o", tmp_path / "c.aez"
    )
    assert result.exit_code == 0, result.output
    assert invoke("decompress", tmp_path / "c.aez", *models, "-o", tmp_path / "c.png").exit_code == 0
    with Image.open(tmp_path / "c.png") as picture:
        assert picture.size == (32, 32) and picture.mode == "RGB"


def small_vae(outputs: tuple[str, str, str] = ("mu", "logvar", "z")):
    """A VAE encoder as keras-io writes it: mean, log-variance and a sampled z, under names of its own."""
    image = keras.Input((16, 16, 1))
    h = layers.Flatten()(layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(image))
    mean, log_var = layers.Dense(2, name=outputs[0])(h), layers.Dense(2, name=outputs[1])(h)
    z = layers.Add(name=outputs[2])([mean, layers.Lambda(lambda v: keras.ops.exp(0.5 * v))(log_var)])
    encoder = keras.Model(image, [mean, log_var, z])
    code = keras.Input((2,))
    decoded = layers.Reshape((16, 16, 1))(layers.Dense(256, activation="sigmoid")(layers.Dense(32, "relu")(code)))
    return encoder, keras.Model(code, decoded)


def test_a_vae_of_your_own_keeps_its_mean_and_log_variance(tmp_path):
    from aeonnx.export.your_model import export_keras_pair

    encoder, generator = small_vae()
    images = np.random.default_rng(0).integers(0, 256, (300, 16, 16), dtype=np.uint8)  # in memory, from a script
    entry = export_keras_pair(encoder, generator, images, tmp_path, "tiny-vae")
    assert entry["kind"] == "vae"
    session = onnxruntime.InferenceSession(tmp_path / "tiny-vae_encoder.onnx", providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == [spec.Z_MEAN, spec.Z_LOG_VAR]
    x = images[:5, :, :, None].astype(np.float32) / 255
    mean, log_var, _ = (np.asarray(t) for t in encoder(x))
    onnx_mean, onnx_log_var = session.run(None, {spec.X: x})
    np.testing.assert_allclose(onnx_mean, mean, atol=1e-5)
    np.testing.assert_allclose(onnx_log_var, log_var, atol=1e-5)
    assert (tmp_path / "tiny-vae_generator.onnx").is_file()
    sampled = invoke("sample", "--models", tmp_path, "--model", "tiny-vae", "-n", "4", "-o", tmp_path / "new.png")
    assert sampled.exit_code == 0 and Image.open(tmp_path / "new.png").size == (2 * 18 - 2, 2 * 18 - 2), sampled.output


def test_images_can_come_as_an_idx_file(fashion, tmp_path):
    """Fashion-MNIST's own IDX file (gzipped), as --data: 10,000 items of 28x28 for a small conv model."""
    from .conftest import FASHION_TEST_IMAGES

    encoder, decoder = conv_autoencoder((28, 28, 1), latent=16)
    encoder.save(tmp_path / "enc.keras")
    decoder.save(tmp_path / "dec.keras")
    result = invoke("export", "--encoder", tmp_path / "enc.keras", "--decoder", tmp_path / "dec.keras",
                    "--data", FASHION_TEST_IMAGES, "--name", "clothes", "--out", tmp_path / "models",
                    "--preprocessing", "locate")  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = json.loads((tmp_path / "models" / spec.MANIFEST_FILE).read_text())["models"]["clothes"]
    assert entry["input_shape"] == [28, 28, 1] and entry["kind"] == "ae" and entry["preprocessing"] == "locate"
    # A 28x28 grey model of one's own may keep the digit localisation: the photo's digit is found and framed.
    photo, yours = REPO / "examples" / "seven-on-paper.jpg", ["--models", tmp_path / "models", "--model", "clothes"]
    inspected = invoke("inspect", photo, *yours, "-o", tmp_path / "seen.png")
    assert inspected.exit_code == 0 and (tmp_path / "seen.png").is_file(), inspected.output
    from aeonnx.runtime import load
    from aeonnx.runtime.pictures.images import read_image

    located = load("clothes", tmp_path / "models", device="cpu").encode(read_image(photo).digit[None])[0]
    encoded = invoke("encode", photo, *yours)
    assert encoded.exit_code == 0, encoded.output
    np.testing.assert_allclose(json.loads(encoded.stdout)["z"], located, atol=1e-5)


def test_crop_keeps_the_middle_of_a_picture_at_the_models_aspect_ratio(tmp_path):
    from aeonnx.runtime.pictures.images import read_image

    wide = np.zeros((40, 120), np.uint8)
    wide[:, 40:80] = 255  # a white square in the middle of a black strip
    Image.fromarray(wide).save(tmp_path / "wide.png")
    cropped = read_image(tmp_path / "wide.png", shape=(20, 20), crop=True).digit
    resized = read_image(tmp_path / "wide.png", shape=(20, 20)).digit
    assert cropped.shape == resized.shape == (20, 20)
    assert cropped.min() >= 250  # only the middle square is left
    assert resized[:, 0].max() == 0 and resized[:, 10].min() == 255  # squeezed: black sides, white middle


def test_unclear_vae_outputs_are_asked_for_by_name(tmp_path):
    from aeonnx.export.your_model import export_keras_pair
    from aeonnx.runtime.errors import ModelError

    encoder, generator = small_vae(("head_a", "head_b", "sample"))
    images = np.zeros((20, 16, 16), np.uint8)
    with pytest.raises(ModelError, match=r"which of the encoder's outputs \(head_a, head_b, sample\) is the code"):
        export_keras_pair(encoder, generator, images, tmp_path, "named")
    entry = export_keras_pair(
        encoder, generator, images, tmp_path, "named", mean_output="head_a", log_var_output="head_b"
    )
    assert entry["kind"] == "vae"


def test_a_pair_that_cannot_pass_is_refused_in_one_line(grey32, tmp_path):
    def export(encoder, decoder, *extra):
        return invoke("export", "--encoder", encoder, "--decoder", decoder, "--data", grey32 / "val.npz",
                      "--out", tmp_path / "models", *extra)  # fmt: skip

    _, decoder28 = conv_autoencoder((28, 28, 1))
    decoder28.save(tmp_path / "dec28.keras")
    result = export(grey32 / "enc.keras", tmp_path / "dec28.keras", "--name", "mismatch")
    one_line_error(result, "the decoder gives images of (28, 28, 1), the encoder takes (32, 32, 1)", alone=True)

    class Lgamma(layers.Layer):  # an op with no ONNX operator
        def call(self, x):
            import tensorflow as tf

            return tf.math.lgamma(x + 1.0)

    encoder, decoder = conv_autoencoder((32, 32, 1))
    odd = keras.Model(encoder.inputs, Lgamma(name="log_gamma")(encoder.outputs[0]))
    odd.save(tmp_path / "odd.keras")
    decoder.save(tmp_path / "dec.keras")
    keras.saving.get_custom_objects()["Lgamma"] = Lgamma
    result = export(tmp_path / "odd.keras", tmp_path / "dec.keras", "--name", "odd")
    one_line_error(result, "tf2onnx cannot convert layer 'log_gamma' (TensorFlow op Lgamma)", alone=True)
    one_line_error(export(grey32 / "enc.keras", grey32 / "dec.keras", "--name", "ae"), "a shipped model's")
    located = export(grey32 / "enc.keras", grey32 / "dec.keras", "--name", "x", "--preprocessing", "locate")
    one_line_error(located, "--preprocessing locate frames 28x28 grey digits; this model takes (32, 32, 1)")
    result = invoke("export", "--encoder", grey32 / "enc.keras", "--out", tmp_path / "models")
    one_line_error(result, "also needs --decoder, --data, --name", alone=True)
    assert not (tmp_path / "models").exists()  # nothing written by any of them


def test_a_flat_dense_model_takes_pictures_as_its_square_and_arrays_as_they_are(mnist, tmp_path):
    from aeonnx.export.your_model import export_keras_pair
    from aeonnx.runtime import load

    encoder = keras.Sequential([keras.Input((784,)), layers.Dense(64, activation="relu"), layers.Dense(12)])
    decoder = keras.Sequential([keras.Input((12,)), layers.Dense(784, activation="sigmoid")])
    entry = export_keras_pair(encoder, decoder, mnist["x_train"][:300], tmp_path / "models", "dense784")
    assert entry["input_shape"] == [784]
    model = load("dense784", tmp_path / "models", device="cpu")
    assert model.image_shape == (28, 28)
    Image.fromarray(mnist["x_test"][0]).resize((56, 56)).save(tmp_path / "d.png")
    yours = ["--models", tmp_path / "models", "--model", "dense784"]
    assert invoke("compress", tmp_path / "d.png", *yours, "-o", tmp_path / "d.aez").exit_code == 0
    assert model.decompress((tmp_path / "d.aez").read_bytes()).images.shape == (1, 28, 28)
    odd = export_keras_pair(
        keras.Sequential([keras.Input((120,)), layers.Dense(4)]),
        keras.Sequential([keras.Input((4,)), layers.Dense(120, activation="sigmoid")]),
        np.random.default_rng(0).random((50, 120), np.float32),
        tmp_path / "models",
        "signal120",
    )
    assert odd["input_shape"] == [120]  # not a square: one row of 120 values
    np.save(tmp_path / "signals.npy", np.random.default_rng(1).integers(0, 256, (5, 120), dtype=np.uint8))
    signals = ["--models", tmp_path / "models", "--model", "signal120"]
    assert invoke("compress", tmp_path / "signals.npy", *signals, "-o", tmp_path / "s.aez").exit_code == 0
    refused = invoke("compress", tmp_path / "d.png", *signals, "-o", tmp_path / "x.aez")
    assert refused.exit_code == 1 and "d.png: the model takes 120 values, not a picture" in refused.stderr


def test_a_model_taking_height_by_width_without_a_channel_axis(mnist, tmp_path):
    """keras.Input((28, 28)) then Flatten, as many MNIST tutorials write it: a grey image without channels."""
    from aeonnx.export.your_model import export_keras_pair
    from aeonnx.runtime import load

    image = keras.Input((28, 28))
    encoder = keras.Model(image, layers.Dense(16)(layers.Flatten()(image)))
    code = keras.Input((16,))
    decoder = keras.Model(code, layers.Reshape((28, 28))(layers.Dense(784, activation="sigmoid")(code)))
    entry = export_keras_pair(
        encoder, decoder, mnist["x_train"][:300], tmp_path / "models", "plain28", preprocessing="locate"
    )
    assert entry["input_shape"] == [28, 28] and entry["preprocessing"] == "locate"
    photo, yours = REPO / "examples" / "seven-on-paper.jpg", ["--models", tmp_path / "models", "--model", "plain28"]
    assert invoke("compress", photo, *yours, "-o", tmp_path / "seven.aez").exit_code == 0
    decoded = load("plain28", tmp_path / "models", device="cpu").decompress((tmp_path / "seven.aez").read_bytes())
    assert decoded.images.shape == (1, 28, 28)


def test_a_code_that_is_a_feature_map_travels_flat(mnist, tmp_path):
    """keras-io's convolutional autoencoder keeps a (7, 7, 32) feature map as its code: it is flattened on
    the way out and reshaped on the way in, exactly."""
    from aeonnx.export.your_model import export_keras_pair
    from aeonnx.runtime import load

    image = keras.Input((28, 28, 1))
    h = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(image)
    encoder = keras.Model(image, layers.Conv2D(4, 3, strides=2, padding="same")(h))  # (7, 7, 4)
    code = keras.Input((7, 7, 4))
    g = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(code)
    decoder = keras.Model(code, layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")(g))
    digits = mnist["x_test"][:300]
    entry = export_keras_pair(encoder, decoder, digits, tmp_path / "models", "maps")
    assert entry["latent_size"] == 7 * 7 * 4
    model = load("maps", tmp_path / "models", device="cpu")
    x = digits[:5, :, :, None].astype(np.float32) / 255
    np.testing.assert_allclose(model.encode(digits[:5]), np.asarray(encoder(x)).reshape(5, -1), atol=1e-5)
    np.testing.assert_allclose(
        model.decode(model.encode(digits[:5]), as_float=True), np.asarray(decoder(encoder(x)))[..., 0], atol=1e-5
    )


class SubclassedEncoder(keras.Model):
    """An encoder written as a keras.Model subclass: Keras keeps no record of its input or output shapes."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten, self.dense = layers.Flatten(), layers.Dense(8)

    def call(self, x):
        return self.dense(self.flatten(x))


def test_a_subclassed_part_takes_the_shape_the_other_part_says(mnist, tmp_path):
    from aeonnx.export.your_model import export_keras_pair
    from aeonnx.runtime.errors import ModelError

    encoder = SubclassedEncoder()
    encoder(np.zeros((1, 28, 28), np.float32))
    decoder = keras.Sequential([keras.Input((8,)), layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28))])
    entry = export_keras_pair(encoder, decoder, mnist["x_test"][:100], tmp_path / "models", "sub")
    assert entry["input_shape"] == [28, 28] and entry["latent_size"] == 8
    other = SubclassedEncoder()
    other(np.zeros((1, 8), np.float32))
    with pytest.raises(ModelError, match="both subclassed Keras models"):
        export_keras_pair(encoder, other, mnist["x_test"][:100], tmp_path / "models", "both")


def test_a_manifest_entry_aeonnx_did_not_write_is_refused_in_one_line(exported32, tmp_path):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(exported32, models)
    manifest = json.loads((models / spec.MANIFEST_FILE).read_text())
    manifest["models"]["digits32"]["kind"] = "gan"
    (models / spec.MANIFEST_FILE).write_text(json.dumps(manifest))
    picture = tmp_path / "p.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(picture)
    compressed = invoke("compress", picture, "--models", models, "--model", "digits32", "-o", tmp_path / "p.aez")
    one_line_error(compressed, "manifest.json: model 'digits32': its manifest entry is not one aeonnx writes")
    one_line_error(invoke("verify", models), "its manifest entry is not one aeonnx writes")
