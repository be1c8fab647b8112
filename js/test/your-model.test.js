// A model of your own (issue 19): Keras conv autoencoders a user wrote (32x32, grey and colour), exported by
// aeonnx's Python (`export_keras_pair`, as `aeonnx export --encoder --decoder` does), and the code files
// Python made with them: JavaScript finds each model by the name it was exported under, reads its image
// shape from the manifest, and decodes the files to Python's pixels. Issue 20: a conv AE that `aeonnx train`
// made from colour images of another size, exported as `ae`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import { ModelError } from '../errors.js';
import { load } from '../model.js';
import { comparePixels, makeTemporaryFolder, runPython } from './helpers.js';

const floats = (buffer) => new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length));

describe('a model of your own', () => {
  let folder, index;
  before(() => {
    folder = makeTemporaryFolder();
    runPython('yours', folder);
    index = JSON.parse(readFileSync(path.join(folder, 'index.json'), 'utf8'));
  });

  for (const name of ['grey32', 'colour32']) {
    test(`${name}: its code file decodes in JavaScript to Python's pixels`, async () => {
      const model = await load(ort, path.join(folder, 'models'), { model: name, part: 'decoder' });
      const expected = index[name];
      assert.deepEqual(model.imageShape, expected.image_shape);
      assert.equal(model.modelId, expected.model_id);
      const { images, names } = await model.decompress(readFileSync(path.join(folder, `${name}.aez`)));
      assert.equal(names.length, expected.count);
      assert.equal(images.length, expected.count * expected.image_shape.reduce((a, b) => a * b, 1));
      const { exact, maxDiff } = comparePixels(images, readFileSync(path.join(folder, `${name}.pixels.u8`)));
      assert.ok(maxDiff <= 1 && exact >= 0.999, `${name}: ${exact} of pixels equal, max diff ${maxDiff}`);
    });
  }

  test("a conv AE trained by aeonnx under the shipped AE's name: its shape comes from the manifest", async () => {
    const model = await load(ort, path.join(folder, 'trained'), { part: 'decoder' }); // the default name, ae
    const expected = index.trained;
    assert.deepEqual(model.imageShape, expected.image_shape); // [20, 24, 3], not the shipped AE's [28, 28]
    assert.equal(model.modelId, expected.model_id);
    const { images } = await model.decompress(readFileSync(path.join(folder, 'trained.aez')));
    const { exact, maxDiff } = comparePixels(images, readFileSync(path.join(folder, 'trained.pixels.u8')));
    assert.ok(maxDiff <= 1 && exact >= 0.999, `${exact} of pixels equal, max diff ${maxDiff}`);
  });

  test('issue 33: a rate-distortion model\'s codes at every quality decode to Python\'s pixels, and JavaScript writes Python\'s bytes', async () => {
    const model = await load(ort, path.join(folder, 'rd'), { model: 'rd' });
    const expected = index.rd;
    assert.equal(model.modelId, expected.model_id);
    const digits = readFileSync(path.join(folder, 'rd.digits.u8'));
    for (let quality = 1; quality <= expected.levels; quality++) {
      const python = new Uint8Array(readFileSync(path.join(folder, `rd-q${quality}.aez`)));
      const { images } = await model.decompress(python);
      assert.deepEqual(images, new Uint8Array(readFileSync(path.join(folder, `rd-q${quality}.pixels.u8`))), `q${quality}`);
      const ours = await model.compress(new Uint8Array(digits), { quality });
      assert.deepEqual(ours, python, `q${quality}: JavaScript's file is not Python's`);
    }
    await assert.rejects(model.compress(new Uint8Array(digits), { quality: 9 }), /quality must be from 1 to 8, got 9/);
  });

  test('issue 33: a model of your own with an EntropyBottleneck on a feature map: its tables repeat per position, its codes are Python\'s', async () => {
    const model = await load(ort, path.join(folder, 'yourrd'), { model: 'fm' });
    const expected = index.yourrd;
    assert.equal(model.modelId, expected.model_id);
    assert.equal(expected.levels, 2);
    const digits = new Uint8Array(readFileSync(path.join(folder, 'fm.digits.u8')));
    for (let quality = 1; quality <= expected.levels; quality++) {
      const python = new Uint8Array(readFileSync(path.join(folder, `fm-q${quality}.aez`)));
      const { images } = await model.decompress(python);
      assert.deepEqual(images, new Uint8Array(readFileSync(path.join(folder, `fm-q${quality}.pixels.u8`))), `q${quality}`);
      assert.deepEqual(await model.compress(digits, { quality }), python, `q${quality}: JavaScript's file is not Python's`);
    }
  });

  test('a name the folder does not list is refused, naming the ones it does', async () => {
    await assert.rejects(load(ort, path.join(folder, 'models'), { model: 'faces' }),
      (error) => error instanceof ModelError && /unknown model 'faces' in .*; choose one of: colour32, grey32, tanh28, windows$/.test(error.message));
  });

  test('issue 31: a model of float values decodes and scores its windows as Python does', async () => {
    const model = await load(ort, path.join(folder, 'models'), { model: 'windows' });
    const expected = index.windows;
    assert.equal(model.givesPictures, false);
    const { images } = await model.decompress(readFileSync(path.join(folder, 'windows.aez')));
    const python = floats(readFileSync(path.join(folder, 'windows.f32')));
    assert.ok(images instanceof Float32Array && images.length === python.length);
    assert.ok(images.every((value, i) => Math.abs(value - python[i]) <= 1e-5), 'decoded floats differ from Python\'s');
    const inputs = floats(readFileSync(path.join(folder, 'windows.inputs.f32')));
    const scored = await model.score(inputs, { metric: 'mae' });
    assert.equal(scored.threshold, expected.threshold);
    scored.errors.forEach((error, i) => assert.ok(Math.abs(error - expected.mae[i]) <= 1e-6 * (1 + expected.mae[i])));
    assert.deepEqual(scored.anomalous, expected.anomalous);
  });

  test('issue 31: a tanh model of pixels in [-1, 1] decodes to Python\'s pixels and encodes as Python does', async () => {
    const model = await load(ort, path.join(folder, 'models'), { model: 'tanh28' });
    const pixels = readFileSync(path.join(folder, 'tanh28.pixels.u8'));
    const { images } = await model.decompress(readFileSync(path.join(folder, 'tanh28.aez')));
    const decoded = comparePixels(images, pixels);
    assert.ok(decoded.maxDiff <= 1 && decoded.exact >= 0.999, `${decoded.exact} of pixels equal`);
    const inputs = new Uint8Array(readFileSync(path.join(folder, 'tanh28.inputs.u8')));
    const again = await model.decompress(await model.compress(inputs));
    const encoded = comparePixels(again.images, pixels);
    assert.ok(encoded.maxDiff <= 1 && encoded.exact >= 0.999, `${encoded.exact} of pixels equal`);
  });

  test('it encodes its own images as Python does', async () => {
    const model = await load(ort, path.join(folder, 'models'), { model: 'grey32' });
    const pixels = new Uint8Array(readFileSync(path.join(folder, 'grey32.pixels.u8')));
    const again = await model.decompress(await model.compress(pixels));
    assert.equal(again.images.length, pixels.length); // 40 images of 32x32 in, 40 out
  });
});
