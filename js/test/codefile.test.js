// The .aez format in JavaScript, version 1 here (version 2: codefile-v2.test.js): round trips at every
// precision, numpy's quantisation, and a distinct one-line error, in Python's words, for each kind of damage
// (tests/test_codefile.py's cases); pack and latents, which write version 2.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { crc32 } from '../crc32.js';
import * as codefile from '../codefile.js';
import { CodeFileError, DataError } from '../errors.js';
import { fromHalfBits, rint, toHalfBits } from '../numbers.js';
import { priorsFor, withCrc } from './helpers.js';

const Z_MIN = Float32Array.of(0, 0, 0, 0), Z_MAX = Float32Array.of(1, 2, 4, 0); // one dead dimension
const BINDING = codefile.binding('ae', '0123456789abcdef', Z_MIN, Z_MAX);
/** The same model with priors for every B (from seeded codes), default 6 bits, as Python's test_codefile. */
const PRIORED = codefile.binding('ae', '0123456789abcdef', Z_MIN, Z_MAX, { priors: priorsFor(Z_MIN, Z_MAX, 7), defaultBits: 6 });


/** A version 1 file's contents, as read back. */
function sampleFile(precision = 'float32', count = 3, sizes = true) {
  const z = Float32Array.from({ length: count * 4 }, (_, i) => ((i * 0.37) % 2));
  return {
    version: 1, model: 'ae', modelId: '0123456789abcdef', precision, latentSize: 4,
    codes: codefile.quantize(z, precision, BINDING), coded: null,
    names: Array.from({ length: count }, (_, i) => `img${i}`), named: true,
    originalSizes: sizes ? Array.from({ length: count }, (_, i) => [28 + i, 28]) : null,
  };
}

const body = (data) => data.slice(0, -4);

function expect(data, fragment, reading = {}) {
  assert.throws(() => codefile.fromBytes(data, reading), (error) => {
    assert.ok(error instanceof CodeFileError, `${error.name}: ${error.message}`);
    assert.ok(error.message.includes(fragment), error.message);
    assert.ok(!error.message.includes('\n'));
    return true;
  });
}

test('CRC-32 is zlib\'s', () => {
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

for (const precision of codefile.V1_PRECISIONS) {
  for (const count of [0, 1, 5]) {
    test(`version 1 round trip: ${precision}, ${count} codes`, () => {
      const original = sampleFile(precision, count);
      const back = codefile.fromBytes(codefile.toBytes(original));
      assert.deepEqual(back, original);
    });
  }
}

test('the version 1 header is laid out as FORMAT.md says', () => {
  const data = codefile.toBytes(sampleFile('uint8', 1, false));
  assert.deepEqual([...data.slice(0, 8)], [0x41, 0x45, 0x5a, 0x1a, 1, 2, 0, 2]);
  assert.equal(new TextDecoder().decode(data.slice(8, 26)), 'ae0123456789abcdef');
  const view = new DataView(data.buffer);
  assert.deepEqual([view.getUint16(26, true), view.getUint32(28, true), view.getUint16(32, true)], [4, 1, 4]);
  assert.equal(new TextDecoder().decode(data.slice(34, 38)), 'img0');
  assert.equal(data.length, 38 + 4 + 4);
  assert.equal(view.getUint32(data.length - 4, true), crc32(data, 0, data.length - 4));
});

test('sizes are optional, and any u32 survives', () => {
  assert.equal(codefile.fromBytes(codefile.toBytes(sampleFile('float32', 2, false))).originalSizes, null);
  const file = { ...sampleFile('float16', 2), originalSizes: [[0, 2 ** 32 - 1], [2 ** 31, 1]] };
  assert.deepEqual(codefile.fromBytes(codefile.toBytes(file)).originalSizes, file.originalSizes);
});

test('names keep a byte-order mark, astral characters and the empty name', () => {
  const file = { ...sampleFile('uint8', 3), names: ['\ufeffbom', '𝟘 digit', ''] };
  assert.deepEqual(codefile.fromBytes(codefile.toBytes(file)).names, file.names);
});

test('uint8 quantisation: half a step at most, a dead dimension kept at its minimum', () => {
  const z = Float32Array.from({ length: 400 }, (_, i) => Math.fround(((i * 7919) % 1000) / 1000 * [1, 2, 4, 0][i % 4]));
  const back = codefile.dequantize(codefile.quantize(z, 'uint8', BINDING), 'uint8', BINDING);
  back.forEach((value, i) => assert.ok(Math.abs(value - z[i]) <= [1, 2, 4, 0][i % 4] / 255 / 2 + 1e-6));
  assert.deepEqual(codefile.uint8Scale(Z_MIN, Z_MAX), Float32Array.of(1 / 255, 2 / 255, 4 / 255, 1));
});

test('uint8 quantisation rounds half to even and clips, as numpy', () => {
  const unit = codefile.binding('ae', '0123456789abcdef', [0], [255]); // scale 1: z is q
  const q = codefile.quantize(Float32Array.of(0.5, 1.5, 2.5, 254.5, 300, -3, NaN), 'uint8', unit);
  assert.deepEqual([...q], [0, 2, 2, 254, 255, 0, 0]);
  assert.deepEqual([rint(-0.5), rint(-1.5), rint(2.4999), rint(3)], [-0, -2, 2, 3]);
});

test('float16 rounds half to even, overflows to inf, keeps subnormals', () => {
  assert.equal(toHalfBits(1), 0x3c00);
  assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00); // a tie: to even
  assert.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(toHalfBits(65520), 0x7c00);
  assert.equal(toHalfBits(-(2 ** -24)), 0x8001);
  assert.equal(toHalfBits(2 ** -26), 0);
  assert.equal(fromHalfBits(0x7bff), 65504);
  assert.equal(fromHalfBits(0x0001), 2 ** -24);
});

test('wrong magic, empty file', () => {
  expect(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Uint8Array(40)), 'not an aeonnx code file');
  expect(new Uint8Array(0), 'not an aeonnx code file (wrong magic bytes)');
});

