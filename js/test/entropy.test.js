// The entropy coder (entropy.js), written from docs/FORMAT.md: the document's golden frequencies and codes;
// Python's tables and codes on 60 seeded random priors (every B, precisions 8-16); the spread's order; the
// priors in the shipped models' sidecars; and a decoder that, on any bytes, answers in L steps and accepts
// only what the encoder makes.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as entropy from '../entropy.js';
import { ModelError } from '../errors.js';
import { Xoshiro128 } from '../random.js';
import * as spec from '../spec.js';
import { ARTIFACTS, GOLDEN_COUNTS, goldenTable, makeTemporaryFolder, runPython } from './helpers.js';

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const GOLDEN_CODES = [ // FORMAT.md, "Decoding one code"
  [[4, 5, 6, 7, 8, 0], ''], [[4, 5, 6, 7, 8, 15], 'ad'], [[9, 6, 8, 8, 9, 4], 'd3c95d'],
  [[9, 7, 4, 2, 11, 11], '037c6e5ef4'], [[2, 9, 3, 14, 7, 1], 'd0e2ab2afd47'], [[0, 14, 10, 9, 3, 7], 'fa870204a80148'],
  [[0, 1, 2, 3, 4, 5], 'fab77f57fcf7fde7'], [[15, 15, 15, 15, 15, 15], '3098500105080558'],
];

/** The codes of `body` split by `lengths`, as hex. */
const split = (body, lengths) => {
  let at = 0;
  return Array.from(lengths, (length) => hex(body.subarray(at, (at += length))));
};

