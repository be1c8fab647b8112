// Entropy coding of quantised latent codes (docs/FORMAT.md, "Entropy coding of latent codes"), written from
// the document and matching runtime/entropy.py byte for byte: a code's L values quantised to B bits (4-8)
// over the model's per-dimension training range, then rANS-coded (32-bit state, 16-bit words) under static
// per-dimension priors from the model's metadata. Each code is its own byte string, decodable alone.
//
// States are Numbers below 2^32: `>>>` and `&` for the bits, Math.floor division and `* 65536` where a
// result can pass 2^31. Decoding runs exactly L steps per code and reads only inside the code.

import { AeonnxError, ModelError } from './errors.js';
import { rint } from './numbers.js';

export const PRECISION = 12; // what the writer's priors use: frequencies of a dimension sum to 2^12
export const MIN_PRECISION = 8, MAX_PRECISION = 16;
export const MIN_BITS = 4, MAX_BITS = 8;
export const CODER = 'rans32-16';
export const MAX_COUNT_TOTAL = 2 ** 36;
const STATE_LOW = 65536;

/** An entropy-coded latent code this coder could not have written (corrupt or truncated). */
export class EntropyCodeError extends AeonnxError {}

export const isBits = (bits) => Number.isInteger(bits) && bits >= MIN_BITS && bits <= MAX_BITS;

function checkBits(bits) {
  if (!isBits(bits)) throw new EntropyCodeError(`bits must be an integer from ${MIN_BITS} to ${MAX_BITS}, got ${bits}`);
  return bits;
}

/** The longest code of `latentSize` values: a 4-byte final state and at most one word per value. */
export const maxCodeBytes = (latentSize) => 4 + 2 * latentSize;

// --- quantisation, in numpy's float32 arithmetic ---------------------------------------------------

/** Step between levels per dimension, float32: (max - min) / (2^bits - 1), 1 where it is not > 0. */
export function quantizationScale(bits, zMin, zMax) {
  const levels = 2 ** checkBits(bits) - 1;
  return Float32Array.from(zMin, (low, i) => {
    const span = Math.fround(Math.fround(zMax[i] - low) / levels);
    return span > 0 ? span : 1;
  });
}

/** Float latents [N * L] -> symbols Uint8Array in 0..2^bits - 1 (round half to even, clipped, NaN -> 0). */
export function quantize(z, bits, zMin, zMax) {
  const scale = quantizationScale(bits, zMin, zMax);
  const size = scale.length, top = 2 ** bits - 1;
  const symbols = new Uint8Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const q = rint(Math.fround(Math.fround(Math.fround(z[i]) - zMin[i % size]) / scale[i % size]));
    symbols[i] = q > top ? top : q > 0 ? q : 0; // NaN fails both tests: 0
  }
  return symbols;
}

/** Symbols [N * L] -> float32 latents: min + symbol * scale, each operation rounded to float32. */
export function dequantize(symbols, bits, zMin, zMax) {
  const scale = quantizationScale(bits, zMin, zMax);
  const size = scale.length;
  const z = new Float32Array(symbols.length);
  for (let i = 0; i < symbols.length; i++) z[i] = zMin[i % size] + Math.fround(symbols[i] * scale[i % size]);
  return z;
}

// --- frequency tables ------------------------------------------------------------------------------

/**
 * One dimension's counts [S] -> frequencies (Uint32Array [S]), each >= 1, summing to 2^precision, in
 * integers only: every symbol gets 1, the rest shared in proportion to the counts, rounded down, and what
 * is left one each to the largest remainders, the lower symbol first on a tie. No counts share evenly.
 */
