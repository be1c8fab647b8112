"""At what precision codes are stored, and what ties them to one model: the model's binding (its latents'
range, which quantisation is relative to, and its priors, which entropy coding uses). codefile writes and
reads what this module decides."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import spec
from ..errors import DataError, ModelError
from . import entropy, levels

FLOATS = spec.FLOAT_PRECISIONS
BITS = tuple(range(entropy.MIN_BITS, entropy.MAX_BITS + 1))
QUALITIES = tuple(levels.name(level) for level in levels.LEVELS)  # a rate-distortion model's levels
CODED = (*BITS, *QUALITIES)  # the entropy-coded precisions
_DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "uint8": np.dtype("u1")}


@dataclass(frozen=True)
class Binding:
    """What ties codes to one trained model: its name and id, the per-dimension range of its latents
    over the training set (`aeonnx.latent_stats`), which quantisation is relative to, and the priors
    its entropy-coded codes are coded with (`aeonnx.latent_priors`; None for a model exported before
    format version 2), with the default bits measured for it (`aeonnx.latent_coding`)."""

    model: str
    model_id: str
    z_min: np.ndarray  # float32 [L]
    z_max: np.ndarray  # float32 [L]
    priors: entropy.Priors | None = None
    default_bits: int | None = None
    image_shape: tuple[int, ...] | None = None  # a model of your own's input (H, W, C): code files record it
    quality_levels: levels.QualityLevels | None = None

    @property
    def default_precision(self) -> str | int:
        """The precision `compress` uses unless told: the default quality level of a rate-distortion model,
        else the measured default bits; float16 without priors."""
        if self.quality_levels is not None:
            return levels.name(self.quality_levels.default)
        if self.priors is None:
            return "float16"
        return self.default_bits if self.default_bits in self.priors.bits else max(self.priors.bits)

    def table(self, bits: int | str) -> entropy.FrequencyTable:
        """The frequency table of `bits`-bit codes, or of a quality level; ModelError if the model has none."""
        if bits in QUALITIES:
            return self.level(bits).table
        if self.priors is None:
            raise ModelError(
                f"model {self.model} {self.model_id} has no latent priors (exported before format "
                "version 2): re-export it, or use --precision float16 or float32"
            )
        try:
            return self.priors[bits]
        except entropy.EntropyCodeError as e:
            raise ModelError(f"model {self.model} {self.model_id}: {e}") from None

    def level(self, precision: str) -> levels.Level:
        """A quality level ("q1".."q8"); ModelError if the model has no such level."""
        if self.quality_levels is None:
            raise ModelError(_without_levels(self))
        return self.quality_levels[levels.level_of(precision)]


def _without_levels(binding: Binding) -> str:
    return f"model {binding.model} {binding.model_id} has no quality levels (it is not a rate-distortion model)"


def check_precision(precision) -> str | int:
    """A precision a user asked for, as the writer names it ("uint8" is 8 bits); DataError (an argument,
    not a file, is wrong) unless we store it."""
    if precision == "uint8":
        return 8
    if precision in QUALITIES:
        return precision
    if isinstance(precision, (int, np.integer)) and not isinstance(precision, bool) and int(precision) in BITS:
        return int(precision)
    if precision in FLOATS:
        return precision
    raise DataError(
        f"unknown precision {precision!r}; choose float32, float16, uint8, bits {BITS[0]}-{BITS[-1]} "
        f"or quality {QUALITIES[0]}-{QUALITIES[-1]}"
    )


def resolve_precision(precision, binding: Binding, bits: int | None = None, quality: int | None = None) -> str | int:
    """What `compress` writes: `quality` (a rate-distortion model's level) or `bits` if given (not with a
    float precision), else `precision`, else ("auto" or None) the model's default; checked against the
    model's priors or levels before any work."""
    if quality is not None:
        if bits is not None or precision not in (None, "auto"):
            raise DataError("--quality chooses the codes on its own: give it without --bits or --precision")
        if quality not in levels.LEVELS:
            raise DataError(f"--quality must be from {levels.LEVELS[0]} to {levels.LEVELS[-1]}, got {quality}")
        precision = levels.name(quality)
        if binding.quality_levels is None:
            raise ModelError(f"{_without_levels(binding)}: use --bits or --precision")
    if bits is not None:
        if precision in FLOATS:
            raise DataError(f"--bits {bits} is for entropy-coded codes; it cannot go with --precision {precision}")
        if bits not in BITS:
            raise DataError(f"--bits must be from {BITS[0]} to {BITS[-1]}, got {bits}")
        precision = bits
    chosen = binding.default_precision if precision in (None, "auto") else check_precision(precision)
    if chosen in CODED:
        binding.table(chosen)
    return chosen


def quantize(z: np.ndarray, precision, binding: Binding) -> np.ndarray:
    """Float latents -> the stored values: floats as such; B bits (or uint8) relative to the model's
    per-dimension range (entropy.quantize; 8 bits gives exactly version 1's uint8 codes)."""
    precision = check_precision(precision)
    if precision in FLOATS:
        return z.astype(_DTYPES[precision])
    if precision in QUALITIES:
        return binding.level(precision).symbols(z)
    return entropy.quantize(z, precision, binding.z_min, binding.z_max)


def dequantize(codes: np.ndarray, precision, binding: Binding) -> np.ndarray:
    """Stored values -> float32 latents: what the decoder is fed."""
    precision = check_precision(precision)
    if precision in FLOATS:
        return codes.astype(np.float32)
    if precision in QUALITIES:
        return binding.level(precision).values(codes)
    return entropy.dequantize(codes, precision, binding.z_min, binding.z_max)
