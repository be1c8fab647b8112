"""Rate-distortion training (`aeonnx train ae --rate-distortion`): one autoencoder, eight quality levels.

The loss of a code at level q is LAMBDAS[q] * (its mean squared pixel error) + (its bits), with a level
drawn for each image of each batch (Cui et al. 2021's variable-rate training): the encoder and decoder
serve every level, the bottleneck (entropy_bottleneck.py) learns a gain and a density for each. After
training the densities become the integer tables the runtime codes with (entropy_bottleneck.quality_levels),
and the held-out curve says which level is the default: the knee of bytes against PSNR.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from aeonnx.runtime import metrics, spec

from .entropy_bottleneck import EntropyBottleneck, quality_levels

# Bits a code may spend for each unit of mean squared error saved, per level, geometric. A conv model of
# 64 latent values trained 8 epochs on mnist-60k with these coded 1,000 test digits in 10.2 B (19.8 dB) at
# level 1 to 28.7 B (26.3 dB) at level 8 (2026-12-07, issue 33's note): still short of the top it aims at.
LOWEST_LAMBDA = 4000.0
LAMBDA_RATIO = 1.7
LAMBDAS = tuple(LOWEST_LAMBDA * LAMBDA_RATIO**level for level in range(spec.QUALITY_LEVELS))


@keras.saving.register_keras_serializable(package="aeonnx")
class RateDistortionAutoencoder(keras.Model):
    """encoder -> bottleneck (quantised at a level) -> decoder, with its own train and test steps.
    `call` reconstructs at `level` (0-based; default `shown_level`, the top one until training sets the
    default level; Keras traces `predict` once, so a level to measure goes through `reconstruct`)."""

    def __init__(
        self, encoder, decoder, bottleneck, lambdas=LAMBDAS, seed: int | None = None, shown_level=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.bottleneck = encoder, decoder, bottleneck
        self.lambdas, self.seed = tuple(float(value) for value in lambdas), seed
        self.level_draws = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "bits", "mse")}
        self.shown_level = len(self.lambdas) - 1 if shown_level is None else shown_level

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, x, level=None, training=False):
        level = ops.full((ops.shape(x)[0],), self.shown_level if level is None else level, "int32")
        z_hat, _ = self.bottleneck(self.encoder(x, training=training), level, training=training)
        return self.decoder(z_hat, training=training)

    def _terms(self, x, level, training):
        z_hat, bits = self.bottleneck(self.encoder(x, training=training), level, training=training)
        x_hat = self.decoder(z_hat, training=training)
        axes = tuple(range(1, len(x.shape)))
        mse = ops.mean(ops.square(x_hat - x), axis=axes)
        loss = ops.take(ops.convert_to_tensor(self.lambdas), level) * mse + bits
        return ops.mean(loss), ops.mean(bits), ops.mean(mse)

    def _track(self, loss, bits, mse):
        for name, value in zip(self.trackers, (loss, bits, mse)):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        level = keras.random.randint((ops.shape(x)[0],), 0, len(self.lambdas), seed=self.level_draws)
        with tf.GradientTape() as tape:
            terms = self._terms(x, level, training=True)
        gradients = tape.gradient(terms[0], self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._track(*terms)

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        level = ops.mod(ops.arange(ops.shape(x)[0]), len(self.lambdas))  # every level, the same each epoch
        return self._track(*self._terms(x, ops.cast(level, "int32"), training=False))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "bottleneck": keras.saving.serialize_keras_object(self.bottleneck),
            "lambdas": list(self.lambdas),
            "seed": self.seed,
            "shown_level": self.shown_level,
        }

    @classmethod
    def from_config(cls, config):
        parts = [keras.saving.deserialize_keras_object(config.pop(key)) for key in ("encoder", "decoder", "bottleneck")]
        return cls(*parts, **config)


def rate_distortion_of(encoder, decoder, seed=None) -> RateDistortionAutoencoder:
    latent_size = encoder.output_shape[-1]
    bottleneck = EntropyBottleneck(latent_size, spec.QUALITY_LEVELS, seed=seed or 0, name="bottleneck")
    model = RateDistortionAutoencoder(encoder, decoder, bottleneck, seed=seed, name="rate_distortion")
    model.build((None, *encoder.input_shape[1:]))
    bottleneck.build()
    return model


def knee(points: list[tuple[float, float]]) -> int:
    """The index of the knee of a rising curve of (bytes, PSNR) points: the point farthest above the
    straight line from the first to the last (Satopää et al. 2011, "Kneedle"), both axes scaled to [0, 1]."""
    x, y = (np.asarray(values, np.float64) for values in zip(*points))
    x = (x - x[0]) / max(x[-1] - x[0], 1e-12)
    y = (y - y[0]) / max(y[-1] - y[0], 1e-12)
    return int(np.argmax(y - x))


def reconstruct(model: RateDistortionAutoencoder, x: np.ndarray, level: int, batch_size: int = 1024):
    """(reconstructions of `x` at `level`, 0-based; each code's bits), batch by batch."""
    x_hat, bits = [], []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        z_hat, code_bits = model.bottleneck(model.encoder(batch), np.full(len(batch), level, np.int32))
        x_hat.append(np.asarray(model.decoder(z_hat)))
        bits.append(np.asarray(code_bits))
    return np.concatenate(x_hat), np.concatenate(bits)


def level_curve(model: RateDistortionAutoencoder, x: np.ndarray) -> list[dict]:
    """Each level's mean information content (bytes an ideal coder spends on a code) and PSNR on `x` (the
    mean of each image's, as every figure of the project)."""
    curve = []
    for level in range(len(model.lambdas)):
        x_hat, bits = reconstruct(model, x, level)
        psnr = metrics.psnr(x, np.clip(x_hat, 0, 1))
        curve.append({"quality": level + 1, "bytes": float(np.mean(bits)) / 8, "psnr": psnr})
    return curve


def run_record(full: RateDistortionAutoencoder, x_choose: np.ndarray) -> dict:
    """A rate-distortion model's integer tables (what export puts in its metadata), its held-out curve
    (ideal bytes and PSNR per level) and the default level, the curve's knee, which the model shows from
    now on (the run's metrics and pictures are the default level's)."""
    curve = level_curve(full, x_choose)
    default = knee([(point["bytes"], point["psnr"]) for point in curve]) + 1
    full.shown_level = default - 1
    return {
        "rate_distortion": {"lambdas": list(full.lambdas), "curve": curve, "default_quality": default},
        "quality_levels": quality_levels(full.bottleneck, default, tuple(curve)).to_metadata(),
    }
