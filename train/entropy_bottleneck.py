"""A learned entropy model for a code: Ballé's factorized density per channel, one per quality level.

In a Keras autoencoder of your own (docs/training-and-export.md), between its encoder and its decoder:

    from aeonnx.train.entropy_bottleneck import EntropyBottleneck
    code = EntropyBottleneck(channels=32, rate_weight=1e-4)(encoder_output)   # a flat code or a feature map
    ...
    model.compile("adam", "mse"); model.fit(x, x)     # the loss: yours + rate_weight x each code's bits

`aeonnx export --autoencoder model.keras` finds the layer and splits the model there; its densities become
the integer tables compress codes with. Several levels (a quality knob): rate_weight=(3e-4, 1e-4, 3e-5),
one weight per level, highest first; a level is drawn per image while training, predict() shows the top one.

aeonnx's own rate-distortion training (rate_distortion.py) weighs the rate itself:

    bottleneck = EntropyBottleneck(channels=64, levels=8)
    z_hat, bits = bottleneck(y, level)        # training: noise for the rate, rounding for the decoder

Ballé, Minnen, Singh, Hwang, Johnston (2018), "Variational image compression with a scale hyperprior",
appendix 6.1: each channel's cumulative density is a small monotone network c(v) = sigmoid(f(v)); the
probability of an integer symbol s is c(s + 1/2) - c(s - 1/2). Several quality levels share one model
through a learned gain per level and channel (Cui et al. 2021, "Asymmetric gained deep image compression
with continuous rate adaptation"): the code y is scaled by gain[level] before rounding and divided by it
after, so a higher gain keeps more of y at more bits; each level has a density of its own.

Training: the rate is measured on y * gain + uniform noise (the additive-noise proxy of Ballé et al.
2017), the decoder sees the rounded value with a straight-through gradient (as CompressAI's models
do since Minnen and Singh 2020): it learns the code it will be given. At export the densities become
integer frequency tables (export/rate_tables.py), made once; nothing here runs at decode time.

CompressAI's EntropyBottleneck is the reference; two differences, measured in its prototype here:
the density starts at scale 1 (Ballé's 10 kept it wide for the whole run) and its parameters learn
10x faster than the transforms (they are stored divided by DENSITY_SPEEDUP).
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from aeonnx.runtime import spec

FILTERS = (3, 3, 3)  # the hidden widths of each channel's density network (CompressAI's default)
INIT_SCALE = 1.0
DENSITY_SPEEDUP = 10.0  # Adam moves a parameter by about its learning rate: stored / 10, used * 10
LIKELIHOOD_FLOOR = 1e-9  # no symbol is free: keeps log2 finite where the density has no mass


@keras.saving.register_keras_serializable(package="aeonnx")
class EntropyBottleneck(keras.layers.Layer):
    """Quantises a code [N, ..., channels] at one of `levels` quality levels and measures its rate.

    Without `rate_weight`: call(y, level) -> (z_hat, bits): z_hat like y, the code the decoder gets (rounded
    y * gain, divided by the gain); bits [N], each code's information content under the level's density (with
    uniform noise instead of rounding while training). `level` is an int tensor [N] in 0..levels-1.
    With `rate_weight` (a float, or one per level): call(y) -> z_hat, and while training the layer adds
    the mean of rate_weight[level] x bits to the model's loss (a level drawn per image).
    """

    def __init__(
        self,
        channels: int,
        levels: int | None = None,
        filters: tuple[int, ...] = FILTERS,
        seed: int = 0,
        rate_weight: float | tuple[float, ...] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rate_weights = _rate_weights(rate_weight, levels)
        self.channels, self.filters, self.seed = int(channels), tuple(int(f) for f in filters), int(seed)
        self.levels = len(self.rate_weights) if self.rate_weights else int(levels or 1)
        self.noise_seeds = keras.random.SeedGenerator(self.seed)
        self.level_draws = keras.random.SeedGenerator(self.seed + 1)

    def build(self, input_shape=None):
        widths = (1, *self.filters, 1)
        scale = INIT_SCALE ** (1 / (len(widths) - 1))
        shape = (self.levels, self.channels)
        self.matrices, self.biases, self.factors = [], [], []
        for i in range(len(widths) - 1):
            start = math.log(math.expm1(1 / scale / widths[i + 1]))
            self.matrices.append(self._density_weight(f"matrix{i}", (*shape, widths[i + 1], widths[i]), start))
            bias = keras.initializers.RandomUniform(-0.5 / DENSITY_SPEEDUP, 0.5 / DENSITY_SPEEDUP, seed=i)
            self.biases.append(self.add_weight(name=f"bias{i}", shape=(*shape, widths[i + 1]), initializer=bias))
            if i < len(widths) - 2:
                self.factors.append(self._density_weight(f"factor{i}", (*shape, widths[i + 1]), 0.0))
        self.log_gains = self.add_weight(name="log_gains", shape=shape, initializer=self._gain_start)
        self.built = True

    def _density_weight(self, name: str, shape: tuple[int, ...], value: float):
        start = keras.initializers.Constant(value / DENSITY_SPEEDUP)
        return self.add_weight(name=name, shape=shape, initializer=start)

    def _gain_start(self, shape, dtype=None):
        """Gains spread from 1 to 8 over the levels (log-spaced): levels start apart and may move."""
        steps = np.linspace(0.0, math.log(8.0), self.levels) if self.levels > 1 else np.zeros(1)
        start = np.repeat(steps[:, None], self.channels, axis=1) / DENSITY_SPEEDUP
        return ops.convert_to_tensor(start, dtype=dtype)

    def gains(self, level):
        """Each code's gains [N, channels] (stored like the density's parameters: they must move as fast)."""
        return ops.exp(ops.take(self.log_gains, level, axis=0) * DENSITY_SPEEDUP)

    def cumulative_logits(self, values, level):
        """f(v) of each channel's density at `values` [N, channels], for each code's level: [N, channels]."""
        logits = values[..., None]  # [N, C, 1]
        for i, matrix in enumerate(self.matrices):
            weights = ops.softplus(ops.take(matrix, level, axis=0) * DENSITY_SPEEDUP)  # [N, C, out, in]
            logits = ops.einsum("ncoi,nci->nco", weights, logits)
            logits = logits + ops.take(self.biases[i], level, axis=0) * DENSITY_SPEEDUP
            if i < len(self.factors):
                factor = ops.tanh(ops.take(self.factors[i], level, axis=0) * DENSITY_SPEEDUP)
                logits = logits + factor * ops.tanh(logits)
        return logits[..., 0]

    def likelihoods(self, symbols, level):
        """P(symbol) of each value under its channel's density: c(s + 1/2) - c(s - 1/2), computed on the side
        of the median where the sigmoids are small, so that tails keep their precision."""
        lower = self.cumulative_logits(symbols - 0.5, level)
        upper = self.cumulative_logits(symbols + 0.5, level)
        sign = ops.stop_gradient(-ops.sign(lower + upper))
        mass = ops.abs(ops.sigmoid(sign * upper) - ops.sigmoid(sign * lower))
        return ops.maximum(mass, LIKELIHOOD_FLOOR)

    def call(self, y, level=None, training=False):
        if self.rate_weights is None:
            return self.quantized(y, level, training)
        if level is None:
            level = self._levels_of(y, training)
        z_hat, bits = self.quantized(y, level, training)
        if training:
            weights = ops.take(ops.convert_to_tensor(self.rate_weights, "float32"), ops.cast(level, "int32"))
            self.add_loss(ops.mean(weights * bits))
        return z_hat

    def quantized(self, y, level, training=False):
        """(z_hat, bits) of codes y [N, ..., channels] at `level` [N]: the channels are the last axis, the
        density of a channel is the same at every position of a feature map."""
        level = ops.cast(ops.reshape(level, (-1,)), "int32")
        positions = math.prod(y.shape[1:-1])  # 1 for a flat code
        flat = ops.reshape(y, (-1, self.channels))
        at = ops.repeat(level, positions, axis=0) if positions > 1 else level
        gains = self.gains(at)
        scaled = flat * gains
        rounded = scaled + ops.stop_gradient(ops.round(scaled) - scaled)  # straight-through rounding
        if training:
            noise = keras.random.uniform(ops.shape(scaled), -0.5, 0.5, seed=self.noise_seeds)
            measured = scaled + noise
        else:
            measured = ops.round(scaled)
        nats = -ops.sum(ops.log(self.likelihoods(measured, at)), axis=-1)
        bits = ops.sum(ops.reshape(nats, (-1, positions)), axis=-1) / math.log(2.0)
        return ops.reshape(rounded / gains, ops.shape(y)), bits

    def _levels_of(self, y, training):
        """A level per image: drawn while training, the top one otherwise."""
        count = (ops.shape(y)[0],)
        if training:
            return keras.random.randint(count, 0, self.levels, seed=self.level_draws)
        return ops.full(count, self.levels - 1, "int32")

    def compute_output_spec(self, y, level=None, training=False):
        code = keras.KerasTensor(y.shape, y.dtype)
        return code if self.rate_weights is not None else (code, keras.KerasTensor((y.shape[0],), "float32"))

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "levels": self.levels,
            "filters": self.filters,
            "seed": self.seed,
            "rate_weight": list(self.rate_weights) if self.rate_weights else None,
        }


def _rate_weights(rate_weight, levels: int | None) -> tuple[float, ...] | None:
    """The weights of the rate per level, highest first; None where the caller weighs it (rate_distortion.py)."""
    if rate_weight is None:
        return None
    weights = (float(rate_weight),) if isinstance(rate_weight, (int, float)) else tuple(map(float, rate_weight))
    if not 1 <= len(weights) <= spec.QUALITY_LEVELS or not all(w > 0 for w in weights):
        raise ValueError(f"rate_weight: a positive weight, or one per quality level (up to 8), not {rate_weight!r}")
    if any(later >= earlier for earlier, later in zip(weights, weights[1:])):
        raise ValueError(f"rate_weight: one per level from the smallest files up, each below the last, not {weights}")
    if levels is not None and levels != len(weights):
        raise ValueError(f"rate_weight gives {len(weights)} levels, levels={levels}")
    return weights


# --- integer tables, made once (at the end of training, or at export for a model of your own) ---------
TAIL_MASS = 1e-6  # each side of a channel's table leaves at most this much of its density out
COUNT_SCALE = 1 << 30  # probabilities become integer counts of this total before entropy.quantize_frequencies


def quality_levels(bottleneck: EntropyBottleneck, default: int, measured: tuple[dict, ...] = (), positions: int = 1):
    """The layer's densities as the runtime codes with them (runtime/aez/levels.py): per level, the float32
    gains, each channel's offset (its smallest integer) and its frequency table; `default`: 1-based;
    `measured`: each level's held-out bytes and PSNR, which `aeonnx info` shows; `positions`: of a feature
    map flattened channels last, each channel's entries repeat at every position."""
    from aeonnx.runtime.aez import entropy, levels

    made = {}
    for index in range(bottleneck.levels):
        pmf, first = _probabilities(bottleneck, index)
        offsets, bits = _windows(pmf, first)
        counts = [_counts(pmf[:, c], first, offsets[c], bits) for c in range(bottleneck.channels)]
        frequencies = np.stack([entropy.quantize_frequencies(row, levels.PRECISION) for row in counts])
        table = entropy.FrequencyTable(bits, np.tile(frequencies, (positions, 1)), levels.PRECISION)
        gains = np.asarray(bottleneck.gains(np.array([index], np.int32)), np.float32)[0]  # as training used them
        made[index + 1] = levels.Level(np.tile(gains, positions), np.tile(offsets, positions), table)
    return levels.QualityLevels(made, default, measured, positions)