export function quantizeFrequencies(counts, precision = PRECISION) {
  const size = counts.length;
  let total = 0;
  for (const c of counts) {
    if (!Number.isInteger(c) || c < 0) throw new RangeError('counts must be non-negative integers');
    total += c;
  }
  if (total >= MAX_COUNT_TOTAL) throw new RangeError('counts must sum to less than 2^36');
  if (!(precision >= MIN_PRECISION && precision <= MAX_PRECISION) || size > 2 ** precision) {
    throw new RangeError(`${size} symbols do not fit a precision of ${precision} bits`);
  }
  const even = total === 0;
  if (even) total = size;
  const spare = 2 ** precision - size;
  const frequencies = new Uint32Array(size), remainders = new Float64Array(size);
  let left = spare;
  for (let s = 0; s < size; s++) {
    const product = (even ? 1 : counts[s]) * spare; // below 2^52: exact
    let share = Math.floor(product / total);
    let remainder = product - share * total;
    if (remainder < 0) share--, (remainder += total); // the float quotient rounded up to an integer
    else if (remainder >= total) share++, (remainder -= total);
    frequencies[s] = 1 + share;
    remainders[s] = remainder;
    left -= share;
  }
  const order = Array.from({ length: size }, (_, s) => s).sort((a, b) => remainders[b] - remainders[a] || a - b);
  for (let i = 0; i < left; i++) frequencies[order[i]] += 1;
  return frequencies;
}

/**
 * The static prior of `bits`-bit codes: frequencies [L * 2^bits] (row-major, one row per dimension), each
 * row summing to 2^precision, every symbol at least 1. The coder's slot spread is built per table, once.
 */
export class FrequencyTable {
  constructor(bits, frequencies, precision = PRECISION) {
    checkBits(bits);
    const symbols = 2 ** bits;
    if (!Number.isInteger(precision) || precision < MIN_PRECISION || precision > MAX_PRECISION) {
      throw new RangeError(`precision must be ${MIN_PRECISION}-${MAX_PRECISION}, got ${precision}`);
    }
    if (frequencies.length === 0 || frequencies.length % symbols !== 0) {
      throw new RangeError(`a ${bits}-bit table has ${symbols} frequencies per dimension, got ${frequencies.length} in all`);
    }
    this.bits = bits;
    this.precision = precision;
    this.symbols = symbols;
    this.latentSize = frequencies.length / symbols;
    this.frequencies = Uint32Array.from(frequencies);
    for (let d = 0; d < this.latentSize; d++) {
      let sum = 0;
      for (let s = 0; s < symbols; s++) sum += this.frequencies[d * symbols + s];
      if (sum !== 2 ** precision || this.frequencies.subarray(d * symbols, (d + 1) * symbols).includes(0)) {
        throw new RangeError(`every frequency must be >= 1 and each row must sum to 2^${precision}`);
      }
    }
    this.spread = null; // built on first use (spreadSlots for every dimension)
  }

  /** From per-dimension counts (an array of L rows of 2^bits counts). */
  static fromHistograms(rows, precision = PRECISION) {
    const bits = Math.log2(rows[0]?.length);
    const frequencies = new Uint32Array(rows.length * rows[0].length);
    rows.forEach((row, d) => frequencies.set(quantizeFrequencies(row, precision), d * row.length));
    return new FrequencyTable(bits, frequencies, precision);
  }

  /** Each dimension's slots: slotOf (by start[s] + k), owner and rank (by slot), frequencyOfSlot. */
  slots() {
    if (this.spread === null) {
      const M = 2 ** this.precision, L = this.latentSize;
      const spread = { slotOf: new Uint32Array(L * M), owner: new Uint8Array(L * M), rank: new Uint32Array(L * M),
        frequencyOfSlot: new Uint32Array(L * M), starts: new Uint32Array(L * this.symbols) };
      for (let d = 0; d < L; d++) {
        const row = this.frequencies.subarray(d * this.symbols, (d + 1) * this.symbols);
        spreadSlots(row, this.precision, d, spread);
      }
      this.spread = spread;
    }
    return this.spread;
  }
}

/**
 * One dimension's 2^precision slots shared out to its symbols, spread evenly: the pairs (s, k), 0 <= k < f[s],
 * sorted by (2k + 1) / f[s], ties by s; the j-th pair owns slot j. Written into `spread` at row `d`.
 */
