// The `.aez` code file (docs/FORMAT.md), as runtime/codefile.py: latents <-> file bytes, and nothing
// else. Quantise, frame, write; read, check which model made the codes, dequantise; refuse anything else
// with one clear line. The magic and version byte lead every version; each version has its own reader
// and writer below, chosen by that byte (version 2 will be a second pair).

import { crc32 } from './crc32.js';
import { CodeFileError, DataError } from './errors.js';
import { fromHalfBits, rint, toHalfBits } from './numbers.js';

export const MAGIC = Uint8Array.of(0x41, 0x45, 0x5a, 0x1a); // "AEZ\x1a"
export const FORMAT_VERSION = 1; // what toBytes writes unless asked otherwise
export const PRECISIONS = ['float32', 'float16', 'uint8'];
export const FLAG_ORIGINAL_SIZES = 0x01;
export const MAX_LATENT_SIZE = 4096;
export const MAX_MODEL_NAME = 32;
export const MODEL_ID_LENGTH = 16;
const CRC_SIZE = 4;

/** Bytes per stored value, and the typed array that holds a precision's codes (float16: raw bits). */
const STORAGE = {
  float32: { itemSize: 4, Array: Float32Array },
  float16: { itemSize: 2, Array: Uint16Array },
  uint8: { itemSize: 1, Array: Uint8Array },
};

const READERS = { 1: readVersion1 };
const WRITERS = { 1: writeVersion1 };
const READABLE = Object.keys(READERS).join(' and ');
const WRITABLE = Object.keys(WRITERS).join(' and ');

// --- latents <-> file, for one trained model (runtime/codefile.py's Binding, pack, latents) ------------

/**
 * What ties codes to one trained model: { model, modelId, zMin, zMax }, its name and id and the
 * per-dimension range (float32) of its latents over the training set, which uint8 is relative to.
 */
export function binding(model, modelId, zMin, zMax) {
  return Object.freeze({ model, modelId, zMin: Float32Array.from(zMin), zMax: Float32Array.from(zMax) });
}

/** Latents float32 [N * L] -> the bytes of one .aez file at `precision`. */
export function pack(z, precision, bound, names, originalSizes = null) {
  return packCodes(quantize(z, precision, bound), precision, bound, names, originalSizes);
}

/** Codes already quantised (`quantize`) -> the bytes of one .aez file. */
export function packCodes(codes, precision, bound, names, originalSizes = null) {
  return toBytes({ model: bound.model, modelId: bound.modelId, precision, latentSize: bound.zMin.length,
    codes, names, originalSizes });
}

/** The float32 latents [N * L] of a file's codes; CodeFileError if another model made them. */
export function latents(codeFile, bound) {
  if (codeFile.model !== bound.model || codeFile.modelId !== bound.modelId) {
    throw new CodeFileError(`this code was made by model ${codeFile.model} ${codeFile.modelId}, `
      + `but the loaded model is ${bound.model} ${bound.modelId}; load the models folder that made it`);
  }
  return dequantize(codeFile.codes, codeFile.precision, bound);
}

/** A precision a caller asked for: DataError (an argument, not a file, is wrong) unless it is stored. */
export function checkPrecision(precision) {
  if (!PRECISIONS.includes(precision)) {
    throw new DataError(`unknown precision '${precision}'; choose one of: ${PRECISIONS.join(', ')}`);
  }
}

// --- quantisation, in numpy's float32 arithmetic ------------------------------------------------------

/** Float latents [N * L] -> the stored values; uint8 is relative to the model's range (FORMAT.md). */
export function quantize(z, precision, { zMin, zMax }) {
  checkPrecision(precision);
  const codes = new STORAGE[precision].Array(z.length);
  if (precision === 'float32') codes.set(z);
  else if (precision === 'float16') for (let i = 0; i < z.length; i++) codes[i] = toHalfBits(z[i]);
  else {
    const scale = uint8Scale(zMin, zMax);
    const size = scale.length;
    for (let i = 0; i < z.length; i++) {
      const q = rint(Math.fround(Math.fround(Math.fround(z[i]) - zMin[i % size]) / scale[i % size]));
      codes[i] = q > 255 ? 255 : q > 0 ? q : 0; // NaN -> 0
    }
  }
  return codes;
}

