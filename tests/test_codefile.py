"""The .aez format: round trips at every precision, and a distinct error for each kind of damage.

The writer makes format version 2 (docs/FORMAT.md); version 1 files (made here by tests/format_v1.py,
the old writer) must still read."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

from aeonnx.runtime.aez import codefile, entropy, nametable, varint
from aeonnx.runtime.aez.codefile import CodeFile, CodeFileError, from_bytes, to_bytes
from aeonnx.runtime.errors import AeonnxError, DataError, ModelError

from .format_v1 import v1_bytes
from .test_entropy import GOLDEN_CODES, golden_table

Z_MIN, Z_MAX = np.zeros(4, np.float32), np.array([1, 2, 4, 0], np.float32)  # one dead dimension
PRIORS = entropy.priors_from_codes(np.random.default_rng(7).uniform(0, [1, 2, 4, 0], (500, 4)), Z_MIN, Z_MAX)
BINDING = codefile.Binding("ae", "0123456789abcdef", Z_MIN, Z_MAX, PRIORS, 6)


def sample_file(precision="float32", count=3, sizes=True):
    """A file's contents as read back: float codes as such, B-bit codes entropy-coded."""
    z = np.random.default_rng(0).uniform(0, 2, size=(count, 4)).astype(np.float32)
    names = tuple(f"img{i}" for i in range(count))
    original = tuple((28 + i, 28) for i in range(count)) if sizes else None
    return from_bytes(codefile.pack(z, precision, BINDING, names, original))


def v1_file(precision="float32", count=3, sizes=True):
    z = np.random.default_rng(0).uniform(0, 2, size=(count, 4)).astype(np.float32)
    codes = codefile.quantize(z, precision, BINDING) if precision != "uint8" else entropy.quantize(z, 8, Z_MIN, Z_MAX)
    return CodeFile(
        "ae",
        "0123456789abcdef",
        precision,
        codes,
        tuple(f"img{i}" for i in range(count)),
        tuple((28 + i, 28) for i in range(count)) if sizes else None,
    )


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize("precision", codefile.PRECISIONS)
@pytest.mark.parametrize("count", [0, 1, 5])
def test_round_trip(precision, count):
    z = np.random.default_rng(0).uniform(0, 2, size=(count, 4)).astype(np.float32)
    names = tuple(f"img{i}" for i in range(count))
    sizes = tuple((28 + i, 28) for i in range(count))
    back = from_bytes(codefile.pack(z, precision, BINDING, names, sizes))
    assert back.model == "ae" and back.model_id == BINDING.model_id and back.precision == precision
    assert back.names == names and back.original_sizes == (sizes if count > 1 else None)  # 28x28 alone: no table
    np.testing.assert_array_equal(codefile.stored_values(back, BINDING), codefile.quantize(z, precision, BINDING))
    assert back.latent_size == 4 and back.version == 2
    again = from_bytes(to_bytes(back))  # what is read writes back the same
    assert (again.names, again.original_sizes, to_bytes(again)) == (back.names, back.original_sizes, to_bytes(back))


@pytest.mark.parametrize("precision", codefile.V1_PRECISIONS)
@pytest.mark.parametrize("count", [0, 1, 5])
def test_version_1_files_still_read(precision, count):
    original = v1_file(precision, count)
    back = from_bytes(v1_bytes(original))
    assert back.model == "ae" and back.model_id == original.model_id and back.precision == precision
    assert back.names == original.names and back.original_sizes == original.original_sizes and back.version == 1
    np.testing.assert_array_equal(back.codes, original.codes)
    np.testing.assert_array_equal(
        codefile.latents(back, BINDING), codefile.dequantize(original.codes, precision, BINDING)
    )


def test_uint8_quantisation_error_is_half_a_step():
    z = np.random.default_rng(1).uniform(0, [1, 2, 4, 0], size=(100, 4)).astype(np.float32)
    back = codefile.dequantize(codefile.quantize(z, "uint8", BINDING), "uint8", BINDING)
    step = (Z_MAX - Z_MIN) / 255
    assert np.all(np.abs(back - z) <= step / 2 + 1e-6)


