"""Property-based tests of the .aez reader: whatever the bytes, it answers with CodeFileError or a valid file.

Format version 2 (what the writer makes) and version 1 (still read). Bounded in time: hypothesis' example
counts are set here, and the whole module runs in seconds.
"""

from __future__ import annotations

import functools
import itertools
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aeonnx.runtime.aez import codefile, entropy, varint
from aeonnx.runtime.aez.codefile import CodeFile, CodeFileError, from_bytes

from .format_v1 import v1_bytes

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=12)


@functools.cache
def binding_for(latent: int, model: str = "ae", model_id: str = "0123456789abcdef") -> codefile.Binding:
    """A model of `latent` dimensions over [0, 1], with priors from a skewed sample (some symbols never seen)."""
    z = np.random.default_rng(latent).beta(2, 5, size=(200, latent)).astype(np.float32)
    z_min, z_max = np.zeros(latent, np.float32), np.ones(latent, np.float32)
    return codefile.Binding(model, model_id, z_min, z_max, entropy.priors_from_codes(z, z_min, z_max), 6)


@st.composite
def files(draw):
    """(bytes of a version 2 file, what it holds: precision, stored values, names or None, sizes or None, binding)."""
    precision = draw(st.sampled_from(codefile.PRECISIONS))
    count, latent = draw(st.integers(0, 12)), draw(st.integers(1, 40))
    binding = binding_for(
        latent,
        draw(st.sampled_from(["ae", "vae", "x" * 32])),
        draw(st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)),
    )
    if precision in codefile.BITS:
        values = draw(st.lists(st.integers(0, 2**precision - 1), min_size=count * latent, max_size=count * latent))
    else:
        values = draw(
            st.lists(
                st.floats(-1e4, 1e4, width=16 if precision == "float16" else 32),
                min_size=count * latent,
                max_size=count * latent,
            )
        )
    dtype = np.uint8 if precision in codefile.BITS else codefile._DTYPES[precision]
    stored = np.asarray(values, dtype=dtype).reshape(count, latent)
    chosen = draw(st.none() | st.lists(names, min_size=count, max_size=count, unique=True))
    sizes = draw(
        st.none()
        | st.lists(st.tuples(st.integers(1, 2**32 - 1), st.integers(1, 2**32 - 1)), min_size=count, max_size=count).map(
            tuple
        )
    )
    data = codefile.pack_codes(stored, precision, binding, chosen, sizes)
    return data, (precision, stored, chosen, sizes, binding)


@st.composite
def v1_files(draw):
    precision = draw(st.sampled_from(codefile.V1_PRECISIONS))
    count, latent = draw(st.integers(0, 12)), draw(st.integers(1, 40))
    unique = draw(st.lists(names, min_size=count, max_size=count, unique=True))
    if precision == "uint8":
        codes = draw(st.lists(st.integers(0, 255), min_size=count * latent, max_size=count * latent))
    else:
        codes = draw(
            st.lists(
                st.floats(-1e4, 1e4, width=16 if precision == "float16" else 32),
                min_size=count * latent,
                max_size=count * latent,
            )
        )
    array = np.asarray(codes, dtype=codefile._DTYPES[precision]).reshape(count, latent)
    sizes = draw(
        st.none()
        | st.lists(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)), min_size=count, max_size=count).map(
            tuple
        )
    )
    model = draw(st.sampled_from(["ae", "vae", "x" * 32]))
    model_id = draw(st.text(alphabet="0123456789abcdef", min_size=16, max_size=16))
    return CodeFile(model, model_id, precision, array, tuple(unique), sizes)


def read(data: bytes, binding: codefile.Binding | None = None):
    """The reader's only allowed answers: a CodeFile, or a CodeFileError with a one-line message. With a
    binding, its codes are decoded too (the entropy decoder on whatever the file holds)."""
    try:
        code_file = from_bytes(data)
        if binding is not None and (code_file.model, code_file.model_id) == (binding.model, binding.model_id):
            codefile.latents(code_file, binding)
        return code_file
    except CodeFileError as e:
        assert str(e) and "\n" not in str(e)
        return None


