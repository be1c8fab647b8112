"""A Keras encoder and decoder of your own -> the same gated, self-describing files as the shipped models.

    aeonnx export --encoder ENC.keras --decoder DEC.keras --data IMAGES --name NAME --out DIR

or, in your own training script, with the models in memory:

    from aeonnx.export.your_model import export_keras_pair
    export_keras_pair(encoder, decoder, x_val, "models", "faces")

Any functional or sequential Keras 3 pair: an encoder from one image (flat, or (H, W, C) channels last,
floats in [0, 1]) to a flat code, or, for a VAE, to a mean and a log-variance (chosen by name); a decoder
(or generator) from the code back to an image of the encoder's input shape. The images are yours: they
check the parts (the parity gate), and give the latent statistics, the priors and default bits of
format v2, the quality profile behind the warning, and the data fingerprint.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from aeonnx.provenance import fingerprint, library_versions
from aeonnx.runtime import metrics, quality, spec
from aeonnx.runtime.errors import DataError, ModelError
from aeonnx.runtime.pictures.images import IMAGE_SUFFIXES  # the pictures compress reads, read here too

from .convert import first_line
from .exporter import check_name_pattern, check_outputs, check_reading, export_parts

PARITY_IMAGES = 256  # the images the parity gate and the int8 gate run on (batches 1, 7, 256)
MEASURED_IMAGES = 20_000  # at most this many give the statistics, priors and quality profile
CHOOSE_SHARE = 0.2  # the default bits are chosen on this share of them (a fixed draw)
MEAN_NAMES = re.compile(r"(^|_)(z_?)?(mean|mu)($|_)")
LOG_VAR_NAMES = re.compile(r"log_?var|logvar|log_?sigma")


def export_keras_pair(
    encoder,
    decoder,
    images,
    out_dir: Path | str,
    name: str,
    *,
    mean_output: str | None = None,
    log_var_output: str | None = None,
    preprocessing: str = "resize",
    opset: int = spec.DEFAULT_OPSET,
    force: bool = False,
    quantize: str | None = None,
    edge: bool = False,
) -> dict:
    """Convert, gate and write a Keras encoder and decoder (models or .keras paths) as model `name` in
    `out_dir`, checked and measured on `images` (an array, or a .npz/.npy/IDX file or a folder of images);
    returns its manifest entry. `preprocessing`: how compress makes a picture its input (spec.PICTURE_READINGS).
    Nothing is written unless every gate passes."""
    out_dir = Path(out_dir)
    _check_name(name)
    encoder, decoder = _functional(_keras_model(encoder, "encoder")), _functional(_keras_model(decoder, "decoder"))
    if _subclassed(encoder) and _subclassed(decoder):
        raise ModelError(
            "the encoder and the decoder are both subclassed Keras models, whose shapes Keras does not record: "
            "give one as a functional or Sequential model, e.g. keras.Model(inputs, encoder(inputs))"
        )
    if _subclassed(encoder):  # it takes what the decoder gives
        encoder = _called_on(encoder, tuple(decoder.output_shape[1:]))
    encoder, kind = _code_outputs(encoder, mean_output, log_var_output)
    if _subclassed(decoder):  # it takes what the encoder gives
        decoder = _called_on(decoder, tuple(_listed(encoder.output_shape)[0][1:]))
    encoder, decoder = _flat_codes(encoder, decoder)
    input_shape, latent_size = _shapes(encoder, decoder)
    check_reading(preprocessing, input_shape)
    model_spec = spec.your_model(name, kind, latent_size, input_shape, preprocessing)
    check_outputs(model_spec, out_dir, force, quantize)
    x = as_inputs(images, input_shape)
    record = measure(model_spec, encoder, decoder, x)
    parts = {model_spec.encoder.name: encoder, model_spec.decoder.name: decoder}
    return export_parts(model_spec, parts, x[:PARITY_IMAGES], record, out_dir, opset, force, quantize, edge)


def _check_name(name: str) -> None:
    if name in spec.MODELS:
        raise ModelError(f"--name {name!r} is a shipped model's; give yours a name of its own")
    check_name_pattern(name)


def _keras_model(model, what: str):
    """A Keras model, or one loaded from a .keras file (compile=False: the optimizer is not needed)."""
    if not isinstance(model, (str, Path)):
        return model
    import keras

    path = Path(model)
    if not path.is_file():
        raise ModelError(f"{path}: no such {what} file")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises ValueError, TypeError, OSError or zipfile errors for a bad file
        raise ModelError(f"{path}: cannot load the Keras {what} ({first_line(e)})") from None


def _functional(model):
    """A Sequential model as the functional model of its layers: tf2onnx 1.17 cannot convert Keras 3's
    Sequential (it looks up tensors by names a Sequential does not keep); the weights are the same."""
    import keras

    if isinstance(model, keras.Sequential):
        return keras.Model(model.inputs, model.outputs, name=model.name)
    return model


def _subclassed(model) -> bool:
    """A keras.Model subclass with its own call(): it keeps no record of its inputs and outputs."""
    return not hasattr(model, "outputs")


def _called_on(model, shape: tuple[int, ...]):
    """A subclassed model as the functional model of one call on an input of `shape`."""
    import keras

    inputs = keras.Input(shape)
    try:
        return keras.Model(inputs, model(inputs), name=model.name)
    except Exception as e:  # its call() may not take a symbolic input of that shape
        raise ModelError(f"{model.name}: cannot call it on an input of {shape} ({first_line(e)})") from None


def _code_outputs(encoder, mean_output: str | None, log_var_output: str | None):
    """(the encoder to export, its kind): one output is an autoencoder's code; two or more are a VAE's, of
    which the mean and the log-variance are kept, in that order (a sampled z, if any, is left out)."""
    names = list(getattr(encoder, "output_names", None) or [])
    if len(encoder.outputs) == 1:
        if mean_output or log_var_output:
            raise ModelError("--mean-output and --log-var-output are for a VAE's encoder; this one has one output")
        return encoder, "ae"
    mean = _output_index(names, mean_output, MEAN_NAMES, "mean", "--mean-output")
    log_var = _output_index(names, log_var_output, LOG_VAR_NAMES, "log-variance", "--log-var-output")
    import keras

    inputs = encoder.inputs[0] if len(encoder.inputs) == 1 else encoder.inputs  # as the encoder is called
    return keras.Model(inputs, [encoder.outputs[mean], encoder.outputs[log_var]], name=encoder.name), "vae"


def _output_index(names: list[str], given: str | None, pattern: re.Pattern, what: str, option: str) -> int:
    if given is not None:
        if given not in names:
            raise ModelError(f"{option} {given!r}: the encoder's outputs are {', '.join(names)}")
        return names.index(given)
    matches = [i for i, name in enumerate(names) if pattern.search(name.lower())]
    if len(matches) != 1:
        raise ModelError(f"which of the encoder's outputs ({', '.join(names)}) is the {what}? Say it with {option}")
    return matches[0]


def _flat_codes(encoder, decoder):
    """A code that is a feature map (the encoder gives (h, w, c), the decoder takes it) travels flat, as the
    contract and the code files have it: the encoder's outputs are flattened and the decoder's input
    reshaped back, exactly (layers of the exported graphs; the parity gate checks them all the same)."""
    import keras

    codes = [tuple(shape[1:]) for shape in _listed(encoder.output_shape)]
    latent = tuple(decoder.input_shape[1:])
    if all(len(code) == 1 for code in codes) or len(set(codes)) != 1 or codes[0] != latent:
        return encoder, decoder  # flat already; or a mismatch, which _shapes names
    if not all(isinstance(n, int) and n > 0 for n in latent):
        return encoder, decoder
    flat = [keras.layers.Flatten()(output) for output in encoder.outputs]
    inputs = encoder.inputs[0] if len(encoder.inputs) == 1 else encoder.inputs
    code = keras.Input((int(np.prod(latent)),))
    unflat = decoder(keras.layers.Reshape(latent)(code))
    return keras.Model(inputs, flat if len(flat) > 1 else flat[0], name=encoder.name), keras.Model(
        code, unflat, name=decoder.name
    )


def _shapes(encoder, decoder) -> tuple[tuple[int, ...], int]:
    """(one image's shape, the code's length), once the two parts fit together."""
    if len(encoder.inputs) != 1 or len(decoder.inputs) != 1 or len(decoder.outputs) != 1:
        raise ModelError("the encoder and the decoder must each take one input, and the decoder give one output")
    image = tuple(encoder.input_shape[1:])
    if len(image) not in (1, 2, 3) or not all(isinstance(n, int) and n > 0 for n in image):
        raise ModelError(
            f"the encoder takes {image}: give it a fixed flat input, (height, width) or (height, width, channels)"
        )
    codes = [tuple(shape[1:]) for shape in _listed(encoder.output_shape)]
    if len(set(codes)) != 1 or len(codes[0]) != 1 or not codes[0][0]:
        raise ModelError(f"the encoder gives {codes}: a code must be flat and of a fixed length")
    latent = codes[0][0]
    if tuple(decoder.input_shape[1:]) != (latent,):
        raise ModelError(f"the decoder takes {tuple(decoder.input_shape[1:])}, the encoder gives codes of ({latent},)")
    if tuple(decoder.output_shape[1:]) != image:
        raise ModelError(f"the decoder gives images of {tuple(decoder.output_shape[1:])}, the encoder takes {image}")
    return image, latent


def _listed(shape) -> list:
    return shape if isinstance(shape, list) else [shape]


def as_inputs(images, input_shape: tuple[int, ...]) -> np.ndarray:
    """Your images as the encoder takes them: float32 [N, *input_shape] in [0, 1]."""
    if isinstance(images, (str, Path)):
        images = _read_images(Path(images), input_shape)
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    elif np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
        if x.size and (not np.isfinite(x).all() or x.min() < 0.0 or x.max() > 1.0):
            raise DataError("the images are floats outside [0, 1]: scale them as the encoder was trained")
    else:
        raise DataError(f"the images are {x.dtype}: give uint8 pixels or floats in [0, 1]")
    if len(x) == 0:
        raise DataError("no images to check the model on")
    if x.shape[1:] != input_shape and int(np.prod(x.shape[1:])) == int(np.prod(input_shape)):
        x = x.reshape(len(x), *input_shape)  # (N, H, W) for (H, W, 1), or (N, H, W) for a flat input
    if x.shape[1:] != input_shape:
        raise DataError(f"the images are {x.shape[1:]} each, the encoder takes {input_shape}")
    return np.ascontiguousarray(x)


def _read_images(path: Path, input_shape: tuple[int, ...]) -> np.ndarray:
    if path.is_dir():
        return _read_folder(path, input_shape)
    if path.suffix.lower() not in (".npz", ".npy"):  # an IDX file (MNIST's own format), raw or gzipped
        from aeonnx.runtime.pictures.arrays import iter_idx_blocks

        return np.concatenate(list(iter_idx_blocks(path, MEASURED_IMAGES)))
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                return np.asarray(archive)
            key = next((k for k in ("x", "x_test", "images", "x_train") if k in archive.files), None)
            if key is None and len(archive.files) == 1:
                key = archive.files[0]
            if key is None:
                raise DataError(
                    f"{path}: which array holds the images? name it 'x' (it has {', '.join(archive.files)})"
                )
            return archive[key]
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: cannot read the array ({e})") from None


def _read_folder(folder: Path, input_shape: tuple[int, ...]) -> np.ndarray:
    """A folder's images (sorted by name), resized to the model's input and converted to its channels."""
    from PIL import Image

    if len(input_shape) == 1 or (len(input_shape) == 3 and input_shape[2] not in (1, 3)):
        raise DataError(f"images from a folder need an encoder taking (height, width[, 1 or 3]), not {input_shape}")
    height, width, channels = (*input_shape, 1)[:3]
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DataError(f"{folder}: no images in it")
    pictures = []
    for file in files[:MEASURED_IMAGES]:
        try:
            with Image.open(file) as image:
                image = image.convert("L" if channels == 1 else "RGB")
                image = image.resize((width, height), Image.Resampling.LANCZOS)
                pictures.append(np.asarray(image, np.uint8).reshape(input_shape))
        except (OSError, ValueError) as e:
            raise DataError(f"{file}: unreadable image ({e})") from None
    return np.stack(pictures)


def measure(model_spec: spec.ModelSpec, encoder, decoder, x: np.ndarray) -> dict:
    """What training records of a shipped model, measured on your images: the round trip's figures,
    the latent statistics, the quality profile, format v2's priors and default bits."""
    from aeonnx.train.fit import held_out, latent_coding, latent_stats
    from aeonnx.train.models import predict_codes

    sample = x[:MEASURED_IMAGES]
    x_hat = decoder.predict(predict_codes(encoder, sample), batch_size=256, verbose=0)
    stats = latent_stats(encoder, sample)
    choose = held_out(len(sample), int(len(sample) * CHOOSE_SHARE))[1] if len(sample) >= 10 else np.arange(len(sample))
    return {
        "config": {
            "made_by": "your own Keras encoder and decoder (aeonnx export --encoder --decoder)",
            "kind": model_spec.kind,
            "input_shape": list(model_spec.input_shape),
            "latent_size": model_spec.latent_size,
        },
        "data": {"sha256": fingerprint(x), "images": len(x)},
        "versions": library_versions(),
        "metrics": metrics.reconstruction_metrics(sample, x_hat),
        "latent_stats": stats,
        "quality": quality.measure(sample, x_hat),
        **latent_coding(encoder, decoder, sample, sample[choose], stats),
    }