export function spreadSlots(frequencies, precision, d, spread) {
  const M = 2 ** precision, S = frequencies.length;
  const symbolOf = new Uint8Array(M), kOf = new Uint32Array(M);
  let start = 0;
  for (let s = 0; s < S; s++) {
    spread.starts[d * S + s] = start;
    for (let k = 0; k < frequencies[s]; k++) symbolOf[start + k] = s, (kOf[start + k] = k);
    start += frequencies[s];
  }
  // Pairs by their place in symbol order (start[s] + k); compare (2k+1)/f[s] exactly: both products < 2^33.
  const order = Array.from({ length: M }, (_, i) => i).sort((a, b) => {
    const sa = symbolOf[a], sb = symbolOf[b];
    return (2 * kOf[a] + 1) * frequencies[sb] - (2 * kOf[b] + 1) * frequencies[sa] || sa - sb;
  });
  const base = d * M;
  order.forEach((pair, slot) => {
    spread.slotOf[base + pair] = slot;
    spread.owner[base + slot] = symbolOf[pair];
    spread.rank[base + slot] = kOf[pair];
    spread.frequencyOfSlot[base + slot] = frequencies[symbolOf[pair]];
  });
}

// --- the priors of a model, from its metadata (aeonnx.latent_priors) --------------------------------

/** A model's frequency tables, one per number of bits. */
export class Priors {
  constructor(tables) {
    this.tables = new Map([...tables].sort(([a], [b]) => a - b));
    const [first] = this.tables.values();
    this.latentSize = first.latentSize;
    this.precision = first.precision;
  }

  get bits() { return [...this.tables.keys()]; }

  /** The table of `bits`-bit codes; EntropyCodeError if the model has none. */
  table(bits) {
    const table = this.tables.get(bits);
    if (table === undefined) {
      throw new EntropyCodeError(`no ${bits}-bit latent priors in this model (it has ${this.bits.join(', ')})`);
    }
    return table;
  }

  /** The JSON of `aeonnx.latent_priors` -> Priors; ModelError (naming `where`) for anything else. */
  static fromMetadata(text, latentSize = null, where = 'the model metadata') {
    try {
      return new Priors(parsePriors(JSON.parse(text), latentSize));
    } catch (error) {
      throw new ModelError(`unreadable latent priors in ${where}: ${error.message}`);
    }
  }
}

function parsePriors(document, latentSize) {
  if (document?.coder !== CODER) throw new Error(`coder ${JSON.stringify(document?.coder)} is not ${CODER}`);
  const { latent_size: size, precision, frequencies } = document;
  if (latentSize !== null && size !== latentSize) throw new Error(`they are for latent size ${size}, the model's is ${latentSize}`);
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw new Error(`latent size ${size} out of range`);
  if (frequencies === null || typeof frequencies !== 'object' || Object.keys(frequencies).length === 0) {
    throw new Error('no frequency tables');
  }
  return Object.entries(frequencies).map(([key, encoded]) => {
    const bits = Number(key);
    if (!isBits(bits) || String(bits) !== key) throw new Error(`no table for '${key}' bits: they are keyed ${MIN_BITS}-${MAX_BITS}`);
    const raw = base64Bytes(encoded);
    if (raw.length !== size * 2 * 2 ** bits) {
      throw new Error(`the ${bits}-bit table has ${raw.length} bytes, not ${size * 2 * 2 ** bits}`);
    }
    const view = new DataView(raw.buffer, raw.byteOffset, raw.length);
    const values = Uint32Array.from({ length: raw.length / 2 }, (_, i) => view.getUint16(2 * i, true));
    return [bits, new FrequencyTable(bits, values, precision)];
  });
}

export function base64Bytes(encoded) {
  if (typeof encoded !== 'string' || encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
    throw new Error('a table is not standard base64');
  }
  return Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
}

// --- the coder -------------------------------------------------------------------------------------

/**
 * Symbols [N * L] (integers in 0..2^bits - 1) -> { body: the N codes' bytes one after another,
 * lengths: Int32Array [N] }. Each code as FORMAT.md's "Encoding one code".
 */
