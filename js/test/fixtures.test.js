// The committed fixtures (tests/fixtures/v2 and v1, made by aeonnx's Python writer with the shipped
// models) decode here exactly as in Python: every format version 2 kind (float32, float16, entropy-coded at
// 4-8 bits), single files and containers (names, original sizes), an empty file, a folder of shards (by
// path and by URL), and the version 1 files. Latents must be equal, pixels at most 1 grey level apart.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import * as codefile from '../codefile.js';
import { AeonnxError, CodeFileError } from '../errors.js';
import { load } from '../model.js';
import { lookup, readShards } from '../shards.js';
import { ARTIFACTS, FIXTURES_V1, FIXTURES_V2, comparePixels, percent, sameBytes, serveFolder } from './helpers.js';
import { readNpz } from './helpers.js';

const bytesOf = (folder, file) => new Uint8Array(readFileSync(path.join(folder, file)));

describe('the format version 2 fixtures', () => {
  const models = {};
  let expected, decoded;

  before(async () => {
    expected = JSON.parse(readFileSync(path.join(FIXTURES_V2, 'expected.json'), 'utf8'));
    decoded = readNpz(path.join(FIXTURES_V2, 'decoded.npz'));
    for (const name of ['ae', 'vae']) models[name] = await load(ort, ARTIFACTS, { model: name });
  });
  after(async () => { for (const model of Object.values(models)) await model.release(); });

  test('every file reads as expected.json says, and writes back to the same bytes', () => {
    const files = readdirSync(FIXTURES_V2).filter((file) => file.endsWith('.aez'));
    assert.equal(files.length, Object.keys(expected).length - 1); // and the shard folder
    for (const file of files) {
      const data = bytesOf(FIXTURES_V2, file), facts = expected[file];
      const read = codefile.fromBytes(data);
      assert.deepEqual([read.version, read.model, read.modelId, read.precision, read.names, read.named],
        [2, facts.model, facts.model_id, facts.precision, facts.names, facts.stores_names], file);
      assert.deepEqual(read.originalSizes ?? read.names.map(() => [28, 28]), facts.original_sizes, file);
      assert.equal(data.length, facts.bytes, file);
      sameBytes(codefile.toBytes(read), data, `${file} written again`);
    }
  });

  test('every file decodes to Python\'s latents exactly and its pixels within 1 grey level', async (t) => {
    let equalPixels = 0, pixels = 0, equalLatents = 0, latentCount = 0, worst = 0;
    for (const file of Object.keys(expected).filter((f) => f.endsWith('.aez'))) {
      const stem = file.replace(/\.aez$/, '');
      const read = codefile.fromBytes(bytesOf(FIXTURES_V2, file));
      const model = await models[expected[file].model].forCode(read); // the release that made it
      const z = codefile.latents(read, model.binding);
      const zPython = decoded.get(`${stem}.latents`).data;
      assert.deepEqual(z, zPython, `${stem}: latents`);
      equalLatents += z.filter((v, i) => Object.is(v, zPython[i])).length, latentCount += z.length;
      const { images } = await model.decompress(read);
      const { exact, maxDiff } = comparePixels(images, decoded.get(stem).data);
      assert.ok(maxDiff <= 1, `${stem}: max diff ${maxDiff}`);
      equalPixels += exact * images.length, pixels += images.length, worst = Math.max(worst, maxDiff);
    }
    t.diagnostic(`${Object.keys(expected).length - 1} files: ${percent(equalLatents / latentCount)} of ${latentCount} `
      + `latents equal, ${percent(equalPixels / pixels)} of ${pixels} pixels equal Python's (max diff ${worst})`);
  });

  test('random access: a code looked up by name decodes alone to the same digit', async () => {
    const file = 'ae-b6-container.aez', facts = expected[file];
    const read = codefile.fromBytes(bytesOf(FIXTURES_V2, file));
    const wanted = ['sub/é 日本/b', 'scan_000099'];
    const { names, images, originalSizes } = await models.ae.decompress(bytesOf(FIXTURES_V2, file), { names: wanted });
    assert.deepEqual(names, wanted);
    assert.deepEqual(originalSizes, wanted.map((name) => facts.original_sizes[facts.names.indexOf(name)]));
    const all = decoded.get('ae-b6-container').data;
    wanted.forEach((name, row) => {
      const i = facts.names.indexOf(name);
      assert.deepEqual(images.subarray(row * 784, (row + 1) * 784), all.subarray(i * 784, (i + 1) * 784), name);
    });
    const one = codefile.take(read, codefile.find(read, ['last']));
    assert.equal(one.coded.body.length, read.coded.lengths[11]);
    assert.throws(() => codefile.find(read, ['nope']), (e) => e instanceof AeonnxError
      && e.message === "no code named 'nope' here (12 codes)");
  });

  test('a single file stores no names: a reader names its code 00000, or after the file', () => {
    const read = codefile.fromBytes(bytesOf(FIXTURES_V2, 'ae-b6-single.aez'));
    assert.deepEqual([read.named, read.names], [false, ['00000']]);
    assert.deepEqual(codefile.nameAfterFile(read, 'scans/digit-2.aez').names, ['digit-2']);
    const container = codefile.fromBytes(bytesOf(FIXTURES_V2, 'ae-b6-container.aez'));
    assert.equal(codefile.nameAfterFile(container, 'x.aez'), container);
  });

  test('another model\'s codes are refused before decoding', async () => {
    const read = codefile.fromBytes(bytesOf(FIXTURES_V2, 'vae-b5-container.aez'));
    await assert.rejects(models.ae.decompress(read), (e) => e instanceof CodeFileError
      && e.message.startsWith(`this code was made by model vae ${read.modelId}, but the loaded model is ae`));
  });

  test('a folder of shards reads by path and by URL, checked against its index.json', async (t) => {
    const folder = path.join(FIXTURES_V2, 'ae-b6-shards');
    const base = await serveFolder(t, folder);
    const facts = expected['ae-b6-shards'];
    for (const location of [folder, base, new URL(base)]) {
      const { index, shards } = await readShards(location);
      assert.equal(index.count, facts.count);
      assert.deepEqual(shards.flatMap((s) => s.codeFile.names), facts.names);
      const images = [];
      for (const { codeFile } of shards) images.push(...(await models.ae.decompress(codeFile)).images);
      assert.deepEqual(Uint8Array.from(images), decoded.get('ae-b6-shards').data);
      const [found] = lookup(shards, ['five/x/00003']);
      assert.deepEqual([found.file, found.codeFile.names], ['shard-00001.aez', ['five/x/00003']]);
    }
    const { shards } = await readShards(folder);
    assert.throws(() => lookup(shards, ['five/x/00009']), (e) => e.message === "no code named 'five/x/00009' in these shards");
    await assert.rejects(readShards(FIXTURES_V2), (e) => e instanceof CodeFileError
      && e.message === `${FIXTURES_V2}: is a folder, not a code file (a folder of shards holds index.json)`);
    await assert.rejects(readShards(`${base}missing/`), (e) => e instanceof CodeFileError && e.message.includes('is a folder'));
  });
});

describe('the format version 1 fixtures', () => {
  test('still decode to the pixels of the release that made them', async (t) => {
    const decoded = readNpz(path.join(FIXTURES_V1, 'decoded.npz'));
    const models = { ae: await load(ort, ARTIFACTS, { model: 'ae' }), vae: await load(ort, ARTIFACTS, { model: 'vae' }) };
    t.after(async () => { for (const model of Object.values(models)) await model.release(); });
    for (const file of readdirSync(FIXTURES_V1).filter((f) => f.endsWith('.aez'))) {
      const data = bytesOf(FIXTURES_V1, file);
      const read = codefile.fromBytes(data);
      assert.equal(read.version, 1);
      sameBytes(codefile.toBytes(read), data, `${file} written again as version 1`);
      const { images } = await models[read.model].decompress(data);
      const { exact, maxDiff } = comparePixels(images, decoded.get(file.replace(/\.aez$/, '')).data);
      t.diagnostic(`${file}: ${percent(exact)} of pixels equal, max diff ${maxDiff}`);
      assert.ok(maxDiff <= 1, file);
    }
  });
});