/** Stored codes -> float32 latents [N * L]: what the decoder is fed. */
export function dequantize(codes, precision, { zMin, zMax }) {
  const z = new Float32Array(codes.length);
  if (precision === 'float32') z.set(codes);
  else if (precision === 'float16') for (let i = 0; i < codes.length; i++) z[i] = fromHalfBits(codes[i]);
  else {
    const scale = uint8Scale(zMin, zMax);
    const size = scale.length;
    for (let i = 0; i < codes.length; i++) z[i] = zMin[i % size] + Math.fround(codes[i] * scale[i % size]);
  }
  return z;
}

/** (max - min) / 255 per dimension in float32; 1 where the range is empty. */
export function uint8Scale(zMin, zMax) {
  return Float32Array.from(zMin, (low, i) => {
    const span = Math.fround(Math.fround(zMax[i] - low) / 255);
    return span > 0 ? span : 1;
  });
}

function storage(precision) {
  if (!Object.hasOwn(STORAGE, precision)) {
    throw new CodeFileError(`unknown precision '${precision}'; choose one of: ${PRECISIONS.join(', ')}`);
  }
  return STORAGE[precision];
}

// --- writing ---------------------------------------------------------------------------------------

/**
 * A code file -> its bytes. `codeFile`: { model, modelId, precision, latentSize, codes, names,
 * originalSizes? } with `codes` the precision's typed array (see quantize), row-major [N, latentSize].
 */
export function toBytes(codeFile, { version = FORMAT_VERSION } = {}) {
  if (!Object.hasOwn(WRITERS, version)) {
    throw new CodeFileError(`unsupported code file format version ${version} (this aeonnx writes version ${WRITABLE})`);
  }
  return WRITERS[version](codeFile);
}

function writeVersion1(codeFile) {
  const { model, modelId, precision, latentSize, codes, names, originalSizes = null } = codeFile;
  const { itemSize } = checkForWriting(codeFile);
  const encodedNames = names.map(encodeName);
  const namesSize = encodedNames.reduce((sum, name) => sum + 2 + name.length, 0);
  const sizesSize = originalSizes === null ? 0 : 8 * names.length;
  const total = 30 + model.length + namesSize + sizesSize + codes.length * itemSize + CRC_SIZE;
  const out = new Writer(total);
  out.bytes(MAGIC);
  out.u8(1);
  out.u8(PRECISIONS.indexOf(precision));
  out.u8(originalSizes === null ? 0 : FLAG_ORIGINAL_SIZES);
  out.u8(model.length);
  out.ascii(model);
  out.ascii(modelId);
  out.u16(latentSize);
  out.u32(names.length);
  for (const name of encodedNames) {
    out.u16(name.length);
    out.bytes(name);
  }
  if (originalSizes !== null) for (const [width, height] of originalSizes) out.u32(width), out.u32(height);
  out.payload(codes, precision);
  out.u32(crc32(out.buffer, 0, out.offset));
  return out.buffer;
}

/** What toBytes refuses before writing a byte: the same cases, in the same words, as Python's to_bytes. */
function checkForWriting({ model, modelId, precision, latentSize, codes, names, originalSizes = null }) {
  const { itemSize, Array: Storage } = storage(precision);
  if (typeof model !== 'string' || !/^[\x00-\x7f]{1,32}$/.test(model) || !isModelId(modelId)) {
    throw new CodeFileError(`bad model name '${model}' or id '${modelId}'`);
  }
  if (!(codes instanceof Storage)) {
    throw new CodeFileError(`${precision} codes must be a ${Storage.name} (see quantize), got ${describe(codes)}`);
  }
  const count = codes.length / latentSize;
  if (!Number.isInteger(latentSize) || latentSize < 1 || latentSize > MAX_LATENT_SIZE
      || !Array.isArray(names) || count !== names.length) {
    throw new CodeFileError(`${codes.length} values in codes of size ${latentSize} do not fit ${names?.length} names`);
  }
  if (new Set(names).size !== names.length) throw new CodeFileError('duplicate names: each code needs its own');
  if (originalSizes !== null) checkSizes(originalSizes, count);
  return { itemSize };
}

