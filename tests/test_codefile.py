"""The .aez format: round trips at every precision, and a distinct error for each kind of damage."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from aeonnx.runtime import codefile
from aeonnx.runtime.codefile import CodeFile, CodeFileError, from_bytes, to_bytes

Z_MIN, Z_MAX = np.zeros(4, np.float32), np.array([1, 2, 4, 0], np.float32)  # one dead dimension
BINDING = codefile.Binding("ae", "0123456789abcdef", Z_MIN, Z_MAX)


def sample_file(precision="float32", count=3, sizes=True):
    z = np.random.default_rng(0).uniform(0, 2, size=(count, 4)).astype(np.float32)
    codes = codefile.quantize(z, precision, BINDING)
    return CodeFile("ae", "0123456789abcdef", precision, codes, tuple(f"img{i}" for i in range(count)),
                    tuple((28 + i, 28) for i in range(count)) if sizes else None)


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize("precision", codefile.PRECISIONS)
@pytest.mark.parametrize("count", [0, 1, 5])
def test_round_trip(precision, count):
    original = sample_file(precision, count)
    back = from_bytes(to_bytes(original))
    assert back.model == "ae" and back.model_id == original.model_id and back.precision == precision
    assert back.names == original.names and back.original_sizes == original.original_sizes
    np.testing.assert_array_equal(back.codes, original.codes)
    assert back.latent_size == 4


def test_uint8_quantisation_error_is_half_a_step():
    z = np.random.default_rng(1).uniform(0, [1, 2, 4, 0], size=(100, 4)).astype(np.float32)
    back = codefile.dequantize(codefile.quantize(z, "uint8", BINDING), "uint8", BINDING)
    step = (Z_MAX - Z_MIN) / 255
    assert np.all(np.abs(back - z) <= step / 2 + 1e-6)


def test_sizes_are_optional():
    assert from_bytes(to_bytes(sample_file(sizes=False))).original_sizes is None


def test_header_layout_is_as_documented():
    data = to_bytes(sample_file("uint8", count=1, sizes=False))
    assert data[:4] == b"AEZ\x1a" and data[4] == 1 and data[5] == 2 and data[6] == 0 and data[7] == 2
    assert data[8:10] == b"ae" and data[10:26] == b"0123456789abcdef"
    assert struct.unpack("<HI", data[26:32]) == (4, 1)
    assert struct.unpack("<H", data[32:34]) == (4,) and data[34:38] == b"img0"
    assert len(data) == 38 + 4 + 4  # payload of 4 uint8 values, then the CRC
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])


def expect(data: bytes, fragment: str):
    with pytest.raises(CodeFileError) as caught:
        from_bytes(data)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_wrong_magic():
    expect(b"\x89PNG\r\n\x1a\n" + bytes(40), "not an aeonnx code file")


def test_empty_file():
    expect(b"", "not an aeonnx code file")


def test_unsupported_version():
    data = bytearray(to_bytes(sample_file()))
    data[4] = 9
    expect(bytes(data), "unsupported code file format version 9")


@pytest.mark.parametrize("keep", [5, 10, 30, 40, -10, -1])
def test_truncated(keep):
    data = to_bytes(sample_file())
    expect(data[:keep], "truncated code file")


def test_flipped_payload_bit_is_corrupt():
    data = bytearray(to_bytes(sample_file()))
    data[-6] ^= 0x10
    expect(bytes(data), "corrupt code file: CRC32 mismatch")


def test_absurd_count_is_refused_before_allocating():
    body = bytearray(to_bytes(sample_file())[:-4])
    struct.pack_into("<I", body, 26 + 2, 2**32 - 1)  # count field
    expect(with_crc(bytes(body)), "declares 4294967295 codes")


def test_unknown_precision_and_flags():
    body = bytearray(to_bytes(sample_file())[:-4])
    body[5] = 7
    expect(with_crc(bytes(body)), "unknown precision code 7")
    body = bytearray(to_bytes(sample_file())[:-4])
    body[6] = 0x80
    expect(with_crc(bytes(body)), "unknown flags 0x80")


def test_trailing_bytes_are_refused():
    body = to_bytes(sample_file())[:-4] + b"extra"
    expect(with_crc(body), "unexpected bytes")


def test_writer_rejects_mismatched_names():
    bad = CodeFile("ae", "0123456789abcdef", "float32", np.zeros((2, 4), np.float32), ("one",))
    with pytest.raises(CodeFileError):
        to_bytes(bad)