@pytest.mark.parametrize("bits", codefile.BITS)
def test_b_bit_quantisation_error_is_half_a_step(bits):
    z = np.random.default_rng(1).uniform(0, [1, 2, 4, 0], size=(100, 4)).astype(np.float32)
    back = codefile.latents(from_bytes(codefile.pack(z, bits, BINDING)), BINDING)
    step = (Z_MAX - Z_MIN) / (2**bits - 1)
    assert np.all(np.abs(back - z) <= step / 2 + 1e-6)


def test_sizes_are_optional():
    assert sample_file(sizes=False).original_sizes is None


def test_a_file_without_names_names_its_codes_by_number():
    z = np.zeros((3, 4), np.float32)
    data = codefile.pack(z, 6, BINDING)
    assert from_bytes(data).names == ("00000", "00001", "00002")
    assert len(data) < len(codefile.pack(z, 6, BINDING, ["a", "b", "c"]))


# --- the frame, byte by byte (docs/FORMAT.md; the JavaScript reader's first test) ---------------------------
GOLDEN_BINDING = codefile.Binding(
    "ae",
    "0123456789abcdef",
    np.zeros(6, np.float32),
    np.full(6, 15, np.float32),
    entropy.Priors({4: golden_table()}),
    4,
)
GOLDEN_VALUES = [(9, 6, 8, 8, 9, 4), (4, 5, 6, 7, 8, 0), (0, 1, 2, 3, 4, 5), (15, 15, 15, 15, 15, 15)]
GOLDEN_NAMES = ["scan_000009", "scan_000010", "scan_000011", "scan_x"]
GOLDEN_SIZES = [(28, 28), (300, 2), (28, 28), (28, 28)]
GOLDEN_FILE = (
    "41455a1a"
    "02"
    "04"
    "03"
    "02"
    "6165"
    "0123456789abcdef"
    "06"  # magic, version, kind 4, flags, "ae", id, L
    "d3c95d"
    ""
    "fab77f57fcf7fde7"
    "3098500105080558"  # the 4 codes (test_entropy's golden codes)
    "04"
    "03"
    "00"
    "08"  # index: N = 4, lengths of all codes but the last: 3, 0, 8
    "01"
    "0b"
    "7363616e5f303030303039"
    "00"
    "02"
    "06"
    "01"
    "78"  # names: "scan_000009", run of 2, "scan_" + "x"
    "00"
    "ac02"
    "02"
    "00"
    "00"  # original sizes: 28x28, 300x2, 28x28, 28x28
    "1c"  # the index's length (28 bytes), read from the end
)


def test_golden_file():
    symbols = np.array(GOLDEN_VALUES, np.uint8)
    assert [GOLDEN_CODES[v] for v in GOLDEN_VALUES[:3]] == ["d3c95d", "", "fab77f57fcf7fde7"]
    data = codefile.pack_codes(symbols, 4, GOLDEN_BINDING, GOLDEN_NAMES, GOLDEN_SIZES)
    expected = bytes.fromhex(GOLDEN_FILE)
    assert data.hex() == with_crc(expected).hex()
    back = from_bytes(data)
    assert back.names == tuple(GOLDEN_NAMES) and back.original_sizes == tuple(GOLDEN_SIZES)
    np.testing.assert_array_equal(codefile.stored_values(back, GOLDEN_BINDING), symbols)


# One unnamed code: the short frame of docs/FORMAT.md, byte for byte (18 bytes; the long frame takes 28).
SHORT_FILE = "41455a1a02040801234567d3c95dd657c62c"  # magic, version, kind 4, flag, id, code, CRC


