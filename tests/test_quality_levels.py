"""Quality levels (runtime/aez/levels.py): a rate-distortion model's codes, its integer tables in the
metadata, and their code files (kind 16 + q)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from aeonnx.runtime.aez import codefile, entropy, levels
from aeonnx.runtime.errors import DataError, ModelError

LATENT = 6


def made_levels(count: int = 3, default: int = 2) -> levels.QualityLevels:
    """Levels whose gains double from one to the next, each table a peaked histogram around its offset."""
    rng = np.random.default_rng(0)
    made = {}
    for number in range(1, count + 1):
        bits = 4 + number - 1
        gains = (np.linspace(0.5, 2.0, LATENT) * 2.0 ** (number - 1)).astype(np.float32)
        offsets = -(1 << (bits - 1)) * np.ones(LATENT, np.int64)
        counts = rng.integers(0, 50, (LATENT, 1 << bits))
        counts[:, 1 << (bits - 1)] += 500  # integer 0 is the likeliest
        frequencies = np.stack([entropy.quantize_frequencies(row, levels.PRECISION) for row in counts])
        made[number] = levels.Level(gains, offsets, entropy.FrequencyTable(bits, frequencies, levels.PRECISION))
    return levels.QualityLevels(made, default)


def binding(quality_levels=None) -> codefile.Binding:
    low, high = -np.ones(LATENT, np.float32), np.ones(LATENT, np.float32)
    return codefile.Binding("rd", "0123456789abcdef", low, high, quality_levels=quality_levels or made_levels())


def test_symbols_round_to_the_gain_and_back_and_clip_to_the_table():
    level = made_levels()[2]
    z = np.array([[0.0, 0.26, -0.9, 1.49, 100.0, np.nan]], np.float32)
    symbols = level.symbols(z)
    integers = np.rint(z * level.gains)
    integers[0, 4], integers[0, 5] = 31 + level.offsets[4], 0  # clipped to the 5-bit table; NaN is 0
    assert np.array_equal(symbols.astype(np.int64) + level.offsets, integers)
    assert np.array_equal(level.values(symbols), (integers / level.gains).astype(np.float32))
    assert level.values(symbols).dtype == np.float32


def test_levels_survive_the_metadata_and_refuse_what_they_cannot_be():
    made = made_levels()
    read = levels.QualityLevels.from_metadata(made.to_metadata(), LATENT)
    assert read.levels == (1, 2, 3) and read.default == 2
    for number in read.levels:
        assert np.array_equal(read[number].gains, made[number].gains)
        assert np.array_equal(read[number].offsets, made[number].offsets)
        assert read[number].table == made[number].table
    with pytest.raises(ModelError, match="latent size 6, the model's is 7"):
        levels.QualityLevels.from_metadata(made.to_metadata(), 7)
    with pytest.raises(ModelError, match="unreadable quality levels"):
        levels.QualityLevels.from_metadata(made.to_metadata().replace('"gains":"', '"gains":"AAAA'), LATENT)
    with pytest.raises(ModelError, match="quality must be from 1 to 3, got 4"):
        read[4]


def test_a_feature_maps_levels_are_stored_once_and_repeat_at_every_position():
    """A 3-position code of 2 channels: the metadata holds 2 entries a level, the reader repeats them."""
    made = made_levels()
    tiled = {
        number: levels.Level(
            np.tile(level.gains[:2], 3),
            np.tile(level.offsets[:2], 3),
            entropy.FrequencyTable(level.table.bits, np.tile(level.table.frequencies[:2], (3, 1)), levels.PRECISION),
        )
        for number, level in ((n, made[n]) for n in made.levels)
    }
    text = levels.QualityLevels(tiled, 2, positions=3).to_metadata()
    document = json.loads(text)
    assert document["positions"] == 3 and all(len(level["offsets"]) == 2 for level in document["levels"])
    read = levels.QualityLevels.from_metadata(text, LATENT)
    assert all(read[n].table == tiled[n].table and np.array_equal(read[n].gains, tiled[n].gains) for n in tiled)
    for wrong in ('"positions":4', '"positions":0', '"positions":true'):
        with pytest.raises(ModelError, match="positions"):
            levels.QualityLevels.from_metadata(text.replace('"positions":3', wrong), LATENT)
    with pytest.raises(ValueError, match="repeat each channel's entries"):
        levels.QualityLevels({n: made[n] for n in made.levels}, 2, positions=3).to_metadata()  # they differ


@pytest.mark.parametrize("quality", [1, 2, 3])
def test_a_code_file_carries_its_level_and_decodes_with_its_table(quality):
    bound = binding()
    z = np.random.default_rng(quality).normal(0, 1, (40, LATENT)).astype(np.float32)
    precision = codefile.resolve_precision(None, bound, quality=quality)
    data = codefile.pack(z, precision, bound)
    assert data[5] == codefile.QUALITY_KIND + quality  # the kind byte
    read = codefile.from_bytes(data)
    assert read.precision == f"q{quality}" and read.bits is None
    level = bound.quality_levels[quality]
    assert np.array_equal(codefile.latents(read, bound), level.values(level.symbols(z)))


def test_higher_levels_keep_more_of_the_code():
    bound = binding()
    z = np.random.default_rng(0).normal(0, 1, (200, LATENT)).astype(np.float32)
    errors = []
    for quality in (1, 2, 3):
        read = codefile.from_bytes(codefile.pack(z, f"q{quality}", bound))
        errors.append(float(np.mean((codefile.latents(read, bound) - z) ** 2)))
    assert errors[0] > errors[1] > errors[2]


def test_the_default_is_the_models_level_and_the_knob_is_checked():
    assert codefile.resolve_precision("auto", binding()) == "q2"
    with pytest.raises(DataError, match="--quality must be from 1 to 8"):
        codefile.resolve_precision(None, binding(), quality=9)
    with pytest.raises(DataError, match="without --bits"):
        codefile.resolve_precision(None, binding(), bits=6, quality=2)
    with pytest.raises(ModelError, match="quality must be from 1 to 3, got 5"):
        codefile.resolve_precision(None, binding(), quality=5)
    plain = codefile.Binding("rd", "0123456789abcdef", -np.ones(LATENT, np.float32), np.ones(LATENT, np.float32))
    with pytest.raises(ModelError, match="not a rate-distortion model"):
        codefile.resolve_precision(None, plain, quality=2)
    data = codefile.pack(np.zeros((1, LATENT), np.float32), "q1", binding())
    with pytest.raises(codefile.CodeFileError, match="not a rate-distortion model"):
        codefile.latents(codefile.from_bytes(data), plain)


def test_bjontegaard_deltas_of_known_curves():
    """bench/bd_rate.py, which docs/benchmarks.md's deltas come from: a curve 20% smaller at every PSNR is
    -20% BD-rate, and 4 dB a doubling gives log2(1/0.8) * 4 dB BD-PSNR; curves that do not overlap: None."""
    from bench.bd_rate import bd_psnr, bd_rate

    anchor = [(10, 20.0), (20, 24.0), (40, 28.0), (80, 32.0)]
    smaller = [(0.8 * rate, psnr) for rate, psnr in anchor]
    assert bd_rate(smaller, anchor) == pytest.approx(-20.0, abs=1e-6)
    assert bd_psnr(smaller, anchor) == pytest.approx(4 * np.log2(1 / 0.8), abs=1e-6)
    assert bd_rate([(1, 1.0), (2, 2.0)], [(1, 5.0), (2, 6.0)]) is None
