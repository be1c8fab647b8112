// Format version 2 in JavaScript, from docs/FORMAT.md: the document's worked example byte for byte, varints,
// the names table, original sizes, precision choices, random access, and a distinct one-line error, in
// Python's words, for each kind of damage (tests/test_codefile.py's cases).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as codefile from '../codefile.js';
import { FrequencyTable, Priors } from '../entropy.js';
import { CodeFileError, DataError, ModelError } from '../errors.js';
import * as nametable from '../nametable.js';
import * as varint from '../varint.js';
import { goldenTable, priorsFor, withCrc } from './helpers.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (text) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const Z_MIN = Float32Array.of(0, 0, 0, 0), Z_MAX = Float32Array.of(1, 2, 4, 0);
const BINDING = codefile.binding('ae', '0123456789abcdef', Z_MIN, Z_MAX, { priors: priorsFor(Z_MIN, Z_MAX, 7), defaultBits: 6 });
const HEADER = [...codefile.MAGIC, 2]; // magic and version 2

// The structure's checks, whatever a file declares: the default limit of codes a file (MAX_CODES) is tested on its own.
function expect(data, message, reading = { maxCodes: Infinity }) {
  assert.throws(() => codefile.fromBytes(data, reading), (error) => {
    assert.ok(error instanceof CodeFileError, `${error.name}: ${error.message}`);
    assert.ok(error.message.includes(message), `${error.message} (expected: ${message})`);
    assert.ok(!error.message.includes('\n'));
    return true;
  });
}

// --- the document's example ----------------------------------------------------------------------------

test('FORMAT.md\'s example file, byte for byte (71 bytes, CRC f2586cbf)', () => {
  const golden = codefile.binding('ae', '0123456789abcdef', new Float32Array(6), new Float32Array(6).fill(15),
    { priors: new Priors([[4, goldenTable()]]), defaultBits: 4 });
  const values = Uint8Array.of(9, 6, 8, 8, 9, 4, 4, 5, 6, 7, 8, 0, 0, 1, 2, 3, 4, 5, 15, 15, 15, 15, 15, 15);
  const names = ['scan_000009', 'scan_000010', 'scan_000011', 'scan_x'];
  const sizes = [[28, 28], [300, 2], [28, 28], [28, 28]];
  const data = codefile.packCodes(values, 4, golden, names, sizes);
  const documented = `41455a1a 02 04 03 02 6165 0123456789abcdef 06  d3c95d fab77f57fcf7fde7 3098500105080558
    04 03 00 08  01 0b 7363616e5f303030303039 00 02 06 01 78  00 ac02 02 00 00  1c  bf6c58f2`;
  assert.equal(hex(data), hex(fromHex(documented)));
  assert.equal(data.length, 71);
  const read = codefile.fromBytes(data);
  assert.deepEqual([read.names, read.originalSizes, read.precision, [...read.coded.lengths]], [names, sizes, 4, [3, 0, 8, 8]]);
  assert.deepEqual(codefile.storedValues(read, golden), values);
  assert.deepEqual(codefile.latents(read, golden), Float32Array.from(values)); // range 0-15 at 4 bits: z = q
});

test('the header as FORMAT.md lays it out (a float16 code)', () => {
  const data = codefile.pack(new Float32Array(4), 'float16', BINDING);
  assert.equal(hex(data.subarray(0, 19)), '41455a1a02010002616501234567' + '89abcdef04');
  assert.equal(hex(data.subarray(19, 29)), '0000000000000000' + '0101'); // 4 float16 zeros; index: N = 1, length 1
  assert.equal(data.length, 33);
});

test('issue 34: a model of your own stores original sizes only where one differs from its own (Python\'s bytes)', () => {
  const yours = codefile.binding('scans32', '0123456789abcdef', new Float32Array(2), Float32Array.of(1, 1),
    { imageShape: [32, 32, 1] });
  const z = Float32Array.of(1, 0, 0, 1);
  const own = codefile.pack(z, 'float16', yours, null, [[32, 32], [32, 32]]);
  assert.equal(hex(own), hex(codefile.pack(z, 'float16', yours)));
  assert.equal(codefile.fromBytes(own).originalSizes, null);
  const odd = codefile.pack(z, 'float16', yours, null, [[32, 32], [28, 28]]);
  assert.equal(hex(odd), '41455a1a020105077363616e7333320123456789abcdef0203202001003c00000000003c022020000492b9af4e');
  assert.deepEqual(codefile.fromBytes(odd).originalSizes, [[32, 32], [28, 28]]);
});

