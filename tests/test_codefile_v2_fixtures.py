"""Format version 2 fixtures (tests/fixtures/v2, made by its make_fixtures.py): every kind, single files and
containers, a folder of shards, an empty file. They must keep decoding to the same latents and pixels; the
JavaScript reader is tested against the same files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aeonnx.runtime import jobs, load
from aeonnx.runtime.aez import codefile

FIXTURES = Path(__file__).parent / "fixtures" / "v2"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())


def test_every_kind_is_there():
    kinds = {facts["precision"] for facts in EXPECTED.values()}
    assert kinds == set(codefile.PRECISIONS) and len(EXPECTED) == 18
    assert sorted(EXPECTED) == sorted(p.name for p in FIXTURES.iterdir() if p.suffix == ".aez" or p.is_dir())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_version_2_fixtures_decode_to_their_latents_and_pixels(name):
    facts = EXPECTED[name]
    found = jobs.read_codes(FIXTURES / name)
    files = [code_file for _, code_file in found]
    assert all(
        f.version == 2 and (f.model, f.model_id, f.precision) == (facts["model"], facts["model_id"], facts["precision"])
        for f in files
    )
    names = [n for f in files for n in (f.names if f.named else codefile.default_names(len(f)))]
    sizes = [list(s) for f in files for s in (f.original_sizes or [(28, 28)] * len(f))]
    assert (names, sizes, sum(map(len, files))) == (facts["names"], facts["original_sizes"], facts["count"])
    model = load(facts["model"], device="cpu")
    model = model.for_code(files[0]) if files else model  # the release that made it (the models' history)
    z = np.concatenate([codefile.latents(f, model.binding) for f in files] or [np.zeros((0, model.latent_size))])
    stem = name.removesuffix(".aez")
    with np.load(FIXTURES / "decoded.npz") as expected:
        np.testing.assert_array_equal(z, expected[f"{stem}.latents"])
        np.testing.assert_array_equal(model.decode(z), expected[stem])
