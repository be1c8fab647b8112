"""A Keras autoencoder of your own that holds an EntropyBottleneck (train/entropy_bottleneck.py): export splits
it at the layer (export/parts.py) and turns the layer's learned densities into the integer tables compress
codes with, once (runtime/aez/levels.py), as aeonnx's own rate-distortion training does.

The encoder exported gives the code before the layer (y); compress scales it by a level's gains and rounds it,
decompress divides by the gains: the decoder gets what it was trained on. A feature-map code (h, w, channels)
travels flat, channels last, so each channel's table is repeated at every position.
"""

from __future__ import annotations

import numpy as np

from aeonnx.runtime import conventions, metrics, quality, spec


def levels_record(bottleneck, encoder, decoder, x: np.ndarray, model_spec: spec.ModelSpec) -> dict:
    """What a run records of a rate-distortion model (train/rate_distortion.py's run_record), measured on your
    data `x` (in the model's values): the tables, each level's ideal bytes and error, the default level
    (the curve's knee), and for a picture model the quality profile of its lowest level and the default's
    figures (what compress and decompress give, not the unrounded round trip)."""
    from aeonnx.train.entropy_bottleneck import quality_levels
    from aeonnx.train.rate_distortion import knee

    codes = np.asarray(encoder.predict(x, batch_size=256, verbose=0), np.float32)
    pictures = model_spec.values == "pixels"
    target = conventions.to_unit(x, model_spec.pixel_ranges[0]) if pictures else x
    rebuilt = [_at_level(bottleneck, decoder, codes, level, model_spec) for level in range(bottleneck.levels)]
    curve = [_figures(level + 1, bits, target, x_hat, pictures) for level, (x_hat, bits) in enumerate(rebuilt)]
    error = (lambda point: point["psnr"]) if pictures else (lambda point: -np.log10(max(point["mse"], 1e-30)))
    default = knee([(point["bytes"], error(point)) for point in curve]) + 1 if len(curve) > 1 else 1
    positions = model_spec.latent_size // bottleneck.channels
    tables = quality_levels(bottleneck, default, tuple(curve), positions)
    record = {
        "rate_distortion": {"rate_weights": list(bottleneck.rate_weights or ()), "curve": curve},
        "quality_levels": tables.to_metadata(),
    }
    if pictures:
        record["quality"] = quality.measure(target, rebuilt[0][0])  # no level warns of a usual picture
        record["metrics"] = metrics.reconstruction_metrics(target, rebuilt[default - 1][0])
    return record


def _at_level(bottleneck, decoder, codes: np.ndarray, level: int, model_spec: spec.ModelSpec):
    """(the decoder's outputs, on [0, 1] for a picture model; each code's bits) of flat codes at `level`."""
    by_channel = codes.reshape(len(codes), -1, bottleneck.channels)
    z_hat, bits = bottleneck.quantized(by_channel, np.full(len(codes), level, np.int32))
    x_hat = decoder.predict(np.asarray(z_hat).reshape(codes.shape), batch_size=256, verbose=0)
    if model_spec.values == "pixels":
        x_hat = np.clip(conventions.to_unit(x_hat, model_spec.pixel_ranges[1]), 0, 1)
    return x_hat, np.asarray(bits, np.float64)


def _figures(quality_level: int, bits: np.ndarray, target: np.ndarray, x_hat: np.ndarray, pictures: bool) -> dict:
    error = {"psnr": metrics.psnr(target, x_hat)} if pictures else {"mse": metrics.mse(target, x_hat)}
    return {"quality": quality_level, "bytes": float(np.mean(bits)) / 8, **error}