export function encode(symbols, table) {
  const L = table.latentSize, S = table.symbols, n = table.precision, M = 2 ** n;
  if (symbols.length % L !== 0) throw new EntropyCodeError(`symbols must be N * ${L} values, got ${symbols.length}`);
  const count = symbols.length / L;
  const { slotOf, starts } = table.slots();
  const frequencies = table.frequencies;
  const out = new Uint8Array(count * maxCodeBytes(L)), lengths = new Int32Array(count);
  const words = new Uint16Array(L);
  let at = 0;
  for (let c = 0; c < count; c++) {
    let x = 0, emitted = 0;
    for (let i = L - 1; i >= 0; i--) {
      const s = symbols[c * L + i];
      if (!(Number.isInteger(s) && s >= 0 && s < S)) {
        throw new EntropyCodeError(`symbols must lie in 0..${S - 1} for ${table.bits}-bit codes`);
      }
      const f = frequencies[i * S + s];
      if ((x >>> (32 - n)) >= f) {
        words[emitted++] = x & 0xffff;
        x = Math.floor(x / 65536);
      }
      const quotient = Math.floor(x / f);
      x = quotient * M + slotOf[i * M + starts[i * S + s] + (x - quotient * f)];
    }
    const begin = at;
    for (; x > 0; x = Math.floor(x / 256)) out[at++] = x & 0xff; // the fewest bytes that hold it
    for (let w = emitted - 1; w >= 0; w--) out[at++] = words[w] & 0xff, (out[at++] = words[w] >>> 8);
    lengths[c] = at - begin;
  }
  return { body: out.slice(0, at), lengths };
}

/** How many of a code's first bytes hold its final state, from its length alone. */
export const stateSize = (length) => (length <= 4 ? length : 4 - (length & 1));

/**
 * One code's bytes `body[start .. start + length)` -> its symbols written to `out` at `offset`; false if
 * the encoder could not have made it (FORMAT.md's "Decoding one code": L steps, reads inside the code).
 */
export function decodeOne(body, start, length, table, out, offset) {
  const L = table.latentSize, n = table.precision, mask = 2 ** n - 1, M = 2 ** n;
  const { owner, rank, frequencyOfSlot } = table.slots();
  const end = start + length, k = stateSize(length);
  let x = 0;
  for (let i = k - 1; i >= 0; i--) x = x * 256 + body[start + i];
  if (k > 0 && body[start + k - 1] === 0) return false; // not the fewest bytes: not the encoder's
  let p = start + k;
  for (let i = 0; i < L; i++) {
    const j = i * M + (x & mask);
    out[offset + i] = owner[j];
    x = frequencyOfSlot[j] * (x >>> n) + rank[j];
    if (x < STATE_LOW && p < end) {
      x = x * 65536 + body[p] + body[p + 1] * 256;
      p += 2;
    }
  }
  return x === 0 && p === end;
}

/**
 * The inverse of encode: codes one after another in `body`, `lengths[i]` bytes each -> symbols Uint8Array
 * [N * L]; EntropyCodeError for anything the encoder could not have written.
 */
export function decode(body, lengths, table) {
  const L = table.latentSize, longest = maxCodeBytes(L);
  let total = 0;
  for (const length of lengths) {
    if (!(Number.isInteger(length) && length >= 0 && length <= longest)) {
      throw new EntropyCodeError(`a latent code length is out of range (0 to ${longest} bytes for ${L} values)`);
    }
    total += length;
  }
  if (total !== body.length) {
    throw new EntropyCodeError(`latent code lengths add up to ${total} bytes, the codes have ${body.length}`);
  }
  const symbols = new Uint8Array(lengths.length * L);
  let start = 0, bad = 0, first = -1;
  for (let c = 0; c < lengths.length; c++) {
    if (!decodeOne(body, start, lengths[c], table, symbols, c * L)) {
      bad++;
      if (first < 0) first = c;
    }
    start += lengths[c];
  }
  if (bad) throw new EntropyCodeError(`latent code ${first} is corrupt (${bad} of ${lengths.length} bad)`);
  return symbols;
}
