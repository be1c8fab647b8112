// Fuzzing the .aez reader, version 1 (version 2: fuzz-v2.test.js): whatever the bytes, it answers with a
// code file or a one-line CodeFileError, never a TypeError or RangeError. Seeded (xoshiro128**, seed per
// test) and bounded: it runs in seconds.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as codefile from '../codefile.js';
import { CodeFileError } from '../errors.js';
import { Xoshiro128 } from '../random.js';
import { readOrRefuse, withCrc } from './helpers.js';

const below = (rng, n) => Math.floor((rng.next() / 2 ** 32) * n);
const pick = (rng, items) => items[below(rng, items.length)];
const randomBytes = (rng, n) => Uint8Array.from({ length: n }, () => rng.next() & 0xff);

/** A name of 0-12 code points: ASCII, accented, CJK, astral, and the byte-order mark. */
function randomName(rng) {
  const points = [0x61, 0x7a, 0x2f, 0xe9, 0x4e2d, 0x1d7d8, 0xfeff, 0x20];
  return String.fromCodePoint(...Array.from({ length: below(rng, 13) }, () => pick(rng, points) + below(rng, 3)));
}

function randomCodes(rng, precision, length) {
  if (precision === 'uint8') return randomBytes(rng, length);
  if (precision === 'float16') return Uint16Array.from({ length }, () => rng.next() & 0xffff);
  return Float32Array.from({ length }, () => (rng.uniform() - 0.5) * 2 ** below(rng, 40));
}

function randomCodeFile(rng) {
  const precision = pick(rng, codefile.V1_PRECISIONS);
  const count = below(rng, 13), latentSize = 1 + below(rng, 40);
  const names = new Set();
  while (names.size < count) names.add(randomName(rng));
  const u32 = () => rng.next();
  return {
    version: 1, coded: null, named: true,
    model: pick(rng, ['ae', 'vae', 'x'.repeat(32)]),
    modelId: Array.from({ length: 16 }, () => '0123456789abcdef'[below(rng, 16)]).join(''),
    precision, latentSize, codes: randomCodes(rng, precision, count * latentSize), names: [...names],
    originalSizes: rng.next() & 1 ? Array.from({ length: count }, () => [u32(), u32()]) : null,
  };
}

const read = readOrRefuse; // a code file, or a CodeFileError with a one-line message

function flip(data, bits) {
  const flipped = data.slice();
  for (const bit of bits) flipped[bit >> 3] ^= 1 << (bit & 7);
  return flipped;
}

test('random code files round trip, every precision and count', () => {
  const rng = new Xoshiro128(1);
  for (let i = 0; i < 400; i++) {
    const original = randomCodeFile(rng);
    assert.deepEqual(codefile.fromBytes(codefile.toBytes(original)), original);
  }
});

test('every truncation is refused', () => {
  const rng = new Xoshiro128(2);
  for (let i = 0; i < 40; i++) {
    const data = codefile.toBytes(randomCodeFile(rng));
    for (let keep = 0; keep < data.length; keep++) assert.equal(read(data.subarray(0, keep)), null);
  }
});

test('every flip of 1 to 3 bits is refused (CRC-32 has Hamming distance 4 at these lengths)', () => {
  const rng = new Xoshiro128(3);
  for (let i = 0; i < 400; i++) {
    const data = codefile.toBytes(randomCodeFile(rng));
    const bits = new Set(Array.from({ length: 1 + below(rng, 3) }, () => below(rng, data.length * 8)));
    assert.equal(read(flip(data, bits)), null);
  }
});

test('every 1- and 2-bit flip of a small file is refused', () => {
  const data = codefile.toBytes({ version: 1, model: 'ae', modelId: '0123456789abcdef', precision: 'uint8', latentSize: 4,
    codes: Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7), names: ['a', 'b'], originalSizes: [[28, 28], [40, 30]] });
  const bits = data.length * 8;
  let tried = 0;
  for (let a = 0; a < bits; a++) {
    assert.equal(read(flip(data, [a])), null);
    for (let b = a + 1; b < bits; b++, tried++) assert.equal(read(flip(data, [a, b])), null);
  }
  assert.ok(tried > 50_000, `${tried} pairs`);
});

test('header bytes changed with the CRC made to fit: the structure checks answer', () => {
  const rng = new Xoshiro128(4);
  let parsed = 0, refused = 0;
  for (let i = 0; i < 3000; i++) {
    const body = codefile.toBytes(randomCodeFile(rng)).slice(0, -4);
    for (let k = 1 + below(rng, 3); k > 0; k--) body[below(rng, Math.min(body.length, 80))] = rng.next() & 0xff;
    read(withCrc(body)) === null ? refused++ : parsed++;
  }
  assert.ok(refused > 1000 && parsed > 10, `${refused} refused, ${parsed} parsed`); // both paths exercised
});

test('absurd declared sizes are refused before anything is allocated', () => {
  const base = codefile.toBytes({ version: 1, model: 'ae', modelId: '0123456789abcdef', precision: 'float32', latentSize: 2,
    codes: Float32Array.of(1, 2), names: ['n'], originalSizes: null }).slice(0, -4);
  const cases = [
    [(v) => v.setUint32(28, 2 ** 32 - 1, true), '4,294,967,295 codes, over the limit of 1,000,000 a file'],
    [(v) => v.setUint32(28, 2 ** 31, true), '2,147,483,648 codes, over the limit of 1,000,000 a file'],
    [(v) => v.setUint16(26, 4096, true), 'truncated code file'],
    [(v) => v.setUint16(26, 4097, true), 'bad latent size 4097'],
    [(v) => v.setUint16(26, 65535, true), 'bad latent size 65535'],
    [(v) => v.setUint16(32, 65535, true), 'truncated code file: name runs past the end'],
  ];
  for (const [change, message] of cases) {
    const body = base.slice();
    change(new DataView(body.buffer));
    assert.throws(() => codefile.fromBytes(withCrc(body)), (e) => e instanceof CodeFileError && e.message.includes(message));
  }
});

test('random bytes, alone or behind a valid magic and version', () => {
  const rng = new Xoshiro128(5);
  for (let i = 0; i < 2000; i++) {
    const noise = randomBytes(rng, below(rng, 600));
    assert.equal(read(noise), null);
    assert.equal(read(Uint8Array.of(...codefile.MAGIC, 1, ...noise.subarray(0, 300))), null);
  }
});

test('what is not bytes is refused with the format\'s own error', () => {
  for (const value of [null, undefined, 'AEZ\x1a', 42, {}, [0x41, 0x45]]) assert.equal(read(value), null);
  const data = codefile.toBytes({ version: 1, model: 'ae', modelId: '0123456789abcdef', precision: 'uint8', latentSize: 1,
    codes: Uint8Array.of(7), names: ['n'], originalSizes: null });
  assert.equal(read(data.buffer).codes[0], 7); // an ArrayBuffer is bytes
  const shifted = new Uint8Array(data.length + 3);
  shifted.set(data, 3);
  assert.equal(read(shifted.subarray(3)).names[0], 'n'); // a view at an odd offset
});
