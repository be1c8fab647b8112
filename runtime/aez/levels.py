"""Quality levels: the codes of a rate-distortion model (train/entropy_bottleneck.py), docs/FORMAT.md
"Quality levels".

At level q a code's value y_i is scaled by the level's learned gain and rounded, s_i = round(y_i * g_qi);
each dimension's integers are symbols relative to its offset (s_i - o_qi, clipped to the table) and are
coded with rANS (entropy.py) under the level's frequency tables. Export makes the gains, offsets and
tables once, from the learned densities, and stores them in the model's metadata; decoding reads only
integers and the gains: z_i = s_i / g_qi in float32.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

import numpy as np

from .. import spec
from ..errors import ModelError
from . import entropy

MIN_LEVEL, MAX_LEVEL = 1, spec.QUALITY_LEVELS
LEVELS = tuple(range(MIN_LEVEL, MAX_LEVEL + 1))
PRECISION = 14  # frequencies sum to 2**14: a symbol never seen costs 14 bits; the tables stay small


def name(level: int) -> str:
    """The precision a code file of this level is said to have: "q1" .. "q8"."""
    return f"q{level}"


def level_of(precision) -> int | None:
    """1..8 for "q1".."q8", else None."""
    if isinstance(precision, str) and precision[:1] == "q" and precision[1:] in {str(q) for q in LEVELS}:
        return int(precision[1:])
    return None


@dataclass(frozen=True, eq=False)
class Level:
    """One quality level: float32 gains [L], int offsets [L] (the integer of symbol 0), the table."""

    gains: np.ndarray
    offsets: np.ndarray
    table: entropy.FrequencyTable

    def symbols(self, z: np.ndarray) -> np.ndarray:
        """Codes [N, L] float32 -> symbols uint8 [N, L]: round half to even of z * gain, clipped to the table."""
        scaled = np.multiply(np.asarray(z, np.float32), self.gains, dtype=np.float32)
        integers = np.nan_to_num(np.rint(scaled), nan=0.0, posinf=0.0, neginf=0.0)
        top = (1 << self.table.bits) - 1
        return np.clip(integers - self.offsets, 0, top).astype(np.uint8)

    def values(self, symbols: np.ndarray) -> np.ndarray:
        """Symbols [N, L] -> float32 codes: (symbol + offset) / gain."""
        integers = (np.asarray(symbols, np.int64) + self.offsets).astype(np.float32)
        return np.divide(integers, self.gains, dtype=np.float32)


class QualityLevels:
    """A model's levels 1..n, written to and read from its metadata (`aeonnx.quality_levels`)."""

    def __init__(self, levels: dict[int, Level], default: int, measured: tuple[dict, ...] = (), positions: int = 1):
        if sorted(levels) != list(range(1, len(levels) + 1)) or not 1 <= len(levels) <= MAX_LEVEL:
            raise ValueError("quality levels are numbered 1, 2, ... up to 8")
        if len({level.table.latent_size for level in levels.values()}) != 1 or default not in levels:
            raise ValueError("the levels of one model share its latent size, and the default is one of them")
        self._levels, self.default = dict(levels), int(default)
        self.measured = tuple(measured)  # what training measured of each level: {quality, bytes, psnr}
        self.latent_size = next(iter(levels.values())).table.latent_size
        # A feature-map code flattened channels last: each channel's entries repeat at every position, and
        # the metadata holds them once (a 7 x 7 x 8 code: 8 tables, not 392).
        self.positions = int(positions)
        if self.positions < 1 or self.latent_size % self.positions:
            raise ValueError(f"{self.positions} positions do not divide a latent size of {self.latent_size}")

    @property
    def levels(self) -> tuple[int, ...]:
        return tuple(self._levels)

    def __getitem__(self, level: int) -> Level:
        if level not in self._levels:
            raise ModelError(f"quality must be from 1 to {len(self._levels)}, got {level}")
        return self._levels[level]

    def to_metadata(self) -> str:
        levels = [self._entry(level) for level in self._levels.values()]
        document = {"coder": entropy.CODER, "precision": PRECISION, "latent_size": self.latent_size}
        if self.positions > 1:
            document["positions"] = self.positions
        document.update(default=self.default, levels=levels, measured=list(self.measured))
        return json.dumps(document, separators=(",", ":"))

    def _entry(self, level: Level) -> dict:
        """One level as stored: of a feature map, its first position's entries (checked to repeat)."""
        channels = self.latent_size // self.positions
        gains, offsets, frequencies = level.gains[:channels], level.offsets[:channels], level.table.frequencies
        if self.positions > 1 and not (
            np.array_equal(np.tile(gains, self.positions), level.gains)
            and np.array_equal(np.tile(offsets, self.positions), level.offsets)
            and np.array_equal(np.tile(frequencies[:channels], (self.positions, 1)), frequencies)
        ):
            raise ValueError("the levels of a feature map repeat each channel's entries at every position")
        return {
            "bits": level.table.bits,
            "gains": _base64(gains.astype("<f4")),
            "offsets": [int(o) for o in offsets],
            "frequencies": _base64(frequencies[:channels].astype("<u2")),
        }

    @classmethod
    def from_metadata(cls, text: str, latent_size: int | None = None) -> QualityLevels:
        """The inverse of to_metadata; anything else (or another latent size) is a ModelError."""
        try:
            document = json.loads(text)
            if document["coder"] != entropy.CODER:
                raise ValueError(f"coder {document['coder']!r} is not {entropy.CODER}")
            size, precision = document["latent_size"], document["precision"]
            if latent_size is not None and size != latent_size:
                raise ValueError(f"they are for latent size {size}, the model's is {latent_size}")
            positions = _positions(document.get("positions", 1), size)
            levels = {
                number: _level(entry, size, precision, positions)
                for number, entry in enumerate(document["levels"], start=1)
            }
            return cls(levels, document["default"], tuple(document.get("measured", ())), positions)
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error, entropy.EntropyCodeError) as e:
            raise ModelError(f"unreadable quality levels in the model metadata: {e}") from None


def _positions(positions, latent_size) -> int:
    if not isinstance(latent_size, int) or not 1 <= latent_size <= 4096:
        raise ValueError(f"latent size {latent_size!r} out of range")
    if not isinstance(positions, int) or isinstance(positions, bool) or positions < 1 or latent_size % positions:
        raise ValueError(f"positions {positions!r} do not divide the latent size {latent_size}")
    return positions


def _level(entry: dict, full_size: int, precision: int, positions: int) -> Level:
    """One level as stored (of a feature map: one position's entries), repeated to the whole latent size."""
    bits = entropy.check_bits(entry["bits"])
    latent_size = full_size // positions
    gains = np.frombuffer(base64.b64decode(entry["gains"], validate=True), "<f4").astype(np.float32)
    offsets = np.array(entry["offsets"], dtype=np.int64)
    raw = base64.b64decode(entry["frequencies"], validate=True)
    if gains.shape != (latent_size,) or offsets.shape != (latent_size,) or len(raw) != latent_size * (2 << bits):
        raise ValueError(f"a level's gains, offsets and {bits}-bit tables must all be for {latent_size} values")
    if not np.all(np.isfinite(gains) & (gains > 0)) or np.any(np.abs(offsets) > 1 << 24):
        raise ValueError("gains must be positive and offsets within 2**24")
    frequencies = np.tile(np.frombuffer(raw, "<u2").reshape(latent_size, 1 << bits), (positions, 1))
    table = entropy.FrequencyTable(bits, frequencies, precision)
    return Level(np.tile(gains, positions), np.tile(offsets, positions), table)


def _base64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")
