"""Entropy coding of quantised latent codes (docs/FORMAT.md, "Entropy coding of latent codes").

A code's L latent values are quantised to B bits each (4-8) over the model's per-dimension training range,
then coded with rANS under static per-dimension priors (frequency tables made from the training set's
codes, stored in the model's metadata). Each code is its own byte string, decodable alone; numpy runs all
codes of a batch side by side as lanes and loops over the L dimensions only.

The coder: a 32-bit state, 16-bit words, frequencies summing to 2**precision (precision <= 16, so a state
below 2**16 never emits a word and the first symbols need no start-up bytes). Encoding starts from state 0;
the final state is written in as few bytes as it needs. The code's byte length tells the decoder how many
of its bytes are that state. Decoding is bounded by construction: L steps, at most one word read per step,
every read checked against the code's length; a stream the encoder could not have made is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import AeonnxError, ModelError
from . import spread
from .spread import spread_rows as spread_rows  # the format's definition, entropy's name for it since v2
from .spread import spread_slots as spread_slots

PRECISION = 12  # frequencies of each dimension sum to 2**12 (measured: bench/entropy.py --precisions)
MIN_PRECISION, MAX_PRECISION = 8, 16
MIN_BITS, MAX_BITS = 4, 8
WORD_BITS = 16
STATE_LOW = 1 << WORD_BITS  # a normalised state lies in [2**16, 2**32)
LANES = 1 << 16  # codes coded side by side at most: bounds the working memory of a large batch
CODER = "rans32-16"  # names the coder in the metadata, so a later one cannot be misread as this
MAX_COUNT_TOTAL = 1 << 36  # histogram totals stay below this: count * 2**16 is exact in a JS double


class EntropyCodeError(AeonnxError):
    """An entropy-coded latent code that this coder could not have written (corrupt or truncated)."""


# --- quantisation ---------------------------------------------------------------------------------
def check_bits(bits: int) -> int:
    if not isinstance(bits, (int, np.integer)) or not MIN_BITS <= bits <= MAX_BITS:
        raise EntropyCodeError(f"bits must be an integer from {MIN_BITS} to {MAX_BITS}, got {bits!r}")
    return int(bits)


def quantization_scale(bits: int, z_min: np.ndarray, z_max: np.ndarray) -> np.ndarray:
    """Step between levels per dimension, float32: (max - min) / (2**bits - 1), 1 where max = min."""
    levels = np.float32((1 << check_bits(bits)) - 1)
    span = (np.asarray(z_max, np.float32) - np.asarray(z_min, np.float32)) / levels
    return np.where(span > 0, span, np.float32(1)).astype(np.float32)


def quantize(z: np.ndarray, bits: int, z_min: np.ndarray, z_max: np.ndarray) -> np.ndarray:
    """Float codes [N, L] -> symbols uint8 [N, L] in 0..2**bits-1 (round half to even, clipped).
    bits=8 gives exactly format version 1's uint8 codes."""
    scale = quantization_scale(bits, z_min, z_max)
    steps = np.subtract(z, np.asarray(z_min, np.float32), dtype=np.float32)
    steps /= scale
    np.fmax(np.rint(steps, out=steps), 0, out=steps)  # fmax: a NaN code becomes symbol 0, not whatever a cast makes
    return np.fmin(steps, (1 << bits) - 1, out=steps).astype(np.uint8)


def dequantize(symbols: np.ndarray, bits: int, z_min: np.ndarray, z_max: np.ndarray) -> np.ndarray:
    """Symbols [N, L] -> float32 codes: min + symbol * scale, each operation rounded to float32."""
    scale = quantization_scale(bits, z_min, z_max)
    return (np.asarray(z_min, np.float32) + np.asarray(symbols).astype(np.float32) * scale).astype(np.float32)


def histograms(symbols: np.ndarray, bits: int) -> np.ndarray:
    """How often each symbol occurs in each dimension: int64 [L, 2**bits]."""
    symbols = np.asarray(symbols)
    size = 1 << check_bits(bits)
    latent_size = symbols.shape[1]
    flat = (np.arange(latent_size, dtype=np.int64) * size + symbols.astype(np.int64)).ravel()
    return np.bincount(flat, minlength=latent_size * size).reshape(latent_size, size)