def test_golden_short_frame():
    symbols = np.array(GOLDEN_VALUES[:1], np.uint8)
    data = codefile.pack_codes(symbols, 4, GOLDEN_BINDING)
    assert data.hex() == SHORT_FILE
    read = from_bytes(data)
    assert (read.short, read.model, read.model_id, read.names, read.named) == (True, "", "01234567", ("00000",), False)
    np.testing.assert_array_equal(codefile.stored_values(read, GOLDEN_BINDING), symbols)
    assert codefile.to_bytes(read) == data
    whole = codefile.complete(read, "ae", GOLDEN_BINDING.model_id, 6)
    assert not whole.short and (whole.model, whole.latent_size) == ("ae", 6)
    other = codefile.Binding("ae", "76543210ffffffff", GOLDEN_BINDING.z_min, GOLDEN_BINDING.z_max)
    with pytest.raises(
        CodeFileError, match="made by a model whose id begins 01234567, but the loaded model is ae 7654"
    ):
        codefile.stored_values(read, other)


def test_short_frame_only_for_one_unnamed_entropy_coded_code():
    symbols = np.array(GOLDEN_VALUES[:2], np.uint8)
    assert not from_bytes(codefile.pack_codes(symbols, 4, GOLDEN_BINDING)).short  # two codes
    assert not from_bytes(codefile.pack_codes(symbols[:1], 4, GOLDEN_BINDING, ["one"])).short  # a name
    assert not from_bytes(codefile.pack_codes(symbols[:1], 4, GOLDEN_BINDING, None, [(30, 30)])).short  # a size
    assert not from_bytes(codefile.pack(np.zeros((1, 6), np.float32), "float16", GOLDEN_BINDING)).short
    for damaged, message in [
        (bytes.fromhex(SHORT_FILE)[:10], "truncated code file: shorter than its header"),
        (bytes.fromhex(SHORT_FILE)[:-1] + b"\x00", "CRC32 mismatch"),
    ]:
        with pytest.raises(codefile.CodeFileError, match=message):
            from_bytes(damaged)


# A model of your own's file: flag 0x04, and the header ends with its image shape (docs/FORMAT.md).
YOURS_BINDING = codefile.Binding(
    "scans32", "0123456789abcdef", np.zeros(2, np.float32), np.ones(2, np.float32), image_shape=(32, 32, 1)
)
YOURS_FILE = (
    "41455a1a"
    "02"
    "01"
    "04"  # magic, version, kind 1 (float16), flags: image shape (no names, no sizes)
    "07"
    "7363616e733332"
    "0123456789abcdef"
    "02"  # "scans32", id, L = 2
    "03"
    "20"
    "20"
    "01"  # image shape: 3 dimensions, 32 x 32 x 1
    "003c0000"  # one code: float16 1.0, 0.0
    "01"
    "01"  # index: N = 1; its length, 1
)


def test_a_model_of_your_own_stores_original_sizes_only_where_one_differs_from_its_own():
    """Issue 34: pictures already 32x32 for a 32x32 model need no size table (it cost 27% at 16x16); one of
    another size writes the table for every code (JavaScript writes the same bytes: codefile-v2.test.js)."""
    z = np.array([[1.0, 0.0], [0.0, 1.0]], np.float32)
    own = codefile.pack(z, "float16", YOURS_BINDING, None, [(32, 32), (32, 32)])
    assert own == codefile.pack(z, "float16", YOURS_BINDING) and from_bytes(own).original_sizes is None
    odd = codefile.pack(z, "float16", YOURS_BINDING, None, [(32, 32), (28, 28)])
    assert odd.hex() == "41455a1a020105077363616e7333320123456789abcdef0203202001003c00000000003c022020000492b9af4e"
    assert from_bytes(odd).original_sizes == ((32, 32), (28, 28))


