// The quality check in JavaScript gives Python's figures and words: per-image PSNR and ink on the same
// floats, assess() on 40 real digits and 8 odd pictures (float32 latents and stored uint8 codes), and
// judge() at the edges of its thresholds, ties of the last printed digit included.

import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import * as codefile from '../codefile.js';
import { DataError, ModelError } from '../errors.js';
import * as metrics from '../metrics.js';
import { load } from '../model.js';
import { profileFromMetadata, QualityProfile } from '../quality.js';
import { META_QUALITY } from '../spec.js';
import { ARTIFACTS, makeTemporaryFolder, runPython } from './helpers.js';

const PSNR_ATOL = 1e-3; // dB: JavaScript's and Python's onnxruntime builds may differ in a latent's last bits

/** The largest relative difference between two lists of figures. */
const maxRelative = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-300)), 0);

describe('quality: JavaScript against Python', () => {
  const models = {};
  let folder, report, digits;

  before(async () => {
    folder = makeTemporaryFolder();
    runPython('assess', folder);
    report = JSON.parse(readFileSync(path.join(folder, 'assess.json'), 'utf8'));
    digits = new Uint8Array(readFileSync(path.join(folder, 'assess-digits.u8')));
    for (const name of ['ae', 'vae']) models[name] = await load(ort, ARTIFACTS, { model: name });
  });
  after(async () => {
    for (const model of Object.values(models)) await model.release();
    rmSync(folder, { recursive: true, force: true });
  });

  test('per-image PSNR and ink equal Python\'s for the same floats', (t) => {
    const x = Float32Array.from(digits, (v) => Math.fround(v / 255));
    for (const name of ['ae', 'vae']) {
      const xHat = new Float32Array(readFileSync(path.join(folder, `${name}.x_hat.f32`)).buffer.slice(0));
      const psnr = metrics.psnrPerImage(x, xHat);
      const psnrDiff = maxRelative(psnr, report[name].metrics_psnr);
      t.diagnostic(`${name}: PSNR largest relative difference ${psnrDiff}`);
      assert.ok(psnrDiff <= 4e-16, `${name}: PSNR differs from Python's by ${psnrDiff} (relative)`);
      assert.deepEqual(Array.from(metrics.ink(x)), report[name].ink, 'ink');
    }
  });

  test('assess gives Python\'s PSNR within 0.001 dB and the same warnings, on codes as encoded and as stored', async (t) => {
    for (const name of ['ae', 'vae']) {
      const model = models[name];
      const z = await model.encode(digits);
      const stored = codefile.dequantize(codefile.quantize(z, 'uint8', model.binding), 'uint8', model.binding);
      for (const [label, latents, prefix] of [['encoded', null, ''], ['stored uint8', stored, 'stored_']]) {
        const { psnr, warnings } = await model.assess(digits, latents);
        const python = report[name][`${prefix}psnr`];
        const largest = psnr.reduce((m, v, i) => Math.max(m, Math.abs(v - python[i])), 0);
        t.diagnostic(`${name} ${label}: ${warnings.filter(Boolean).length} of ${psnr.length} warned, PSNR within ${largest.toExponential(1)} dB`);
        assert.ok(largest <= PSNR_ATOL, `${name} ${label}: PSNR ${largest} dB from Python's`);
        assert.deepEqual(warnings, report[name][`${prefix}warnings`], `${name} ${label}: warnings`);
      }
    }
  });

  test('judge() words figures at its thresholds as Python does', () => {
    for (const name of ['ae', 'vae']) {
      const profile = models[name].qualityProfile;
      for (const [psnr, ink, expected] of report[name].judged) {
        assert.equal(profile.judge(psnr, ink), expected, `${name}: judge(${psnr}, ${ink})`);
      }
    }
  });
});

describe('quality profile', () => {
  test('comes from the sidecar\'s metadata; none without it; a clear error when it is malformed', () => {
    const recorded = { psnr_db: { 'p0.1': 14.5, 'p0.5': 15.25 }, ink: { 'p0.1': 0.04 } };
    const profile = profileFromMetadata({ [META_QUALITY]: JSON.stringify(recorded) });
    assert.deepEqual({ ...profile }, { psnrTypicalLow: 14.5, psnrFloor: 13.75, inkLow: 0.02 });
    assert.equal(profile.shareAbove, '99.9%');
    assert.equal(profileFromMetadata({}), null);
    assert.throws(() => profileFromMetadata({ [META_QUALITY]: '{"psnr_db": {}}' }, 'ae_encoder.json'),
      (error) => error instanceof ModelError && error.message === 'ae_encoder.json: metadata aeonnx.quality has no p0.1 and p0.5 of psnr_db and p0.1 of ink');
  });

  test('a usual digit has no warning; assess refuses codes that do not fit the images', async (t) => {
    const model = await load(ort, ARTIFACTS);
    t.after(() => model.release());
    assert.ok(model.qualityProfile instanceof QualityProfile);
    assert.equal(new QualityProfile(10, 0.01).judge(10, 0.01), null);
    await assert.rejects(model.assess(new Uint8Array(784 * 2), new Float32Array(32)),
      (error) => error instanceof DataError && /one code of 32 values per image, got 32 for 2/.test(error.message));
  });
});
