"""Property-based tests of the .aez reader: whatever the bytes, it answers with CodeFileError or a valid file.

Bounded in time: hypothesis' example counts are set here, and the whole module runs in seconds.
"""

from __future__ import annotations

import itertools
import struct
import tracemalloc
import zlib

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from aeonnx.runtime import codefile  # noqa: E402
from aeonnx.runtime.codefile import CodeFile, CodeFileError, from_bytes, to_bytes  # noqa: E402

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12)


@st.composite
def code_files(draw):
    precision = draw(st.sampled_from(codefile.PRECISIONS))
    count = draw(st.integers(0, 12))
    latent = draw(st.integers(1, 40))
    unique = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    if precision == "uint8":
        codes = draw(st.lists(st.integers(0, 255), min_size=count * latent, max_size=count * latent))
    else:
        codes = draw(st.lists(st.floats(-1e4, 1e4, width=16 if precision == "float16" else 32),
                              min_size=count * latent, max_size=count * latent))
    array = np.asarray(codes, dtype=codefile._DTYPES[precision]).reshape(count, latent)
    sizes = draw(st.none() | st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)),
                                      min_size=count, max_size=count).map(tuple))
    model = draw(st.sampled_from(["ae", "vae", "x" * 32]))
    model_id = draw(st.text(alphabet="0123456789abcdef", min_size=16, max_size=16))
    return CodeFile(model, model_id, precision, array, tuple(unique), sizes)


def read(data: bytes):
    """The reader's only allowed answers: a CodeFile, or a CodeFileError with a one-line message."""
    try:
        return from_bytes(data)
    except CodeFileError as e:
        assert str(e) and "\n" not in str(e)
        return None


@FUZZ
@given(code_files())
def test_round_trip_any_precision_and_count(original):
    back = from_bytes(to_bytes(original))
    assert (back.model, back.model_id, back.precision, back.names, back.original_sizes) == (
        original.model, original.model_id, original.precision, original.names, original.original_sizes)
    np.testing.assert_array_equal(back.codes, original.codes)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes(data):
    read(data)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_behind_a_valid_magic(data):
    read(codefile.MAGIC + bytes([codefile.FORMAT_VERSION]) + data)


# CRC-32 (IEEE 802.3) has a Hamming distance of at least 4 on messages up to 91,607 bits (Koopman, "32-bit
# cyclic redundancy codes for Internet applications", DSN 2002): any flip of 1, 2 or 3 bits changes the
# checksum, so the reader must refuse it, whichever field it lands in. The files here are far shorter.
CRC32_HD4_BITS = 91_607


def flip(data: bytes, bits) -> bytes:
    flipped = bytearray(data)
    for bit in bits:
        flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@FUZZ
@given(code_files(), st.data())
def test_every_flip_of_up_to_3_bits_is_refused(original, data):
    encoded = to_bytes(original)
    assert len(encoded) * 8 <= CRC32_HD4_BITS
    flips = data.draw(st.lists(st.integers(0, len(encoded) * 8 - 1), min_size=1, max_size=3, unique=True))
    assert read(flip(encoded, flips)) is None


def test_every_flip_of_up_to_3_bits_in_a_small_file_is_refused():
    """Exhaustive where the test above samples: every 1- and 2-bit flip, and every 3-bit flip within 24 bits."""
    encoded = to_bytes(CodeFile("ae", "0123456789abcdef", "uint8", np.arange(8, dtype=np.uint8).reshape(2, 4),
                                ("a", "b"), ((28, 28), (40, 30))))
    bits, window = len(encoded) * 8, 24
    patterns = [*((i,) for i in range(bits)), *itertools.combinations(range(bits), 2)]
    patterns += [(i, *later) for i in range(bits)
                 for later in itertools.combinations(range(i + 1, min(i + window, bits)), 2)]
    accepted = [flips for flips in patterns if read(flip(encoded, flips)) is not None]
    assert accepted == [] and len(patterns) > 100_000


@settings(max_examples=30, deadline=None)
@given(code_files())
def test_every_truncation_is_refused(original):
    encoded = to_bytes(original)
    for keep in range(len(encoded)):
        assert read(encoded[:keep]) is None


@FUZZ
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**16 - 1), st.sampled_from([0, 1, 2]), st.booleans())
def test_absurd_header_sizes_allocate_nothing_big(count, latent, precision, sizes_flag):
    """A header may claim billions of codes; the reader must check that against the file before allocating."""
    body = (codefile.MAGIC + struct.pack("<BBBB", 1, precision, int(sizes_flag), 2) + b"ae" + b"0" * 16
            + struct.pack("<HI", latent, count) + b"\x00" * 64)
    data = body + struct.pack("<I", zlib.crc32(body))
    tracemalloc.start()
    try:
        read(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # bytes: nothing in proportion to the claimed count or latent size


def test_non_hex_model_id_is_corrupt():
    good = to_bytes(CodeFile("ae", "0123456789abcdef", "uint8", np.zeros((1, 2), np.uint8), ("a",)))
    body = bytearray(good[:-4])
    body[10:26] = b"zzzzzzzzzzzzzzzz"
    with pytest.raises(CodeFileError, match="model id"):
        from_bytes(bytes(body) + struct.pack("<I", zlib.crc32(bytes(body))))