test('frequencies: FORMAT.md\'s golden example, and no counts share evenly', () => {
  assert.deepEqual([...entropy.quantizeFrequencies(GOLDEN_COUNTS, 12)],
    [1, 1, 105, 357, 2512, 838, 64, 1, 1, 22, 1, 1, 1, 1, 1, 189]);
  assert.deepEqual([...entropy.quantizeFrequencies(new Array(16).fill(0), 12)], new Array(16).fill(256));
  assert.deepEqual([...entropy.quantizeFrequencies(new Array(256).fill(0), 8)], new Array(256).fill(1));
  const big = entropy.quantizeFrequencies([2 ** 36 - 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 16);
  assert.equal(big.reduce((a, b) => a + b, 0), 2 ** 16);
  for (const [counts, precision] of [[[-1, ...new Array(15).fill(0)], 12], [[2 ** 36, ...new Array(15).fill(0)], 12],
    [new Array(512).fill(1), 8], [new Array(16).fill(1), 17], [new Array(16).fill(1), 7]]) {
    assert.throws(() => entropy.quantizeFrequencies(counts, precision), RangeError);
  }
});

test('golden codes encode and decode as FORMAT.md lists them', () => {
  const table = goldenTable();
  const values = Uint8Array.from(GOLDEN_CODES.flatMap(([v]) => v));
  const { body, lengths } = entropy.encode(values, table);
  assert.deepEqual(split(body, lengths), GOLDEN_CODES.map(([, code]) => code));
  assert.deepEqual(entropy.decode(body, lengths, table), values);
});

test('the spread: slots sorted by (2k + 1) / f, then symbol; a symbol\'s slots increase with k', () => {
  const table = goldenTable();
  const { owner, rank, slotOf, starts } = table.slots();
  const M = 4096;
  for (let d = 0; d < table.latentSize; d++) {
    const f = table.frequencies.subarray(d * 16, d * 16 + 16);
    for (let j = 1; j < M; j++) {
      const [s, k, t, l] = [owner[d * M + j - 1], rank[d * M + j - 1], owner[d * M + j], rank[d * M + j]];
      const order = (2 * k + 1) / f[s] - (2 * l + 1) / f[t] || s - t;
      assert.ok(order < 0, `dimension ${d}, slots ${j - 1} and ${j}`);
    }
    for (let s = 0; s < 16; s++) {
      for (let k = 0; k < f[s]; k++) {
        const slot = slotOf[d * M + starts[d * 16 + s] + k];
        assert.deepEqual([owner[d * M + slot], rank[d * M + slot]], [s, k]);
      }
    }
  }
});

describe('against Python\'s coder', () => {
  let folder, cases;
  before(() => {
    folder = makeTemporaryFolder();
    runPython('entropy', folder);
    cases = JSON.parse(readFileSync(path.join(folder, 'entropy.json'), 'utf8'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('60 seeded priors: the same frequencies, the same code bytes, the same symbols back', (t) => {
    let codes = 0, bytes = 0;
    for (const [i, c] of cases.entries()) {
      const table = entropy.FrequencyTable.fromHistograms(c.counts, c.precision);
      assert.deepEqual([...table.frequencies], c.frequencies.flat(), `case ${i}: frequencies`);
      const { body, lengths } = entropy.encode(Uint8Array.from(c.symbols), table);
      assert.equal(hex(body), c.payload, `case ${i} (B ${c.bits}, n ${c.precision}): code bytes`);
      assert.deepEqual([...lengths], c.lengths, `case ${i}: lengths`);
      assert.deepEqual([...entropy.decode(body, lengths, table)], c.symbols, `case ${i}: decoded`);
      codes += lengths.length, bytes += body.length;
    }
    t.diagnostic(`${codes} codes, ${bytes} bytes: every byte equal to Python's`);
  });
});

test('the shipped models\' priors, from their sidecars: every B, rows summing to 2^12', () => {
  for (const file of ['ae_encoder.json', 'ae_decoder.json', 'vae_generator.json']) {
    const metadata = JSON.parse(readFileSync(path.join(ARTIFACTS, file), 'utf8')).metadata_props;
    const size = Number(metadata[spec.META_LATENT_SIZE]);
    const priors = entropy.Priors.fromMetadata(metadata[spec.META_LATENT_PRIORS], size);
    assert.deepEqual([priors.bits, priors.precision, priors.latentSize], [[4, 5, 6, 7, 8], 12, size], file);
  }
});

test('priors that do not fit are a ModelError in one line', () => {
  const good = { coder: 'rans32-16', precision: 12, latent_size: 1,
    frequencies: { 4: Buffer.from(new Uint16Array(16).fill(256).buffer).toString('base64') } };
  assert.equal(entropy.Priors.fromMetadata(JSON.stringify(good), 1).bits[0], 4);
  const bad = [
    ['{', null], [JSON.stringify({ ...good, coder: 'tans' }), 'coder'], [JSON.stringify(good), 'latent size 1, the model\'s is 2', 2],
    [JSON.stringify({ ...good, frequencies: { 9: good.frequencies[4] } }), "no table for '9' bits"],
    [JSON.stringify({ ...good, frequencies: { 4: 'AAAA' } }), 'has 3 bytes, not 32'],
    [JSON.stringify({ ...good, frequencies: { 4: `${good.frequencies[4].slice(0, -4)}!!!!` } }), 'not standard base64'],
    [JSON.stringify({ ...good, frequencies: { 4: Buffer.from(new Uint16Array(16).fill(255).buffer).toString('base64') } }), 'sum to 2^12'],
    [JSON.stringify({ ...good, precision: 20 }), 'precision must be 8-16'], [JSON.stringify({ ...good, frequencies: {} }), 'no frequency tables'],
    ['null', 'coder'], ['[]', 'coder'],
  ];
  for (const [text, fragment, size = 1] of bad) {
    assert.throws(() => entropy.Priors.fromMetadata(text, size), (e) => e instanceof ModelError
      && e.message.startsWith('unreadable latent priors in the model metadata: ') && !e.message.includes('\n')
      && (fragment === null || e.message.includes(fragment)), `${text.slice(0, 40)}: ${fragment}`);
  }
});

test('any bytes: the decoder answers in L steps, and accepts only codes that re-encode to themselves', () => {
  const rng = new Xoshiro128(21);
  const table = goldenTable();
  let accepted = 0;
  const out = new Uint8Array(table.latentSize);
  for (let i = 0; i < 200_000; i++) {
    const length = rng.next() % (entropy.maxCodeBytes(table.latentSize) + 1);
    const code = Uint8Array.from({ length }, () => rng.next() & 0xff);
    if (!entropy.decodeOne(code, 0, length, table, out, 0)) continue;
    accepted++;
    assert.equal(hex(entropy.encode(out, table).body), hex(code));
  }
  assert.ok(accepted > 1000, `${accepted} accepted`);
  assert.throws(() => entropy.decode(Uint8Array.of(1, 2), Int32Array.of(1), table), entropy.EntropyCodeError);
  assert.throws(() => entropy.decode(new Uint8Array(17), Int32Array.of(17), table), /out of range \(0 to 16 bytes/);
  assert.throws(() => entropy.encode(Uint8Array.of(16, 0, 0, 0, 0, 0), table), /symbols must lie in 0..15/);
});