function checkSizes(originalSizes, count) {
  const isU32 = (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!Array.isArray(originalSizes) || originalSizes.length !== count
      || !originalSizes.every((s) => s?.length === 2 && isU32(s[0]) && isU32(s[1]))) {
    throw new CodeFileError(`original sizes must be ${count} [width, height] pairs of integers in 0..2^32-1`);
  }
}

function encodeName(name) {
  if (typeof name !== 'string') throw new CodeFileError(`names must be strings, got ${describe(name)}`);
  const encoded = new TextEncoder().encode(name);
  if (encoded.length > 0xffff) {
    throw new CodeFileError(`name too long (${encoded.length} bytes): '${name.slice(0, 40)}'...`);
  }
  return encoded;
}

const describe = (value) => value?.constructor?.name ?? String(value);

/** Little-endian writes into a buffer of the exact final size. */
class Writer {
  constructor(size) {
    this.buffer = new Uint8Array(size);
    this.view = new DataView(this.buffer.buffer);
    this.offset = 0;
  }

  u8(value) { this.view.setUint8(this.offset, value); this.offset += 1; }
  u16(value) { this.view.setUint16(this.offset, value, true); this.offset += 2; }
  u32(value) { this.view.setUint32(this.offset, value, true); this.offset += 4; }
  bytes(bytes) { this.buffer.set(bytes, this.offset); this.offset += bytes.length; }
  ascii(text) { for (let i = 0; i < text.length; i++) this.u8(text.charCodeAt(i)); }

  payload(codes, precision) {
    if (precision === 'uint8') return this.bytes(codes);
    const put = precision === 'float32' ? (v) => { this.view.setFloat32(this.offset, v, true); this.offset += 4; }
      : (v) => this.u16(v);
    for (let i = 0; i < codes.length; i++) put(codes[i]);
  }
}

// --- reading ---------------------------------------------------------------------------------------

/** The bytes of an .aez file -> its code file; CodeFileError, one line, for anything else. */
export function fromBytes(data) {
  const bytes = asBytes(data);
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new CodeFileError('not an aeonnx code file (wrong magic bytes)');
  }
  if (bytes.length < MAGIC.length + 1) throw new CodeFileError('truncated code file: no format version');
  const version = bytes[MAGIC.length];
  if (!Object.hasOwn(READERS, version)) {
    throw new CodeFileError(`unsupported code file format version ${version} (this aeonnx reads version ${READABLE})`);
  }
  return READERS[version](bytes);
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new CodeFileError(`a code file is bytes (Uint8Array or ArrayBuffer), got ${describe(data)}`);
}

function readVersion1(bytes) {
  if (bytes.length < MAGIC.length + 4 + CRC_SIZE) throw new CodeFileError('truncated code file: shorter than its header');
  const reader = new Reader(bytes, MAGIC.length + 1, bytes.length - CRC_SIZE);
  const header = readHeader1(reader);
  const { count, latentSize, precision, flags } = header;
  const { itemSize } = STORAGE[precision];
  // Each code needs at least its 2-byte name length and its payload: check before allocating.
  const perCode = 2 + latentSize * itemSize + (flags & FLAG_ORIGINAL_SIZES ? 8 : 0);
  if (count * perCode > reader.left) {
    throw new CodeFileError(`truncated code file: it declares ${count} codes but holds too few bytes`);
  }
  const rawNames = Array.from({ length: count }, () => reader.take(reader.u16('name'), 'name'));
  const rawSizes = flags & FLAG_ORIGINAL_SIZES ? reader.take(8 * count, 'original sizes') : null;
  const payload = reader.take(count * latentSize * itemSize, 'payload');
  if (reader.left !== 0) throw new CodeFileError(`corrupt code file: ${reader.left} unexpected bytes before the CRC`);
  // The structure fits the file's length (else: truncated); now its bytes must be the ones written.
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(bytes.length - CRC_SIZE, true);
  if (crc32(bytes, 0, bytes.length - CRC_SIZE) !== stored) throw new CodeFileError('corrupt code file: CRC32 mismatch');
  const names = rawNames.map((raw) => utf8(raw, 'name'));
  if (new Set(names).size !== names.length) throw new CodeFileError('corrupt code file: duplicate names');
  const { model, modelId } = header;
  return { model, modelId, precision, latentSize, codes: readPayload(payload, precision), names,
    originalSizes: rawSizes && readSizes(rawSizes, count) };
}

