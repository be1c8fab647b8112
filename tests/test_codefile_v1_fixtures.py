"""Files made by format version 1 still decompress, unchanged, whatever version the writer makes now."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aeonnx.runtime import load

FIXTURES = Path(__file__).parent / "fixtures" / "v1"
FILES = sorted(p.name for p in FIXTURES.glob("*.aez"))


def test_the_fixtures_are_there():
    assert len(FILES) == 4


@pytest.mark.parametrize("name", FILES)
def test_version_1_files_decode_to_the_pixels_they_gave(name):
    data = (FIXTURES / name).read_bytes()
    assert data[4] == 1  # the format version byte
    model = load(name.split("-")[0], device="cpu")
    with np.load(FIXTURES / "decoded.npz") as expected:
        np.testing.assert_array_equal(model.decompress(data).images, expected[name.removesuffix(".aez")])