test('a model of your own\'s file records its image shape (FORMAT.md, 38 bytes)', () => {
  const yours = codefile.binding('scans32', '0123456789abcdef', new Float32Array(2), Float32Array.of(1, 1),
    { imageShape: [32, 32, 1] });
  const data = codefile.pack(Float32Array.of(1, 0), 'float16', yours);
  const documented = '41455a1a 02 01 04 07 7363616e733332 0123456789abcdef 02 03 20 20 01  003c0000  01 01  165f71dc';
  assert.equal(hex(data), hex(fromHex(documented)));
  const read = codefile.fromBytes(data);
  assert.deepEqual(read.imageShape, [32, 32, 1]);
  assert.equal(hex(codefile.toBytes(read)), hex(data));
  assert.deepEqual(codefile.latents(read, yours), Float32Array.of(1, 0));
  const other = codefile.binding('scans32', '0123456789abcdef', new Float32Array(2), Float32Array.of(1, 1),
    { imageShape: [28, 28, 1] });
  assert.throws(() => codefile.latents(read, other),
    (e) => e instanceof CodeFileError && e.message === 'the codes are of inputs of (32, 32, 1); the model takes inputs of (28, 28, 1)');
  assert.equal(codefile.fromBytes(codefile.pack(new Float32Array(4), 'float16', BINDING)).imageShape, null);
  expect(withCrc(fromHex(documented.slice(0, -8).replace('03 20 20 01', '00'))), 'bad image shape: 0 dimensions');
  expect(withCrc(fromHex(documented.slice(0, -8).replace('03 20 20 01', '01 00'))), 'bad image shape (0,)');
});

// --- varints --------------------------------------------------------------------------------------------
test('varints: LEB128, shortest form, at most 2^53 - 1, and the backwards form', () => {
  for (const [value, bytes] of [[0, '00'], [127, '7f'], [128, '8001'], [300, 'ac02'], [2 ** 53 - 1, 'ffffffffffffff0f']]) {
    assert.equal(hex(varint.encode(value)), bytes);
    assert.equal(new varint.Reader(fromHex(bytes), 0, bytes.length / 2).varint('x'), value);
    assert.equal(hex(varint.encodeBackwards(value)), hex(fromHex(bytes).reverse()));
    assert.deepEqual(varint.readBackwards(fromHex(bytes).reverse(), bytes.length / 2, 0, 'x'),
      { value, position: 0 });
  }
  const refused = [
    ['8000', 'x: a varint not in its shortest form'], ['80', 'x runs past the end of its section'],
    ['ffffffffffffffffff7f', 'x: 1180591620717411303423 is out of range'],
    ['8080808080808080808001', 'x: a varint longer than 10 bytes'], ['8080808080808080', 'x runs past the end of its section'],
    ['ffffffffffffff10', 'x: 9570149208162303 is out of range'], ['80808080808080808010', 'x: 147573952589676412928 is out of range'],
  ];
  for (const [bytes, message] of refused) {
    assert.throws(() => new varint.Reader(fromHex(bytes), 0, bytes.length / 2).varint('x'),
      (e) => e instanceof CodeFileError && e.message === `corrupt code file: ${message}`, bytes);
  }
  assert.throws(() => varint.encode(2 ** 53), CodeFileError);
});

test('many varints at once: counted before allocating, checked in Python\'s order', () => {
  const reader = (text) => new varint.Reader(fromHex(text), 0, text.length / 2);
  assert.deepEqual([...reader('03ac0200').varints(3, 'l', 300)], [3, 300, 0]);
  const cases = [
    ['0102', 3, 'l: 3 values run past the end of their section'],
    ['01', 2 ** 40, 'l: 1099511627776 values run past the end of their section'],
    ['0180000101', 3, 'l: a value is out of range or not in its shortest form'],
    ['01ad0201', 3, 'l: a value is larger than 300'],
  ];
  for (const [text, count, message] of cases) {
    assert.throws(() => reader(text).varints(count, 'l', 300), (e) => e.message === `corrupt code file: ${message}`, text);
  }
});

