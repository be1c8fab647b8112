"""How a frequency table's 2**precision slots are shared out to its symbols (rANS, entropy.py): spread evenly
rather than in runs, the same way in Python and JavaScript, since the slots define the bytes. The whole spread
of a table is made once (FrequencyTable.spread); a few codes count their slots instead."""

from __future__ import annotations

import numpy as np


def spread_slots(frequencies: np.ndarray, precision: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One dimension's 2**precision slots shared out to its symbols, spread evenly rather than in runs (a
    run makes the first symbols coded from a small state cost about `precision` bits each): the pairs
    (s, k), 0 <= k < f_s, sorted by (2k + 1) / f_s and then s; the j-th pair owns slot j. Returns slot_of
    (uint16, by starts[s] + k: the slot of the k-th of s), owner (uint8, by slot: s) and rank (uint16, by
    slot: k)."""
    return tuple(part[0] for part in spread_rows(np.asarray(frequencies)[None], precision))


def spread_rows(frequencies: np.ndarray, precision: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """spread_slots for every row of `frequencies` [L, S] at once ([L, 2**precision] each), with no Python
    loop: a model's table is built on the first code of every command, so this is part of start-up.

    The pairs are laid out by symbol, then k, so equal fractions are already in symbol order and stable
    sorts keep it. Each fraction becomes an exact integer key, (2k + 1) * 2**(2 * precision + 1) // f: two
    distinct fractions with f <= 2**precision differ by at least 2**(-2 * precision), so their keys differ
    and keep their order. One stable radix sort by the key's top 16 bits (numpy sorts 16-bit integers in
    linear time) leaves the pairs all but sorted, and a stable sort by (row, key) finishes in one pass."""
    frequencies = np.asarray(frequencies, np.int64)
    rows, size = len(frequencies), 1 << precision
    flat = frequencies.ravel()
    symbol = np.repeat(np.tile(np.arange(frequencies.shape[1], dtype=np.uint8), rows), flat)
    starts = (np.cumsum(frequencies, axis=1) - frequencies).ravel().astype(np.int32)  # 32 bits where they do:
    within = np.tile(np.arange(size, dtype=np.int32), rows) - np.repeat(starts, flat)  # half the pages to touch
    key_bits = 2 * precision + 2  # the key is below 2 * 2**(2 * precision + 1); its numerator needs 64 bits
    key = ((2 * within.astype(np.int64) + 1) << (key_bits - 1)) // np.repeat(flat, flat)
    top = (key >> (key_bits - 16)).astype(np.uint16).reshape(rows, size)
    nearly = (np.argsort(top, axis=1, kind="stable") + (np.arange(rows) * size)[:, None]).ravel()
    order = nearly[np.argsort(key[nearly] + (np.repeat(np.arange(rows), size) << key_bits), kind="stable")]
    slot_of = np.empty(rows * size, np.uint16)
    slot_of[order] = np.tile(np.arange(size, dtype=np.uint16), rows)
    return (
        slot_of.reshape(rows, size),
        symbol[order].reshape(rows, size),
        within[order].astype(np.uint16).reshape(rows, size),
    )


# --- a few codes: their slots without the whole spread -------------------------------------------------
# A command that codes one picture would spend most of its start-up spreading every slot of every dimension
# (spread_rows: 2**precision per dimension) to look up one slot in each. Up to FEW_LANES codes at a time, the
# coder finds the slots it needs from the spread's definition instead, by counting pairs: the same slots,
# so the same bytes (tests/test_entropy.py compares the two on random tables). Counting costs a few codes
# what spreading costs a thousand, so a table that has counted for COUNTED_CODES codes (a folder of one-code
# shards) spreads, once: counting never costs more than about one spread.
FEW_LANES = 8
COUNTED_CODES = 16


def use_the_spread(table, lanes: int) -> bool:
    """Whether to look the slots of `lanes` codes up in the table's whole spread (made once) or count them."""
    if lanes > FEW_LANES or "spread" in table.__dict__:
        return True
    counted = table.__dict__.get("_codes_counted", 0) + lanes  # beside the cached spread: the table stays frozen
    table.__dict__["_codes_counted"] = counted
    return counted > COUNTED_CODES


