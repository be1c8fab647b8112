// The names table of a format-2 `.aez` container (docs/FORMAT.md, "Names table"), as runtime/nametable.py:
// names in a folder share prefixes and counters, so they are stored as runs of counters and as suffixes of
// the name before. Everything is done on UTF-8 bytes: a shared prefix may end inside a character.
//
// Each entry starts with a varint tag:
// - tag 0, then varint r: the next r names are the previous one with its last run of ASCII digits
//   increased by 1, 2, ... r, keeping its width (scan_000041 -> scan_000042 ...);
// - tag t >= 1: the first t - 1 bytes of the previous name, then a varint suffix length and the suffix.

import { CodeFileError } from './errors.js';
import { corrupt, encode } from './varint.js';

export const MAX_NAME_BYTES = 1024; // bounds what a reader builds per code
const SAFE_DIGITS = 15; // a counter of up to 15 digits (and what is added to it) is an exact Number
const ZERO = 0x30, NINE = 0x39;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // a leading U+FEFF is kept

const isDigit = (byte) => byte >= ZERO && byte <= NINE;

/** The last run of ASCII digits of `bytes`: { start, end } (end exclusive), or null. */
function lastDigits(bytes) {
  let end = bytes.length;
  while (end > 0 && !isDigit(bytes[end - 1])) end--;
  if (end === 0) return null;
  let start = end - 1;
  while (start > 0 && isDigit(bytes[start - 1])) start--;
  return { start, end };
}

/** `bytes` with its last run of digits increased by one at the same width; null if none or it overflows. */
export function nextInRun(bytes) {
  const run = lastDigits(bytes);
  if (run === null) return null;
  const next = bytes.slice();
  for (let i = run.end - 1; i >= run.start; i--) {
    if (next[i] !== NINE) {
      next[i] += 1;
      return next;
    }
    next[i] = ZERO;
  }
  return null; // all nines: the next value does not fit the width
}

/** A name -> its UTF-8 bytes; CodeFileError for what cannot be stored (Python: "cannot store a name"). */
export function nameBytes(name) {
  if (typeof name !== 'string') throw new CodeFileError(`names must be strings, got ${typeof name}`);
  if (/\p{Cs}/u.test(name)) { // a lone surrogate: TextEncoder would store U+FFFD instead
    throw new CodeFileError(`cannot store a name: it is not valid Unicode (a lone surrogate): '${name.slice(0, 40)}'`);
  }
  const raw = encoder.encode(name);
  if (raw.length > MAX_NAME_BYTES) {
    throw new CodeFileError(`cannot store a name: name too long (${raw.length} bytes, at most ${MAX_NAME_BYTES}): `
      + `'${name.slice(0, 40)}'...`);
  }
  return raw;
}

const sameBytes = (a, b) => b !== null && a.length === b.length && a.every((v, i) => v === b[i]);

/** The table of `names` (strings, unique), as Python's nametable.Writer makes it: an array of bytes. */
export function write(names) {
  const table = [];
  let previous = new Uint8Array(0), expected = null, run = 0;
  const flush = () => {
    if (run) table.push(...encode(0), ...encode(run));
    run = 0;
  };
  for (const name of names) {
    const raw = nameBytes(name);
    if (sameBytes(raw, expected)) run++;
    else {
      flush();
      let shared = 0;
      while (shared < Math.min(previous.length, raw.length) && previous[shared] === raw[shared]) shared++;
      table.push(...encode(shared + 1), ...encode(raw.length - shared));
      for (let i = shared; i < raw.length; i++) table.push(raw[i]);
    }
    previous = raw;
    expected = nextInRun(raw);
  }
  flush();
  return table;
}

// What a table may expand to: this many bytes for each code a reader allows (codefile.fromBytes's maxCodes),
// however few a file declares (runtime/aez/nametable.py): a few bytes of runs cannot become gigabytes of names.
export const NAME_BYTES_PER_CODE = 64;

/**
 * The `count` names of a table, read from `reader` (varint.Reader); CodeFileError for anything else, and for
 * names of more than `budget` bytes in all.
 */
export function read(reader, count, budget = Infinity) {
  const names = [];
  let previous = new Uint8Array(0);
  const spend = (bytes) => {
    if (bytes > budget) throw corrupt('names table: its names expand past the limit (raise it with --max-codes)');
    budget -= bytes;
  };
  while (names.length < count) {
    const tag = reader.varint('names table');
    if (tag === 0) {
      const length = reader.varint('names table');
      checkRun(length, count - names.length);
      spend(length * previous.length);
      const made = run(previous, length, count - names.length);
      for (const name of made) names.push(name);
      previous = encoder.encode(names[names.length - 1]);
      continue;
    }
    if (tag - 1 > previous.length) throw corrupt('names table: a name shares more bytes than the name before has');
    const size = reader.varint('names table');
    if (tag - 1 + size > MAX_NAME_BYTES) throw corrupt(`names table: a name longer than ${MAX_NAME_BYTES} bytes`);
    const suffix = reader.take(size, 'names table');
    const next = new Uint8Array(tag - 1 + size);
    next.set(previous.subarray(0, tag - 1));
    next.set(suffix, tag - 1);
    previous = next;
    spend(previous.length);
    names.push(text(previous));
  }
  if (new Set(names).size !== names.length) throw corrupt('duplicate names');
  return names;
}

function checkRun(length, room) {
  if (!(length >= 1 && length <= room)) {
    throw corrupt(`names table: a run of ${length} names where ${room} are left`);
  }
}

/** The `length` names after `previous` in its counter's run; at most `room` of them. */
function run(previous, length, room) {
  checkRun(length, room);
  const digits = previous.length ? lastDigits(previous) : null;
  if (digits === null) throw corrupt('names table: a run after a name without digits');
  const width = digits.end - digits.start;
  const head = text(previous.subarray(0, digits.start)), tail = text(previous.subarray(digits.end));
  const counter = String.fromCharCode(...previous.subarray(digits.start, digits.end));
  const names = new Array(length);
  if (width <= SAFE_DIGITS) {
    const start = Number(counter);
    if (start + length >= 10 ** width) throw corrupt("names table: a run overflows its counter's width");
    for (let i = 0; i < length; i++) names[i] = head + String(start + 1 + i).padStart(width, '0') + tail;
  } else {
    const start = BigInt(counter);
    if (start + BigInt(length) >= 10n ** BigInt(width)) throw corrupt("names table: a run overflows its counter's width");
    for (let i = 0; i < length; i++) names[i] = head + String(start + 1n + BigInt(i)).padStart(width, '0') + tail;
  }
  return names;
}

function text(raw) {
  try {
    return decoder.decode(raw);
  } catch {
    throw corrupt('a name is not valid UTF-8');
  }
}
