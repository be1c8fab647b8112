"""A Keras autoencoder of your own -> the same gated, self-describing files as the shipped models.

    aeonnx export --encoder ENC.keras --decoder DEC.keras --data DATA --name NAME --out DIR
    aeonnx export --autoencoder AE.keras [--code-layer LAYER] --data DATA --name NAME --out DIR

or, in your own training script, with the models in memory:

    from aeonnx.export.your_model import export_keras_autoencoder, export_keras_pair
    export_keras_pair(encoder, decoder, x_val, "models", "faces")

The two parts come from what a team has (export/parts.py): two models, one model split at its code layer,
an encoder with more outputs than its code, custom layers (export/keras_files.py). The data is theirs, in
the model's own values (export/your_data.py): it checks the parts (the parity gate), and gives the latent
statistics, the priors and default bits of format v2, the quality profile behind the warning, the anomaly
threshold of `aeonnx score`, and the data fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeonnx.provenance import fingerprint, library_versions
from aeonnx.runtime import conventions, metrics, quality, scores, spec
from aeonnx.runtime.errors import ModelError

from . import keras_files, parts
from .exporter import check_name_pattern, check_outputs, check_reading, export_parts
from .progress import Stages
from .your_bottleneck import levels_record
from .your_data import CONVENTION_FLAGS, MEASURED_IMAGES, as_inputs, conventions_of

PARITY_IMAGES = 256  # the images the parity gate and the int8 gate run on (batches 1, 7, 256)
CHOOSE_SHARE = 0.2  # the default bits are chosen on this share of them (a fixed draw)


def export_keras_pair(
    encoder,
    decoder,
    images,
    out_dir: Path | str,
    name: str,
    *,
    code_output: str | None = None,
    mean_output: str | None = None,
    log_var_output: str | None = None,
    preprocessing: str = "resize",
    floats: bool = False,
    value_range: tuple[float, float] | None = None,
    output_range: tuple[float, float] | None = None,
    custom_objects=(),
    unsafe: bool = False,
    opset: int = spec.DEFAULT_OPSET,
    force: bool = False,
    quantize: str | None = None,
    edge: bool = False,
    say: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> dict:
    """Convert, gate and write a Keras encoder and decoder (models or .keras paths) as model `name` in
    `out_dir`, checked and measured on `images` (an array, or a .npz/.npy/IDX file or a folder of images);
    returns its manifest entry. `preprocessing`: how compress makes a picture its input (spec.PICTURE_READINGS);
    `floats`, `value_range`, `output_range`: the model's values (runtime/conventions.py); `custom_objects`:
    .py files or modules defining its custom layers (export/keras_files.py); `say`: told each stage as it
    ends, `warn` what looks wrong (default: Python warnings). Nothing is written unless every gate passes."""
    stages = Stages(say, warn)
    _check_name(name)
    _on_tensorflow()
    model_conventions = conventions_of(floats, value_range, output_range)
    with stages("load") as stage:
        if _same(encoder, decoder):
            raise ModelError(parts.SAME_FILE)
        found = keras_files.custom_objects(_listed(custom_objects))
        encoder = _keras_model(encoder, "encoder", found, unsafe)
        decoder = _keras_model(decoder, "decoder", found, unsafe)
        stage.detail = _named(encoder, decoder)
    settings = Settings(code_output, mean_output, log_var_output, preprocessing, opset, force, quantize, edge)
    return _export(encoder, decoder, images, Path(out_dir), name, model_conventions, stages, settings)


def export_keras_autoencoder(
    autoencoder, images, out_dir: Path | str, name: str, *, code_layer: str | None = None, **settings
) -> dict:
    """export_keras_pair of one model (or a .keras path) split at the output of `code_layer` (default: the
    narrowest layer everything flows through; export/parts.py); `settings` as export_keras_pair's."""
    stages = Stages(settings.pop("say", None), settings.pop("warn", None))
    _check_name(name)
    _on_tensorflow()
    model_conventions = conventions_of(*(settings.pop(k, None) for k in ("floats", "value_range", "output_range")))
    with stages("load") as stage:
        found = keras_files.custom_objects(_listed(settings.pop("custom_objects", ())))
        model = _keras_model(autoencoder, "autoencoder", found, settings.pop("unsafe", False))
        bottleneck = parts.bottleneck_in(model) if code_layer is None else None
        if bottleneck is not None:
            encoder, decoder, where = parts.split_at_bottleneck(model, bottleneck)
        else:
            encoder, decoder, where = parts.split(model, code_layer)
        stage.detail = f"{_named(model)}, split at {where}"
    written = (model_conventions, stages, Settings(**settings), bottleneck)
    return _export(encoder, decoder, images, Path(out_dir), name, *written)


@dataclass(frozen=True)
class Settings:
    """How export_keras_pair makes the files: which outputs are the code, how pictures are read, what is written."""

    code_output: str | None = None
    mean_output: str | None = None
    log_var_output: str | None = None
    preprocessing: str = "resize"
    opset: int = spec.DEFAULT_OPSET
    force: bool = False
    quantize: str | None = None
    edge: bool = False