def test_a_file_of_a_model_of_your_own_records_its_image_shape():
    data = codefile.pack(np.array([[1.0, 0.0]], np.float32), "float16", YOURS_BINDING)
    assert data.hex() == with_crc(bytes.fromhex(YOURS_FILE)).hex()
    back = from_bytes(data)
    assert back.image_shape == (32, 32, 1) and codefile.to_bytes(back) == data
    np.testing.assert_array_equal(codefile.latents(back, YOURS_BINDING), [[1.0, 0.0]])
    other = codefile.Binding("scans32", "0123456789abcdef", np.zeros(2), np.ones(2), image_shape=(28, 28, 1))
    with pytest.raises(
        CodeFileError, match=r"the codes are of inputs of \(32, 32, 1\); the model takes inputs of \(28, 28, 1\)"
    ):
        codefile.latents(back, other)
    assert from_bytes(codefile.pack(np.zeros((1, 4), np.float32), 6, BINDING)).image_shape is None  # shipped: none
    for shape, why in (("00", r"bad image shape: 0 dimensions"), ("0100", r"bad image shape \(0,\)")):
        with pytest.raises(CodeFileError, match=why):
            from_bytes(with_crc(bytes.fromhex(YOURS_FILE.replace("03202001", shape))))


def test_header_layout_is_as_documented():
    data = codefile.pack(np.zeros((1, 4), np.float32), "float16", BINDING)
    assert data[:4] == b"AEZ\x1a" and data[4] == 2 and data[5] == 1 and data[6] == 0 and data[7] == 2
    assert data[8:10] == b"ae" and data[10:18] == bytes.fromhex("0123456789abcdef") and data[18] == 4
    assert data[19:27] == bytes(8)  # one code: 4 float16 zeros
    assert data[27:29] == b"\x01\x01"  # index: N = 1; its length, 1
    assert len(data) == 29 + 4 and struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])


# --- names ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "names",
    [
        [f"scan_{i:06d}" for i in range(1000)],
        ["a/9", "a/10", "a/11", "b/08", "b/09", "b/10", "b/99", "c"],  # widths grow or overflow: new entries
        ["digits/x_test/00041", "digits/x_test/00042", "digits/y/00000", "", "é/日本語 1", "é/日本語 2", "0", "1"],
        ["x1y", "x2y", "x3y", "x03y", "x04y"],  # the last run of digits counts, its width kept
    ],
)
def test_names_round_trip(names):
    data = codefile.pack(np.zeros((len(names), 4), np.float32), "float16", BINDING, names)
    assert from_bytes(data).names == tuple(names)


def test_counter_names_cost_almost_nothing():
    table = nametable.Writer()
    for i in range(1000):
        table.add(f"scan_{i:06d}")
    assert table.finish() == bytes.fromhex("010b7363616e5f303030303030") + b"\x00" + varint.encode(999)


def test_names_longer_than_the_limit_are_refused():
    with pytest.raises(CodeFileError, match="name too long"):
        codefile.pack(np.zeros((1, 4), np.float32), "float16", BINDING, ["x" * 1025])


def test_random_access_by_name():
    z = np.random.default_rng(3).uniform(0, 2, size=(300, 4)).astype(np.float32)
    names = [f"n{i}" for i in range(300)]
    read = from_bytes(codefile.pack(z, 5, BINDING, names))
    one = read.take(read.find(["n299", "n7"]))
    assert one.names == ("n299", "n7") and len(one.coded.body) == sum(one.coded.lengths)
    np.testing.assert_array_equal(codefile.latents(one, BINDING), codefile.latents(read, BINDING)[[299, 7]])
    with pytest.raises(AeonnxError, match="no code named 'n300'"):
        read.find(["n300"])


# --- the streaming writer --------------------------------------------------------------------------------
def test_streamed_in_batches_is_the_same_file():
    z = np.random.default_rng(4).uniform(0, 2, size=(10, 4)).astype(np.float32)
    names = [f"d{i:02d}" for i in range(10)]
    sink = io.BytesIO()
    writer = codefile.Writer.of(sink, 6, BINDING, named=True)
    for start, end in ((0, 3), (3, 3), (3, 7), (7, 10)):  # an empty batch too
        writer.add(codefile.quantize(z[start:end], 6, BINDING), names[start:end])
    assert writer.finish() == len(sink.getvalue()) and writer.count == 10
    assert sink.getvalue() == codefile.pack(z, 6, BINDING, names)