# --- frequency tables -----------------------------------------------------------------------------
def quantize_frequencies(counts, precision: int = PRECISION) -> np.ndarray:
    """One dimension's counts [S] -> frequencies [S], each >= 1, summing to 2**precision. Integer-only
    (docs/FORMAT.md spells it out for other languages): every symbol gets 1, the other 2**precision - S
    are shared in proportion to the counts, rounded down, and the rest go one each to the largest
    remainders, the lower symbol first on a tie. No counts at all share evenly."""
    counts = np.asarray(counts, dtype=np.int64)
    size = len(counts)
    if counts.ndim != 1 or np.any(counts < 0) or int(counts.sum()) >= MAX_COUNT_TOTAL:
        raise ValueError("counts must be non-negative integers summing to less than 2**36")
    if not MIN_PRECISION <= precision <= MAX_PRECISION or size > 1 << precision:
        raise ValueError(f"{size} symbols do not fit a precision of {precision} bits")
    if counts.sum() == 0:
        counts = np.ones(size, np.int64)
    spare = (1 << precision) - size
    shares, remainders = np.divmod(counts * spare, counts.sum())
    frequencies = 1 + shares
    leftover = spare - int(shares.sum())
    by_remainder = np.lexsort((np.arange(size), -remainders))  # largest remainder, then lowest symbol
    frequencies[by_remainder[:leftover]] += 1
    return frequencies.astype(np.uint32)


@dataclass(frozen=True, eq=False)
class FrequencyTable:
    """The static prior of one precision of codes: frequencies [L, 2**bits], each row summing to
    2**precision, every symbol at least 1 (so any symbol is encodable)."""

    bits: int
    frequencies: np.ndarray  # uint32 [L, 2**bits], read-only
    precision: int = PRECISION

    def __post_init__(self):
        frequencies = np.array(self.frequencies, dtype=np.uint32)  # a private, read-only copy
        frequencies.setflags(write=False)
        object.__setattr__(self, "frequencies", frequencies)
        _check_table(self.bits, frequencies, self.precision)

    @classmethod
    def from_histograms(cls, counts: np.ndarray, precision: int = PRECISION) -> FrequencyTable:
        """Per-dimension counts [L, 2**bits] (of the training set's symbols) -> their table."""
        counts = np.asarray(counts)
        bits = int(counts.shape[-1]).bit_length() - 1
        if counts.ndim != 2 or counts.shape[1] != 1 << bits:
            raise ValueError(f"histograms must have shape (L, 2**bits), got {counts.shape}")
        return cls(bits, np.stack([quantize_frequencies(row, precision) for row in counts]), precision)

    @property
    def latent_size(self) -> int:
        return self.frequencies.shape[0]

    @cached_property
    def starts(self) -> np.ndarray:
        """Cumulative frequencies [L, 2**bits]: where each symbol's run begins in symbol order."""
        return (np.cumsum(self.frequencies, axis=1, dtype=np.uint32) - self.frequencies).astype(np.uint32)

    @cached_property
    def spread(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each dimension's slots, as the coder uses them (see spread.spread_slots): slot_of [L, 2**precision]
        (by starts[s] + k), owner and rank [L, 2**precision] (by slot)."""
        return spread_rows(self.frequencies, self.precision)

    @cached_property
    def frequency_of_slot(self) -> np.ndarray:
        """[L, 2**precision] uint16: the frequency of the symbol that owns each slot (the decoder's)."""
        owner = self.spread[1]
        return np.take_along_axis(self.frequencies, owner.astype(np.int64), axis=1).astype(np.uint16)

    def ideal_bits(self, symbols: np.ndarray) -> float:
        """Total information content of `symbols` [N, L] under this prior, in bits (what an ideal coder
        would spend): the yardstick for the coder's overhead."""
        rows = np.arange(self.latent_size)
        return float(np.sum(self.precision - np.log2(self.frequencies[rows, np.asarray(symbols)])))

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, FrequencyTable)
            and (self.bits, self.precision) == (other.bits, other.precision)
            and np.array_equal(self.frequencies, other.frequencies)
        )

    __hash__ = None


def _check_table(bits: int, frequencies: np.ndarray, precision: int) -> None:
    check_bits(bits)
    if not isinstance(precision, (int, np.integer)) or not MIN_PRECISION <= precision <= MAX_PRECISION:
        raise ValueError(f"precision must be {MIN_PRECISION}-{MAX_PRECISION}, got {precision!r}")
    if frequencies.ndim != 2 or frequencies.shape[1] != 1 << bits or frequencies.shape[0] < 1:
        raise ValueError(f"a {bits}-bit table has shape (L, {1 << bits}), got {frequencies.shape}")
    if np.any(frequencies == 0) or np.any(frequencies.sum(axis=1, dtype=np.int64) != 1 << precision):
        raise ValueError(f"every frequency must be >= 1 and each row must sum to 2**{precision}")