// --- names ------------------------------------------------------------------------------------------------
test('a counter run costs almost nothing: 1,000 names in 16 bytes', () => {
  const names = Array.from({ length: 1000 }, (_, i) => `scan_${String(i).padStart(6, '0')}`);
  assert.equal(hex(nametable.write(names)), `010b${hex(Buffer.from('scan_000000'))}00e707`);
});

for (const names of [
  Array.from({ length: 1000 }, (_, i) => `scan_${String(i).padStart(6, '0')}`),
  ['a/9', 'a/10', 'a/11', 'b/08', 'b/09', 'b/10', 'b/99', 'c'],
  ['digits/x_test/00041', 'digits/x_test/00042', 'digits/y/00000', '', 'é/日本語 1', 'é/日本語 2', '0', '1'],
  ['x1y', 'x2y', 'x3y', 'x03y', 'x04y'],
  ['\ufeffbom', '𝟘 digit', 'n'.repeat(1024), `${'9'.repeat(30)}0`, `${'9'.repeat(30)}1`, `${'1'.repeat(20)}`],
]) {
  test(`names round trip: ${names.slice(0, 3).map((n) => n.slice(0, 12)).join(', ')}...`, () => {
    const data = codefile.pack(new Float32Array(names.length * 4), 'float16', BINDING, names);
    assert.deepEqual(codefile.fromBytes(data).names, names);
  });
}

test('names the table cannot hold are refused by the writer, in one line', () => {
  const z = new Float32Array(8);
  const cases = [
    [['x'.repeat(1025), 'b'], 'cannot store a name: name too long (1025 bytes, at most 1024)'],
    [['a', 'a'], 'duplicate names: each code needs its own'],
    [['\ud800', 'b'], 'cannot store a name: it is not valid Unicode'],
    [['a'], '2 codes need 2 names'],
  ];
  for (const [names, message] of cases) {
    assert.throws(() => codefile.pack(z, 5, BINDING, names), (e) => e instanceof CodeFileError && e.message.startsWith(message), message);
  }
});

// --- original sizes, precision, random access -------------------------------------------------------------
test('original sizes: stored only where one differs from 28x28, 1 to 2^32 - 1', () => {
  const z = new Float32Array(12);
  const flags = (data) => codefile.fromBytes(data).originalSizes;
  assert.equal(flags(codefile.pack(z, 6, BINDING, null, [[28, 28], [28, 28], [28, 28]])), null);
  const sizes = [[28, 28], [2 ** 32 - 1, 1], [1, 2 ** 32 - 1]];
  assert.deepEqual(flags(codefile.pack(z, 6, BINDING, null, sizes)), sizes);
  for (const bad of [[[0, 5], [28, 28], [28, 28]], [[2 ** 32, 1], [1, 1], [1, 1]]]) {
    assert.throws(() => codefile.pack(z, 6, BINDING, null, bad), (e) => e.message === 'original sizes must be 1 to 4294967295 pixels');
  }
  assert.throws(() => codefile.pack(z, 6, BINDING, null, [[1, 1]]), (e) => e.message === '3 codes need 3 original sizes');
});