function readHeader1(reader) {
  const precisionCode = reader.u8('header');
  const flags = reader.u8('header');
  const nameLength = reader.u8('header');
  if (precisionCode >= PRECISIONS.length) throw new CodeFileError(`unknown precision code ${precisionCode}`);
  if (flags & ~FLAG_ORIGINAL_SIZES) {
    throw new CodeFileError(`unknown flags 0x${flags.toString(16).padStart(2, '0')}`);
  }
  if (nameLength < 1 || nameLength > MAX_MODEL_NAME) throw new CodeFileError(`bad model name length ${nameLength}`);
  const model = ascii(reader.take(nameLength, 'model name'), 'model name');
  const modelId = ascii(reader.take(MODEL_ID_LENGTH, 'model id'), 'model id');
  if (!isModelId(modelId)) throw new CodeFileError('corrupt code file: the model id is not 16 lowercase hex digits');
  const latentSize = reader.u16('header');
  const count = reader.u32('header');
  if (latentSize < 1 || latentSize > MAX_LATENT_SIZE) throw new CodeFileError(`bad latent size ${latentSize}`);
  return { precision: PRECISIONS[precisionCode], flags, model, modelId, latentSize, count };
}

function readPayload(payload, precision) {
  if (precision === 'uint8') return payload.slice();
  const { itemSize, Array: Storage } = STORAGE[precision];
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  const codes = new Storage(payload.length / itemSize);
  if (precision === 'float16') for (let i = 0; i < codes.length; i++) codes[i] = view.getUint16(2 * i, true);
  else for (let i = 0; i < codes.length; i++) codes[i] = view.getFloat32(4 * i, true);
  return codes;
}

function readSizes(raw, count) {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  return Array.from({ length: count }, (_, i) => [view.getUint32(8 * i, true), view.getUint32(8 * i + 4, true)]);
}

/** Bounds-checked reads: every size is checked against what is left before it is used. */
class Reader {
  constructor(bytes, offset, end) {
    this.bytes = bytes;
    this.offset = offset;
    this.end = end;
  }

  get left() { return this.end - this.offset; }

  take(size, what) {
    if (size > this.left) throw new CodeFileError(`truncated code file: ${what} runs past the end`);
    this.offset += size;
    return this.bytes.subarray(this.offset - size, this.offset);
  }

  u8(what) { return this.take(1, what)[0]; }
  u16(what) { const b = this.take(2, what); return b[0] | (b[1] << 8); }
  u32(what) { const b = this.take(4, what); return (b[0] | (b[1] << 8) | (b[2] << 16)) + b[3] * 0x1000000; }
}

export function isModelId(text) {
  return typeof text === 'string' && /^[0-9a-f]{16}$/.test(text);
}

function ascii(raw, what) {
  if (raw.some((b) => b > 0x7f)) throw new CodeFileError(`corrupt code file: ${what} is not valid ascii`);
  return String.fromCharCode(...raw);
}

function utf8(raw, what) {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    throw new CodeFileError(`corrupt code file: ${what} is not valid utf-8`);
  }
}