# --- the priors of a model: one table per precision, kept in its metadata --------------------------
class Priors:
    """A model's frequency tables, one per number of bits; written to and read from its metadata."""

    def __init__(self, tables: dict[int, FrequencyTable]):
        if not tables:
            raise ValueError("priors need at least one table")
        sizes = {(t.latent_size, t.precision) for t in tables.values()}
        if len(sizes) != 1 or any(bits != t.bits for bits, t in tables.items()):
            raise ValueError("the tables of one model share latent size and precision, keyed by their bits")
        self._tables = dict(sorted(tables.items()))
        ((self.latent_size, self.precision),) = sizes

    @classmethod
    def from_histograms(cls, counts_by_bits: dict[int, np.ndarray], precision: int = PRECISION) -> Priors:
        return cls({bits: FrequencyTable.from_histograms(counts, precision) for bits, counts in counts_by_bits.items()})

    @property
    def bits(self) -> tuple[int, ...]:
        return tuple(self._tables)

    def __getitem__(self, bits: int) -> FrequencyTable:
        table = self._tables.get(bits)
        if table is None:
            have = ", ".join(map(str, self._tables))
            raise EntropyCodeError(f"no {bits}-bit latent priors in this model (it has {have})")
        return table

    def __eq__(self, other) -> bool:
        return isinstance(other, Priors) and self._tables == other._tables

    __hash__ = None

    def to_metadata(self) -> str:
        """Compact JSON: the frequencies of each table as base64 of little-endian uint16, row-major."""
        tables = {
            str(bits): base64.b64encode(t.frequencies.astype("<u2").tobytes()).decode("ascii")
            for bits, t in self._tables.items()
        }
        document = {"coder": CODER, "precision": self.precision, "latent_size": self.latent_size, "frequencies": tables}
        return json.dumps(document, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, text: str, latent_size: int | None = None) -> Priors:
        """The inverse of to_metadata; anything else (or another latent size) is a ModelError."""
        try:
            document = json.loads(text)
            if document["coder"] != CODER:
                raise ValueError(f"coder {document['coder']!r} is not {CODER}")
            size, precision = document["latent_size"], document["precision"]
            if latent_size is not None and size != latent_size:
                raise ValueError(f"they are for latent size {size}, the model's is {latent_size}")
            return cls(
                {
                    _bits_key(key): _table_from_base64(_bits_key(key), encoded, size, precision)
                    for key, encoded in document["frequencies"].items()
                }
            )
        except (ValueError, TypeError, KeyError, AttributeError, binascii.Error) as e:
            raise ModelError(f"unreadable latent priors in the model metadata: {e}") from None


def _bits_key(key: str) -> int:
    if key not in {str(bits) for bits in range(MIN_BITS, MAX_BITS + 1)}:
        raise ValueError(f"no table for {key!r} bits: they are keyed {MIN_BITS}-{MAX_BITS}")
    return int(key)


def _table_from_base64(bits: int, encoded: str, latent_size: int, precision: int) -> FrequencyTable:
    if not isinstance(latent_size, int) or not 1 <= latent_size <= 4096:
        raise ValueError(f"latent size {latent_size!r} out of range")
    raw = base64.b64decode(encoded.encode("ascii"), validate=True)
    if len(raw) != latent_size * (2 << bits):
        raise ValueError(f"the {bits}-bit table has {len(raw)} bytes, not {latent_size * (2 << bits)}")
    return FrequencyTable(bits, np.frombuffer(raw, "<u2").reshape(latent_size, 1 << bits), precision)


def priors_from_codes(
    z: np.ndarray,
    z_min: np.ndarray,
    z_max: np.ndarray,
    bits_range=range(MIN_BITS, MAX_BITS + 1),
    precision: int = PRECISION,
) -> Priors:
    """The priors of a model from its training set's float codes z [N, L] and their per-dimension range."""
    return Priors.from_histograms(
        {bits: histograms(quantize(z, bits, z_min, z_max), bits) for bits in bits_range}, precision
    )


