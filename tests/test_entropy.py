"""The entropy coder of format v2's latent codes (runtime/entropy.py, docs/FORMAT.md).

A plain scalar coder, written from FORMAT.md's text with Python integers, checks the vectorised one; the
golden values here are the ones the document lists, for a second implementation to match. Hypothesis
example counts are bounded so the module runs in seconds.
"""

from __future__ import annotations

import base64
import json
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeonnx.runtime.aez import codefile, entropy, spread
from aeonnx.runtime.aez.entropy import EntropyCodeError, FrequencyTable, Priors
from aeonnx.runtime.errors import ModelError

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- golden values (docs/FORMAT.md) --------------------------------------------------------------------
GOLDEN_COUNTS = [0, 0, 5, 17, 120, 40, 3, 0, 0, 1, 0, 0, 0, 0, 0, 9]
GOLDEN_FREQUENCIES = [1, 1, 105, 357, 2512, 838, 64, 1, 1, 22, 1, 1, 1, 1, 1, 189]
GOLDEN_CODES = {  # values of the 6 dimensions -> the code's bytes, hex
    (4, 5, 6, 7, 8, 0): "",
    (4, 5, 6, 7, 8, 15): "ad",
    (9, 6, 8, 8, 9, 4): "d3c95d",
    (9, 7, 4, 2, 11, 11): "037c6e5ef4",
    (2, 9, 3, 14, 7, 1): "d0e2ab2afd47",
    (0, 14, 10, 9, 3, 7): "fa870204a80148",
    (0, 1, 2, 3, 4, 5): "fab77f57fcf7fde7",
    (15, 15, 15, 15, 15, 15): "3098500105080558",
}


def golden_table() -> FrequencyTable:
    counts = [np.roll(GOLDEN_COUNTS, d) for d in range(5)] + [np.zeros(16, int)]
    return FrequencyTable.from_histograms(np.array(counts), precision=12)


# --- the scalar coder, from the document's text ---------------------------------------------------------
class Corrupt(Exception):
    pass


@cache
def reference_spread(frequencies: tuple[int, ...]):
    """slot[(s, k)], owner[j], rank[j]: the pairs sorted by (2k + 1) / f[s], then s."""
    pairs = sorted(((Fraction(2 * k + 1, f), s, k) for s, f in enumerate(frequencies) for k in range(f)))
    slot = {(s, k): j for j, (_, s, k) in enumerate(pairs)}
    return slot, [s for _, s, _ in pairs], [k for _, _, k in pairs]