def _probabilities(bottleneck: EntropyBottleneck, index: int, reach: int = 1 << 12) -> tuple[np.ndarray, int]:
    """P(s) of every integer s in [-reach, reach] for each channel at one level: [2 * reach + 1, C], and -reach."""
    integers = np.arange(-reach, reach + 1, dtype=np.float32)
    grid = np.repeat(integers[:, None], bottleneck.channels, axis=1)
    level = np.full(len(grid), index, np.int32)
    pmf = np.asarray(bottleneck.likelihoods(ops.convert_to_tensor(grid), ops.convert_to_tensor(level)), np.float64)
    return pmf, -reach


def _windows(pmf: np.ndarray, first: int) -> tuple[np.ndarray, int]:
    """Each channel's smallest integer, and the bits of one table for them all (4-8): the window of each
    channel holds all but TAIL_MASS of its mass on either side, or its likeliest 256 integers."""
    from aeonnx.runtime.aez import entropy

    cumulative = np.cumsum(pmf, axis=0) / pmf.sum(axis=0)
    low = np.argmax(cumulative > TAIL_MASS, axis=0)
    high = np.argmax(cumulative >= 1 - TAIL_MASS, axis=0)
    widest = int(np.max(high - low + 1))
    bits = min(max(entropy.MIN_BITS, (widest - 1).bit_length()), entropy.MAX_BITS)
    size = 1 << bits
    offsets = np.empty(pmf.shape[1], np.int64)
    for c in range(pmf.shape[1]):
        if high[c] - low[c] + 1 <= size:
            offsets[c] = first + low[c]
        else:
            mass = np.convolve(pmf[:, c], np.ones(size), mode="valid")  # mass of each window of `size`
            offsets[c] = first + int(np.argmax(mass))
    return offsets, bits


def _counts(pmf: np.ndarray, first: int, offset: int, bits: int) -> np.ndarray:
    start = offset - first
    window = pmf[start : start + (1 << bits)]
    window = np.pad(window, (0, (1 << bits) - len(window)))
    return np.floor(window / max(window.sum(), 1e-300) * COUNT_SCALE).astype(np.int64)
