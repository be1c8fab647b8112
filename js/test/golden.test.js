// Every shipped model file gives, in JavaScript with onnxruntime-node, the outputs it gave at export:
// its golden vectors (TensorProto .pb files) within the tolerance its JSON sidecar records, as
// `aeonnx verify` checks in Python. The files are those the manifest lists: float32 parts, their
// fixed batch-1 and .ort copies (checked against their original's vectors), and the int8 copies.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import * as ort from 'onnxruntime-node';

import { DataError } from '../errors.js';
import * as spec from '../spec.js';
import { parse } from '../tensorproto.js';
import { ARTIFACTS } from './helpers.js';

const manifest = JSON.parse(readFileSync(path.join(ARTIFACTS, spec.MANIFEST_FILE), 'utf8'));

/** { model, part, file, sha256, goldenOf, batch } for every file to check, as runtime/verify.py lists them. */
function modelFiles() {
  const found = [];
  for (const [model, entry] of Object.entries(manifest.models)) {
    for (const [part, listed] of Object.entries(entry.files)) {
      found.push({ model, part, ...listed, goldenOf: listed.file });
      for (const copy of entry.edge?.files?.[part] ?? []) found.push({ model, part, ...copy, goldenOf: listed.file });
    }
    for (const [part, listed] of Object.entries(entry.int8?.files ?? {})) found.push({ model, part, ...listed, goldenOf: listed.file });
  }
  return found;
}

const readTensor = (folder, file) => parse(readFileSync(path.join(folder, file)), `${path.basename(folder)}/${file}`);

/** All rows at once, or `batch` rows at a time for a fixed-shape copy: each output's values, concatenated. */
async function run(session, x, names, batch) {
  const rows = x.dims[0], step = batch ?? rows;
  const width = x.dims.slice(1).reduce((a, b) => a * b, 1); // values per row: [784], or [28, 28, 1] (conv)
  const outputs = Object.fromEntries(names.map((name) => [name, { data: [], dims: null }]));
  for (let start = 0; start < rows; start += step) {
    const feed = new ort.Tensor('float32', x.data.slice(start * width, (start + step) * width), [step, ...x.dims.slice(1)]);
    const result = await session.run({ [x.name]: feed }, names);
    for (const name of names) {
      outputs[name].data.push(...result[name].data);
      outputs[name].dims = [rows, ...result[name].dims.slice(1)];
    }
  }
  return outputs;
}

const files = modelFiles();

test('the manifest lists float32, batch-1 and .ort files of every model, int8 of the ae and the vae', () => {
  const kinds = new Set(files.map((f) => f.file.replace(/^[a-z]+_[a-z]+/, '')));
  assert.deepEqual([...kinds].sort(), ['.batch1.onnx', '.int8.onnx', '.onnx', '.ort']);
  assert.equal(files.length, 28); // ae and vae: 8 each; conv and rd: 6 (no int8 copy: conv lost 0.13 dB, over the gate)
  assert.deepEqual(Object.keys(manifest.models).sort(), ['ae', 'conv', 'rd', 'vae']);
});

for (const listed of files) {
  test(`golden vectors: ${listed.file}`, async (t) => {
    const bytes = readFileSync(path.join(ARTIFACTS, listed.file));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), listed.sha256, 'sha256 differs from the manifest');
    const sidecar = JSON.parse(readFileSync(path.join(ARTIFACTS, spec.sidecarFile(listed.goldenOf)), 'utf8'));
    const { atol, rtol } = sidecar.golden;
    assert.ok(atol > 0 && rtol > 0 && atol <= spec.GOLDEN_ATOL && rtol <= spec.GOLDEN_RTOL);
    const folder = path.join(ARTIFACTS, spec.goldenDir(listed.goldenOf), spec.GOLDEN_DATA_SET);
    const x = readTensor(folder, 'input_0.pb');
    const session = await ort.InferenceSession.create(path.join(ARTIFACTS, listed.file));
    t.after(() => session.release());
    const expected = session.outputNames.map((_, i) => readTensor(folder, `output_${i}.pb`));
    assert.deepEqual(session.outputNames, expected.map((e) => e.name));
    const actual = await run(session, x, session.outputNames, listed.batch);
    const drift = {};
    for (const want of expected) {
      const got = actual[want.name];
      assert.deepEqual(got.dims, want.dims, `${want.name}: shape`);
      let maxDiff = 0;
      want.data.forEach((value, i) => {
        const diff = Math.abs(got.data[i] - value);
        assert.ok(diff <= atol + rtol * Math.abs(value), `${want.name}[${i}]: ${got.data[i]} vs golden ${value}`);
        maxDiff = Math.max(maxDiff, diff);
      });
      drift[want.name] = maxDiff;
    }
    t.diagnostic(`${listed.file}: x${x.dims[0]}, max abs diff ${JSON.stringify(drift)}, atol ${atol} rtol ${rtol}`);
  });
}

test('a tensor file that is damaged is refused with a DataError naming it', () => {
  const good = readFileSync(path.join(ARTIFACTS, 'vae_encoder', spec.GOLDEN_DATA_SET, 'output_0.pb'));
  const damaged = [
    [good.subarray(0, good.length - 3), 'truncated tensor file'],
    [Uint8Array.of(0x08, 0x80), 'truncated or corrupt tensor file'],
    [Uint8Array.of(0x0b), 'not a TensorProto (wire type 3)'],
    [Uint8Array.of(0x10, 0x07), 'tensor data type 7 is not float32'],
    [Uint8Array.of(0x08, 0x80, 0x80, 0x80, 0x80, 0x10, 0x08, 0x10), 'absurd tensor shape'],
    [Uint8Array.of(0x08, 0x02, 0x4a, 0x04, 0, 0, 0, 0), 'tensor holds 4 bytes of data, its shape needs 8'],
  ];
  for (const [bytes, message] of damaged) {
    assert.throws(() => parse(bytes, 'x.pb'), (e) => e instanceof DataError && e.message.startsWith(`x.pb: ${message}`), message);
  }
  // Unpacked float_data (fixed32, one value per field) reads as the packed form does.
  const unpacked = parse(Uint8Array.of(0x08, 0x02, 0x25, 0, 0, 0x80, 0x3f, 0x25, 0, 0, 0, 0x40, 0x42, 0x01, 0x61), 'y.pb');
  assert.deepEqual(unpacked, { name: 'a', dims: [2], data: Float32Array.of(1, 2) });
});