test('precision: auto is the model\'s default bits, uint8 is 8, bits override', () => {
  assert.equal(codefile.resolvePrecision('auto', BINDING), 6);
  assert.equal(codefile.resolvePrecision(null, BINDING, 4), 4);
  assert.equal(codefile.resolvePrecision('uint8', BINDING), 8);
  assert.equal(codefile.resolvePrecision('uint8', BINDING, 5), 5);
  assert.equal(codefile.resolvePrecision('float32', BINDING), 'float32');
  const without = codefile.binding('ae', '0123456789abcdef', Z_MIN, Z_MAX);
  assert.equal(codefile.resolvePrecision('auto', without), 'float16');
  assert.throws(() => codefile.resolvePrecision('float16', BINDING, 6), (e) => e instanceof DataError
    && e.message === 'bits 6 are for entropy-coded codes; they cannot go with precision float16');
  assert.throws(() => codefile.resolvePrecision(null, BINDING, 9), (e) => e.message === 'bits must be from 4 to 8, got 9');
  assert.throws(() => codefile.resolvePrecision('int4', BINDING), DataError);
  assert.throws(() => codefile.resolvePrecision(null, without, 6), (e) => e instanceof ModelError
    && e.message.startsWith('model ae 0123456789abcdef has no latent priors'));
  const data = codefile.pack(new Float32Array(8), 6, BINDING);
  assert.throws(() => codefile.latents(codefile.fromBytes(data), without), (e) => e instanceof CodeFileError
    && e.message.includes('no latent priors'));
  const only4 = codefile.binding('ae', '0123456789abcdef', Z_MIN, Z_MAX, { priors: new Priors([[4, BINDING.priors.table(4)]]) });
  assert.throws(() => codefile.latents(codefile.fromBytes(data), only4), (e) => e instanceof CodeFileError
    && e.message === 'model ae 0123456789abcdef: no 6-bit latent priors in this model (it has 4)');
  assert.equal(codefile.defaultPrecision(only4), 4); // no default bits: the most it has
});

test('each B quantises within half a step; 8 bits are version 1\'s uint8 codes', () => {
  const z = Float32Array.from({ length: 400 }, (_, i) => Math.fround(((i * 7919) % 1000) / 1000 * [1, 2, 4, 0][i % 4]));
  for (const bits of codefile.BITS) {
    const back = codefile.latents(codefile.fromBytes(codefile.pack(z, bits, BINDING)), BINDING);
    back.forEach((v, i) => assert.ok(Math.abs(v - z[i]) <= ([1, 2, 4, 0][i % 4] / (2 ** bits - 1)) / 2 + 1e-6));
  }
  assert.deepEqual(codefile.quantize(z, 8, BINDING), codefile.quantize(z, 'uint8', BINDING));
});

test('a file without names names its codes by number, and costs less', () => {
  const z = new Float32Array(12);
  const data = codefile.pack(z, 6, BINDING);
  assert.deepEqual(codefile.fromBytes(data).names, ['00000', '00001', '00002']);
  assert.ok(data.length < codefile.pack(z, 6, BINDING, ['a', 'b', 'c']).length);
  const named = codefile.fromBytes(codefile.pack(z, 6, BINDING, ['00000', '00001', '00002']));
  assert.equal(codefile.toBytes(named).length, codefile.pack(z, 6, BINDING, ['a', 'b', 'c']).length); // it said named
});

test('random access by name decodes only the codes asked for', () => {
  const z = Float32Array.from({ length: 300 * 4 }, (_, i) => ((i * 0.618) % 1) * [1, 2, 4, 0][i % 4]);
  const names = Array.from({ length: 300 }, (_, i) => `n${i}`);
  const read = codefile.fromBytes(codefile.pack(z, 5, BINDING, names));
  const one = codefile.take(read, codefile.find(read, ['n299', 'n7']));
  assert.deepEqual(one.names, ['n299', 'n7']);
  assert.equal(one.coded.body.length, one.coded.lengths[0] + one.coded.lengths[1]);
  const all = codefile.latents(read, BINDING);
  assert.deepEqual(codefile.latents(one, BINDING), Float32Array.of(...all.subarray(299 * 4, 300 * 4), ...all.subarray(28, 32)));
  assert.throws(() => codefile.find(read, ['n300']), /no code named 'n300'/);
});

// --- damage: one error each, one line, in Python's words ------------------------------------------------------
/** A version 2 file from its parts: kind, flags, L, body and index (hex or bytes), with its CRC. */
function v2File({ kind = 0, flags = 0, latent = 1, body = '', index = '00' }) {
  const indexBytes = typeof index === 'string' ? fromHex(index) : index;
  const bytes = [...HEADER, kind, flags, 2, 0x61, 0x65, ...new Uint8Array(8), ...varint.encode(latent),
    ...(typeof body === 'string' ? fromHex(body) : body), ...indexBytes, ...varint.encodeBackwards(indexBytes.length)];
  return withCrc(Uint8Array.from(bytes));
}