def fewest_bits_within(psnr_by_bits: dict[int, float], psnr_float: float, tolerance_db: float = 0.1) -> int:
    """The default precision: the fewest bits whose round trip stays within `tolerance_db` of float32
    (the most bits measured if none does)."""
    good = [bits for bits, value in psnr_by_bits.items() if value >= psnr_float - tolerance_db]
    return min(good) if good else max(psnr_by_bits)


# --- the coder --------------------------------------------------------------------------------------
def max_code_bytes(latent_size: int) -> int:
    """The longest code of `latent_size` symbols: one 4-byte final state and at most one word per symbol."""
    return 4 + 2 * latent_size


def encode(symbols: np.ndarray, table: FrequencyTable) -> tuple[bytes, np.ndarray]:
    """Symbols [N, L] -> (the N codes' bytes, one after another; each code's length, int64 [N])."""
    symbols = _checked_symbols(symbols, table)
    parts = [_encode_lanes(symbols[i : i + LANES], table) for i in range(0, len(symbols), LANES)]
    if len(parts) == 1:
        return parts[0]
    return b"".join(p for p, _ in parts), np.concatenate([lengths for _, lengths in parts] or [np.zeros(0, np.int64)])


def _encode_lanes(symbols: np.ndarray, table: FrequencyTable) -> tuple[bytes, np.ndarray]:
    by_dimension = np.ascontiguousarray(symbols.T)  # [L, N]: one row per step
    latent_size, lanes = by_dimension.shape
    slot_of = spread.slot_finder(table, lanes)
    words = np.empty((latent_size, lanes), np.uint16)
    emitted = np.empty((latent_size, lanes), bool)
    state = np.zeros(lanes, np.uint32)
    room, precision = np.uint32(32 - table.precision), np.uint32(table.precision)
    for d in range(latent_size - 1, -1, -1):  # last dimension first: the decoder reads them in order
        frequency = table.frequencies[d].take(by_dimension[d])
        emitted[d] = (state >> room) >= frequency  # too big to take this symbol: first push a word out
        words[d] = state  # truncated to its low 16 bits; kept only where a word is emitted
        state >>= emitted[d].view(np.uint8) << np.uint8(4)  # by 16 bits where emitted, else by 0
        quotient, remainder = np.divmod(state, frequency)
        state = (quotient << precision) + slot_of(d, by_dimension[d], remainder)
    return _assemble(state, words, emitted)


def _checked_symbols(symbols, table: FrequencyTable) -> np.ndarray:
    symbols = np.asarray(symbols)
    if symbols.ndim != 2 or symbols.shape[1] != table.latent_size or not np.issubdtype(symbols.dtype, np.integer):
        raise EntropyCodeError(
            f"symbols must be integers of shape (N, {table.latent_size}), got {symbols.dtype} {symbols.shape}"
        )
    if symbols.size and (symbols.min() < 0 or symbols.max() >= 1 << table.bits):
        raise EntropyCodeError(f"symbols must lie in 0..{(1 << table.bits) - 1} for {table.bits}-bit codes")
    return symbols