def slot_finder(table, lanes: int):
    """(d, symbols, ranks) -> the slots [lanes] of those pairs of dimension d (the encoder's lookup)."""
    if use_the_spread(table, lanes):
        slot_of, starts = table.spread[0], table.starts
        return lambda d, symbols, ranks: slot_of[d].take(starts[d].take(symbols) + ranks)
    frequencies = table.frequencies.astype(np.int64)
    return lambda d, symbols, ranks: _slots_of_pairs(frequencies[d], symbols, ranks, table.precision)


def owner_finder(table, lanes: int):
    """(d, slots) -> (owner uint8, its frequency uint32, rank) of those slots of dimension d (the decoder's)."""
    if use_the_spread(table, lanes):
        _, owner, rank = table.spread
        frequency_of_slot = table.frequency_of_slot
        return lambda d, slots: (owner[d].take(slots), frequency_of_slot[d].take(slots), rank[d].take(slots))
    frequencies = table.frequencies.astype(np.int64)
    return lambda d, slots: _pairs_of_slots(frequencies[d], slots, table.precision)


def _pairs_up_to(keys: np.ndarray, frequencies: np.ndarray, precision: int) -> np.ndarray:
    """How many pairs (s, k) of each symbol have a key (spread_rows's) of at most `keys` [n]: [n, S]. The key
    ((2k + 1) << (2 * precision + 1)) // f is at most K exactly where 2k + 1 <= ((K + 1) * f - 1) >> shift."""
    shift = 2 * precision + 1
    odd_bound = ((keys[:, None] + 1) * frequencies - 1) >> shift
    return np.minimum((odd_bound + 1) >> 1, frequencies)


def _key(frequencies: np.ndarray, symbols: np.ndarray, ranks: np.ndarray, precision: int) -> np.ndarray:
    return ((2 * ranks.astype(np.int64) + 1) << (2 * precision + 1)) // frequencies[symbols]


def _slots_of_pairs(frequencies: np.ndarray, symbols: np.ndarray, ranks: np.ndarray, precision: int) -> np.ndarray:
    """Slot of each pair (s, k) of one dimension: the pairs of a lower key, then those of its key and a lower s."""
    key = _key(frequencies, symbols, ranks, precision)
    below = _pairs_up_to(key - 1, frequencies, precision)
    tied = _pairs_up_to(key, frequencies, precision) - below
    lower_symbol = np.arange(len(frequencies)) < symbols[:, None].astype(np.int64)
    return (below.sum(axis=1) + (tied * lower_symbol).sum(axis=1)).astype(np.uint32)


def _pairs_of_slots(frequencies: np.ndarray, slots: np.ndarray, precision: int):
    """Owner, its frequency and rank of each of `slots` of one dimension. The pairs of keys up to K number
    (K + 1) / 2**(precision + 2) give or take one per symbol, so the j-th pair's key lies in a window of
    S + 2 slots' keys either side of j's: sort only the pairs of that window."""
    size, margin = len(frequencies), len(frequencies) + 2
    j = slots.astype(np.int64)
    low = np.maximum(j - margin, 0) << (precision + 2)
    high = np.minimum((j + margin) << (precision + 2), 1 << (2 * precision + 2))
    before = _pairs_up_to(low - 1, frequencies, precision)
    counts = (_pairs_up_to(high - 1, frequencies, precision) - before).ravel()
    lane = np.repeat(np.arange(counts.size) // size, counts)
    symbol = np.repeat(np.tile(np.arange(size), len(j)), counts)
    group_start = np.cumsum(counts) - counts
    rank = np.repeat(before.ravel() - group_start, counts) + np.arange(counts.sum())
    order = np.lexsort((symbol, _key(frequencies, symbol, rank, precision), lane))
    lane_start = np.cumsum(counts.reshape(len(j), size).sum(axis=1))
    lane_start -= counts.reshape(len(j), size).sum(axis=1)
    picked = order[lane_start + j - before.sum(axis=1)]
    owner = symbol[picked]
    return owner.astype(np.uint8), frequencies[owner].astype(np.uint32), rank[picked].astype(np.uint32)