test('a valid minimal file, then each field made wrong', () => {
  assert.deepEqual(codefile.fromBytes(v2File({})).names, []);
  const cases = [
    [{ kind: 2 }, 'unknown precision code 2'], [{ kind: 9 }, 'unknown precision code 9'],
    [{ flags: 0x10 }, 'unknown flags 0x10'], [{ flags: 0x80 }, 'unknown flags 0x80'],
    [{ flags: 0x08 }, 'corrupt code file: a short frame holds an entropy-coded code, not float32'],
    [{ latent: 0 }, 'bad latent size 0'], [{ latent: 4097 }, 'bad latent size 4097'],
    [{ latent: 2 ** 53 - 1 }, 'bad latent size 9007199254740991'],
    [{ body: '0000' }, 'corrupt code file: 0 codes of 1 float32 values do not fill its 2 bytes of codes'],
    [{ index: '0100' }, 'corrupt code file: 1 codes of 1 float32 values do not fill its 0 bytes of codes'],
    [{ index: 'ffffffffffffff0f', body: '00000000' }, 'do not fill its 4 bytes'],
    [{ index: '8000' }, 'corrupt code file: code count: a varint not in its shortest form'],
    [{ index: '0000' }, 'corrupt code file: 1 unexpected bytes at the end of the index'],
    [{ kind: 6, body: '01' }, 'corrupt code file: no codes, but 1 bytes of them'],
    [{ kind: 6, index: '02', body: '0101' }, 'corrupt code file: code lengths: 1 values run past the end of their section'],
    [{ kind: 6, index: '0207', body: '01'.repeat(7) }, 'corrupt code file: code lengths: a value is larger than 6'],
    [{ kind: 6, index: '0201', body: '01'.repeat(8) }, 'corrupt code file: code lengths do not fit its 8 bytes of codes'],
    [{ kind: 6, index: `${hex(varint.encode(2 ** 40))}0101`, body: '' }, 'code lengths: 1099511627775 values run past'],
    [{ flags: 1, index: '01', body: '00000000' }, 'corrupt code file: original sizes run past the end of the index'],
    [{ flags: 1, index: '010500', body: '00000000' }, 'corrupt code file: original size 5x0 out of range'],
    [{ flags: 1, index: '0105808080801001', body: '00000000' }, 'original size 5x4294967296 out of range'],
  ];
  for (const [parts, message] of cases) expect(v2File(parts), message);
});

test('a file declaring more codes than the reader allows is refused from its header (issue 32)', () => {
  const declared = v2File({ kind: 6, index: `${hex(varint.encode(1_000_001))}0101`, body: '' });
  expect(declared, '1,000,001 codes, over the limit of 1,000,000 a file (raise it with --max-codes)', {});
  expect(v2File({ kind: 6, index: '0300', body: '0101' }), '3 codes, over the limit of 2 a file', { maxCodes: 2 });
  // A run of names is bounded by NAME_BYTES_PER_CODE bytes for each code allowed, whatever the file declares.
  const run = v2File({ flags: codefile.FLAG_NAMES, kind: 0, body: new Uint8Array(4 * 100).fill(0),
    index: `${hex(varint.encode(100))}01${hex(varint.encode(70))}${'61'.repeat(67)}303030${'00'}${hex(varint.encode(99))}` });
  expect(run, 'its names expand past the limit (raise it with --max-codes)', { maxCodes: 100 });
  assert.equal(codefile.fromBytes(run, { maxCodes: 1000 }).names.length, 100);
});

test('the index length is checked against the header', () => {
  const good = v2File({ index: '00' }).subarray(0, -4);
  const long = good.slice();
  long[long.length - 1] = 0x7f;
  expect(withCrc(long), 'corrupt code file: the index length runs into the header');
  const header = good.subarray(0, good.length - 2); // no index, no length: the header's L is read as one
  expect(withCrc(Uint8Array.of(...header, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81)),
    'corrupt code file: index length: a varint longer than 10 bytes');
});

