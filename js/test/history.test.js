// The model history (js/model.js forCode, as runtime/model.py for_code): after the models are retrained,
// a code file an earlier release made decodes through that release's decoding part, kept in the models
// folder under history/<model id>/, to the pixels Python decoded it to; by path and over http (the web
// page's way). The retraining is simulated: the top-level sidecars are given another model id, which is
// all the JavaScript reader knows of a model's identity (it cannot read metadata_props).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import * as codefile from '../codefile.js';
import { CodeFileError } from '../errors.js';
import { load } from '../model.js';
import * as spec from '../spec.js';
import { ARTIFACTS, FIXTURES_RELEASED, PYTHON, comparePixels, makeTemporaryFolder, readNpz, serveFolder } from './helpers.js';

const OTHER_ID = 'ffffffffffffffff';

/** A copy of the shipped models with their release kept in history/ and the top level "retrained". */
function retrainedCopy() {
  const models = path.join(makeTemporaryFolder(), 'models');
  cpSync(ARTIFACTS, models, { recursive: true });
  const kept = spawnSync(PYTHON, ['-m', 'aeonnx.export.history', models], { encoding: 'utf8' });
  assert.equal(kept.status, 0, kept.stderr);
  for (const file of readdirSync(models).filter((f) => f.endsWith('.json') && f !== spec.MANIFEST_FILE)) {
    const sidecar = JSON.parse(readFileSync(path.join(models, file), 'utf8'));
    if (!sidecar.metadata_props) continue;
    sidecar.metadata_props[spec.META_MODEL_ID] = OTHER_ID;
    writeFileSync(path.join(models, file), JSON.stringify(sidecar));
  }
  return models;
}

describe('the model history', () => {
  let models, expected, decoded;
  before(() => {
    models = retrainedCopy();
    expected = JSON.parse(readFileSync(path.join(FIXTURES_RELEASED, 'expected.json'), 'utf8'));
    decoded = readNpz(path.join(FIXTURES_RELEASED, 'decoded.npz'));
  });

  const decodes = async (location, variant, file) => {
    const facts = expected[file];
    const model = await load(ort, location, { model: facts.model, part: 'decoder', variant, sessionOptions: {} });
    try {
      assert.equal(model.modelId, OTHER_ID);
      const { images } = await model.decompress(new Uint8Array(readFileSync(path.join(FIXTURES_RELEASED, file))));
      const stem = file.replace(/\.aez$/, '') + (variant === 'int8' ? '.int8' : '');
      return comparePixels(images, decoded.get(stem).data);
    } finally {
      await model.release();
    }
  };

  test('every released file decodes to Python\'s pixels, float32 and int8, from a folder', async () => {
    for (const variant of ['float32', 'int8']) {
      for (const file of Object.keys(expected)) {
        const { maxDiff } = await decodes(models, variant, file);
        assert.ok(maxDiff <= 1, `${file} ${variant}: max diff ${maxDiff}`);
      }
    }
  });

  test('and over http, as the web page loads its models', async (t) => {
    const url = await serveFolder(t, models);
    const { maxDiff } = await decodes(url, 'float32', 'ae-examples.aez');
    assert.ok(maxDiff <= 1, `max diff ${maxDiff}`);
  });

  test('a short-frame file (its model id\'s first bytes) of a release decodes through history/index.json', async (t) => {
    const digit = new Uint8Array(784);
    for (let row = 4; row < 24; row++) digit.fill(255, row * 28 + 12, row * 28 + 16); // a one
    const shipped = await load(ort, ARTIFACTS, { model: 'ae', sessionOptions: {} });
    let data, then;
    try {
      data = await shipped.compress(digit);
      assert.ok(codefile.isShort(codefile.fromBytes(data)), 'one unnamed code: the short frame');
      then = (await shipped.decompress(data)).images;
    } finally {
      await shipped.release();
    }
    for (const location of [models, await serveFolder(t, models)]) {
      const model = await load(ort, location, { model: 'ae', part: 'decoder', sessionOptions: {} });
      try {
        assert.equal(model.modelId, OTHER_ID);
        assert.deepEqual((await model.decompress(data)).images, then, String(location));
      } finally {
        await model.release();
      }
    }
  });

  test('a file no release made is refused in one line, naming both models', async () => {
    const model = await load(ort, models, { model: 'ae', part: 'decoder' });
    try {
      const read = codefile.fromBytes(new Uint8Array(readFileSync(path.join(FIXTURES_RELEASED, 'ae-examples.aez'))));
      for (const modelId of ['0123456789abcdef', '../../../etc/xx']) {
        await assert.rejects(model.decompress({ ...read, modelId }), (error) => error instanceof CodeFileError
          && error.message.startsWith(`this code was made by model ae ${modelId}, but the loaded model is ae ${OTHER_ID}`)
          && !error.message.includes('\n'));
      }
    } finally {
      await model.release();
    }
  });
});