test('unsupported version', () => {
  const data = codefile.toBytes(sampleFile());
  data[4] = 9;
  expect(data, 'unsupported code file format version 9 (this aeonnx reads versions 1, 2)');
});

test('truncated', () => {
  const data = codefile.toBytes(sampleFile());
  expect(data.slice(0, 4), 'truncated code file: no format version');
  for (const keep of [5, 10, 30, 40, data.length - 10, data.length - 1]) expect(data.slice(0, keep), 'truncated code file');
});

test('a flipped payload bit is corrupt', () => {
  const data = codefile.toBytes(sampleFile());
  data[data.length - 6] ^= 0x10;
  expect(data, 'corrupt code file: CRC32 mismatch');
});

test('an absurd count is refused before allocating', () => {
  const data = body(codefile.toBytes(sampleFile()));
  new DataView(data.buffer).setUint32(28, 2 ** 32 - 1, true);
  expect(withCrc(data), '4,294,967,295 codes, over the limit of 1,000,000 a file (raise it with --max-codes)');
  expect(withCrc(data), 'truncated code file: it declares 4294967295 codes but holds too few bytes', { maxCodes: Infinity });
});

test('unknown precision and flags, bad lengths, bad model id', () => {
  const cases = [
    [5, 7, 'unknown precision code 7'], [6, 0x80, 'unknown flags 0x80'], [6, 0x03, 'unknown flags 0x03'],
    [7, 0, 'bad model name length 0'], [7, 33, 'bad model name length 33'],
    [12, 0x41, 'corrupt code file: the model id is not 16 lowercase hex digits'],
    [10, 0xff, 'corrupt code file: model id is not valid ascii'],
    [8, 0xc3, 'corrupt code file: model name is not valid ascii'],
  ];
  for (const [offset, value, message] of cases) {
    const data = body(codefile.toBytes(sampleFile()));
    data[offset] = value;
    expect(withCrc(data), message);
  }
  const zeroLatent = body(codefile.toBytes(sampleFile()));
  zeroLatent[26] = 0;
  expect(withCrc(zeroLatent), 'bad latent size 0');
});