test('hostile names tables (tests/test_codefile.py\'s cases)', () => {
  const cases = [
    ['0201000001', 'names table: a run after a name without digits'],
    ['02010161010161', 'corrupt code file: duplicate names'],
    ['020101ff010161', 'corrupt code file: a name is not valid UTF-8'],
    ['020101390001', "names table: a run overflows its counter's width"],
    ['020101310005', 'names table: a run of 5 names where 1 are left'],
    ['02050161010161', 'names table: a name shares more bytes than the name before has'],
    ['02010161010562', 'names table runs past the end of its section'],
    ['028000', 'names table: a varint not in its shortest form'],
    [`0201${hex(varint.encode(1025))}`, 'names table: a name longer than 1024 bytes'],
    [`0201013100${hex(varint.encode(2 ** 53 - 1))}`, 'a run of 9007199254740991 names where 1 are left'],
    [`0201${hex(varint.encode(2 ** 53 - 1))}`, 'names table: a name longer than 1024 bytes'],
    [`02${hex(varint.encode(2 ** 53 - 1))}`, 'a name shares more bytes than the name before has'],
  ];
  for (const [index, message] of cases) {
    expect(v2File({ flags: codefile.FLAG_NAMES, latent: 1, body: '0000000000000000', index }), message);
  }
  // A run of a 40-digit counter: exact beyond 2^53.
  const counter = `${'9'.repeat(39)}7`;
  const index = [2, 1, ...varint.encode(41), ...Buffer.from(`n${counter}`), 0, 1];
  const read = codefile.fromBytes(v2File({ flags: codefile.FLAG_NAMES, body: new Uint8Array(8), index: Uint8Array.from(index) }));
  assert.deepEqual(read.names, [`n${counter}`, `n${'9'.repeat(39)}8`]);
  const over = [2, 1, ...varint.encode(41), ...Buffer.from(`n${'9'.repeat(40)}`), 0, 1];
  expect(v2File({ flags: codefile.FLAG_NAMES, body: new Uint8Array(8), index: Uint8Array.from(over) }), 'overflows');
});

test('an entropy-coded code the encoder could not have made is corrupt, naming it', () => {
  const z = new Float32Array(12);
  const read = codefile.fromBytes(codefile.pack(z, 6, BINDING, ['a', 'b', 'c']));
  const lengths = [...read.coded.lengths];
  // A code ending in a zero top byte is not in the fewest bytes: code 1 becomes its bytes plus 00 00.
  const forged = { ...read, coded: { body: Uint8Array.of(...read.coded.body.subarray(0, lengths[0] + lengths[1]), 0, ...read.coded.body.subarray(lengths[0] + lengths[1])),
    lengths: Int32Array.of(lengths[0], lengths[1] + 1, lengths[2]) } };
  const data = codefile.toBytes(forged);
  assert.throws(() => codefile.latents(codefile.fromBytes(data), BINDING), (e) => e instanceof CodeFileError
    && /^corrupt code file: latent code 1 is corrupt \(1 of 3 bad\)$/.test(e.message));
});

test('the writer refuses what it cannot write, in one line', () => {
  const good = { version: 2, model: 'ae', modelId: '0123456789abcdef', precision: 'float32', latentSize: 4,
    codes: new Float32Array(8), coded: null, names: ['a', 'b'] };
  const bad = [
    [{ precision: 'uint8', codes: new Uint8Array(8) }, "cannot write 'uint8' codes as they are; quantise them with pack()"],
    [{ precision: 6 }, 'cannot write 6 codes as they are'],
    [{ names: ['a'] }, '2 codes do not fit 1 names'],
    [{ model: 'é' }, "bad model name 'é' or id '0123456789abcdef'"],
    [{ latentSize: 4097, codes: new Float32Array(4097 * 2) }, 'bad latent size 4097'],
    [{ codes: new Float64Array(8) }, 'float32 codes must be a Float32Array'],
  ];
  for (const [change, message] of bad) {
    assert.throws(() => codefile.toBytes({ ...good, ...change }), (e) => e instanceof CodeFileError && e.message.startsWith(message), message);
  }
});