@FUZZ
@given(files())
def test_round_trip_any_precision_and_count(made):
    data, (precision, stored, chosen, sizes, binding) = made
    back = from_bytes(data)
    plain = sizes is None or all(s == (28, 28) for s in sizes)
    assert back.short == (len(stored) == 1 and chosen is None and plain and precision in codefile.CODED)
    back = codefile.complete(back, binding.model, binding.model_id, len(binding.z_min), binding.image_shape)
    assert (back.model, back.model_id, back.precision) == (binding.model, binding.model_id, precision)
    assert back.names == (tuple(chosen) if chosen is not None else codefile.default_names(len(stored)))
    expected_sizes = None if sizes is None or all(s == (28, 28) for s in sizes) else sizes
    assert back.original_sizes == expected_sizes
    np.testing.assert_array_equal(codefile.stored_values(back, binding), stored)


@FUZZ
@given(v1_files())
def test_version_1_round_trip_any_precision_and_count(original):
    back = from_bytes(v1_bytes(original))
    assert (back.model, back.model_id, back.precision, back.names, back.original_sizes) == (
        original.model,
        original.model_id,
        original.precision,
        original.names,
        original.original_sizes,
    )
    np.testing.assert_array_equal(back.codes, original.codes)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes(data):
    read(data)


@FUZZ
@given(st.sampled_from([1, 2]), st.binary(max_size=300))
def test_arbitrary_bytes_behind_a_valid_magic(version, data):
    read(codefile.MAGIC + bytes([version]) + data)


@FUZZ
@given(st.binary(min_size=0, max_size=200), st.sampled_from([0, 1, 4, 6, 8]), st.integers(0, 3), st.integers(1, 40))
def test_arbitrary_body_and_index_with_a_valid_checksum(rest, kind, flags, latent):
    """Past the CRC, the frame's own checks (and the entropy decoder's) must answer alone."""
    header = codefile.MAGIC + bytes([2, kind, flags, 2]) + b"ae" + bytes.fromhex("0123456789abcdef")
    body = header + varint.encode(latent) + rest
    read(body + struct.pack("<I", zlib.crc32(body)), binding_for(latent))


@FUZZ
@given(st.integers(1, 40), st.lists(st.binary(max_size=20), min_size=1, max_size=6), st.binary(max_size=40))
def test_hostile_entropy_codes_with_valid_lengths(latent, codes, names_table):
    """Codes of plausible lengths but any bytes, behind a valid frame: the decoder refuses or decodes, never loops."""
    binding = binding_for(latent)
    header = codefile.MAGIC + bytes([2, 6, 0, 2]) + b"ae" + bytes.fromhex("0123456789abcdef") + varint.encode(latent)
    index = varint.encode(len(codes)) + b"".join(varint.encode(len(c)) for c in codes[:-1])
    body = header + b"".join(codes) + index + varint.encode_backwards(len(index))
    read(body + struct.pack("<I", zlib.crc32(body)), binding)


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
@given(files(), st.data())
def test_every_flip_of_up_to_3_bits_is_refused(made, data):
    encoded = made[0]
    assert len(encoded) * 8 <= CRC32_HD4_BITS
    flips = data.draw(st.lists(st.integers(0, len(encoded) * 8 - 1), min_size=1, max_size=3, unique=True))
    assert read(flip(encoded, flips)) is None


@FUZZ
@given(v1_files(), st.data())
def test_every_flip_of_up_to_3_bits_of_a_version_1_file_is_refused(original, data):
    encoded = v1_bytes(original)
    flips = data.draw(st.lists(st.integers(0, len(encoded) * 8 - 1), min_size=1, max_size=3, unique=True))
    assert read(flip(encoded, flips)) is None


