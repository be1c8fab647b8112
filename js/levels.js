// Quality levels: the codes of a rate-distortion model (docs/FORMAT.md "Quality levels"), as
// runtime/aez/levels.py makes and reads them. At level q a code's value y is scaled by the level's learned
// gain and rounded, s = round(y * g) (half to even, in float32); symbol s - offset (clipped to the table) is
// rANS-coded under the level's frequency table. Decoding: z = (symbol + offset) / g in float32.

import { ModelError } from './errors.js';
import { CODER, FrequencyTable, base64Bytes, isBits } from './entropy.js';
import { rint } from './numbers.js';

export const LEVELS = [1, 2, 3, 4, 5, 6, 7, 8];
export const PRECISION = 14;
export const name = (level) => `q${level}`;
export const QUALITIES = LEVELS.map(name);
/** 1..8 for 'q1'..'q8', else null. */
export const levelOf = (precision) => (QUALITIES.includes(precision) ? Number(precision.slice(1)) : null);

/** One level: float32 gains [L], integer offsets [L], its frequency table. */
export class Level {
  constructor(gains, offsets, table) {
    this.gains = Float32Array.from(gains);
    this.offsets = Int32Array.from(offsets);
    this.table = table;
  }

  /** Codes float32 [N * L] -> symbols Uint8Array [N * L]: round half to even of z * gain, clipped to the table. */
  symbols(z) {
    const L = this.gains.length, top = 2 ** this.table.bits - 1;
    const out = new Uint8Array(z.length);
    for (let i = 0; i < z.length; i++) {
      const integer = rint(Math.fround(Math.fround(z[i]) * this.gains[i % L]));
      const symbol = (Number.isFinite(integer) ? integer : 0) - this.offsets[i % L];
      out[i] = symbol > top ? top : symbol > 0 ? symbol : 0;
    }
    return out;
  }

  /** Symbols [N * L] -> float32 codes: (symbol + offset) / gain. */
  values(symbols) {
    const L = this.gains.length;
    return Float32Array.from(symbols, (symbol, i) => Math.fround((symbol + this.offsets[i % L]) / this.gains[i % L]));
  }
}

/** A model's levels 1..n (`aeonnx.quality_levels`). */
export class QualityLevels {
  constructor(levels, defaultLevel, measured = []) {
    this.levels = levels; // Map number -> Level
    this.defaultLevel = defaultLevel;
    this.measured = measured;
  }

  /** The level `number`; ModelError if the model has none such. */
  level(number) {
    const level = this.levels.get(number);
    if (level === undefined) throw new ModelError(`quality must be from 1 to ${this.levels.size}, got ${number}`);
    return level;
  }

  /** The JSON of `aeonnx.quality_levels` -> QualityLevels; ModelError (naming `where`) for anything else. */
  static fromMetadata(text, latentSize = null, where = 'the model metadata') {
    try {
      return parseLevels(JSON.parse(text), latentSize);
    } catch (error) {
      throw new ModelError(`unreadable quality levels in ${where}: ${error.message}`);
    }
  }
}

function parseLevels(document, latentSize) {
  if (document?.coder !== CODER) throw new Error(`coder ${JSON.stringify(document?.coder)} is not ${CODER}`);
  const { latent_size: size, precision, levels, default: defaultLevel } = document;
  if (latentSize !== null && size !== latentSize) throw new Error(`they are for latent size ${size}, the model's is ${latentSize}`);
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new Error(`latent size ${size} out of range`);
  // A feature-map code flattened channels last stores each channel's entries once: they repeat at every position.
  const positions = document.positions ?? 1;
  if (!Number.isInteger(positions) || positions < 1 || size % positions !== 0) {
    throw new Error(`positions ${JSON.stringify(positions)} do not divide the latent size ${size}`);
  }
  if (!Array.isArray(levels) || levels.length < 1 || levels.length > LEVELS.length) throw new Error('no levels');
  const parsed = new Map(levels.map((entry, index) =>
    [index + 1, repeated(parseLevel(entry, size / positions, precision), positions)]));
  if (!parsed.has(defaultLevel)) throw new Error(`the default level ${defaultLevel} is not one of them`);
  return new QualityLevels(parsed, defaultLevel, Array.isArray(document.measured) ? document.measured : []);
}

/** One position's level repeated at `positions` positions. */
function repeated(level, positions) {
  if (positions === 1) return level;
  const size = level.gains.length, width = level.table.frequencies.length / size;
  const gains = Float32Array.from({ length: size * positions }, (_, i) => level.gains[i % size]);
  const offsets = Array.from({ length: size * positions }, (_, i) => level.offsets[i % size]);
  const frequencies = new Uint32Array(size * positions * width);
  for (let p = 0; p < positions; p += 1) frequencies.set(level.table.frequencies, p * size * width);
  return new Level(gains, offsets, new FrequencyTable(level.table.bits, frequencies, level.table.precision));
}

function parseLevel({ bits, gains, offsets, frequencies }, size, precision) {
  if (!isBits(bits)) throw new Error(`bits ${bits} out of range`);
  const gainBytes = base64Bytes(gains), raw = base64Bytes(frequencies);
  if (gainBytes.length !== 4 * size || !Array.isArray(offsets) || offsets.length !== size
      || raw.length !== size * 2 * 2 ** bits) {
    throw new Error(`a level's gains, offsets and ${bits}-bit tables must all be for ${size} values`);
  }
  const gainView = new DataView(gainBytes.buffer, gainBytes.byteOffset, gainBytes.length);
  const gainValues = Float32Array.from({ length: size }, (_, i) => gainView.getFloat32(4 * i, true));
  if (!gainValues.every((g) => Number.isFinite(g) && g > 0)
      || !offsets.every((o) => Number.isInteger(o) && Math.abs(o) <= 2 ** 24)) {
    throw new Error('gains must be positive and offsets within 2**24');
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const values = Uint32Array.from({ length: raw.length / 2 }, (_, i) => view.getUint16(2 * i, true));
  return new Level(gainValues, offsets, new FrequencyTable(bits, values, precision));
}