def _export(
    encoder,
    decoder,
    images,
    out_dir: Path,
    name: str,
    conventions: dict,
    stages: Stages,
    settings: Settings,
    bottleneck=None,
):
    """The parts as the contract has them, measured on the data (with a bottleneck between them, its quality
    levels: export/your_bottleneck.py), then through export_parts."""
    encoder, decoder, kind = _contract_parts(encoder, decoder, settings, stages)
    input_shape, latent_size = parts.shapes(encoder, decoder)
    check_reading(settings.preprocessing, input_shape)
    model_spec = spec.your_model(name, kind, latent_size, input_shape, settings.preprocessing, conventions)
    _check_rescaling(encoder, model_spec)
    check_outputs(model_spec, out_dir, settings.force, settings.quantize)
    with stages("measure") as stage:
        x = as_inputs(images, model_spec, stages.warn)
        record = measure(model_spec, encoder, decoder, x, stages.warn)
        if bottleneck is not None:
            record.update(levels_record(bottleneck, encoder, decoder, x[:MEASURED_IMAGES], model_spec))
        stage.detail = f"{len(x):,} inputs of {input_shape}"
    keras_parts = {model_spec.encoder.name: encoder, model_spec.decoder.name: decoder}
    written = (out_dir, settings.opset, settings.force, settings.quantize, settings.edge, stages)
    return export_parts(model_spec, keras_parts, x[:PARITY_IMAGES], record, *written)


def _contract_parts(encoder, decoder, settings: Settings, stages: Stages):
    """(encoder, decoder, kind): the two parts fitted together, the encoder's code chosen (said when it had
    several outputs), a feature-map code made flat."""
    encoder, decoder = parts.matched(encoder, decoder)
    chosen = (settings.code_output, settings.mean_output, settings.log_var_output)
    encoder, choice = parts.code_outputs(encoder, decoder, *chosen)
    if len(choice.roles) > 1 or choice.left_out:
        stages.tell(choice.said())
    encoder, decoder = parts.flat_codes(encoder, decoder)
    return encoder, decoder, choice.kind


def _on_tensorflow() -> None:
    """Keras on TensorFlow (what tf2onnx converts); one line where a script runs it on another backend."""
    from aeonnx.train.backend import use_tensorflow

    use_tensorflow(verbose=True)  # the caller's process: its warnings and log levels are left as they are


def _check_name(name: str) -> None:
    if name in spec.MODELS:
        raise ModelError(f"--name {name!r} is a shipped model's; give yours a name of its own")
    check_name_pattern(name)


def _listed(sources) -> list[str]:
    return [sources] if isinstance(sources, (str, Path)) else [str(source) for source in sources]


def _same(encoder, decoder) -> bool:
    """The same model, or the same file, given as both parts: the code would be the whole reconstruction."""
    if encoder is decoder:
        return True
    if not isinstance(encoder, (str, Path)) or not isinstance(decoder, (str, Path)):
        return False
    try:
        return Path(encoder).samefile(decoder) or Path(encoder).read_bytes() == Path(decoder).read_bytes()
    except OSError:
        return False  # a missing file is named when it is loaded


def _keras_model(model, what: str, custom_objects: dict, unsafe: bool):
    """A Keras model, or one loaded from a .keras file."""
    if isinstance(model, (str, Path)):
        return keras_files.load(model, what, custom_objects, unsafe)
    return model


def _named(*models) -> str:
    return ", ".join(f"{model.name}{_weights(model)}" for model in models)


def _weights(model) -> str:
    try:
        return f" ({model.count_params():,} weights)"
    except ValueError:  # a subclassed model never called: it has built no weights of its own
        return ""


def _check_rescaling(encoder, model_spec: spec.ModelSpec) -> None:
    """A model that rescales its own input from 0..255 (keras.layers.Rescaling(1/255), as keras.io writes it),
    exported as if it took [0, 1]: refused, with the flag that says so."""
    import keras

    if model_spec.conventions:
        return
    for layer in encoder.layers:
        if isinstance(layer, keras.layers.Rescaling) and np.all(np.abs(np.asarray(layer.scale)) <= 1 / 100):
            raise ModelError(
                f"the encoder's layer {layer.name!r} rescales its input by {float(np.max(layer.scale)):.4g}: it takes "
                "pixels 0..255, not [0, 1]; say so with --value-range 0,255"
            )