def test_every_flip_of_up_to_3_bits_in_a_small_file_is_refused():
    """Exhaustive where the test above samples: every 1- and 2-bit flip, and every 3-bit flip within 24 bits."""
    binding = binding_for(4)
    encoded = codefile.pack_codes(
        np.arange(8, dtype=np.uint8).reshape(2, 4), 6, binding, ("a", "b"), ((28, 28), (40, 30))
    )
    bits, window = len(encoded) * 8, 24
    patterns = [*((i,) for i in range(bits)), *itertools.combinations(range(bits), 2)]
    patterns += [
        (i, *later) for i in range(bits) for later in itertools.combinations(range(i + 1, min(i + window, bits)), 2)
    ]
    accepted = [flips for flips in patterns if read(flip(encoded, flips)) is not None]
    assert accepted == [] and len(patterns) > 50_000


@settings(max_examples=30, deadline=None)
@given(files())
def test_every_truncation_is_refused(made):
    encoded = made[0]
    for keep in range(len(encoded)):
        assert read(encoded[:keep]) is None


@settings(max_examples=30, deadline=None)
@given(v1_files())
def test_every_truncation_of_a_version_1_file_is_refused(original):
    encoded = v1_bytes(original)
    for keep in range(len(encoded)):
        assert read(encoded[:keep]) is None


def peak_of(data: bytes, binding=None) -> int:
    tracemalloc.start()
    try:
        read(data, binding)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@FUZZ
@given(
    st.integers(0, 2**53 - 1),
    st.integers(0, 2**53 - 1),
    st.sampled_from([0, 1, 4, 8]),
    st.integers(0, 3),
    st.binary(max_size=64),
)
def test_absurd_sizes_allocate_nothing_big(count, latent, kind, flags, rest):
    """A file may claim 2**53 codes of 2**53 values, or a huge index: the reader must check each against
    the bytes present before allocating."""
    index = varint.encode(count) + rest
    body = (
        codefile.MAGIC
        + bytes([2, kind, flags, 2])
        + b"ae"
        + bytes(8)
        + varint.encode(latent)
        + bytes(64)
        + index
        + varint.encode_backwards(len(index))
    )
    assert peak_of(body + struct.pack("<I", zlib.crc32(body)), binding_for(4)) < 1_000_000


@FUZZ
@given(st.integers(0, 2**53 - 1), st.binary(max_size=64))
def test_absurd_index_length_allocates_nothing_big(index_length, rest):
    body = (
        codefile.MAGIC + bytes([2, 6, 2, 2]) + b"ae" + bytes(8) + b"\x04" + rest + varint.encode_backwards(index_length)
    )
    assert peak_of(body + struct.pack("<I", zlib.crc32(body))) < 1_000_000


@FUZZ
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**16 - 1), st.sampled_from([0, 1, 2]), st.booleans())
def test_absurd_version_1_header_sizes_allocate_nothing_big(count, latent, precision, sizes_flag):
    """A version 1 header may claim billions of codes; the reader must check that against the file first."""
    body = (
        codefile.MAGIC
        + struct.pack("<BBBB", 1, precision, int(sizes_flag), 2)
        + b"ae"
        + b"0" * 16
        + struct.pack("<HI", latent, count)
        + b"\x00" * 64
    )
    assert peak_of(body + struct.pack("<I", zlib.crc32(body))) < 1_000_000


def test_non_hex_model_id_in_a_version_1_file_is_corrupt():
    good = v1_bytes(CodeFile("ae", "0123456789abcdef", "uint8", np.zeros((1, 2), np.uint8), ("a",)))
    body = bytearray(good[:-4])
    body[10:26] = b"zzzzzzzzzzzzzzzz"
    with pytest.raises(CodeFileError, match="model id"):
        from_bytes(bytes(body) + struct.pack("<I", zlib.crc32(bytes(body))))
