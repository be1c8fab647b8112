// The model in JavaScript: loading through manifest and sidecars with Python's contract checks, the same
// one-line errors, inputs refused clearly, another model's codes refused, and seeded sampling.

import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import * as codefile from '../codefile.js';
import { AeonnxError, CodeFileError, DataError, ModelError } from '../errors.js';
import { load, toUint8 } from '../model.js';
import { parse } from '../tensorproto.js';
import * as varint from '../varint.js';
import { ARTIFACTS, serveFolder, temporaryFolder, withCrc } from './helpers.js';

const goldenDigits = () => {
  const x = parse(readFileSync(path.join(ARTIFACTS, 'ae_encoder/test_data_set_0/input_0.pb')), 'input_0.pb');
  return Uint8Array.from(x.data, (v) => Math.round(v * 255));
};

/** A copy of the shipped models folder, with `change(folder)` applied. */
function alteredModels(context, change) {
  const folder = temporaryFolder(context);
  cpSync(ARTIFACTS, folder, { recursive: true, filter: (source) => !source.includes('training') });
  change(folder);
  return folder;
}

function editSidecar(folder, file, edit) {
  const where = path.join(folder, file);
  const sidecar = JSON.parse(readFileSync(where, 'utf8'));
  edit(sidecar.metadata_props, sidecar);
  writeFileSync(where, JSON.stringify(sidecar));
}

async function refused(promise, ErrorType, fragment) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof ErrorType, `${error.name}: ${error.message}`);
    assert.ok(error.message.includes(fragment), error.message);
    assert.ok(!error.message.includes('\n'), error.message);
    return true;
  });
}

describe('loading', () => {
  test('the shipped models, float32 and int8, from the sidecars', async () => {
    for (const [model, variant] of [['ae', 'float32'], ['vae', 'float32'], ['conv', 'float32'], ['ae', 'int8'], ['vae', 'int8']]) {
      const loaded = await load(ort, ARTIFACTS, { model, variant });
      const manifest = JSON.parse(readFileSync(path.join(ARTIFACTS, 'manifest.json'), 'utf8'));
      assert.equal(loaded.modelId, manifest.models[model].model_id);
      assert.equal(loaded.latentSize, manifest.models[model].latent_size);
      assert.equal(loaded.binding.zMin.length, loaded.latentSize);
      assert.equal(loaded.binding.modelId, loaded.modelId);
      await loaded.release();
    }
  });

  test('bad arguments: model, variant, part, ort, folder', async () => {
    await refused(load(ort, ARTIFACTS, { model: 'gan' }), ModelError, `unknown model 'gan' in ${ARTIFACTS}; choose one of: ae, conv, rd, vae`);
    await refused(load(ort, ARTIFACTS, { variant: 'int4' }), ModelError, "unknown model variant 'int4'");
    await refused(load(ort, ARTIFACTS, { model: 'ae', part: 'generator' }), ModelError,
      "unknown part 'generator'; choose encoder or decoder");
    await refused(load({}, ARTIFACTS), ModelError, 'needs onnxruntime');
    await refused(load(ort, '/nonexistent/models'), ModelError, '/nonexistent/models: no such models folder');
  });

  test('a folder without manifest, sidecar or model file', async (t) => {
    const badManifest = alteredModels(t, (f) => writeFileSync(path.join(f, 'manifest.json'), '{'));
    await refused(load(ort, badManifest), ModelError, 'manifest.json: unreadable');
    const empty = temporaryFolder(t);
    await refused(load(ort, empty), ModelError, `${empty}: no manifest.json`);
    const noFile = alteredModels(t, (f) => rmSync(path.join(f, 'ae_encoder.onnx')));
    await refused(load(ort, noFile), ModelError, `${noFile}: no ae_encoder.onnx`);
    const noSidecar = alteredModels(t, (f) => writeFileSync(path.join(f, 'ae_encoder.json'), '{}'));
    await refused(load(ort, noSidecar), ModelError, 'ae_encoder.json: no metadata_props');
    const noInt8 = alteredModels(t, (f) => editManifest(f, (m) => delete m.models.ae.int8));
    await refused(load(ort, noInt8, { variant: 'int8' }), ModelError,
      'no ae_encoder.int8.onnx (the ae encoder) in its manifest.json; export one with --quantize int8');
  });
});

