"""Variable-length unsigned integers (LEB128) for the `.aez` frame, and a reader that checks every read.

LEB128: seven bits per byte, least significant group first, the high bit set on every byte but the last.
A varint here is at most MAX_BYTES bytes, in its shortest form (a last byte of 0 after the first is
refused), and below 2**53 (exact in a JavaScript number): anything else is refused as corrupt.
"""

from __future__ import annotations

import struct

import numpy as np

MAX_BYTES = 10
MAX_VALUE = (1 << 53) - 1


def encode(value: int) -> bytes:
    if not 0 <= value <= MAX_VALUE:
        raise ValueError(f"{value} does not fit a varint of this format")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def encode_backwards(value: int) -> bytes:
    """A varint to be read from its end: the bytes of `encode` reversed, so the lowest group is last."""
    return encode(value)[::-1]


def encode_array(values: np.ndarray) -> bytes:
    """Many varints back to back, vectorised: values int64 [N], each 0 <= v < 2**35."""
    values = np.asarray(values, np.int64)
    if values.size and (values.min() < 0 or values.max() >= 1 << 35):
        raise ValueError("values out of range for encode_array")
    groups = np.stack([(values >> (7 * k)) & 0x7F for k in range(5)], axis=1)  # [N, 5]
    count = 1 + sum((values >= 1 << (7 * k)).astype(np.int64) for k in range(1, 5))
    present = np.arange(5) < count[:, None]
    more = np.arange(5) < (count - 1)[:, None]
    return (groups | (more.astype(np.int64) << 7))[present].astype(np.uint8).tobytes()


class CorruptError(ValueError):
    """Bytes that are not what the writer makes: the caller turns it into its own error type."""


class Reader:
    """Reads a byte range front to back; every read is checked against what is left before it is used."""

    def __init__(self, data, offset: int, end: int):
        self.data, self.offset, self.end = data, offset, end

    @property
    def left(self) -> int:
        return self.end - self.offset

    def take(self, size: int, what: str):
        if size > self.left:
            raise CorruptError(f"{what} runs past the end of its section")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, fmt: str, what: str):
        """Fixed-width fields (struct's `fmt`), bounds-checked as `take` is."""
        layout = struct.Struct(fmt)
        return layout.unpack(self.take(layout.size, what))

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def varint(self, what: str) -> int:
        value, shift, start = 0, 0, self.offset
        while True:
            if self.offset - start == MAX_BYTES:
                raise CorruptError(f"{what}: a varint longer than {MAX_BYTES} bytes")
            byte = self.byte(what)
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        if byte == 0 and self.offset - start > 1:
            raise CorruptError(f"{what}: a varint not in its shortest form")
        if value > MAX_VALUE:
            raise CorruptError(f"{what}: {value} is out of range")
        return value

    def varints(self, count: int, what: str, largest: int) -> np.ndarray:
        """`count` varints, each at most `largest` (< 2**35), vectorised: int64 [count]."""
        width = len(encode(largest))
        if count > self.left:  # each takes at least a byte: checked before anything is allocated
            raise CorruptError(f"{what}: {count} values run past the end of their section")
        window = np.frombuffer(self.data, np.uint8, min(self.left, count * width), self.offset)
        ends = np.flatnonzero(window < 0x80)[:count]
        if len(ends) < count:
            raise CorruptError(f"{what}: {count} values run past the end of their section")
        starts = np.concatenate([[0], ends[:-1] + 1]) if count else ends
        sizes = ends - starts + 1
        if count and (sizes.max() > width or np.any((sizes > 1) & (window[ends] == 0))):
            raise CorruptError(f"{what}: a value is out of range or not in its shortest form")
        values = np.zeros(count, np.int64)
        for k in range(width):
            has = sizes > k
            values[has] |= (window[starts[has] + k].astype(np.int64) & 0x7F) << (7 * k)
        if count and values.max() > largest:
            raise CorruptError(f"{what}: a value is larger than {largest}")
        self.offset += int(ends[-1]) + 1 if count else 0
        return values


def read_backwards(data, end: int, start: int, what: str) -> tuple[int, int]:
    """The varint whose last byte is data[end - 1], read towards `start`: (value, its first byte's offset)."""
    value, shift, position = 0, 0, end
    while True:
        if position == start:
            raise CorruptError(f"{what} runs past the start of the file")
        if end - position == MAX_BYTES:
            raise CorruptError(f"{what}: a varint longer than {MAX_BYTES} bytes")
        position -= 1
        byte = data[position]
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            break
    if byte == 0 and end - position > 1:
        raise CorruptError(f"{what}: a varint not in its shortest form")
    if value > MAX_VALUE:
        raise CorruptError(f"{what}: {value} is out of range")
    return value, position