def measure(model_spec: spec.ModelSpec, encoder, decoder, x: np.ndarray, warn=lambda line: None) -> dict:
    """What training records of a shipped model, measured on your data: the round trip's figures, the latent
    statistics, the quality profile, format v2's priors and default bits, the anomaly threshold."""
    from aeonnx.train.models import predict_codes

    sample = x[:MEASURED_IMAGES]
    x_hat = decoder.predict(predict_codes(encoder, sample), batch_size=256, verbose=0)
    target = sample
    if model_spec.values == "pixels":
        target = conventions.rescaled(sample, *model_spec.pixel_ranges)
        _check_output_range(model_spec, x_hat, warn)
    record = {
        "config": {
            "made_by": "your own Keras autoencoder (aeonnx export)",
            "kind": model_spec.kind,
            "input_shape": list(model_spec.input_shape),
            "latent_size": model_spec.latent_size,
            **model_spec.conventions,
        },
        "data": {"sha256": fingerprint(x), "images": len(x)},
        "versions": library_versions(),
        "anomaly": scores.threshold_record(target, x_hat),
    }
    if model_spec.values == "floats":
        return {**record, **_measured_floats(encoder, decoder, sample, x_hat)}
    return {**record, **_measured_pixels(model_spec, encoder, decoder, sample, x_hat, warn)}


def _measured_floats(encoder, decoder, x: np.ndarray, x_hat: np.ndarray) -> dict:
    """A model of float values: errors in its own units; no PSNR, no picture quality profile."""
    errors = {metric: float(np.mean(scores.reconstruction_errors(x, x_hat, metric))) for metric in scores.METRICS}
    return {"metrics": errors, **_coding(encoder, decoder, x)}


def _measured_pixels(model_spec: spec.ModelSpec, encoder, decoder, x: np.ndarray, x_hat: np.ndarray, warn) -> dict:
    """A picture model: its figures on pixels in [0, 1], whatever its own values (the same PSNR); said when
    its round trip is worse than the data's mean picture (data in other values than it was trained on?)."""
    value_range, output_range = model_spec.pixel_ranges
    unit_x, unit_hat = conventions.to_unit(x, value_range), conventions.to_unit(x_hat, output_range)
    figures = metrics.reconstruction_metrics(unit_x, unit_hat)
    mean = metrics.psnr(unit_x, np.broadcast_to(unit_x.mean(axis=0), unit_x.shape))
    if figures["psnr"] < mean - 1:
        warn(
            f"the round trip of your data ({figures['psnr']:.1f} dB) is worse than its mean picture's "
            f"({mean:.1f} dB): is the model trained, and the data in the values it was trained on? ({CONVENTION_FLAGS})"
        )
    encoder, decoder = _on_unit_pixels(encoder, decoder, value_range, output_range)
    return {"metrics": figures, "quality": quality.measure(unit_x, unit_hat), **_coding(encoder, decoder, unit_x)}


def _coding(encoder, decoder, x: np.ndarray) -> dict:
    """The latent statistics, format v2's priors and default bits (chosen on a fixed share of `x`)."""
    from aeonnx.train.fit import held_out, latent_coding, latent_stats

    stats = latent_stats(encoder, x)
    choose = held_out(len(x), int(len(x) * CHOOSE_SHARE))[1] if len(x) >= 10 else np.arange(len(x))
    return {"latent_stats": stats, **latent_coding(encoder, decoder, x, x[choose], stats)}


def _on_unit_pixels(encoder, decoder, value_range, output_range):
    """The two parts taking and giving pixels in [0, 1] (for measuring: the exported graphs are the model's own)."""
    import keras

    if (value_range, output_range) == (spec.UNIT_RANGE, spec.UNIT_RANGE):
        return encoder, decoder
    (low, high), (out_low, out_high) = value_range, output_range
    pixels = keras.Input(tuple(encoder.input_shape[1:]))
    unit_encoder = keras.Model(pixels, encoder(keras.layers.Rescaling(high - low, offset=low)(pixels)))
    code = keras.Input(tuple(decoder.input_shape[1:]))
    to_unit = keras.layers.Rescaling(1 / (out_high - out_low), offset=-out_low / (out_high - out_low))
    return unit_encoder, keras.Model(code, to_unit(decoder(code)))


def _check_output_range(model_spec: spec.ModelSpec, x_hat: np.ndarray, warn) -> None:
    """The decoder's outputs on the data, against the pixel values it is said to give: far outside, refused;
    a little outside, said (pictures are clipped)."""
    out_low, out_high = model_spec.pixel_ranges[1]
    width, least, most = out_high - out_low, float(x_hat.min()), float(x_hat.max())
    said = f"the decoder's outputs on your data run from {least:.3g} to {most:.3g}"
    if width > 2 and least >= -0.05 and most <= 1.05:
        raise ModelError(
            f"{said}, not [{out_low:g}, {out_high:g}]: if it gives pixels in [0, 1], add --output-range 0,1"
        )
    if least < out_low - 0.25 * width or most > out_high + 0.25 * width:
        raise ModelError(f"{said}, far outside the pixels' values [{out_low:g}, {out_high:g}]: {CONVENTION_FLAGS}")
    if least < out_low - 0.01 * width or most > out_high + 0.01 * width:
        warn(f"{said}, beyond the pixels' values [{out_low:g}, {out_high:g}]: pictures are clipped to them")
