// The `.aez` code file (docs/FORMAT.md), as runtime/codefile.py: latents <-> file bytes, and nothing
// else. Quantise, entropy-code, frame, write; read, check which model made the codes, decode, dequantise;
// refuse anything else with one clear line. The magic and version byte lead every version; the writer
// makes format version 2 (or version 1 when asked), the reader reads both, chosen by that byte.
//
// A code file here: { version, model, modelId, precision, latentSize, codes, coded, names, named,
// originalSizes }. `precision` is 'float32' or 'float16' (codes: a Float32Array, or a Uint16Array of
// float16 bits), bits 4-8 (version 2, entropy-coded: codes null, coded { body, lengths }, each code its
// own byte string), or 'uint8' (version 1: codes a Uint8Array).

import { crc32 } from './crc32.js';
import * as entropy from './entropy.js';
import { AeonnxError, CodeFileError, DataError, ModelError } from './errors.js';
import * as levels from './levels.js';
import * as nametable from './nametable.js';
import { fromHalfBits, toHalfBits } from './numbers.js';
import { imageOf } from './spec.js';
import * as varint from './varint.js';

export const MAGIC = Uint8Array.of(0x41, 0x45, 0x5a, 0x1a); // "AEZ\x1a"
export const FORMAT_VERSION = 2; // what the writer makes unless asked otherwise
export const READ_VERSIONS = [1, 2];
export const FLOATS = ['float32', 'float16'];
export const BITS = [4, 5, 6, 7, 8];
export const QUALITIES = levels.QUALITIES; // a rate-distortion model's levels, 'q1'..'q8'
const CODED = [...BITS, ...QUALITIES]; // the entropy-coded precisions
/** What version 2 stores for any model: uncoded floats, or entropy-coded at B bits (and a rate-distortion
 * model's quality levels, QUALITIES, entropy-coded with its own tables). */
export const PRECISIONS = [...FLOATS, ...BITS];
/** What a caller may ask for by name: auto (the model's default bits), the floats, uint8 (8 bits). */
export const NAMED_PRECISIONS = ['auto', ...FLOATS, 'uint8'];
export const V1_PRECISIONS = ['float32', 'float16', 'uint8'];
export const FLAG_ORIGINAL_SIZES = 0x01;
export const FLAG_NAMES = 0x02;
export const FLAG_IMAGE_SHAPE = 0x04; // the header ends with the image shape of a model of your own
const FLAGS = FLAG_ORIGINAL_SIZES | FLAG_NAMES | FLAG_IMAGE_SHAPE;
// The short frame (FORMAT.md "Short frame"): one entropy-coded code, no name, no original size; after
// the flags, the model id's first SHORT_ID_BYTES bytes, the code, the CRC32.
export const FLAG_SHORT = 0x08;
export const SHORT_ID_BYTES = 4;
const SHORT_HEADER_BYTES = 4 + 1 + 1 + 1 + SHORT_ID_BYTES; // magic, version, kind, flags, id prefix
const MAX_IMAGE_DIMS = 3; // [values], or [height, width, channels]
const MAX_IMAGE_SIDE = 65535;
export const MAX_LATENT_SIZE = 4096;
export const MAX_MODEL_NAME = 32;
export const MODEL_ID_LENGTH = 16; // hex digits; 8 raw bytes in version 2
export const MAX_SIDE = 2 ** 32 - 1; // an original width or height
export const QUALITY_KIND = 16; // kind 16 + q: quality level q
const KINDS = new Map([['float32', 0], ['float16', 1], ...BITS.map((bits) => [bits, bits]), // version 2's kind byte
  ...QUALITIES.map((quality, i) => [quality, QUALITY_KIND + i + 1])]);
const CRC_SIZE = 4;
const MIN_V2_BYTES = 4 + 1 + 1 + 1 + 1 + 1 + 8 + 1 + 1 + 1 + CRC_SIZE; // magic .. L, N, index length, CRC

/** Bytes per stored value, and the typed array that holds a precision's codes (float16: raw bits). */
const STORAGE = {
  float32: { itemSize: 4, Array: Float32Array },
  float16: { itemSize: 2, Array: Uint16Array },
  uint8: { itemSize: 1, Array: Uint8Array },
};

const READERS = { 1: readVersion1, 2: readVersion2 };
const WRITERS = { 1: writeVersion1, 2: writeVersion2 };

// --- latents <-> file, for one trained model (runtime/codefile.py's Binding, pack, latents) ------------

/**
 * What ties codes to one trained model: its name and id, the per-dimension range (float32) of its latents
 * over the training set, which quantisation is relative to, the priors its entropy-coded codes are coded
 * with (entropy.Priors, from `aeonnx.latent_priors`; null for a model exported before format version 2),
 * and the default bits measured for it (`aeonnx.latent_coding`).
 */
