// Variable-length unsigned integers (LEB128) for the `.aez` frame of format version 2, and a reader that
// checks every read, as runtime/varint.py. A varint is at most 10 bytes, in its shortest form, and at
// most 2^53 - 1 (a JavaScript number holds every value exactly): anything else is corrupt.

import { CodeFileError } from './errors.js';

export const MAX_BYTES = 10;
export const MAX_VALUE = Number.MAX_SAFE_INTEGER; // 2^53 - 1

/** What the reader says of bytes the writer could not have made, in Python's words. */
export const corrupt = (message) => new CodeFileError(`corrupt code file: ${message}`);

/** A value 0 <= value <= 2^53 - 1 -> its varint's bytes. */
export function encode(value) {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VALUE) {
    throw new CodeFileError(`${value} does not fit a varint of this format`);
  }
  const out = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80); // not >>>: values go past 2^32
  }
  out.push(value);
  return out;
}

/** A varint to be read from its end: the bytes of `encode` reversed, so the lowest group is last. */
export const encodeBackwards = (value) => encode(value).reverse();

/** The value of varint bytes `bytes[i]` for i in `order` (first: lowest group), exact beyond 2^53 (BigInt). */
function exactValue(bytes, positions) {
  return positions.reduceRight((value, i) => (value << 7n) | BigInt(bytes[i] & 0x7f), 0n);
}

/** Reads a byte range front to back; every read is checked against what is left before it is used. */
export class Reader {
  constructor(bytes, offset, end) {
    this.bytes = bytes;
    this.offset = offset;
    this.end = end;
  }

  get left() { return this.end - this.offset; }

  take(size, what) {
    if (size > this.left) throw corrupt(`${what} runs past the end of its section`);
    this.offset += size;
    return this.bytes.subarray(this.offset - size, this.offset);
  }

  byte(what) { return this.take(1, what)[0]; }

  varint(what) {
    const start = this.offset;
    let value = 0, scale = 1, byte;
    do {
      if (this.offset - start === MAX_BYTES) throw corrupt(`${what}: a varint longer than ${MAX_BYTES} bytes`);
      byte = this.byte(what);
      value += (byte & 0x7f) * scale; // exact while below 2^53; any larger sum stays above MAX_VALUE
      scale *= 0x80;
    } while (byte >= 0x80);
    return checked(this.bytes, start, this.offset, value, what);
  }

  /**
   * `count` varints, each at most `largest` (< 2^35): a Float64Array. As Python's vectorised reader: the
   * count is checked against the bytes left before anything is allocated, and its checks come in its order
   * (too few values, then a value too long or not shortest, then a value too large).
   */
  varints(count, what, largest) {
    const width = encode(largest).length;
    if (count > this.left) throw corrupt(`${what}: ${count} values run past the end of their section`);
    const windowEnd = this.offset + Math.min(this.left, count * width);
    const values = new Float64Array(count);
    let found = 0, start = this.offset, badForm = false, tooLarge = false;
    for (let i = this.offset; i < windowEnd && found < count; i++) {
      if (this.bytes[i] >= 0x80) continue;
      const size = i - start + 1;
      if (size > width || (size > 1 && this.bytes[i] === 0)) badForm = true;
      let value = 0;
      for (let k = Math.min(size, width) - 1; k >= 0; k--) value = value * 0x80 + (this.bytes[start + k] & 0x7f);
      if (value > largest) tooLarge = true;
      values[found++] = value;
      start = i + 1;
    }
    if (found < count) throw corrupt(`${what}: ${count} values run past the end of their section`);
    if (badForm) throw corrupt(`${what}: a value is out of range or not in its shortest form`);
    if (tooLarge) throw corrupt(`${what}: a value is larger than ${largest}`);
    this.offset = start;
    return values;
  }
}

/** The varint whose last byte is bytes[end - 1], read towards `start`: { value, position } (its first byte). */
export function readBackwards(bytes, end, start, what) {
  let value = 0, scale = 1, position = end, byte;
  do {
    if (position === start) throw corrupt(`${what} runs past the start of the file`);
    if (end - position === MAX_BYTES) throw corrupt(`${what}: a varint longer than ${MAX_BYTES} bytes`);
    byte = bytes[--position];
    value += (byte & 0x7f) * scale;
    scale *= 0x80;
  } while (byte >= 0x80);
  return { value: checkedBackwards(bytes, position, end, value, what), position };
}

function checked(bytes, start, end, value, what) {
  if (bytes[end - 1] === 0 && end - start > 1) throw corrupt(`${what}: a varint not in its shortest form`);
  if (value > MAX_VALUE) {
    const positions = Array.from({ length: end - start }, (_, k) => start + k);
    throw corrupt(`${what}: ${exactValue(bytes, positions)} is out of range`);
  }
  return value;
}

function checkedBackwards(bytes, position, end, value, what) {
  if (bytes[position] === 0 && end - position > 1) throw corrupt(`${what}: a varint not in its shortest form`);
  if (value > MAX_VALUE) {
    const positions = Array.from({ length: end - position }, (_, k) => end - 1 - k);
    throw corrupt(`${what}: ${exactValue(bytes, positions)} is out of range`);
  }
  return value;
}