def _assemble(state: np.ndarray, words: np.ndarray, emitted: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Each code: its final state in as few little-endian bytes as it needs, then its words (little-endian)
    in the order the decoder reads them. words, emitted: [L, N], in step order."""
    latent_size, lanes = words.shape
    state_size = sum((state >= np.uint32(1 << (8 * i))).astype(np.int64) for i in range(4))  # 0-4 bytes
    cells = np.empty((lanes, 4 + 2 * latent_size), np.uint8)  # every byte a code could have, lane by lane
    cells[:, :4] = state.astype("<u4").view(np.uint8).reshape(lanes, 4)
    words_by_lane = np.ascontiguousarray(words.T).astype("<u2", copy=False)
    cells[:, 4:] = words_by_lane.view(np.uint8).reshape(lanes, 2 * latent_size)
    kept = np.empty(cells.shape, bool)
    kept[:, :4] = np.arange(4) < state_size[:, None]
    kept[:, 4::2] = kept[:, 5::2] = emitted.T
    return cells[kept].tobytes(), state_size + 2 * emitted.sum(axis=0, dtype=np.int64)


def state_size_of(length: int | np.ndarray):
    """How many of a code's first bytes hold its final state, from the code's length alone: all of them up
    to 4 bytes; beyond that 3 or 4, whichever leaves an even number of bytes for the 16-bit words."""
    length = np.asarray(length, np.int64)
    return np.where(length <= 4, length, 4 - (length & 1))


def decode(payload, lengths, table: FrequencyTable) -> np.ndarray:
    """The inverse of encode: codes one after another in `payload`, `lengths` [N] bytes each -> symbols
    uint8 [N, L]. Raises EntropyCodeError for anything encode could not have written."""
    lengths = _checked_lengths(payload, lengths, table.latent_size)
    data = np.frombuffer(payload, np.uint8)
    starts = np.cumsum(lengths) - lengths
    symbols = np.empty((len(lengths), table.latent_size), np.uint8)
    bad = np.zeros(len(lengths), bool)
    for i in range(0, len(lengths), LANES):  # a window of codes at a time: working memory bounded by LANES
        window = slice(i, i + LANES)
        begin = int(starts[i])
        codes = data[begin : begin + int(lengths[window].sum())]
        symbols[window], bad[window] = _decode_lanes(codes, lengths[window], table)
    if np.any(bad):
        first = int(np.argmax(bad))
        raise EntropyCodeError(f"latent code {first} is corrupt ({np.count_nonzero(bad)} of {len(bad)} bad)")
    return symbols


def _decode_lanes(data: np.ndarray, lengths: np.ndarray, table: FrequencyTable) -> tuple[np.ndarray, np.ndarray]:
    """The symbols [N, L] of N codes side by side, and which of them are corrupt."""
    padded = np.concatenate([data, np.zeros(4, np.uint8)])  # reads past a code's end see 0, never overrun
    word_at = padded[:-1].astype(np.uint16) | (padded[1:].astype(np.uint16) << np.uint16(8))  # word at each byte
    ends = np.cumsum(lengths)
    state, position, bad = _read_final_state(padded, ends - lengths, state_size_of(lengths))
    symbols = np.empty((table.latent_size, len(lengths)), np.uint8)
    owner_of = spread.owner_finder(table, len(lengths))
    precision, mask = np.uint32(table.precision), np.uint32((1 << table.precision) - 1)
    for d in range(table.latent_size):  # one step of every lane: a symbol out, at most one word in
        symbols[d], frequency, rank = owner_of(d, state & mask)
        state = frequency * (state >> precision) + rank
        # A lane with words left entered this step at or above 2**16, so it leaves at or above frequency *
        # 2**(16 - precision): a word read now is one the encoder emitted (no check needed for that).
        reading = np.flatnonzero((state < STATE_LOW) & (position < ends))  # the lanes that take a word
        state[reading] = (state[reading] << np.uint32(WORD_BITS)) | word_at[position[reading]]
        position[reading] += 2
    bad |= (state != 0) | (position != ends)  # every code ends where encoding began: state 0, all bytes read
    return symbols.T, bad


def _checked_lengths(payload, lengths, latent_size: int) -> np.ndarray:
    try:
        size = memoryview(payload).nbytes
        lengths = np.asarray(lengths)
    except (TypeError, ValueError):
        raise EntropyCodeError("latent codes must be bytes with an array of their lengths") from None
    if lengths.ndim != 1 or not (np.issubdtype(lengths.dtype, np.integer) or lengths.size == 0):
        raise EntropyCodeError(f"code lengths must be a list of integers, got {lengths.dtype} {lengths.shape}")
    lengths = lengths.astype(np.int64)
    longest = max_code_bytes(latent_size)
    if lengths.size and (lengths.min() < 0 or lengths.max() > longest):
        raise EntropyCodeError(f"a latent code length is out of range (0 to {longest} bytes for {latent_size} values)")
    if int(lengths.sum()) != size:
        raise EntropyCodeError(f"latent code lengths add up to {int(lengths.sum())} bytes, the codes have {size}")
    return lengths


def _read_final_state(data: np.ndarray, position: np.ndarray, state_size: np.ndarray):
    """Each code's first 0-4 bytes, little-endian: the encoder's final state, where decoding starts."""
    state = np.zeros(len(position), np.uint32)
    for i in range(4):
        byte = np.where(i < state_size, data[position + i], 0).astype(np.uint32)
        state |= byte << np.uint32(8 * i)
    top_byte = np.where(state_size > 0, state >> (8 * np.maximum(state_size - 1, 0)).astype(np.uint32), 1)
    return state, position + state_size, top_byte == 0  # a zero top byte: not the fewest bytes, not ours