function editManifest(folder, edit) {
  const where = path.join(folder, 'manifest.json');
  const manifest = JSON.parse(readFileSync(where, 'utf8'));
  edit(manifest);
  writeFileSync(where, JSON.stringify(manifest));
}

describe('the contract, as Python checks it', () => {
  test('a sidecar of another part is refused', async (t) => {
    const folder = alteredModels(t, (f) => cpSync(path.join(f, 'ae_decoder.json'), path.join(f, 'ae_encoder.json')));
    await refused(load(ort, folder), ModelError,
      "ae_encoder.json: metadata aeonnx.part is 'decoder', expected 'encoder'; was it exported by this version of aeonnx?");
  });

  test('another model, contract version or variant is refused', async (t) => {
    const cases = [
      ['aeonnx.model', 'vae', "metadata aeonnx.model is 'vae', expected 'ae'"],
      ['aeonnx.contract_version', '2', "metadata aeonnx.contract_version is '2', expected '1'"],
      ['aeonnx.variant', 'int8', "metadata aeonnx.variant is 'int8', expected 'float32'"],
      ['aeonnx.model', undefined, "metadata aeonnx.model is None, expected 'ae'"],
    ];
    for (const [key, value, message] of cases) {
      const folder = alteredModels(t, (f) => editSidecar(f, 'ae_encoder.json', (meta) => { meta[key] = value; }));
      await refused(load(ort, folder), ModelError, message);
    }
  });

  test('a part of another training (another model id) is refused when it opens', async (t) => {
    const folder = alteredModels(t, (f) => editSidecar(f, 'ae_decoder.json', (meta) => {
      meta['aeonnx.model_id'] = '0123456789abcdef';
    }));
    const ae = await load(ort, folder);
    t.after(() => ae.release());
    await refused(ae.decode(new Float32Array(32)), ModelError,
      `model id 0123456789abcdef differs from the encoder's ${ae.modelId}; the two parts come from different trainings`);
    const fromDecoder = await load(ort, folder, { part: 'decoder' }); // its identity now; the encoder disagrees
    t.after(() => fromDecoder.release());
    await refused(fromDecoder.encode(goldenDigits()), ModelError, "differs from the decoder's 0123456789abcdef");
  });

  test('an ONNX file whose tensors are not the part\'s is refused', async (t) => {
    const folder = alteredModels(t, (f) => cpSync(path.join(f, 'vae_encoder.onnx'), path.join(f, 'ae_encoder.onnx')));
    await refused(load(ort, folder), ModelError,
      "tensors ['x'] -> ['z_mean', 'z_log_var'] do not match the contract ['x'] -> ['z']");
    const broken = alteredModels(t, (f) => writeFileSync(path.join(f, 'ae_encoder.onnx'), 'not onnx'));
    await refused(load(ort, broken), ModelError, 'ae_encoder.onnx: ');
  });

  test('a latent width other than the identity part\'s is refused', async (t) => {
    const folder = alteredModels(t, (f) => {
      cpSync(path.join(f, 'vae_generator.onnx'), path.join(f, 'ae_decoder.onnx'));
    });
    const ae = await load(ort, folder);
    t.after(() => ae.release());
    await refused(ae.decode(new Float32Array(32)), ModelError, 'latent width 2 differs from the latent size 32');
  });
});

