// Fuzzing the format version 2 reader and the entropy decoder: whatever the bytes, reading answers with a
// code file or a one-line CodeFileError, and decoding a file read with its codes or a one-line CodeFileError;
// never a TypeError or RangeError (an allocation sized by an unchecked field would be a RangeError here: the
// absurd counts below go to 2^53 - 1), never a hang (each test has a time limit far above its run time).
// Seeded (xoshiro128**, a seed per test) and bounded: it runs in seconds.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as codefile from '../codefile.js';
import { CodeFileError } from '../errors.js';
import { Xoshiro128 } from '../random.js';
import * as varint from '../varint.js';
import { priorsFor, readOrRefuse, withCrc } from './helpers.js';

const LIMIT = { timeout: 60_000 };
const below = (rng, n) => Math.floor((rng.next() / 2 ** 32) * n);
const pick = (rng, items) => items[below(rng, items.length)];

/** Models of a few latent sizes, with priors for every B (their spread is built once, then shared). */
const BINDINGS = [1, 3, 8, 32].map((size, i) => {
  const zMin = Float32Array.from({ length: size }, (_, d) => -d), zMax = Float32Array.from({ length: size }, (_, d) => d % 3);
  return codefile.binding('ae', `${i}123456789abcdef`, zMin, zMax, { priors: priorsFor(zMin, zMax, 30 + i), defaultBits: 6 });
});

/** A name of 0-12 code points (ASCII, accented, CJK, astral, the byte-order mark), or a counter's next. */
function randomNames(rng, count) {
  const points = [0x61, 0x7a, 0x2f, 0xe9, 0x4e2d, 0x1d7d8, 0xfeff, 0x20, 0x30, 0x39];
  const names = new Set();
  let counter = below(rng, 1000);
  while (names.size < count) {
    if (rng.next() & 1) names.add(`scan_${String(counter++).padStart(4, '0')}`);
    else names.add(String.fromCodePoint(...Array.from({ length: below(rng, 13) }, () => pick(rng, points) + below(rng, 3))));
  }
  return [...names];
}

/** A random valid version 2 file: its bytes, the binding that made it and the values it stores. */
function randomFile(rng) {
  const bound = pick(rng, BINDINGS), size = bound.zMin.length;
  const precision = pick(rng, codefile.PRECISIONS), count = below(rng, 13);
  const z = Float32Array.from({ length: count * size }, (_, i) => (rng.uniform() * 1.4 - 0.2) * (bound.zMax[i % size] - bound.zMin[i % size]) + bound.zMin[i % size]);
  const names = rng.next() & 1 ? randomNames(rng, count) : null;
  const side = () => (rng.next() & 3 ? 28 : 1 + (rng.next() % 5000) * (rng.next() & 1 ? 1 : 858_993));
  const sizes = rng.next() & 1 ? Array.from({ length: count }, () => [side(), side()]) : null;
  const values = codefile.quantize(z, precision, bound);
  return { data: codefile.packCodes(values, precision, bound, names, sizes), bound, values, names, sizes };
}

const read = readOrRefuse; // a code file, or a CodeFileError with a one-line message

/** Decoding's only allowed answers: the stored values, or a CodeFileError in one line. */
function decode(codeFile, bound) {
  try {
    return codefile.storedValues(codeFile, bound);
  } catch (error) {
    assert.ok(error instanceof CodeFileError, `${error.name}: ${error.message}`);
    assert.ok(!error.message.includes('\n'), error.message);
    return null;
  }
}

test('random version 2 files round trip: every kind, count, names or none, odd sizes', LIMIT, () => {
  const rng = new Xoshiro128(101);
  for (let i = 0; i < 600; i++) {
    const { data, bound, values, names, sizes } = randomFile(rng);
    const back = codefile.fromBytes(data);
    assert.deepEqual(codefile.storedValues(back, bound), values);
    assert.deepEqual(back.names, names ?? codefile.defaultNames(values.length / bound.zMin.length));
    const odd = sizes?.some(([w, h]) => w !== 28 || h !== 28);
    assert.deepEqual(back.originalSizes, odd ? sizes : null);
    assert.deepEqual(codefile.toBytes(back), data);
  }
});

test('every truncation is refused', LIMIT, () => {
  const rng = new Xoshiro128(102);
  for (let i = 0; i < 60; i++) {
    const { data } = randomFile(rng);
    for (let keep = 0; keep < data.length; keep++) assert.equal(read(data.subarray(0, keep)), null);
  }
});

test('every flip of 1 to 3 bits is refused', LIMIT, () => {
  const rng = new Xoshiro128(103);
  for (let i = 0; i < 3000; i++) {
    const { data } = randomFile(rng);
    const flipped = data.slice();
    for (let k = 1 + below(rng, 3); k > 0; k--) flipped[below(rng, data.length)] ^= 1 << below(rng, 8);
    if (!flipped.every((b, j) => b === data[j])) assert.equal(read(flipped), null);
  }
});

