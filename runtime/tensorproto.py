"""Read ONNX TensorProto files (`input_0.pb`, `output_0.pb`): the golden vectors beside each model.

The base install has no `onnx` package, so this reads the few protobuf fields a float tensor uses
(onnx.proto3: dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9) with the standard
library and numpy, every length checked against the bytes that are left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DataError

FLOAT = 1  # TensorProto.DataType.FLOAT
_DIMS, _DATA_TYPE, _FLOAT_DATA, _NAME, _RAW_DATA = 1, 2, 4, 8, 9
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
MAX_ELEMENTS = 1 << 26  # a golden tensor holds a few thousand values; refuse absurd declared shapes


@dataclass(frozen=True)
class Tensor:
    name: str
    array: np.ndarray  # float32, in its declared shape


def parse(data: bytes, where: str) -> Tensor:
    """A serialized float TensorProto -> its name and values; DataError naming `where` otherwise."""
    fields = _fields(data, where)
    if fields.get(_DATA_TYPE, [FLOAT])[-1] != FLOAT:
        raise DataError(f"{where}: tensor data type {fields[_DATA_TYPE][-1]} is not float32")
    dims = [d for chunk in fields.get(_DIMS, []) for d in _as_varints(chunk, where)]
    count = int(np.prod(dims, dtype=np.int64)) if dims else 1
    if any(d < 0 for d in dims) or count > MAX_ELEMENTS:
        raise DataError(f"{where}: absurd tensor shape {dims}")
    values = _values(fields, count, where)
    name = bytes(fields.get(_NAME, [b""])[-1]).decode("utf-8", errors="replace")
    return Tensor(name, values.reshape(dims))


def _values(fields: dict, count: int, where: str) -> np.ndarray:
    if _RAW_DATA in fields:
        raw = fields[_RAW_DATA][-1]
    else:  # packed float_data: several chunks may be concatenated
        raw = b"".join(chunk for chunk in fields.get(_FLOAT_DATA, []) if isinstance(chunk, bytes))
    if len(raw) != 4 * count:
        raise DataError(f"{where}: tensor holds {len(raw)} bytes of data, its shape needs {4 * count}")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def _fields(data: bytes, where: str) -> dict[int, list]:
    """Every field of one protobuf message: number -> values (ints, or bytes for length-delimited)."""
    fields: dict[int, list] = {}
    offset = 0
    while offset < len(data):
        key, offset = _varint(data, offset, where)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, offset = _varint(data, offset, where)
        elif wire == _LENGTH:
            size, offset = _varint(data, offset, where)
            if size > len(data) - offset:
                raise DataError(f"{where}: truncated tensor file")
            value, offset = data[offset : offset + size], offset + size
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if size > len(data) - offset:
                raise DataError(f"{where}: truncated tensor file")
            value, offset = data[offset : offset + size], offset + size
        else:
            raise DataError(f"{where}: not a TensorProto (wire type {wire})")
        fields.setdefault(number, []).append(value)
    return fields


def _varint(data: bytes, offset: int, where: str) -> tuple[int, int]:
    value = shift = 0
    while True:
        if offset >= len(data) or shift > 63:
            raise DataError(f"{where}: truncated or corrupt tensor file")
        byte = data[offset]
        value |= (byte & 0x7F) << shift
        offset, shift = offset + 1, shift + 7
        if not byte & 0x80:
            return value, offset


def _as_varints(chunk, where: str) -> list[int]:
    """dims: one varint, or a packed run of them."""
    if isinstance(chunk, int):
        return [chunk]
    values, offset = [], 0
    while offset < len(chunk):
        value, offset = _varint(chunk, offset, where)
        values.append(value)
    return values