describe('operations', () => {
  let ae, vae;
  before(async () => {
    ae = await load(ort, ARTIFACTS);
    vae = await load(ort, ARTIFACTS, { model: 'vae', part: 'generator' });
  });
  after(async () => { await ae.release(); await vae.release(); });

  test('images are refused clearly: size, type, range', async () => {
    await refused(ae.encode(new Uint8Array(785)), DataError, 'images must be N * 784 pixels (N 28x28 digits, row-major), got 785');
    await refused(ae.encode(new Int32Array(784)), DataError, 'images must be uint8 (0-255) or floats in [0, 1], got Int32Array');
    await refused(ae.encode(Float32Array.of(...new Float32Array(783), 1.5)), DataError, 'float images must lie in [0, 1]');
    await refused(ae.encode(Float32Array.of(...new Float32Array(783), NaN)), DataError, 'float images must lie in [0, 1]');
    await refused(ae.encode('digits'), DataError, 'images must be a typed array');
    await refused(ae.decode(new Float32Array(33)), DataError, 'latents must be N * 32 numbers, got 33');
  });

  test('uint8, float and a list of digits encode alike; zero images give zero codes', async () => {
    const x = goldenDigits();
    const z = await ae.encode(x);
    assert.deepEqual(await ae.encode(Float32Array.from(x, (v) => v / 255)), z);
    assert.deepEqual(await ae.encode([x.subarray(0, 784), x.subarray(784, 1568)]), z.subarray(0, 64));
    assert.equal((await ae.encode(new Uint8Array(0))).length, 0);
    assert.equal((await ae.decode(new Float32Array(0))).length, 0);
  });

  test('compress and decompress: names, sizes, every precision, the default bits, random access', async () => {
    const x = goldenDigits();
    const sizes = Array.from({ length: 8 }, (_, i) => [i + 1, 2 * i + 1]);
    for (const precision of [...codefile.PRECISIONS, 'uint8', 'auto']) {
      const data = await ae.compress(x, { precision, originalSizes: sizes });
      const back = await ae.decompress(data);
      assert.deepEqual(back.names, ['00000', '00001', '00002', '00003', '00004', '00005', '00006', '00007']);
      assert.deepEqual(back.originalSizes[7], [8, 15]);
      assert.equal(back.images.length, 8 * 784);
      assert.equal(back.version, 2);
      assert.equal(back.precision, { uint8: 8, auto: 6 }[precision] ?? precision);
    }
    assert.equal(ae.defaultPrecision, 6); // the sidecar's aeonnx.latent_coding
    assert.equal(vae.defaultPrecision, 5);
    assert.equal(codefile.fromBytes(await ae.compress(x)).precision, 6);
    assert.equal(codefile.fromBytes(await ae.compress(x, { bits: 4 })).precision, 4);
    const names = Array.from({ length: 8 }, (_, i) => `digit-${i}`);
    const data = await ae.compress(x, { names });
    const one = await ae.decompress(data, { names: ['digit-5'] });
    assert.deepEqual(one.images, (await ae.decompress(data)).images.subarray(5 * 784, 6 * 784));
    await refused(ae.decompress(data, { names: ['digit-9'] }), AeonnxError, "no code named 'digit-9' here (8 codes)");
    await refused(ae.compress(x, { precision: 'int4' }), DataError, "unknown precision 'int4'");
    await refused(ae.compress(x, { precision: 'float16', bits: 6 }), DataError, 'cannot go with precision float16');
    await refused(ae.compress(x, { bits: 3 }), DataError, 'bits must be from 4 to 8, got 3');
  });

  test('another model\'s codes are refused, naming both ids', async () => {
    const data = codefile.packCodes(new Uint8Array(2), 5, vae.binding, ['a']);
    await refused(ae.decompress(data), CodeFileError,
      `this code was made by model vae ${vae.modelId}, but the loaded model is ae ${ae.modelId}`);
    const otherTraining = codefile.toBytes({ version: 1, model: 'ae', modelId: 'ffffffffffffffff', precision: 'uint8',
      latentSize: 32, codes: new Uint8Array(32), names: ['a'] });
    await refused(ae.decompress(otherTraining), CodeFileError, 'made by model ae ffffffffffffffff, but the loaded model is ae');
  });

  test('sampling: the same seed gives the same digits, another seed others', async () => {
    const first = await vae.sample(8, 42);
    assert.deepEqual(await vae.sample(8, 42), first);
    assert.notDeepEqual(await vae.sample(8, 43), first);
    assert.deepEqual((await vae.sample(3, 42)), first.subarray(0, 3 * 784)); // a prefix of the same stream
    assert.equal((await vae.sample(0, 1)).length, 0);
    assert.notDeepEqual(await vae.sample(2), await vae.sample(2)); // no seed: fresh noise
  });

  test('sampling draws N(0, 1), and decodes the latents it reports', async () => {
    const z = vae.sampleLatents(20000, 7);
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length;
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
    assert.deepEqual(await vae.decode(vae.sampleLatents(4, 9)), await vae.sample(4, 9));
    assert.deepEqual(toUint8(await vae.decode(vae.sampleLatents(4, 9), { asFloat: true })), await vae.sample(4, 9));
  });

  test('sampling needs the VAE, a count and a 32-bit seed', async () => {
    await refused(ae.sample(2, 1), DataError, 'sample needs a generative model: load the vae');
    await refused(vae.sample(-1, 1), DataError, 'the number of samples must be an integer, at least 0');
    await refused(vae.sample(1, 2 ** 32), DataError, 'the seed must be an integer from 0 to 4294967295');
    await refused(vae.sample(1, 1.5), DataError, 'the seed must be an integer');
  });

  test('the manifold: an n*28 square grid of generated digits', async () => {
    const grid = await vae.manifold(3, 2);
    assert.equal(grid.length, 84 * 84);
    assert.deepEqual(grid.subarray(0, 28), (await vae.decode(Float32Array.of(-2, 2))).subarray(0, 28));
    await refused(vae.manifold(0), DataError, 'the manifold needs n >= 1');
    await refused(ae.manifold(3), DataError, 'manifold needs a generative model');
  });
});

