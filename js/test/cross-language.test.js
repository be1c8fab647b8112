// Python and JavaScript read each other's .aez files: files made by aeonnx (every precision, single and
// container, with original sizes) decode in JavaScript to Python's pixels, and files made here decode in
// Python to the same codes and pixels. The Python side is test/python_side.py, run with aeonnx's Python
// (AEONNX_PYTHON, default ../.venv/bin/python); on real MNIST test digits when the data set is there.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import * as codefile from '../codefile.js';
import { load } from '../model.js';
import { Xoshiro128 } from '../random.js';
import {
  ARTIFACTS, comparePixels, makeTemporaryFolder, percent, runPython, sameBytes, withCrc,
} from './helpers.js';

const bytesOf = (folder, file) => new Uint8Array(readFileSync(path.join(folder, file)));
const codeBytes = (codes) => new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength);

describe('Python <-> JavaScript', () => {
  const models = {};
  let pyFolder, jsFolder, index, digits;

  before(async () => {
    [pyFolder, jsFolder] = [makeTemporaryFolder(), makeTemporaryFolder()];
    runPython('write', pyFolder);
    index = JSON.parse(readFileSync(path.join(pyFolder, 'index.json'), 'utf8'));
    digits = bytesOf(pyFolder, 'digits.u8');
    for (const name of ['ae', 'vae']) models[name] = await load(ort, ARTIFACTS, { model: name });
  });
  after(async () => {
    for (const model of Object.values(models)) await model.release();
    for (const folder of [pyFolder, jsFolder]) rmSync(folder, { recursive: true, force: true });
  });

  test('files written by Python read and decode in JavaScript to Python\'s pixels', async (t) => {
    for (const entry of index.files) {
      const data = bytesOf(pyFolder, `${entry.stem}.aez`);
      const read = codefile.fromBytes(data);
      assert.deepEqual([read.model, read.modelId, read.precision, read.names, read.originalSizes],
        [entry.model, entry.model_id, entry.precision, entry.names, entry.original_sizes], entry.stem);
      sameBytes(codefile.toBytes(read), data, `${entry.stem} written again by JavaScript`);
      const { images } = await models[entry.model].decompress(data);
      const { exact, maxDiff } = comparePixels(images, bytesOf(pyFolder, `${entry.stem}.pixels.u8`));
      t.diagnostic(`${entry.stem}: ${read.names.length} digits, ${percent(exact)} of pixels equal, max diff ${maxDiff}`);
      assert.ok(maxDiff <= 1, `${entry.stem}: max diff ${maxDiff} grey levels`);
    }
  });

  test('JavaScript\'s encoder gives Python\'s codes', async (t) => {
    for (const name of ['ae', 'vae']) {
      const model = models[name];
      const z = await model.encode(digits);
      const zPython = new Float32Array(bytesOf(pyFolder, `${name}.z.f32`).buffer);
      const maxDiff = z.reduce((m, v, i) => Math.max(m, Math.abs(v - zPython[i])), 0);
      for (const precision of codefile.PRECISIONS) {
        const ours = codeBytes(codefile.quantize(z, precision, model.binding));
        const theirs = codeBytes(codefile.fromBytes(bytesOf(pyFolder, `${name}-${precision}.aez`)).codes);
        const equal = ours.filter((b, i) => b === theirs[i]).length / ours.length;
        t.diagnostic(`${name} ${precision}: ${percent(equal)} of code bytes equal Python's (float max abs diff ${maxDiff})`);
      }
      assert.ok(maxDiff <= 1e-4 * Math.max(...zPython.map(Math.abs)), `${name}: z drifts by ${maxDiff}`);
    }
  });

  test('files written by JavaScript decode in Python to the same codes and pixels', async (t) => {
    const names = Array.from({ length: digits.length / 784 }, (_, i) => `js/${String(i).padStart(5, '0')} ✓`);
    const sizes = names.map((_, i) => [i, 2 ** 32 - 1 - i]);
    const made = {};
    for (const name of ['ae', 'vae']) {
      for (const precision of codefile.PRECISIONS) {
        made[`${name}-${precision}`] = await models[name].compress(digits, { precision, names, originalSizes: sizes });
        made[`${name}-${precision}-single`] = await models[name].compress(digits.subarray(0, 784), { precision });
      }
    }
    made.foreign = codefile.toBytes({ model: 'ae', modelId: 'ffffffffffffffff', precision: 'uint8', latentSize: 32,
      codes: new Uint8Array(32), names: ['x'] });
    for (const [stem, data] of Object.entries(made)) writeFileSync(path.join(jsFolder, `${stem}.aez`), data);
    runPython('read', jsFolder);
    const report = JSON.parse(readFileSync(path.join(jsFolder, 'read.json'), 'utf8'));
    assert.match(report.foreign.decode_error, /^this code was made by model ae ffffffffffffffff, but the loaded model is ae [0-9a-f]{16}/);
    delete made.foreign;
    for (const [stem, data] of Object.entries(made)) {
      const ours = codefile.fromBytes(data), theirs = report[stem];
      assert.deepEqual([theirs.model, theirs.model_id, theirs.precision, theirs.names, theirs.original_sizes],
        [ours.model, ours.modelId, ours.precision, ours.names, ours.originalSizes], stem);
      sameBytes(bytesOf(jsFolder, `${stem}.py-codes.bin`), codeBytes(ours.codes), `${stem}: codes as Python reads them`);
      const { images } = await models[ours.model].decompress(data);
      const { exact, maxDiff } = comparePixels(images, bytesOf(jsFolder, `${stem}.py-pixels.u8`));
      t.diagnostic(`${stem}: Python decodes ${percent(exact)} of pixels as JavaScript does, max diff ${maxDiff}`);
      assert.ok(maxDiff <= 1, `${stem}: max diff ${maxDiff}`);
    }
  });

  test('damaged files get the same one-line error in both languages', async () => {
    const generator = new Xoshiro128(11);
    const rng = () => generator.uniform() * (1 - 2 ** -53); // in [0, 1)
    const good = bytesOf(pyFolder, 'ae-uint8-single.aez');
    const damaged = { truncated: good.subarray(0, 40), magic: Uint8Array.of(1, 2, 3, 4, 5), empty: new Uint8Array(0) };
    for (let i = 0; i < 300; i++) {
      const body = good.slice(0, -4);
      // Any header byte but the version's (4): version 1's checks are compared, not which versions each reads.
      body[5 + Math.floor(rng() * Math.min(body.length - 5, 35))] = Math.floor(rng() * 256);
      damaged[`header-${i}`] = withCrc(body);
      damaged[`flip-${i}`] = good.map((b, k) => (k === Math.floor(rng() * good.length) ? b ^ 0x10 : b));
      damaged[`cut-${i}`] = good.subarray(0, Math.floor(rng() * good.length));
    }
    for (const [stem, data] of Object.entries(damaged)) writeFileSync(path.join(jsFolder, `d-${stem}.aez`), data);
    runPython('read', jsFolder);
    const report = JSON.parse(readFileSync(path.join(jsFolder, 'read.json'), 'utf8'));
    let errors = 0;
    for (const [stem, data] of Object.entries(damaged)) {
      let ours;
      try {
        ours = { ok: codefile.fromBytes(data).names };
      } catch (error) {
        ours = { error: error.message };
        errors++;
      }
      const theirs = report[`d-${stem}`];
      if (ours.error) assert.equal(ours.error, theirs.error, stem);
      else assert.deepEqual(ours.ok, theirs.names, stem);
    }
    assert.ok(errors > 600, `${errors} refused`);
  });
});