export function binding(model, modelId, zMin, zMax,
  { priors = null, defaultBits = null, imageShape = null, qualityLevels = null } = {}) {
  return Object.freeze({ model, modelId, zMin: Float32Array.from(zMin), zMax: Float32Array.from(zMax), priors,
    defaultBits, imageShape: imageShape === null ? null : Object.freeze([...imageShape]), qualityLevels });
}

/**
 * What `compress` writes unless told: a rate-distortion model's default level, else the model's default
 * bits; float16 for a model without priors.
 */
export function defaultPrecision({ priors, defaultBits, qualityLevels }) {
  if (qualityLevels) return levels.name(qualityLevels.defaultLevel);
  if (priors === null || priors === undefined) return 'float16';
  return priors.bits.includes(defaultBits) ? defaultBits : Math.max(...priors.bits);
}

/** The frequency table of `bits`-bit codes or of a quality level; ModelError if the model has none. */
export function tableOf(bound, bits) {
  if (QUALITIES.includes(bits)) return levelOf(bound, bits).table;
  const { model, modelId, priors } = bound;
  if (priors === null || priors === undefined) {
    throw new ModelError(`model ${model} ${modelId} has no latent priors (exported before format version 2): `
      + 're-export it, or use precision float16 or float32');
  }
  try {
    return priors.table(bits);
  } catch (error) {
    throw new ModelError(`model ${model} ${modelId}: ${error.message}`);
  }
}

/** A quality level ('q1'..'q8') of a rate-distortion model; ModelError if the model has no such level. */
export function levelOf(bound, precision) {
  if (!bound.qualityLevels) throw new ModelError(withoutLevels(bound));
  return bound.qualityLevels.level(levels.levelOf(precision));
}

const withoutLevels = ({ model, modelId }) => `model ${model} ${modelId} has no quality levels (it is not a rate-distortion model)`;

/** Latents float32 [N * L] -> the bytes of one version 2 file at `precision`. Without names it stores none. */
export function pack(z, precision, bound, names = null, originalSizes = null) {
  return packCodes(quantize(z, precision, bound), precision, bound, names, originalSizes);
}

/** Codes already quantised (`quantize`) -> the bytes of one version 2 file (entropy-coded where bits). */
export function packCodes(codes, precision, bound, names = null, originalSizes = null) {
  precision = checkPrecision(precision);
  const latentSize = bound.zMin.length;
  const file = { version: 2, model: bound.model, modelId: bound.modelId, precision, latentSize, names,
    named: names !== null, originalSizes, imageShape: bound.imageShape ?? null };
  if (codes.length % latentSize !== 0) {
    throw new CodeFileError(`${codes.length} values do not fit codes of latent size ${latentSize}`);
  }
  const count = codes.length / latentSize;
  if (FLOATS.includes(precision)) return writeVersion2({ ...file, codes }, count);
  const table = tableOf(bound, precision);
  let coded;
  try {
    coded = entropy.encode(codes, table);
  } catch (error) {
    throw error instanceof entropy.EntropyCodeError ? new CodeFileError(error.message) : error;
  }
  return writeVersion2({ ...file, codes: null, coded }, count);
}

/** The float32 latents [N * L] of a file's codes; CodeFileError if another model made them or they are corrupt. */
export function latents(codeFile, bound) {
  const values = storedValues(codeFile, bound);
  return dequantize(values, codeFile.precision, bound);
}

/** The codes as stored before entropy coding (float values, or B-bit symbols), decoded with the model's priors. */
export function storedValues(codeFile, bound) {
  codeFile = complete(codeFile, bound.model, bound.modelId, bound.zMin.length, bound.imageShape ?? null);
  if (codeFile.model !== bound.model || codeFile.modelId !== bound.modelId) {
    const madeBy = isShort(codeFile) ? `a model whose id begins ${codeFile.modelId}` : `model ${printable(codeFile.model)} ${codeFile.modelId}`;
    throw new CodeFileError(`this code was made by ${madeBy}, `
      + `but the loaded model is ${bound.model} ${bound.modelId}; load the models folder that made it`);
  }
  if (codeFile.latentSize !== bound.zMin.length) {
    throw new CodeFileError(`codes of size ${codeFile.latentSize} do not fit the model's latent size ${bound.zMin.length}`);
  }
  if (!sameShape(codeFile.imageShape ?? null, bound.imageShape ?? null)) {
    throw new CodeFileError(`the codes are of ${shapeWords(codeFile.imageShape)}; the model takes ${shapeWords(bound.imageShape)}`);
  }
  if (codeFile.codes !== null && codeFile.codes !== undefined) return codeFile.codes;
  let table;
  try {
    table = tableOf(bound, codeFile.precision);
  } catch (error) {
    throw new CodeFileError(error.message);
  }
  try {
    return entropy.decode(codeFile.coded.body, codeFile.coded.lengths, table);
  } catch (error) {
    throw error instanceof entropy.EntropyCodeError ? new CodeFileError(`corrupt code file: ${error.message}`) : error;
  }
}