test('bytes changed with the CRC made to fit: the structure checks and the decoder answer', LIMIT, () => {
  const rng = new Xoshiro128(104);
  let refused = 0, undecodable = 0, decoded = 0;
  for (let i = 0; i < 6000; i++) {
    const { data, bound } = randomFile(rng);
    const body = data.slice(0, -4);
    for (let k = 1 + below(rng, 3); k > 0; k--) body[5 + below(rng, body.length - 5)] = rng.next() & 0xff;
    const codeFile = read(withCrc(body));
    if (codeFile === null) refused++;
    else if (decode(codeFile, bound) === null) undecodable++;
    else decoded++;
  }
  assert.ok(refused > 1000 && undecodable > 100 && decoded > 100, `${refused} refused, ${undecodable} undecodable, ${decoded} decoded`);
});

test('random bytes behind a valid magic and version 2, with a fitting CRC', LIMIT, () => {
  const rng = new Xoshiro128(105);
  for (let i = 0; i < 5000; i++) {
    const noise = Uint8Array.from({ length: below(rng, 300) }, () => rng.next() & 0xff);
    const codeFile = read(withCrc(Uint8Array.of(...codefile.MAGIC, 2, ...noise)));
    if (codeFile !== null) decode(codeFile, BINDINGS[0]);
  }
});

/** A version 2 file of `kind` from a header (L), body and index, the index length and CRC made to fit. */
function crafted({ kind = 6, flags = 0, latent = 3, body = [], index }) {
  const bytes = [...codefile.MAGIC, 2, kind, flags, 2, 0x61, 0x65, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    ...varint.encode(latent), ...body, ...index, ...varint.encodeBackwards(index.length)];
  return withCrc(Uint8Array.from(bytes));
}

test('absurd varints: counts, lengths, runs and sizes up to 2^53 - 1 are refused before anything is allocated', LIMIT, () => {
  const huge = [2 ** 32 + 1, 2 ** 40, 2 ** 53 - 1];
  const v = varint.encode;
  const cases = [];
  for (const n of huge) {
    cases.push([{ index: v(n) }, 'code lengths']); // entropy-coded: a length each
    cases.push([{ kind: 0, index: v(n) }, 'do not fill']); // floats: the body
    cases.push([{ kind: 1, latent: 4096, index: v(n) }, 'do not fill']);
    cases.push([{ kind: 0, flags: 2, latent: 1, body: new Array(8).fill(0), index: [2, 1, 1, 0x31, 0, ...v(n)] }, 'a run of']);
    cases.push([{ kind: 0, flags: 2, latent: 1, body: [0, 0, 0, 0], index: [1, ...v(n), 1, 0x31] }, 'shares more bytes']);
    cases.push([{ kind: 0, flags: 2, latent: 1, body: [0, 0, 0, 0], index: [1, 1, ...v(n)] }, 'longer than 1024']);
    cases.push([{ kind: 0, flags: 1, latent: 1, body: [0, 0, 0, 0], index: [1, ...v(n), 1] }, 'out of range']);
    cases.push([{ kind: 6, index: [2, ...v(n)] }, 'code lengths']);
    cases.push([{ kind: 0, latent: n, index: [0] }, 'bad latent size']);
  }
  cases.push([{ kind: 0, flags: 0, latent: 1, body: [0, 0, 0, 0], index: [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01] }, 'longer than 10 bytes']);
  // The default limit refuses such counts first (runtime/spec.py MAX_CODES_PER_FILE); a reader that allows any
  // count still allocates nothing the bytes cannot hold.
  for (const n of huge) {
    assert.throws(() => codefile.fromBytes(crafted({ index: v(n) })), (e) => e instanceof CodeFileError
      && e.message.endsWith('codes, over the limit of 1,000,000 a file (raise it with --max-codes)'));
  }
  for (const [parts, fragment] of cases) {
    assert.throws(() => codefile.fromBytes(crafted(parts), { maxCodes: Infinity }), (e) => e instanceof CodeFileError
      && e.message.includes(fragment) && !e.message.includes('\n'), `${JSON.stringify(parts).slice(0, 80)}: ${fragment}`);
  }
  // The index length itself: as large as a varint goes, and larger.
  for (const tail of [varint.encodeBackwards(2 ** 53 - 1), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f].reverse()]) {
    const data = crafted({ index: [0] }).slice(0, -5);
    assert.equal(read(withCrc(Uint8Array.of(...data, ...tail))), null);
  }
});

test('the most codes a small file can declare are bounded by its bytes', LIMIT, () => {
  // 60,000 empty entropy-coded codes (each a 0-length code) in a 60 kB index: they read and decode.
  const count = 60_000;
  const index = [...varint.encode(count), ...new Array(count - 1).fill(0)];
  const codeFile = codefile.fromBytes(crafted({ latent: 3, index }));
  assert.equal(codeFile.names.length, count);
  const { zMin, zMax, priors } = BINDINGS[1];
  assert.equal(codefile.storedValues(codeFile, codefile.binding('ae', '0123456789abcdef', zMin, zMax, { priors })).length, count * 3);
  // A names-table run of as many names as declared codes: bounded by the codes the body holds.
  const run = crafted({ kind: 1, flags: 2, latent: 1, body: new Array(2 * count).fill(0),
    index: [...varint.encode(count), 1, 5, 0x30, 0x30, 0x30, 0x30, 0x30, 0, ...varint.encode(count - 1)] });
  assert.equal(codefile.fromBytes(run).names.length, count);
});