def reference_encode(values, table: FrequencyTable) -> bytes:
    n, rows = table.precision, [tuple(map(int, row)) for row in table.frequencies]
    x, words = 0, []
    for i in reversed(range(len(values))):
        s = int(values[i])
        f = rows[i][s]
        if (x >> (32 - n)) >= f:
            words.append(x & 0xFFFF)
            x >>= 16
        x = (x // f) * (1 << n) + reference_spread(rows[i])[0][(s, x % f)]
    head = x.to_bytes((x.bit_length() + 7) // 8, "little")
    return head + b"".join(w.to_bytes(2, "little") for w in reversed(words))


def reference_decode(code: bytes, table: FrequencyTable) -> list[int]:
    n, rows = table.precision, [tuple(map(int, row)) for row in table.frequencies]
    length = len(code)
    k = length if length <= 4 else (3 if length % 2 else 4)
    x, p = int.from_bytes(code[:k], "little"), k
    if k > 0 and code[k - 1] == 0:
        raise Corrupt("not the fewest bytes")
    values = []
    for row in rows:
        _, owner, rank = reference_spread(row)
        j = x & ((1 << n) - 1)
        s = owner[j]
        x = row[s] * (x >> n) + rank[j]
        if x < 1 << 16 and p < length:
            x = x * 65536 + code[p] + code[p + 1] * 256
            p += 2
        values.append(s)
    if x != 0 or p != length:
        raise Corrupt("does not end in state 0 with every byte read")
    return values


def split(payload: bytes, lengths) -> list[bytes]:
    ends = np.cumsum(lengths)
    return [payload[end - length : end] for end, length in zip(ends.tolist(), np.asarray(lengths).tolist())]


# --- strategies -----------------------------------------------------------------------------------------
@st.composite
def tables_and_symbols(draw, max_precision=12, max_latent=5, max_codes=30):
    bits = draw(st.integers(entropy.MIN_BITS, entropy.MAX_BITS))
    precision = draw(st.integers(max(bits, entropy.MIN_PRECISION), max_precision))
    latent = draw(st.integers(1, max_latent))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Skewed, sparse counts like real codes' histograms, sometimes none at all.
    counts = (rng.pareto(1.0, (latent, 1 << bits)) * 50).astype(np.int64) * (rng.random((latent, 1 << bits)) < 0.6)
    table = FrequencyTable.from_histograms(counts, precision)
    probabilities = table.frequencies / table.frequencies.sum(axis=1, keepdims=True)
    count = draw(st.integers(0, max_codes))
    rare = rng.random((count, latent)) < 0.1  # a few values the prior thinks unlikely
    likely = np.stack([rng.choice(1 << bits, count, p=row) for row in probabilities], axis=1) if count else None
    symbols = np.where(rare, rng.integers(0, 1 << bits, (count, latent)), likely) if count else np.zeros((0, latent))
    return table, symbols.astype(np.uint8)


# --- frequency tables -----------------------------------------------------------------------------------
def test_frequency_quantisation_matches_the_documented_golden_example():
    assert entropy.quantize_frequencies(GOLDEN_COUNTS, 12).tolist() == GOLDEN_FREQUENCIES
    assert entropy.quantize_frequencies([0] * 16, 12).tolist() == [256] * 16
    assert entropy.quantize_frequencies([0] * 256, 8).tolist() == [1] * 256


@BOUNDED
@given(
    st.integers(entropy.MIN_BITS, entropy.MAX_BITS),
    st.integers(entropy.MIN_PRECISION, entropy.MAX_PRECISION),
    st.data(),
)
def test_frequencies_are_valid_deterministic_and_follow_the_counts(bits, precision, data):
    if bits > precision:
        return
    counts = data.draw(st.lists(st.integers(0, 10**9), min_size=1 << bits, max_size=1 << bits))
    frequencies = entropy.quantize_frequencies(counts, precision)
    assert frequencies.sum() == 1 << precision and frequencies.min() >= 1
    assert np.array_equal(frequencies, entropy.quantize_frequencies(list(counts), precision))
    counts = np.array(counts)
    for count in np.unique(counts):  # more counts never get a smaller frequency (equal ones differ by <= 1)
        assert frequencies[counts > count].min(initial=1 << 16) >= frequencies[counts == count].max()
        assert np.ptp(frequencies[counts == count]) <= 1


@pytest.mark.parametrize(
    "counts, precision",
    [([-1] + [0] * 15, 12), ([2**36] + [0] * 15, 12), ([1] * 512, 8), ([1] * 16, 17), ([1] * 16, 7)],
)
def test_frequency_quantisation_refuses_what_it_cannot_represent(counts, precision):
    with pytest.raises(ValueError):
        entropy.quantize_frequencies(counts, precision)


def test_the_spread_matches_the_documented_sort_and_increases_within_a_symbol():
    table = golden_table()
    slot_of, owner, rank = table.spread
    for d, row in enumerate(table.frequencies):
        slot, ref_owner, ref_rank = reference_spread(tuple(map(int, row)))
        assert owner[d].tolist() == ref_owner and rank[d].tolist() == ref_rank
        starts = table.starts[d].astype(int)
        assert all(slot_of[d][starts[s] + k] == slot[(s, k)] for s in range(16) for k in range(int(row[s])))
        assert table.frequency_of_slot[d].tolist() == [int(row[s]) for s in ref_owner]


@pytest.mark.parametrize("precision", [8, 12, 16])
def test_the_two_pass_sort_spreads_as_the_documented_sort(precision):
    """Skewed tables with many ties ((2k+1)/f equal across symbols) and fractions that share their top 16
    bits: the integer-keyed radix-then-merge sort gives the reference spread."""
    rng = np.random.default_rng(precision)
    frequencies = np.ones((6, 32), np.int64) + rng.multinomial((1 << precision) - 32, [0.5] + [0.5 / 31] * 31, 6)
    frequencies[0, :] = 1 << (precision - 5)  # every symbol equal: every fraction tied 32 ways
    frequencies[1, :2] = (1 << precision) - 31 * 2, 2  # fractions ever closer: 1/f apart in (0, 2]
    frequencies[1, 2:] = 2
    expected = [reference_spread(tuple(map(int, row))) for row in frequencies]
    _, owner, rank = entropy.spread_rows(frequencies, precision)
    assert [o.tolist() for o in owner] == [e[1] for e in expected]
    assert [r.tolist() for r in rank] == [e[2] for e in expected]


def _skewed_tables(precision: int, seed: int) -> np.ndarray:
    """Tables with ties across symbols, fractions ever closer, one symbol taking nearly all, and random ones."""
    rng = np.random.default_rng(seed)
    frequencies = np.ones((6, 32), np.int64) + rng.multinomial((1 << precision) - 32, [0.5] + [0.5 / 31] * 31, 6)
    frequencies[0, :] = 1 << (precision - 5)
    frequencies[1, :2] = (1 << precision) - 31 * 2, 2
    frequencies[1, 2:] = 2
    frequencies[2, :] = 1
    frequencies[2, 7] = (1 << precision) - 31
    frequencies[3] = entropy.quantize_frequencies(rng.integers(0, 1000, 32), precision)
    return frequencies


@pytest.mark.parametrize("precision", [8, 12, 14, 16])
def test_a_few_codes_find_the_slots_that_the_whole_spread_gives(precision):
    """The coder of a few codes counts its slots from the spread's definition instead of spreading every
    slot: every pair's slot, and every slot's owner, frequency and rank, are the spread's."""
    frequencies = _skewed_tables(precision, seed=precision)
    slot_of, owner, rank = entropy.spread_rows(frequencies, precision)
    every_slot = np.arange(1 << precision, dtype=np.uint32)
    for d, row in enumerate(frequencies):
        symbols = np.repeat(np.arange(len(row)), row).astype(np.uint8)
        ranks = every_slot - np.repeat(np.cumsum(row) - row, row)
        by_pair = slot_of[d][np.cumsum(row)[symbols] - row[symbols] + ranks]
        assert np.array_equal(spread._slots_of_pairs(row, symbols, ranks, precision), by_pair)
        found_owner, found_frequency, found_rank = spread._pairs_of_slots(row, every_slot, precision)
        assert np.array_equal(found_owner, owner[d]) and np.array_equal(found_rank, rank[d])
        assert np.array_equal(found_frequency, row[owner[d]])


@pytest.mark.parametrize("count", [1, 3, spread.FEW_LANES, spread.FEW_LANES + 1])
def test_a_few_codes_and_the_whole_spread_code_the_same_bytes(count):
    rng = np.random.default_rng(count)
    frequencies = _skewed_tables(14, seed=count)
    symbols = rng.integers(0, 32, (count, len(frequencies))).astype(np.uint8)
    counted = FrequencyTable(5, frequencies, 14)  # a fresh table: a few codes count their slots
    spread_table = FrequencyTable(5, frequencies, 14)
    _ = spread_table.spread  # spread already: the coder looks its slots up
    payload, lengths = entropy.encode(symbols, counted)
    assert ("spread" in counted.__dict__) == (count > spread.FEW_LANES)
    assert payload == entropy.encode(symbols, spread_table)[0]
    fresh = FrequencyTable(5, frequencies, 14)
    assert np.array_equal(entropy.decode(payload, lengths, fresh), symbols)
    assert np.array_equal(entropy.decode(payload, lengths, spread_table), symbols)


def test_a_table_that_has_counted_for_many_codes_spreads_once():
    """A folder of one-code shards: after COUNTED_CODES codes counted, the table spreads and looks up."""
    table = FrequencyTable(5, _skewed_tables(12, seed=1), 12)
    symbols = np.zeros((1, 6), np.uint8)
    for _ in range(spread.COUNTED_CODES):
        entropy.encode(symbols, table)
    assert "spread" not in table.__dict__
    payload, lengths = entropy.encode(symbols, table)
    assert "spread" in table.__dict__
    assert np.array_equal(entropy.decode(payload, lengths, table), symbols)


# --- the coder ------------------------------------------------------------------------------------------
def test_golden_codes_encode_and_decode_as_documented():
    table = golden_table()
    values = np.array(list(GOLDEN_CODES), np.uint8)
    payload, lengths = entropy.encode(values, table)
    assert [code.hex() for code in split(payload, lengths)] == list(GOLDEN_CODES.values())
    assert np.array_equal(entropy.decode(payload, lengths, table), values)
    for value, code in GOLDEN_CODES.items():
        assert reference_encode(value, table).hex() == code
        assert reference_decode(bytes.fromhex(code), table) == list(value)


@BOUNDED
@given(tables_and_symbols())
def test_the_vectorised_coder_writes_what_the_document_says(case):
    table, symbols = case
    payload, lengths = entropy.encode(symbols, table)
    assert lengths.dtype == np.int64 and len(lengths) == len(symbols) and lengths.sum() == len(payload)
    assert split(payload, lengths) == [reference_encode(row, table) for row in symbols]
    assert np.array_equal(entropy.decode(payload, lengths, table), symbols)
    assert lengths.max(initial=0) <= entropy.max_code_bytes(table.latent_size)


def test_full_precision_and_one_slot_per_symbol_round_trip():
    rng = np.random.default_rng(5)
    for precision, bits in [(16, 4), (16, 8), (8, 8)]:
        table = FrequencyTable.from_histograms(rng.integers(0, 1000, (3, 1 << bits)), precision)
        symbols = rng.integers(0, 1 << bits, (500, 3)).astype(np.uint8)
        payload, lengths = entropy.encode(symbols, table)
        assert np.array_equal(entropy.decode(payload, lengths, table), symbols)
        assert split(payload, lengths)[:20] == [reference_encode(row, table) for row in symbols[:20]]


def test_large_batches_code_window_by_window_with_the_same_bytes(real_codes, monkeypatch):
    table, symbols = real_codes["ae"][6]
    whole = entropy.encode(symbols, table)
    monkeypatch.setattr(entropy, "LANES", 7)  # windows of 7 codes: 500 codes cross 71 window boundaries
    payload, lengths = entropy.encode(symbols, table)
    assert payload == whole[0] and np.array_equal(lengths, whole[1])
    assert np.array_equal(entropy.decode(payload, lengths, table), symbols)
    broken = bytearray(payload)
    broken[int(lengths[:300].sum()) : int(lengths[:301].sum())] = b"\x00" * int(lengths[300])
    with pytest.raises(EntropyCodeError, match="latent code 300 is corrupt"):
        entropy.decode(bytes(broken), lengths, table)


def test_each_code_decodes_alone(real_codes):
    for bits, (table, symbols) in real_codes["ae"].items():
        payload, lengths = entropy.encode(symbols, table)
        codes = split(payload, lengths)
        for i in (0, 1, len(codes) // 2, len(codes) - 1):
            assert np.array_equal(entropy.decode(codes[i], [len(codes[i])], table), symbols[i : i + 1])


def test_real_codes_round_trip_at_every_bits_close_to_their_information(real_codes):
    for model, by_bits in real_codes.items():
        for bits, (table, symbols) in by_bits.items():
            payload, lengths = entropy.encode(symbols, table)
            assert np.array_equal(entropy.decode(payload, lengths, table), symbols), (model, bits)
            # The coder's own cost: well under a byte per code above the prior's information content.
            overhead = len(payload) - table.ideal_bits(symbols) / 8
            assert 0 < overhead / len(symbols) < 0.5, (model, bits, overhead / len(symbols))


def test_no_codes_and_codes_of_no_bytes():
    table = golden_table()
    payload, lengths = entropy.encode(np.zeros((0, 6), np.uint8), table)
    assert payload == b"" and lengths.tolist() == []
    assert entropy.decode(b"", [], table).shape == (0, 6)
    assert entropy.decode(b"", np.zeros(0, np.int64), table).shape == (0, 6)
    # The most likely value of every dimension costs nothing at all.
    assert entropy.decode(b"", [0, 0], table).tolist() == [[4, 5, 6, 7, 8, 0]] * 2


# --- hostile input: only EntropyCodeError, never a hang or another exception ----------------------------
def decoded_or_refused(code: bytes, table: FrequencyTable):
    try:
        return entropy.decode(code, [len(code)], table)
    except EntropyCodeError as e:
        assert "\n" not in str(e)
        return None


def test_every_truncation_is_refused_or_decodes_to_other_values(real_codes):
    table, symbols = real_codes["ae"][6]
    codes = split(*entropy.encode(symbols[:60], table))
    for code, values in zip(codes, symbols):
        for cut in range(len(code)):
            decoded = decoded_or_refused(code[:cut], table)
            # A compact code leaves little room to notice (most truncations are some other valid code: the
            # file's CRC is the check), but one code per value means never the same values.
            assert decoded is None or not np.array_equal(decoded[0], values)


def test_bit_flips_are_refused_or_decode_to_other_values(real_codes):
    table, symbols = real_codes["ae"][5]
    codes = split(*entropy.encode(symbols[:40], table))
    for code, values in zip(codes, symbols):
        for bit in range(8 * len(code)):
            flipped = bytearray(code)
            flipped[bit // 8] ^= 1 << (bit % 8)
            decoded = decoded_or_refused(bytes(flipped), table)
            assert decoded is None or not np.array_equal(decoded[0], values)


@BOUNDED
@given(st.binary(max_size=80), st.data())
def test_arbitrary_bytes_are_refused_or_are_exactly_what_the_encoder_writes(data, draw):
    table = golden_table()
    cuts = sorted(draw.draw(st.lists(st.integers(0, len(data)), max_size=6)))
    lengths = np.diff([0, *cuts, len(data)])
    if lengths.max(initial=0) > entropy.max_code_bytes(table.latent_size):
        with pytest.raises(EntropyCodeError):
            entropy.decode(data, lengths, table)
        return
    try:
        symbols = entropy.decode(data, lengths, table)
    except EntropyCodeError:
        return
    assert entropy.encode(symbols, table)[0] == data  # accepted means canonical: it re-encodes to itself


@pytest.mark.parametrize(
    "payload, lengths, fragment",
    [
        (b"\x01\x02", [3], "add up to 3 bytes"),
        (b"\x01\x02", [1], "add up to 1 bytes"),
        (b"\x01\x02", [-1, 3], "out of range"),
        (b"\x01" * 17, [17], "out of range"),
        (b"", [2**62, -(2**62)], "out of range"),
        (b"\x01\x02", [1.0, 1.0], "integers"),
        (b"\x01\x02", [[1, 1]], "integers"),
        (b"\x01\x02", "11", "integers"),
        ("text", [4], "bytes"),
        (None, [0], "bytes"),
        (b"\x00", [1], "corrupt"),
        (b"\xff\xff\xff\x7f", [4], "corrupt"),
    ],
)
def test_absurd_inputs_get_the_coders_one_line_error(payload, lengths, fragment):
    with pytest.raises(EntropyCodeError, match=fragment):
        entropy.decode(payload, lengths, golden_table())


def test_the_decoder_names_the_first_corrupt_code():
    table = golden_table()
    payload, lengths = entropy.encode(np.array(list(GOLDEN_CODES), np.uint8), table)
    broken = bytearray(payload)
    broken[int(lengths[:6].sum()) + 4] ^= 0xFF  # a word of code 6
    with pytest.raises(EntropyCodeError, match=r"latent code 6 is corrupt \(1 of 8"):
        entropy.decode(bytes(broken), lengths, table)


@pytest.mark.parametrize(
    "symbols",
    [np.full((1, 6), 16), np.full((1, 6), -1), np.zeros((2, 5), int), np.zeros(6, int), np.zeros((1, 6), float)],
)
def test_the_encoder_refuses_values_outside_the_table(symbols):
    with pytest.raises(EntropyCodeError):
        entropy.encode(symbols, golden_table())


# --- quantisation ---------------------------------------------------------------------------------------
def test_eight_bits_quantise_exactly_like_format_version_1():
    rng = np.random.default_rng(0)
    z_min, z_max = np.float32([0, -3, 2, 5]), np.float32([24.3, 4.1, 2, 9])  # one dimension of zero span
    z = rng.uniform(-5, 30, (2000, 4)).astype(np.float32)
    binding = codefile.Binding("ae", "0123456789abcdef", z_min, z_max)
    assert np.array_equal(entropy.quantize(z, 8, z_min, z_max), codefile.quantize(z, "uint8", binding))
    q = codefile.quantize(z, "uint8", binding)
    assert np.array_equal(entropy.dequantize(q, 8, z_min, z_max), codefile.dequantize(q, "uint8", binding))


@pytest.mark.parametrize("bits", range(entropy.MIN_BITS, entropy.MAX_BITS + 1))
def test_quantisation_round_trips_within_half_a_step(bits):
    rng = np.random.default_rng(bits)
    z_min, z_max = np.float32([-2, 0, 1]), np.float32([3, 40, 1.5])
    z = rng.uniform(z_min, z_max, (5000, 3)).astype(np.float32)
    q = entropy.quantize(z, bits, z_min, z_max)
    assert q.dtype == np.uint8 and q.max() <= (1 << bits) - 1
    step = entropy.quantization_scale(bits, z_min, z_max)
    assert np.all(np.abs(entropy.dequantize(q, bits, z_min, z_max) - z) <= step / 2 * (1 + 1e-5))
    assert entropy.dequantize(q, bits, z_min, z_max).dtype == np.float32


def test_values_outside_the_range_and_nan_clip_to_the_end_levels():
    z = np.float32([[-1, 5, np.nan, np.inf, -np.inf]])
    q = entropy.quantize(z, 4, np.zeros(5, np.float32), np.ones(5, np.float32))
    assert q.tolist() == [[0, 15, 0, 15, 0]]


@pytest.mark.parametrize("bits", [3, 9, 4.0, "6"])
def test_unsupported_bits_are_refused(bits):
    with pytest.raises(EntropyCodeError, match="bits must be"):
        entropy.quantize(np.zeros((1, 2), np.float32), bits, np.zeros(2), np.ones(2))


# --- priors and their metadata --------------------------------------------------------------------------
def test_priors_from_codes_count_the_training_codes():
    rng = np.random.default_rng(1)
    z_min, z_max = np.float32([0, -1]), np.float32([10, 1])
    z = np.stack([rng.exponential(1.0, 3000), rng.normal(0, 0.2, 3000)], axis=1).astype(np.float32)
    priors = entropy.priors_from_codes(z, z_min, z_max)
    assert priors.bits == (4, 5, 6, 7, 8) and priors.latent_size == 2 and priors.precision == entropy.PRECISION
    for bits in priors.bits:
        counts = entropy.histograms(entropy.quantize(z, bits, z_min, z_max), bits)
        assert counts.shape == (2, 1 << bits) and counts.sum() == 2 * 3000
        assert np.array_equal(priors[bits].frequencies, FrequencyTable.from_histograms(counts).frequencies)
        assert np.argmax(priors[bits].frequencies[0]) == np.argmax(counts[0])
    assert entropy.priors_from_codes(z, z_min, z_max) == priors  # deterministic


def test_priors_survive_their_metadata_string():
    priors = Priors({6: FrequencyTable.from_histograms(np.arange(3 * 64).reshape(3, 64) % 7)})
    text = priors.to_metadata()
    document = json.loads(text)
    assert document["coder"] == "rans32-16" and document["precision"] == 12 and document["latent_size"] == 3
    raw = base64.b64decode(document["frequencies"]["6"])
    assert len(raw) == 3 * 64 * 2 and np.frombuffer(raw, "<u2")[:64].sum() == 4096
    assert Priors.from_metadata(text) == priors and Priors.from_metadata(text, latent_size=3) == priors
    full = entropy.priors_from_codes(np.random.default_rng(0).normal(size=(500, 32)), -np.ones(32), np.ones(32))
    assert Priors.from_metadata(full.to_metadata()) == full
    assert len(full.to_metadata()) < 45_000  # 32 dimensions, bits 4-8: about 42 kB of metadata


def broken_metadata():
    good = json.loads(Priors({4: golden_table()}).to_metadata())
    table = np.frombuffer(base64.b64decode(good["frequencies"]["4"]), "<u2").copy()

    def with_(**changes):
        return json.dumps({**good, **changes})

    def frequencies(array):
        return {"4": base64.b64encode(np.asarray(array, "<u2").tobytes()).decode()}

    zero = table.copy()
    zero[0], zero[1] = 0, zero[1] + zero[0]  # sums still right, but a symbol could not be coded
    return [
        "",
        "{",
        "[]",
        "null",
        with_(coder="rans32-8"),
        with_(precision=20),
        with_(precision="12"),
        with_(latent_size=7),
        with_(latent_size=0),
        with_(latent_size=10**9),
        with_(frequencies={"9": "AAAA"}),
        with_(frequencies={"x": "AAAA"}),
        with_(frequencies={"04": "AAAA"}),
        with_(frequencies={" 4": "AAAA"}),
        with_(frequencies={"4": "not base64!"}),
        with_(frequencies={"4": 5}),
        with_(frequencies=frequencies(table[:-1])),
        with_(frequencies=frequencies(zero)),
        with_(frequencies=frequencies(table + 1)),
        with_(frequencies=[]),
        with_(frequencies={}),
        json.dumps({k: v for k, v in good.items() if k != "precision"}),
    ]


@pytest.mark.parametrize("text", broken_metadata())
def test_unreadable_priors_are_a_model_error(text):
    with pytest.raises(ModelError, match="latent priors"):
        Priors.from_metadata(text)


def test_priors_for_another_latent_size_or_without_the_bits_asked_are_refused():
    text = Priors({4: golden_table()}).to_metadata()
    with pytest.raises(ModelError, match="latent size 6, the model's is 32"):
        Priors.from_metadata(text, latent_size=32)
    with pytest.raises(EntropyCodeError, match="no 7-bit latent priors in this model \\(it has 4\\)"):
        Priors.from_metadata(text)[7]


def test_the_default_bits_are_the_fewest_within_a_tenth_of_a_db():
    assert entropy.fewest_bits_within({4: 19.79, 5: 20.33, 6: 20.47, 7: 20.50, 8: 20.51}, 20.51) == 6
    assert entropy.fewest_bits_within({4: 19.0, 8: 19.5}, 20.51) == 8


# --- real codes of the shipped models -------------------------------------------------------------------
@pytest.fixture(scope="module")
def real_codes(mnist):
    """Per model and bits: the priors of the training digits' codes, and the test digits' symbols."""
    from aeonnx.runtime import load

    result = {}
    for name in ("ae", "vae"):
        model = load(name, device="cpu")
        z_min, z_max = model.binding.z_min, model.binding.z_max
        priors = entropy.priors_from_codes(model.encode(mnist["x_train"][:3000]), z_min, z_max)
        z_test = model.encode(mnist["x_test"][:500])
        result[name] = {bits: (priors[bits], entropy.quantize(z_test, bits, z_min, z_max)) for bits in priors.bits}
    return result


@pytest.mark.parametrize("model_name", ["rd", "ae"])
def test_the_shipped_tables_slots_are_found_as_the_spread_gives_them(model_name):
    """The counting coder against the spread on the tables files are really coded with: rd's default level
    (14-bit precision) and the AE's 8-bit priors, every slot of their widest dimensions."""
    from aeonnx.runtime import load

    binding = load(model_name, device="cpu").binding
    levels = binding.quality_levels
    table = levels[levels.default].table if levels else binding.priors[8]
    widest = np.argsort(-(table.frequencies > 1).sum(axis=1))[:2]
    slot_of, owner, rank = entropy.spread_rows(table.frequencies[widest], table.precision)
    every_slot = np.arange(1 << table.precision, dtype=np.uint32)
    for row_index, d in enumerate(widest):
        row = table.frequencies[d].astype(np.int64)
        found_owner, found_frequency, found_rank = spread._pairs_of_slots(row, every_slot, table.precision)
        assert np.array_equal(found_owner, owner[row_index]) and np.array_equal(found_rank, rank[row_index])
        symbols = np.repeat(np.arange(len(row)), row).astype(np.uint8)
        ranks = every_slot - np.repeat(np.cumsum(row) - row, row)
        by_pair = slot_of[row_index][np.cumsum(row)[symbols] - row[symbols] + ranks]
        assert np.array_equal(spread._slots_of_pairs(row, symbols, ranks, table.precision), by_pair)
