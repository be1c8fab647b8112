// Python and JavaScript read each other's .aez files: files made by aeonnx now (format version 2, every
// precision and the default, single files and containers with names and original sizes) decode in
// JavaScript to Python's pixels, and JavaScript writes the very same bytes from the same latents; files made
// here (version 2, and version 1) decode in Python to the same codes and pixels; damaged files get the same
// one-line error in both. The Python side is test/python_side.py, run with aeonnx's Python (AEONNX_PYTHON,
// default ../.venv/bin/python); on real MNIST test digits when the data set is there.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import * as codefile from '../codefile.js';
import { load } from '../model.js';
import { Xoshiro128 } from '../random.js';
import {
  ARTIFACTS, FIXTURES_V1, comparePixels, makeTemporaryFolder, percent, runPython, sameBytes, withCrc,
} from './helpers.js';

const bytesOf = (folder, file) => new Uint8Array(readFileSync(path.join(folder, file)));
const codeBytes = (codes) => new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength);
const sameArrays = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

describe('Python <-> JavaScript', () => {
  const models = {};
  let pyFolder, jsFolder, index, digits;

  before(async () => {
    [pyFolder, jsFolder] = [makeTemporaryFolder(), makeTemporaryFolder()];
    runPython('write', pyFolder);
    index = JSON.parse(readFileSync(path.join(pyFolder, 'index.json'), 'utf8'));
    digits = bytesOf(pyFolder, 'digits.u8');
    for (const name of ['ae', 'vae', 'conv']) models[name] = await load(ort, ARTIFACTS, { model: name }); // every shipped model
  });
  after(async () => {
    for (const model of Object.values(models)) await model.release();
    for (const folder of [pyFolder, jsFolder]) rmSync(folder, { recursive: true, force: true });
  });

  /** A short-frame file named by the loaded model its id prefix fits (as the models folder names it). */
  const completed = (file) => Object.values(models).reduce(
    (named, model) => codefile.complete(named, model.name, model.modelId, model.latentSize, model.binding.imageShape ?? null), file);

  test('files written by Python read and decode in JavaScript to Python\'s pixels', async (t) => {
    let equal = 0, total = 0, worst = 0;
    for (const entry of index.files) {
      const data = bytesOf(pyFolder, `${entry.stem}.aez`);
      const read = completed(codefile.fromBytes(data));
      assert.equal(codefile.isShort(codefile.fromBytes(data)), entry.stem.endsWith('-single') && entry.precision !== 'float32'
        && entry.precision !== 'float16', `${entry.stem}: a single unnamed code is a short frame`);
      assert.deepEqual([read.version, read.model, read.modelId, read.precision, read.names, read.named, read.originalSizes],
        [2, entry.model, entry.model_id, entry.precision, entry.names, entry.named, entry.original_sizes], entry.stem);
      sameBytes(codefile.toBytes(codefile.fromBytes(data)), data, `${entry.stem} written again by JavaScript`);
      const { images } = await models[entry.model].decompress(data);
      const { exact, maxDiff } = comparePixels(images, bytesOf(pyFolder, `${entry.stem}.pixels.u8`));
      assert.ok(maxDiff <= 1, `${entry.stem}: max diff ${maxDiff} grey levels`);
      equal += exact * images.length, total += images.length, worst = Math.max(worst, maxDiff);
    }
    t.diagnostic(`${index.files.length} files (${index.count} digits each container): ${percent(equal / total)} of `
      + `${total} pixels equal Python's, max diff ${worst}`);
  });

  test('from Python\'s latents, JavaScript writes Python\'s files byte for byte', () => {
    let identical = 0;
    for (const entry of index.files) {
      const model = models[entry.model];
      const count = entry.stem.endsWith('-single') ? 1 : index.count;
      const z = new Float32Array(bytesOf(pyFolder, `${entry.model}.z.f32`).buffer).subarray(0, count * model.latentSize);
      const precision = codefile.resolvePrecision(entry.asked, model.binding);
      assert.equal(precision, entry.precision, `${entry.stem}: the default precision is the sidecar's default bits`);
      const names = entry.named ? entry.names : null;
      const ours = codefile.pack(z, precision, model.binding, names, entry.original_sizes);
      sameBytes(ours, bytesOf(pyFolder, `${entry.stem}.aez`), entry.stem);
      identical++;
    }
    assert.equal(identical, index.files.length);
  });

  test('JavaScript\'s encoder gives Python\'s codes; from the same pixels, how many files are the same', async (t) => {
    for (const name of ['ae', 'vae']) {
      const model = models[name];
      const z = await model.encode(digits);
      const zPython = new Float32Array(bytesOf(pyFolder, `${name}.z.f32`).buffer);
      const maxDiff = z.reduce((m, v, i) => Math.max(m, Math.abs(v - zPython[i])), 0);
      const lines = [];
      for (const precision of codefile.PRECISIONS) {
        const ours = codefile.quantize(z, precision, model.binding), theirs = codefile.quantize(zPython, precision, model.binding);
        const equal = ours.filter((v, i) => Object.is(v, theirs[i])).length / ours.length;
        const entry = index.files.find((e) => e.stem === `${name}-${precision}`);
        const file = await model.compress(digits, { precision, names: entry.names, originalSizes: entry.original_sizes });
        const same = sameArrays(file, bytesOf(pyFolder, `${entry.stem}.aez`));
        lines.push(`${precision}: ${percent(equal)} of stored values equal, file ${same ? 'identical' : 'differs'}`);
      }
      t.diagnostic(`${name} (z max abs diff ${maxDiff.toExponential(2)}): ${lines.join('; ')}`);
      assert.ok(maxDiff <= 1e-4 * Math.max(...zPython.map(Math.abs)), `${name}: z drifts by ${maxDiff}`);
    }
  });

  test('files written by JavaScript (version 2, and version 1) decode in Python to the same codes and pixels', async (t) => {
    const names = Array.from({ length: digits.length / 784 }, (_, i) => `js/${String(i).padStart(5, '0')} ✓`);
    const sizes = names.map((_, i) => [1 + i, 2 ** 32 - 1 - i]);
    const made = {};
    for (const name of ['ae', 'vae']) {
      for (const precision of [...codefile.PRECISIONS, 'auto']) {
        made[`${name}-${precision}`] = await models[name].compress(digits, { precision, names, originalSizes: sizes });
        made[`${name}-${precision}-single`] = await models[name].compress(digits.subarray(0, 784), { precision });
      }
      made[`${name}-bits5`] = await models[name].compress(digits, { precision: 'auto', bits: 5, names });
      const z = await models[name].encode(digits);
      for (const precision of codefile.V1_PRECISIONS) {
        made[`${name}-v1-${precision}`] = codefile.toBytes({ version: 1, model: name, modelId: models[name].modelId,
          precision, latentSize: models[name].latentSize, codes: codefile.quantize(z, precision, models[name].binding),
          names, originalSizes: sizes.map(([w, h]) => [w - 1, h]) });
      }
    }
    made.foreign = codefile.pack(new Float32Array(32), 'float16',
      codefile.binding('ae', 'ffffffffffffffff', new Float32Array(32), new Float32Array(32)), ['x']);
    for (const [stem, data] of Object.entries(made)) writeFileSync(path.join(jsFolder, `${stem}.aez`), data);
    runPython('read', jsFolder);
    const report = JSON.parse(readFileSync(path.join(jsFolder, 'read.json'), 'utf8'));
    assert.match(report.foreign.decode_error, /^this code was made by model ae ffffffffffffffff, but the loaded model is ae [0-9a-f]{16}/);
    delete made.foreign;
    const summary = [];
    for (const [stem, data] of Object.entries(made)) {
      const ours = completed(codefile.fromBytes(data)), theirs = report[stem];
      assert.deepEqual([theirs.version, theirs.model, theirs.model_id, theirs.precision, theirs.names, theirs.named, theirs.original_sizes],
        [ours.version, ours.model, ours.modelId, ours.precision, ours.names, ours.named, ours.originalSizes], stem);
      const values = codefile.storedValues(ours, models[ours.model].binding);
      sameBytes(bytesOf(jsFolder, `${stem}.py-codes.bin`), codeBytes(values), `${stem}: codes as Python reads them`);
      const { images } = await models[ours.model].decompress(data);
      const { exact, maxDiff } = comparePixels(images, bytesOf(jsFolder, `${stem}.py-pixels.u8`));
      assert.ok(maxDiff <= 1, `${stem}: max diff ${maxDiff}`);
      summary.push(`${stem} ${percent(exact)}`);
    }
    t.diagnostic(`${summary.length} files; pixels Python decodes as JavaScript does: ${summary.join(', ')}`);
  });

  test('damaged files get the same one-line error in both languages', async (t) => {
    const generator = new Xoshiro128(11);
    const below = (n) => Math.floor(generator.uniform() * (1 - 2 ** -53) * n);
    const bases = {
      v1: bytesOf(FIXTURES_V1, 'ae-uint8-single.aez'), single: bytesOf(pyFolder, 'ae-6-single.aez'),
      floats: bytesOf(pyFolder, 'ae-float16-single.aez'), named: withNames(bytesOf(pyFolder, 'ae-auto-single.aez')),
    };
    const damaged = { magic: Uint8Array.of(1, 2, 3, 4, 5), empty: new Uint8Array(0), short: bases.single.subarray(0, 23) };
    for (const [base, good] of Object.entries(bases)) {
      for (let i = 0; i < 250; i++) {
        const body = good.slice(0, -4);
        // Any byte but the version's (4): each version's checks are compared, not which versions each reads.
        for (let k = 1 + below(2); k > 0; k--) body[5 + below(body.length - 5)] = below(256);
        damaged[`${base}-bytes-${i}`] = withCrc(body);
        damaged[`${base}-flip-${i}`] = good.map((b, k) => (k === below(good.length) ? b ^ (1 << below(8)) : b));
        damaged[`${base}-cut-${i}`] = good.subarray(0, below(good.length));
      }
    }
    for (const [stem, data] of Object.entries(damaged)) writeFileSync(path.join(jsFolder, `d-${stem}.aez`), data);
    runPython('read', jsFolder);
    const report = JSON.parse(readFileSync(path.join(jsFolder, 'read.json'), 'utf8'));
    let refused = 0, undecodable = 0;
    for (const [stem, data] of Object.entries(damaged)) {
      const theirs = report[`d-${stem}`];
      let read;
      try {
        read = codefile.fromBytes(data);
      } catch (error) {
        assert.equal(error.message, theirs.error, stem);
        refused++;
        continue;
      }
      assert.deepEqual([read.names, read.originalSizes, read.precision], [theirs.names, theirs.original_sizes, theirs.precision], stem);
      if (!models[read.model]) continue;
      try {
        codefile.storedValues(read, models[read.model].binding);
        assert.equal(theirs.decode_error, undefined, stem);
      } catch (error) {
        assert.equal(error.message, asJavaScriptSays(theirs.decode_error), stem);
        undecodable++;
      }
    }
    t.diagnostic(`${Object.keys(damaged).length} damaged files: ${refused} refused when read, ${undecodable} when decoded, `
      + 'each with the same message in both languages');
    assert.ok(refused > 1500 && undecodable > 100, `${refused} refused, ${undecodable} undecodable`);
  });
});

/** Python's hint names its CLI option (--models); the package's names what a caller does. Else the same words. */
const asJavaScriptSays = (message) => message?.replace('; pass --models with the folder that made it',
  '; load the models folder that made it');

/** A single file given a names table ("digit-0") and an odd original size, so damage reaches both. */
function withNames(data) {
  const read = codefile.fromBytes(data);
  return codefile.toBytes({ ...read, names: ['digit-0'], named: true, originalSizes: [[300, 200]] });
}