test('trailing bytes, bad UTF-8 and duplicate names are corrupt', () => {
  const data = codefile.toBytes(sampleFile());
  expect(withCrc(Uint8Array.of(...body(data), 1, 2, 3, 4, 5)), 'corrupt code file: 5 unexpected bytes before the CRC');
  const badName = body(data);
  badName[34 + 2] = 0xff; // inside "img0"
  expect(withCrc(badName), 'corrupt code file: name is not valid utf-8');
  const duplicate = body(data);
  duplicate[34 + 4 + 2 + 3] = '0'.charCodeAt(0); // "img1" -> "img0"
  expect(withCrc(duplicate), 'corrupt code file: duplicate names');
});

test('the writer refuses what the reader would, and bad arguments, with one line', () => {
  const bad = [
    [{ precision: 'float64' }, "unknown precision 'float64'; choose one of: float32, float16, uint8"],
    [{ precision: 6 }, "unknown precision 6; choose one of: float32, float16, uint8"],
    [{ model: '' }, "bad model name '' or id '0123456789abcdef'"],
    [{ model: 'x'.repeat(33) }, 'bad model name'],
    [{ modelId: '0123456789ABCDEF' }, 'bad model name'],
    [{ names: ['one'] }, 'do not fit 1 names'],
    [{ latentSize: 0 }, 'do not fit'],
    [{ latentSize: 4097, codes: new Float32Array(3 * 4097) }, 'do not fit'],
    [{ names: ['a', 'a', 'b'] }, 'duplicate names'],
    [{ names: ['a', 'b', 'x'.repeat(70000)] }, 'name too long (70000 bytes)'],
    [{ codes: new Float64Array(12) }, 'float32 codes must be a Float32Array'],
    [{ originalSizes: [[1, 2], [3, -4], [5, 6]] }, 'original sizes must be 3 [width, height] pairs'],
    [{ originalSizes: [[1, 2]] }, 'original sizes must be 3'],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => codefile.toBytes({ ...sampleFile(), ...change }),
      (e) => e instanceof CodeFileError && e.message.includes(message) && !e.message.includes('\n'), message);
  }
  assert.throws(() => codefile.toBytes(sampleFile(), { version: 3 }), /unsupported code file format version 3/);
  assert.throws(() => codefile.toBytes(sampleFile('uint8'), { version: 2 }),
    (e) => e instanceof CodeFileError && e.message === "cannot write 'uint8' codes as they are; quantise them with pack()");
});

test('pack and latents: latents to bytes and back for one model, another model\'s codes refused', () => {
  const z = Float32Array.of(0.5, 1, 2, 7, 0, 2, 4, 0);
  for (const precision of [...codefile.PRECISIONS, 'uint8']) {
    const data = codefile.pack(z, precision, PRIORED, ['a', 'b'], [[1, 2], [3, 4]]);
    const read = codefile.fromBytes(data);
    assert.equal(read.version, 2);
    const back = codefile.latents(read, PRIORED);
    const bits = codefile.checkPrecision(precision);
    // Half a B-bit step (a dead dimension's step is 1), half a float16 ulp at 4, float32 exact.
    const step = (i) => (typeof bits === 'number' ? ([1, 2, 4, 0][i % 4] || 2 ** bits - 1) / (2 ** bits - 1) / 2
      : bits === 'float16' ? 2 ** -9 : 0);
    back.forEach((v, i) => assert.ok(Math.abs(v - z[i]) <= step(i) + 1e-6, `${precision} ${i}: ${v} for ${z[i]}`));
  }
  const other = codefile.binding('ae', 'ffffffffffffffff', Z_MIN, Z_MAX);
  assert.throws(() => codefile.latents(codefile.fromBytes(codefile.pack(z, 'float16', other, ['a', 'b'])), PRIORED),
    (e) => e instanceof CodeFileError && e.message.startsWith(
      'this code was made by model ae ffffffffffffffff, but the loaded model is ae 0123456789abcdef'));
  assert.throws(() => codefile.pack(z, 'int4', PRIORED, ['a', 'b']),
    (e) => e instanceof DataError && e.message === "unknown precision 'int4'; choose float32, float16, uint8, bits 4-8 or quality q1-q8");
});
