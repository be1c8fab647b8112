// Read ONNX TensorProto files (`input_0.pb`, `output_0.pb`): the golden vectors beside each model,
// as runtime/tensorproto.py does. Only the few protobuf fields a float tensor uses (onnx.proto3:
// dims = 1, data_type = 2, float_data = 4, name = 8, raw_data = 9), every length checked against
// the bytes that are left.

import { DataError } from './errors.js';

export const FLOAT = 1; // TensorProto.DataType.FLOAT
const DIMS = 1, DATA_TYPE = 2, FLOAT_DATA = 4, NAME = 8, RAW_DATA = 9;
const VARINT = 0, FIXED64 = 1, LENGTH = 2, FIXED32 = 5;
export const MAX_ELEMENTS = 2 ** 26; // a golden tensor holds a few thousand values; refuse absurd shapes

/** A serialized float TensorProto -> { name, dims, data: Float32Array }; DataError naming `where` otherwise. */
export function parse(bytes, where) {
  const fields = readFields(bytes, where);
  const dataType = last(fields, DATA_TYPE, FLOAT);
  if (dataType !== FLOAT) throw new DataError(`${where}: tensor data type ${describe(dataType)} is not float32`);
  const dims = (fields.get(DIMS) ?? []).flatMap((chunk) => asVarints(chunk, where));
  const count = dims.reduce((product, d) => product * d, 1);
  if (count > MAX_ELEMENTS) throw new DataError(`${where}: absurd tensor shape [${dims.join(', ')}]`);
  const data = values(fields, count, where);
  const name = last(fields, NAME, new Uint8Array(0));
  return { name: name instanceof Uint8Array ? new TextDecoder().decode(name) : '', dims, data };
}

function values(fields, count, where) {
  let raw;
  if (fields.has(RAW_DATA)) raw = last(fields, RAW_DATA);
  else raw = concat((fields.get(FLOAT_DATA) ?? []).filter((chunk) => chunk instanceof Uint8Array));
  const size = raw instanceof Uint8Array ? raw.length : 0;
  if (size !== 4 * count) {
    throw new DataError(`${where}: tensor holds ${size} bytes of data, its shape needs ${4 * count}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
}

/** Every field of one protobuf message: number -> values (numbers for varints, bytes otherwise). */
function readFields(bytes, where) {
  const fields = new Map();
  let offset = 0;
  while (offset < bytes.length) {
    const wire = bytes[offset] & 7; // a key's low 3 bits are the first byte's
    let key, value;
    [key, offset] = varint(bytes, offset, where);
    if (wire === VARINT) [value, offset] = varint(bytes, offset, where);
    else if (wire === LENGTH || wire === FIXED64 || wire === FIXED32) {
      let size = wire === FIXED64 ? 8 : 4;
      if (wire === LENGTH) [size, offset] = varint(bytes, offset, where);
      if (size > bytes.length - offset) throw new DataError(`${where}: truncated tensor file`);
      value = bytes.subarray(offset, offset + size);
      offset += size;
    } else throw new DataError(`${where}: not a TensorProto (wire type ${wire})`);
    const number = Math.floor(key / 8);
    if (!fields.has(number)) fields.set(number, []);
    fields.get(number).push(value);
  }
  return fields;
}

/** A base-128 varint at `offset` -> [value, next offset]; exact up to 2^53, huge (and refused) beyond. */
function varint(bytes, offset, where) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    if (offset >= bytes.length || shift > 63) throw new DataError(`${where}: truncated or corrupt tensor file`);
    const byte = bytes[offset++];
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [value, offset];
  }
}

/** dims: one varint, or a packed run of them. */
function asVarints(chunk, where) {
  if (typeof chunk === 'number') return [chunk];
  const found = [];
  for (let offset = 0; offset < chunk.length;) {
    let value;
    [value, offset] = varint(chunk, offset, where);
    found.push(value);
  }
  return found;
}

function last(fields, number, fallback) {
  const found = fields.get(number);
  return found ? found[found.length - 1] : fallback;
}

function concat(chunks) {
  const joined = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) joined.set(chunk, offset), (offset += chunk.length);
  return joined;
}

const describe = (value) => (value instanceof Uint8Array ? `of ${value.length} bytes` : String(value));