def test_rollback_forgets_what_came_after_the_mark():
    z = np.random.default_rng(5).uniform(0, 2, size=(6, 4)).astype(np.float32)
    sink = io.BytesIO()
    writer = codefile.Writer.of(sink, 6, BINDING, named=True)
    writer.add(codefile.quantize(z[:2], 6, BINDING), ["a1", "a2"])
    mark = writer.mark()
    writer.add(codefile.quantize(z[2:4], 6, BINDING), ["a3", "odd"], [(28, 28), (5, 5)])
    writer.finish()  # sizes flag set, index written: a rollback undoes that too
    writer.rollback(mark)
    writer.add(codefile.quantize(z[4:], 6, BINDING), ["b1", "b2"])
    writer.finish()
    expected = codefile.pack(z[[0, 1, 4, 5]], 6, BINDING, ["a1", "a2", "b1", "b2"])
    assert sink.getvalue() == expected


# --- damage: one error each, one line ---------------------------------------------------------------------
def expect(data: bytes, fragment: str, **reading):
    with pytest.raises(CodeFileError) as caught:
        from_bytes(data, **reading)
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
    expect(data[:keep], "truncated")
    expect(v1_bytes(v1_file())[:keep], "truncated code file")


def test_flipped_payload_bit_is_corrupt():
    data = bytearray(to_bytes(sample_file()))
    data[-10] ^= 0x10
    expect(bytes(data), "corrupt code file: CRC32 mismatch")
    old = bytearray(v1_bytes(v1_file()))
    old[-6] ^= 0x10
    expect(bytes(old), "corrupt code file: CRC32 mismatch")


def test_absurd_count_is_refused_before_allocating():
    body = bytearray(v1_bytes(v1_file())[:-4])
    struct.pack_into("<I", body, 26 + 2, 2**32 - 1)  # version 1's count field
    expect(with_crc(bytes(body)), "4,294,967,295 codes, over the limit of 1,000,000 a file (raise it with --max-codes)")
    header = codefile.MAGIC + bytes([2, 6, 0, 2]) + b"ae" + bytes(8) + b"\x04"
    index = varint.encode(2**40) + b"\x01" * 8
    expect(with_crc(header + index + varint.encode_backwards(len(index))), "over the limit of 1,000,000 a file")
    unlimited = 2**62  # a reader that allows any count still allocates nothing the bytes cannot hold
    expect(with_crc(header + index + varint.encode_backwards(len(index))), "code lengths", max_codes=unlimited)
    index = varint.encode(2**40)
    bare = with_crc(header.replace(b"\x02\x06", b"\x02\x00") + index + b"\x06")
    expect(bare, "do not fill", max_codes=unlimited)


def test_unknown_precision_and_flags():
    body = bytearray(to_bytes(sample_file())[:-4])
    body[5] = 7 + 2  # kinds 2, 3 and 9 and up are not used
    expect(with_crc(bytes(body)), "unknown precision code 9")
    body = bytearray(to_bytes(sample_file())[:-4])
    body[6] = 0x80
    expect(with_crc(bytes(body)), "unknown flags 0x80")
    body = bytearray(v1_bytes(v1_file())[:-4])
    body[5] = 7
    expect(with_crc(bytes(body)), "unknown precision code 7")


def test_trailing_bytes_are_refused():
    data = to_bytes(sample_file("float32", sizes=False))
    body, index_length = data[:-5], data[-5]  # the index length is one byte here
    expect(with_crc(body + b"\x00" + varint.encode_backwards(index_length + 1)), "unexpected bytes")
    expect(with_crc(v1_bytes(v1_file())[:-4] + b"extra"), "unexpected bytes")