/** A short-frame file as read: its model known only by its id's first bytes (8 hex digits) until completed. */
export const isShort = (codeFile) => codeFile.modelId.length === 2 * SHORT_ID_BYTES;

/**
 * A short-frame file as the model whose id begins with its prefix made it: named, its id, latent size and image
 * shape the model's (as a file with the long header says them); any other file, or another model's, unchanged.
 */
export function complete(codeFile, model, modelId, latentSize, imageShape = null) {
  if (!isShort(codeFile) || !modelId.startsWith(codeFile.modelId)) return codeFile;
  if (codeFile.coded.body.length > entropy.maxCodeBytes(latentSize)) {
    throw new CodeFileError(`corrupt code file: a code of ${codeFile.coded.body.length} bytes for ${latentSize} values`);
  }
  return { ...codeFile, model, modelId, latentSize, imageShape: imageShape === null ? null : Array.from(imageShape) };
}

const sameShape = (a, b) => (a === null || b === null ? a === b : a.length === b.length && a.every((n, i) => n === b[i]));
/** A shape as Python's tuple prints it, so that both say the same words: (32, 32, 1), (784,), None. */
const pyShape = (shape) => (shape === null || shape === undefined ? 'None'
  : `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);

/**
 * A precision a caller asked for, as the writer names it ('uint8' is 8 bits); DataError (an argument, not
 * a file, is wrong) unless the format stores it.
 */
export function checkPrecision(precision) {
  if (precision === 'uint8') return 8;
  if (PRECISIONS.includes(precision) || QUALITIES.includes(precision)) return precision;
  throw new DataError(`unknown precision ${pyRepr(precision)}; choose float32, float16, uint8, bits `
    + `${BITS[0]}-${BITS[BITS.length - 1]} or quality ${QUALITIES[0]}-${QUALITIES[QUALITIES.length - 1]}`);
}

/**
 * What `compress` writes: `quality` (a rate-distortion model's level) or `bits` if given (not with a float
 * precision), else `precision`, else ('auto' or null) the model's default; checked against the model's
 * priors or levels before any work.
 */
export function resolvePrecision(precision, bound, bits = null, quality = null) {
  if (quality !== null && quality !== undefined) {
    if ((bits !== null && bits !== undefined) || !(precision === null || precision === undefined || precision === 'auto')) {
      throw new DataError('quality chooses the codes on its own: give it without bits or a precision');
    }
    if (!levels.LEVELS.includes(quality)) throw new DataError(`quality must be from 1 to 8, got ${quality}`);
    precision = levels.name(quality);
    if (!bound.qualityLevels) throw new ModelError(`${withoutLevels(bound)}: use bits or a precision`);
  }
  if (bits !== null && bits !== undefined) {
    if (FLOATS.includes(precision)) {
      throw new DataError(`bits ${bits} are for entropy-coded codes; they cannot go with precision ${precision}`);
    }
    if (!BITS.includes(bits)) throw new DataError(`bits must be from ${BITS[0]} to ${BITS[BITS.length - 1]}, got ${bits}`);
    precision = bits;
  }
  const chosen = precision === null || precision === undefined || precision === 'auto'
    ? defaultPrecision(bound) : checkPrecision(precision);
  if (CODED.includes(chosen)) tableOf(bound, chosen);
  return chosen;
}

// --- quantisation, in numpy's float32 arithmetic ------------------------------------------------------

/**
 * Float latents [N * L] -> the stored values: float32 as such, float16 bits, or B-bit symbols relative to
 * the model's per-dimension range (8 bits, alias 'uint8', gives exactly version 1's uint8 codes).
 */
export function quantize(z, precision, bound) {
  precision = checkPrecision(precision);
  if (precision === 'float32') return Float32Array.from(z);
  if (precision === 'float16') return Uint16Array.from(z, toHalfBits);
  if (QUALITIES.includes(precision)) return levelOf(bound, precision).symbols(z);
  return entropy.quantize(z, precision, bound.zMin, bound.zMax);
}

/** Stored values -> float32 latents [N * L]: what the decoder is fed. */
export function dequantize(codes, precision, bound) {
  precision = checkPrecision(precision);
  if (precision === 'float32') return Float32Array.from(codes);
  if (precision === 'float16') return Float32Array.from(codes, fromHalfBits);
  if (QUALITIES.includes(precision)) return levelOf(bound, precision).values(codes);
  return entropy.dequantize(codes, precision, bound.zMin, bound.zMax);
}

/** (max - min) / 255 per dimension in float32; 1 where the range is empty (version 1's uint8 steps). */
export const uint8Scale = (zMin, zMax) => entropy.quantizationScale(8, zMin, zMax);

// --- random access --------------------------------------------------------------------------------

/** The names of the codes of a file that stores none: 00000, 00001, ... */
export const defaultNames = (count) => Array.from({ length: count }, (_, i) => String(i).padStart(5, '0'));

/** The index of each name; AeonnxError naming the first that is not there. */
export function find(codeFile, names) {
  const where = new Map(codeFile.names.map((name, i) => [name, i]));
  const missing = names.find((name) => !where.has(name));
  if (missing !== undefined) throw new AeonnxError(`no code named ${pyRepr(missing)} here (${codeFile.names.length} codes)`);
  return names.map((name) => where.get(name));
}

/** The codes at `indices` alone, as a code file of their own (nothing else is decoded). */
export function take(codeFile, indices) {
  const names = indices.map((i) => codeFile.names[i]);
  const originalSizes = codeFile.originalSizes ? indices.map((i) => codeFile.originalSizes[i]) : codeFile.originalSizes;
  if (codeFile.coded === null || codeFile.coded === undefined) {
    const L = codeFile.latentSize;
    const codes = new codeFile.codes.constructor(indices.length * L);
    indices.forEach((i, row) => codes.set(codeFile.codes.subarray(i * L, (i + 1) * L), row * L));
    return { ...codeFile, codes, names, originalSizes };
  }
  const { body, lengths } = codeFile.coded;
  const starts = codeStarts(lengths);
  const picked = Int32Array.from(indices, (i) => lengths[i]);
  const joined = new Uint8Array(picked.reduce((sum, length) => sum + length, 0));
  let at = 0;
  for (const i of indices) joined.set(body.subarray(starts[i], starts[i] + lengths[i]), at), (at += lengths[i]);
  return { ...codeFile, coded: { body: joined, lengths: picked }, names, originalSizes };
}

/** Where each entropy-coded code starts in the body: the sum of the lengths before it. */
export function codeStarts(lengths) {
  const starts = new Float64Array(lengths.length);
  for (let i = 1; i < lengths.length; i++) starts[i] = starts[i - 1] + lengths[i - 1];
  return starts;
}

/** A file that stores no names holding one code, named after its file (img.aez -> img), as aeonnx does. */
export function nameAfterFile(codeFile, fileName) {
  const stem = String(fileName).split(/[\\/]/).pop().replace(/\.[^.]*$/, '');
  return !codeFile.named && codeFile.names.length === 1 && stem ? { ...codeFile, names: [stem] } : codeFile;
}

// --- writing ---------------------------------------------------------------------------------------

/**
 * A code file -> its bytes, in `version` (default: the file's own, else 2). Version 2 writes float codes,
 * and entropy-coded ones as read (`coded`); quantise new codes with pack.
 */
export function toBytes(codeFile, { version = codeFile?.version ?? FORMAT_VERSION } = {}) {
  if (!Object.hasOwn(WRITERS, version)) {
    throw new CodeFileError(`unsupported code file format version ${version} (this aeonnx writes versions 1, 2)`);
  }
  if (version === 1) return writeVersion1(codeFile);
  const { precision, coded = null, codes = null, names } = codeFile;
  if (!KINDS.has(precision) || (CODED.includes(precision) && coded === null)) {
    throw new CodeFileError(`cannot write ${pyRepr(precision)} codes as they are; quantise them with pack()`);
  }
  const count = coded !== null ? coded.lengths.length : codes.length / codeFile.latentSize;
  if (!Array.isArray(names) || count !== names.length) {
    throw new CodeFileError(`${count} codes do not fit ${names?.length} names`);
  }
  if (isShort(codeFile)) return shortFrame(precision, codeFile.modelId, coded.body); // as read: the same again
  const named = codeFile.named ?? !sameNames(names, defaultNames(count));
  return writeVersion2({ ...codeFile, codes, coded, named, names: named ? names : null }, count, { short: false }); // as read
}

const sameNames = (a, b) => a.length === b.length && a.every((name, i) => name === b[i]);

/**
 * Version 2: the header, the codes, the index (count, code lengths, names table, original sizes), its
 * length as a backwards varint, the CRC. `file.names`: null for a file that stores none.
 */
function writeVersion2(file, count, { short = true } = {}) {
  const { model, modelId, precision, latentSize, codes, coded, names, originalSizes = null, imageShape = null } = file;
  const header = headerVersion2(model, modelId, precision, latentSize, imageShape);
  let body;
  if (coded) body = coded.body;
  else {
    const { itemSize, Array: Storage } = STORAGE[precision];
    if (!(codes instanceof Storage)) {
      throw new CodeFileError(`${precision} codes must be a ${Storage.name} (see quantize), got ${describe(codes)}`);
    }
    body = floatBody(codes, precision, itemSize);
  }
  const index = [...varint.encode(count)];
  if (coded) for (let i = 0; i + 1 < count; i++) index.push(...varint.encode(coded.lengths[i])); // the last: what is left
  if (names !== null) {
    if (!Array.isArray(names) || names.length !== count) throw new CodeFileError(`${count} codes need ${count} names`);
    if (new Set(names).size !== names.length) throw new CodeFileError('duplicate names: each code needs its own');
    for (const byte of nametable.write(names)) index.push(byte);
  }
  const sizes = sizesTable(originalSizes, count, usualSize(imageShape));
  if (short && count === 1 && coded && names === null && sizes === null) { // an image shape is the model's
    return shortFrame(precision, modelId, coded.body);
  }
  if (sizes !== null) for (const byte of sizes) index.push(byte);
  header[6] = (names !== null ? FLAG_NAMES : 0) | (sizes !== null ? FLAG_ORIGINAL_SIZES : 0)
    | (imageShape !== null ? FLAG_IMAGE_SHAPE : 0);
  const tail = [...index, ...varint.encodeBackwards(index.length)];
  const out = new Uint8Array(header.length + body.length + tail.length + CRC_SIZE);
  out.set(header);
  out.set(body, header.length);
  out.set(tail, header.length + body.length);
  new DataView(out.buffer).setUint32(out.length - CRC_SIZE, crc32(out, 0, out.length - CRC_SIZE), true);
  return out;
}

/** A short-frame file (FORMAT.md "Short frame"): one code, the model named by its id's first bytes. */
function shortFrame(precision, modelId, code) {
  const out = new Uint8Array(SHORT_HEADER_BYTES + code.length + CRC_SIZE);
  out.set([...MAGIC, 2, KINDS.get(precision), FLAG_SHORT]);
  for (let i = 0; i < SHORT_ID_BYTES; i++) out[MAGIC.length + 3 + i] = parseInt(modelId.slice(2 * i, 2 * i + 2), 16);
  out.set(code, SHORT_HEADER_BYTES);
  new DataView(out.buffer).setUint32(out.length - CRC_SIZE, crc32(out, 0, out.length - CRC_SIZE), true);
  return out;
}

function headerVersion2(model, modelId, precision, latentSize, imageShape = null) {
  if (typeof model !== 'string' || !/^[\x00-\x7f]{1,32}$/.test(model) || !isModelId(modelId)) {
    throw new CodeFileError(`bad model name ${pyRepr(model)} or id ${pyRepr(modelId)}`);
  }
  if (!KINDS.has(precision)) {
    throw new CodeFileError(`unknown precision ${pyRepr(precision)}; choose one of: ${PRECISIONS.join(', ')}`);
  }
  if (!Number.isInteger(latentSize) || latentSize < 1 || latentSize > MAX_LATENT_SIZE) {
    throw new CodeFileError(`bad latent size ${latentSize}`);
  }
  const id = Array.from({ length: 8 }, (_, i) => parseInt(modelId.slice(2 * i, 2 * i + 2), 16));
  return [...MAGIC, 2, KINDS.get(precision), 0, model.length, ...Array.from(model, (c) => c.charCodeAt(0)), ...id,
    ...varint.encode(latentSize), ...(imageShape === null ? [] : imageShapeBytes(imageShape))];
}

/** A model of your own's image shape as the header ends with it: its number of dimensions, then each. */
function imageShapeBytes(shape) {
  if (!Array.isArray(shape) && !ArrayBuffer.isView(shape)) throw new CodeFileError(`bad image shape ${describe(shape)}`);
  if (shape.length < 1 || shape.length > MAX_IMAGE_DIMS
      || !Array.from(shape).every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_IMAGE_SIDE)) {
    throw new CodeFileError(`bad image shape ${pyShape(Array.from(shape))}`);
  }
  return [...varint.encode(shape.length), ...Array.from(shape).flatMap((n) => [...varint.encode(n)])];
}

function readImageShape(header) {
  const dims = header.varint('image shape');
  if (dims < 1 || dims > MAX_IMAGE_DIMS) throw new CodeFileError(`bad image shape: ${dims} dimensions`);
  const shape = Array.from({ length: dims }, () => header.varint('image shape'));
  if (!shape.every((n) => n >= 1 && n <= MAX_IMAGE_SIDE)) throw new CodeFileError(`bad image shape ${pyShape(shape)}`);
  return shape;
}

function floatBody(codes, precision, itemSize) {
  const body = new Uint8Array(codes.length * itemSize);
  const view = new DataView(body.buffer);
  if (precision === 'float32') for (let i = 0; i < codes.length; i++) view.setFloat32(4 * i, codes[i], true);
  else for (let i = 0; i < codes.length; i++) view.setUint16(2 * i, codes[i], true);
  return body;
}

/** [width, height] of the pictures a model takes (spec.js imageOf: a square flat input's side too); 28x28 for
 * the shipped models, whose files record no image shape, and for a flat input of no picture. */
function usualSize(imageShape) {
  const image = imageShape === null ? [28, 28] : imageOf(imageShape);
  return image.length >= 2 ? [image[1], image[0]] : [28, 28];
}

/** Per code a varint width, 0 for 28x28, else width then height; null where every code is of the model's own
 * size `usual` (no flag: a table only where some size differs). */
function sizesTable(originalSizes, count, [usualWidth, usualHeight]) {
  if (originalSizes === null || originalSizes === undefined) return null;
  if (!Array.isArray(originalSizes) || originalSizes.length !== count
      || !originalSizes.every((s) => s?.length === 2)) {
    throw new CodeFileError(`${count} codes need ${count} original sizes`);
  }
  if (originalSizes.every(([w, h]) => w === usualWidth && h === usualHeight)) return null;
  const isSide = (v) => Number.isInteger(v) && v >= 1 && v <= MAX_SIDE;
  if (!originalSizes.every(([w, h]) => isSide(w) && isSide(h))) {
    throw new CodeFileError(`original sizes must be 1 to ${MAX_SIDE} pixels`);
  }
  const table = [];
  for (const [w, h] of originalSizes) {
    if (w === 28 && h === 28) table.push(0);
    else table.push(...varint.encode(w), ...varint.encode(h));
  }
  return table;
}

/** Version 1 (still written when asked): fixed-size codes, names and sizes in front. */
function writeVersion1(codeFile) {
  const { model, modelId, precision, latentSize, codes, names, originalSizes = null } = codeFile;
  if ((codeFile.imageShape ?? null) !== null) {
    throw new CodeFileError('format version 1 cannot record an image shape: write version 2');
  }
  const { itemSize } = checkForWriting1(codeFile);
  const encodedNames = names.map(encodeName1);
  const namesSize = encodedNames.reduce((sum, name) => sum + 2 + name.length, 0);
  const sizesSize = originalSizes === null ? 0 : 8 * names.length;
  const total = 30 + model.length + namesSize + sizesSize + codes.length * itemSize + CRC_SIZE;
  const out = new Writer(total);
  out.bytes(MAGIC);
  out.u8(1);
  out.u8(V1_PRECISIONS.indexOf(precision));
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

/** What version 1's writer refuses before writing a byte: the same cases, in the same words, as Python's. */
function checkForWriting1({ model, modelId, precision, latentSize, codes, names, originalSizes = null }) {
  if (!Object.hasOwn(STORAGE, precision)) {
    throw new CodeFileError(`unknown precision ${pyRepr(precision)}; choose one of: ${V1_PRECISIONS.join(', ')}`);
  }
  const { itemSize, Array: Storage } = STORAGE[precision];
  if (typeof model !== 'string' || !/^[\x00-\x7f]{1,32}$/.test(model) || !isModelId(modelId)) {
    throw new CodeFileError(`bad model name ${pyRepr(model)} or id ${pyRepr(modelId)}`);
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
  if (originalSizes !== null) checkSizes1(originalSizes, count);
  return { itemSize };
}

function checkSizes1(originalSizes, count) {
  const isU32 = (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!Array.isArray(originalSizes) || originalSizes.length !== count
      || !originalSizes.every((s) => s?.length === 2 && isU32(s[0]) && isU32(s[1]))) {
    throw new CodeFileError(`original sizes must be ${count} [width, height] pairs of integers in 0..2^32-1`);
  }
}

function encodeName1(name) {
  if (typeof name !== 'string') throw new CodeFileError(`names must be strings, got ${describe(name)}`);
  const encoded = new TextEncoder().encode(name);
  if (encoded.length > 0xffff) {
    throw new CodeFileError(`name too long (${encoded.length} bytes): '${name.slice(0, 40)}'...`);
  }
  return encoded;
}

const describe = (value) => value?.constructor?.name ?? String(value);
/** A file's model name in a message: ASCII, but its control characters escaped, so the message stays one line. */
const printable = (name) => name.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
/** A value as Python's repr prints it in a message: strings quoted, numbers bare. */
const pyRepr = (value) => (typeof value === 'string' ? `'${value}'` : value === null || value === undefined ? 'None' : String(value));

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

/** An input shape as a message says it (runtime/aez/codefile.py _shape_words). */
const shapeWords = (shape) => (shape === null ? "28x28 digits (the shipped models')" : `inputs of ${pyShape(shape)}`);

// --- reading ---------------------------------------------------------------------------------------

// Codes a file may declare unless the reader allows more (runtime/spec.py MAX_CODES_PER_FILE): a code can be a
// byte or none, so a small file can declare millions; checked from the header, before anything is built.
export const MAX_CODES = 1_000_000;

/**
 * The bytes of an .aez file (version 1 or 2) -> its code file; CodeFileError, one line, for anything else,
 * and for a file of more than `maxCodes` codes.
 */
export function fromBytes(data, { maxCodes = MAX_CODES } = {}) {
  const bytes = asBytes(data);
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new CodeFileError('not an aeonnx code file (wrong magic bytes)');
  }
  if (bytes.length < MAGIC.length + 1) throw new CodeFileError('truncated code file: no format version');
  const version = bytes[MAGIC.length];
  if (!Object.hasOwn(READERS, version)) {
    throw new CodeFileError(`unsupported code file format version ${version} (this aeonnx reads versions ${READ_VERSIONS.join(', ')})`);
  }
  return READERS[version](bytes, maxCodes);
}

function checkedCount(count, maxCodes) {
  if (count > maxCodes) {
    throw new CodeFileError(`${count.toLocaleString('en-US')} codes, over the limit of ${maxCodes.toLocaleString('en-US')} a file (raise it with --max-codes)`);
  }
  return count;
}

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new CodeFileError(`a code file is bytes (Uint8Array or ArrayBuffer), got ${describe(data)}`);
}

/** Version 2, checked in FORMAT.md's order: size, CRC (the index is found from the end), header, index. */
function readVersion2(bytes, maxCodes = MAX_CODES) {
  if (bytes.length > MAGIC.length + 2 && bytes[MAGIC.length + 2] === FLAG_SHORT) return readShortFrame(bytes);
  if (bytes.length < MIN_V2_BYTES) throw new CodeFileError('truncated code file: shorter than its header');
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(bytes.length - CRC_SIZE, true);
  if (crc32(bytes, 0, bytes.length - CRC_SIZE) !== stored) {
    throw new CodeFileError('corrupt code file: CRC32 mismatch (a damaged or truncated code file)');
  }
  const header = new varint.Reader(bytes, MAGIC.length + 1, bytes.length - CRC_SIZE);
  const precision = kind(header.byte('header'));
  const flags = header.byte('header');
  if (flags & ~FLAGS) {
    throw new CodeFileError(`unknown flags 0x${flags.toString(16).padStart(2, '0')}`);
  }
  const model = modelName(header);
  const modelId = Array.from(header.take(MODEL_ID_LENGTH / 2, 'model id'), (b) => b.toString(16).padStart(2, '0')).join('');
  const latentSize = header.varint('latent size');
  if (latentSize < 1 || latentSize > MAX_LATENT_SIZE) throw new CodeFileError(`bad latent size ${latentSize}`);
  const imageShape = flags & FLAG_IMAGE_SHAPE ? readImageShape(header) : null;
  const { value: indexLength, position: indexEnd } = varint.readBackwards(bytes, header.end, header.offset, 'index length');
  if (indexLength > indexEnd - header.offset) throw varint.corrupt('the index length runs into the header');
  const body = bytes.subarray(header.offset, indexEnd - indexLength);
  const index = new varint.Reader(bytes, indexEnd - indexLength, indexEnd);
  const count = checkedCount(index.varint('code count'), maxCodes);
  const { codes, coded } = readCodes(body, index, count, precision, latentSize);
  const named = Boolean(flags & FLAG_NAMES);
  const names = named ? nametable.read(index, count, nametable.NAME_BYTES_PER_CODE * maxCodes) : defaultNames(count);
  const originalSizes = flags & FLAG_ORIGINAL_SIZES ? readSizes(index, count) : null;
  if (index.left) throw varint.corrupt(`${index.left} unexpected bytes at the end of the index`);
  return { version: 2, model, modelId, precision, latentSize, codes, coded, names, named, originalSizes, imageShape };
}

/** A short-frame file: one entropy-coded code, named after the file by its reader (nameAfterFile). */
function readShortFrame(bytes) {
  if (bytes.length < SHORT_HEADER_BYTES + CRC_SIZE) throw new CodeFileError('truncated code file: shorter than its header');
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(bytes.length - CRC_SIZE, true);
  if (crc32(bytes, 0, bytes.length - CRC_SIZE) !== stored) {
    throw new CodeFileError('corrupt code file: CRC32 mismatch (a damaged or truncated code file)');
  }
  const precision = kind(bytes[MAGIC.length + 1]);
  if (!CODED.includes(precision)) {
    throw new CodeFileError(`corrupt code file: a short frame holds an entropy-coded code, not ${precision}`);
  }
  const modelId = Array.from(bytes.subarray(MAGIC.length + 3, SHORT_HEADER_BYTES), (b) => b.toString(16).padStart(2, '0')).join('');
  const body = bytes.subarray(SHORT_HEADER_BYTES, bytes.length - CRC_SIZE);
  if (body.length > entropy.maxCodeBytes(MAX_LATENT_SIZE)) {
    throw new CodeFileError(`corrupt code file: a code of ${body.length} bytes is longer than any`);
  }
  const coded = { body, lengths: Int32Array.of(body.length) };
  return { version: 2, model: '', modelId, precision, latentSize: 0, codes: null, coded, names: defaultNames(1),
    named: false, originalSizes: null, imageShape: null };
}

function kind(code) {
  for (const [precision, value] of KINDS) if (value === code) return precision;
  throw new CodeFileError(`unknown precision code ${code}`);
}

function modelName(reader) {
  const length = reader.byte('header');
  if (length < 1 || length > MAX_MODEL_NAME) throw new CodeFileError(`bad model name length ${length}`);
  return printableName(ascii(reader.take(length, 'model name'), 'model name'));
}

/** { codes, coded }: the body checked against the count before anything is allocated. */
function readCodes(body, index, count, precision, latentSize) {
  if (FLOATS.includes(precision)) {
    const { itemSize } = STORAGE[precision];
    if (count * latentSize * itemSize !== body.length) {
      throw varint.corrupt(`${count} codes of ${latentSize} ${precision} values do not fill its ${body.length} bytes of codes`);
    }
    return { codes: readPayload(body, precision), coded: null };
  }
  const longest = entropy.maxCodeBytes(latentSize);
  if (count === 0) {
    if (body.length) throw varint.corrupt(`no codes, but ${body.length} bytes of them`);
    return { codes: null, coded: { body, lengths: new Int32Array(0) } };
  }
  // A code may be 0 bytes long: the count is bounded by the index (a length each), not by the body.
  const earlier = index.varints(count - 1, 'code lengths', longest);
  const lengths = new Int32Array(count);
  lengths.set(earlier);
  const last = body.length - earlier.reduce((sum, length) => sum + length, 0);
  if (!(last >= 0 && last <= longest)) throw varint.corrupt(`code lengths do not fit its ${body.length} bytes of codes`);
  lengths[count - 1] = last;
  return { codes: null, coded: { body, lengths } };
}

function readSizes(index, count) {
  if (count > index.left) throw varint.corrupt('original sizes run past the end of the index'); // a byte each at least
  const sizes = new Array(count);
  for (let i = 0; i < count; i++) {
    const width = index.varint('original sizes');
    if (width === 0) {
      sizes[i] = [28, 28];
      continue;
    }
    const height = index.varint('original sizes');
    if (!(width <= MAX_SIDE && height >= 1 && height <= MAX_SIDE)) {
      throw varint.corrupt(`original size ${width}x${height} out of range`);
    }
    sizes[i] = [width, height];
  }
  return sizes;
}

function readVersion1(bytes, maxCodes = MAX_CODES) {
  if (bytes.length < MAGIC.length + 4 + CRC_SIZE) throw new CodeFileError('truncated code file: shorter than its header');
  const reader = new Reader(bytes, MAGIC.length + 1, bytes.length - CRC_SIZE);
  const header = readHeader1(reader);
  const { count, latentSize, precision, flags } = header;
  checkedCount(count, maxCodes);
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
  return { version: 1, model, modelId, precision, latentSize, codes: readPayload(payload, precision), coded: null,
    names, named: true, originalSizes: rawSizes && readSizes1(rawSizes, count) };
}

function readHeader1(reader) {
  const precisionCode = reader.u8('header');
  const flags = reader.u8('header');
  const nameLength = reader.u8('header');
  if (precisionCode >= V1_PRECISIONS.length) throw new CodeFileError(`unknown precision code ${precisionCode}`);
  if (flags & ~FLAG_ORIGINAL_SIZES) {
    throw new CodeFileError(`unknown flags 0x${flags.toString(16).padStart(2, '0')}`);
  }
  if (nameLength < 1 || nameLength > MAX_MODEL_NAME) throw new CodeFileError(`bad model name length ${nameLength}`);
  const model = printableName(ascii(reader.take(nameLength, 'model name'), 'model name'));
  const modelId = ascii(reader.take(MODEL_ID_LENGTH, 'model id'), 'model id');
  if (!isModelId(modelId)) throw new CodeFileError('corrupt code file: the model id is not 16 lowercase hex digits');
  const latentSize = reader.u16('header');
  const count = reader.u32('header');
  if (latentSize < 1 || latentSize > MAX_LATENT_SIZE) throw new CodeFileError(`bad latent size ${latentSize}`);
  return { precision: V1_PRECISIONS[precisionCode], flags, model, modelId, latentSize, count };
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

function readSizes1(raw, count) {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  return Array.from({ length: count }, (_, i) => [view.getUint32(8 * i, true), view.getUint32(8 * i + 4, true)]);
}

/** Version 1's bounds-checked reads: varint.Reader's, with version 1's word for a read past the end. */
class Reader extends varint.Reader {
  take(size, what) {
    if (size > this.left) throw new CodeFileError(`truncated code file: ${what} runs past the end`);
    return super.take(size, what);
  }

  u8(what) { return this.take(1, what)[0]; }
  u16(what) { const b = this.take(2, what); return b[0] | (b[1] << 8); }
  u32(what) { const b = this.take(4, what); return (b[0] | (b[1] << 8) | (b[2] << 16)) + b[3] * 0x1000000; }
}

export function isModelId(text) {
  return typeof text === 'string' && /^[0-9a-f]{16}$/.test(text);
}

/** A model name as Python accepts it: printable ASCII without spaces (it is printed in one-line messages). */
function printableName(name) {
  if (/[^\x21-\x7e]/.test(name)) throw new CodeFileError('corrupt code file: the model name is not printable');
  return name;
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