test('a models folder served over HTTP loads by URL, as in a browser', async (t) => {
  const base = await serveFolder(t, ARTIFACTS);
  const fromUrl = await load(ort, base, { model: 'vae' });
  const fromFolder = await load(ort, ARTIFACTS, { model: 'vae' });
  t.after(async () => { await fromUrl.release(); await fromFolder.release(); });
  assert.equal(fromUrl.modelId, fromFolder.modelId);
  assert.deepEqual(await fromUrl.sample(2, 5), await fromFolder.sample(2, 5));
  await refused(load(ort, `${base}missing/`), ModelError, `${base}missing/: no manifest.json`);
});

describe('issue 32: a small file declaring many codes', () => {
  /** A version 2 file of `count` codes of 0 bytes each (valid) for `model`, one byte each in its index. */
  function manyEmptyCodes(model, count) {
    const id = model.modelId.match(/../g).map((pair) => parseInt(pair, 16));
    const index = [...varint.encode(count), ...new Uint8Array(count - 1)];
    const body = [...codefile.MAGIC, 2, 6, 0, 2, 0x61, 0x65, ...id, 32, ...index, ...varint.encodeBackwards(index.length)];
    return withCrc(Uint8Array.from(body));
  }

  test('more codes than a call decodes, or than a file may declare, are refused before any is decoded', async () => {
    const ae = await load(ort, ARTIFACTS, { part: 'decoder' });
    await refused(ae.decompress(manyEmptyCodes(ae, 100_001)), DataError,
      '100,001 codes, over the limit of 100,000 decoded in one call (raise it with maxDecoded)');
    await refused(ae.decompress(manyEmptyCodes(ae, 1_000_001)), CodeFileError,
      '1,000,001 codes, over the limit of 1,000,000 a file (raise it with --max-codes)');
    const { names } = await ae.decompress(manyEmptyCodes(ae, 3), { maxDecoded: 3 });
    assert.deepEqual(names, ['00000', '00001', '00002']);
  });
});

test("the shipped AE's anomaly threshold is Python's: its training digits' 99.5th percentile of mse", async () => {
  const ae = await load(ort, ARTIFACTS);
  const { threshold, anomalous, errors } = await ae.score(goldenDigits());
  // `aeonnx score` printed "mse above 0.0297154 (the 99.5th percentile of 55,000 training inputs' mse)".
  assert.ok(Math.abs(threshold - 0.0297154) < 1e-7, `${threshold}`);
  assert.deepEqual(anomalous, Array.from(errors, (error) => error > threshold));
  assert.equal((await ae.score(goldenDigits(), { metric: 'mae' })).threshold, null); // no mae record: give one
});