@pytest.mark.parametrize(
    "index, fragment",
    [
        (b"\x02\x01\x00\x00", "names table"),  # a run after no name
        (b"\x02\x01\x01\x61\x01\x01\x61", "duplicate names"),
        (b"\x02\x01\x01\xff\x01\x01\x61", "not valid UTF-8"),
        (b"\x02\x01\x01\x39\x00\x01", "overflows"),  # "9" + 1 does not fit one digit
        (b"\x02\x01\x01\x31\x00\x05", "a run of 5 names where 1 are left"),
        (b"\x02\x05\x01\x61\x01\x01\x61", "shares more bytes"),
        (b"\x02\x01\x01\x61\x01\x05\x62", "runs past the end"),
        (b"\x02\x80\x00", "shortest form"),
    ],
)
def test_hostile_names_tables(index, fragment):
    header = codefile.MAGIC + bytes([2, 0, codefile.FLAG_NAMES, 2]) + b"ae" + bytes(8) + b"\x01"
    expect(with_crc(header + bytes(8) + index + varint.encode_backwards(len(index))), fragment)


def test_writer_rejects_mismatched_names():
    bad = CodeFile("ae", "0123456789abcdef", "float32", np.zeros((2, 4), np.float32), ("one",))
    with pytest.raises(CodeFileError):
        to_bytes(bad)


def test_entropy_coded_codes_need_the_models_priors():
    data = codefile.pack(np.zeros((2, 4), np.float32), 6, BINDING)
    without = codefile.Binding("ae", "0123456789abcdef", Z_MIN, Z_MAX)
    with pytest.raises(CodeFileError, match="no latent priors"):
        codefile.latents(from_bytes(data), without)
    assert codefile.resolve_precision(None, without) == "float16"
    with pytest.raises(ModelError, match="no latent priors"):
        codefile.resolve_precision(None, without, bits=6)


def test_precision_choices():
    assert codefile.resolve_precision("auto", BINDING) == 6 and codefile.resolve_precision(None, BINDING, 4) == 4
    assert codefile.resolve_precision("uint8", BINDING) == 8 and codefile.resolve_precision("uint8", BINDING, 5) == 5
    assert codefile.resolve_precision("float32", BINDING) == "float32"
    with pytest.raises(DataError, match="cannot go with --precision float16"):
        codefile.resolve_precision("float16", BINDING, 6)
    with pytest.raises(DataError, match="--bits must be from 4 to 8"):
        codefile.resolve_precision(None, BINDING, 9)
    with pytest.raises(DataError, match="unknown precision"):
        codefile.check_precision("int4")


def test_the_writer_refuses_names_its_reader_would_refuse():
    binding = codefile.Binding("ae", "0123456789abcdef", np.zeros(4, np.float32), np.ones(4, np.float32))
    with pytest.raises(CodeFileError, match="'a' is given more than once"):
        codefile.pack(np.zeros((3, 4), np.float32), "float32", binding, names=["a", "b", "a"])


@pytest.mark.parametrize("name", [b"a\nb", b"a\x1bc", b"a b"])
def test_a_model_name_that_would_break_a_message_is_corrupt(name):
    binding = codefile.Binding("ae", "0123456789abcdef", np.zeros(4, np.float32), np.ones(4, np.float32))
    data = bytearray(codefile.pack(np.zeros((1, 4), np.float32), "float32", binding))
    assert data[7] == 2 and data[8:10] == b"ae"  # version 2: the name's length byte, then the name
    forged = bytes(data[:7]) + bytes([len(name)]) + name + bytes(data[10:-4])
    forged += struct.pack("<I", zlib.crc32(forged))
    with pytest.raises(CodeFileError, match="model name is not printable"):
        from_bytes(forged)


def test_a_lazy_read_gives_the_names_and_sizes_an_eager_one_does():
    """info and decompress read files lazily (names streamed, sizes compact, issue 32): the same answers."""
    data = to_bytes(sample_file(sizes=True))
    eager, lazy = from_bytes(data), from_bytes(data, lazy=True)
    assert lazy.names == eager.names and tuple(lazy.names) == eager.names and lazy.names[-1] == eager.names[-1]
    assert lazy.original_sizes == eager.original_sizes and lazy.original_sizes[0] == eager.original_sizes[0]
    assert lazy.take([1, 0]).names == eager.take([1, 0]).names
    assert lazy.take([1, 0]).original_sizes == eager.take([1, 0]).original_sizes
