// Shared by the tests: where things are, the Python side, pixel comparison.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import { inflateRawSync } from 'node:zlib';

import * as codefile from '../codefile.js';
import { CodeFileError } from '../errors.js';
import { crc32 } from '../crc32.js';
import { FrequencyTable, Priors } from '../entropy.js';
import { Xoshiro128 } from '../random.js';

export const JS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(JS_DIR, '..');
export const ARTIFACTS = path.join(REPO, 'artifacts');
export const FIXTURES_V2 = path.join(REPO, 'tests', 'fixtures', 'v2');
export const FIXTURES_V1 = path.join(REPO, 'tests', 'fixtures', 'v1');
export const FIXTURES_RELEASED = path.join(REPO, 'tests', 'fixtures', 'released');
export const PYTHON = process.env.AEONNX_PYTHON || path.join(REPO, '.venv', 'bin', 'python');

/** Runs js/test/python_side.py with aeonnx's Python; a failure fails the test, with Python's stderr. */
export function runPython(...args) {
  const result = spawnSync(PYTHON, [path.join(JS_DIR, 'test', 'python_side.py'), ...args], { encoding: 'utf8' });
  assert.equal(result.error, undefined, `cannot run ${PYTHON} (set AEONNX_PYTHON): ${result.error}`);
  assert.equal(result.status, 0, `python_side.py ${args.join(' ')} failed:\n${result.stderr}`);
}

export const makeTemporaryFolder = () => mkdtempSync(path.join(tmpdir(), 'aeonnx-js-'));

/** A temporary folder, removed when the test `context` ends. */
export function temporaryFolder(context) {
  const folder = makeTemporaryFolder();
  context.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** `body` followed by its CRC-32, as an .aez file ends. */
export function withCrc(body) {
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body), true);
  return out;
}

/** Two uint8 images of the same size: the share of equal pixels and the largest difference. */
export function comparePixels(a, b) {
  assert.equal(a.length, b.length, 'pixel counts differ');
  let equal = 0, maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (diff === 0) equal++;
    if (diff > maxDiff) maxDiff = diff;
  }
  return { exact: a.length ? equal / a.length : 1, maxDiff };
}

/** The same bytes, as Buffer.equals would say, with a short message. */
export function sameBytes(a, b, what) {
  assert.ok(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
    `${what}: bytes differ`);
}

export const percent = (share) => `${(100 * share).toFixed(3)}%`;

/** The arrays of an .npz file (numpy's zip of .npy files, stored or deflated): name -> { shape, data }. */
export function readNpz(file) {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])); // end of central directory
  const entries = zip.readUInt16LE(end + 10);
  const arrays = new Map();
  for (let i = 0, at = zip.readUInt32LE(end + 16); i < entries; i++) {
    const [method, size, nameLength] = [zip.readUInt16LE(at + 10), zip.readUInt32LE(at + 20), zip.readUInt16LE(at + 28)];
    const [extra, comment, local] = [zip.readUInt16LE(at + 30), zip.readUInt16LE(at + 32), zip.readUInt32LE(at + 42)];
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength).replace(/\.npy$/, '');
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const stored = zip.subarray(start, start + size);
    arrays.set(name, parseNpy(method === 8 ? inflateRawSync(stored) : stored));
    at += 46 + nameLength + extra + comment;
  }
  return arrays;
}

const NPY_TYPES = { '|u1': Uint8Array, '<f4': Float32Array };

function parseNpy(bytes) {
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  const descr = /'descr': '([^']+)'/.exec(header)[1];
  const shape = /'shape': \(([^)]*)\)/.exec(header)[1].split(',').filter((s) => s.trim()).map(Number);
  assert.ok(NPY_TYPES[descr] && header.includes("'fortran_order': False"), `unsupported .npy: ${header}`);
  const raw = bytes.subarray(start + headerLength);
  const copy = new Uint8Array(raw); // aligned, owned
  return { shape, data: new NPY_TYPES[descr](copy.buffer, 0, copy.length / NPY_TYPES[descr].BYTES_PER_ELEMENT) };
}

/** Priors for every B from 500 seeded uniform codes over [zMin, zMax] (as Python's test_codefile makes them). */
export function priorsFor(zMin, zMax, seed) {
  const rng = new Xoshiro128(seed);
  const z = Float32Array.from({ length: 500 * zMin.length }, (_, i) => rng.uniform() * (zMax[i % zMin.length] - zMin[i % zMin.length]));
  return new Priors(codefile.BITS.map((bits) => {
    const symbols = codefile.quantize(z, bits, { zMin, zMax });
    const rows = Array.from(zMin, (_, d) => new Array(2 ** bits).fill(0));
    symbols.forEach((s, i) => rows[i % zMin.length][s]++);
    return [bits, FrequencyTable.fromHistograms(rows)];
  }));
}

/** FORMAT.md's golden table (n = 12, B = 4, L = 6): dimension d from the example's counts rotated by d, the last from none. */
export const GOLDEN_COUNTS = [0, 0, 5, 17, 120, 40, 3, 0, 0, 1, 0, 0, 0, 0, 0, 9];
export function goldenTable() {
  const rows = [0, 1, 2, 3, 4].map((d) => GOLDEN_COUNTS.map((_, s) => GOLDEN_COUNTS[(s - d + 16) % 16]));
  return FrequencyTable.fromHistograms([...rows, new Array(16).fill(0)], 12);
}

/** A folder served over HTTP on 127.0.0.1 (404 for what it lacks), closed after the test: its base URL. */
export async function serveFolder(t, folder) {
  const server = createServer((request, response) => {
    const file = path.join(folder, decodeURIComponent(new URL(request.url, 'http://x').pathname));
    try {
      response.end(readFileSync(file));
    } catch {
      response.statusCode = 404;
      response.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return `http://127.0.0.1:${server.address().port}/`;
}

/** The reader's only allowed answers: a code file, or a CodeFileError with a one-line message. */
export function readOrRefuse(data) {
  try {
    return codefile.fromBytes(data);
  } catch (error) {
    assert.ok(error instanceof CodeFileError, `${error.name}: ${error.message}`);
    assert.ok(error.message.length > 0 && !error.message.includes('\n'), error.message);
    return null;
  }
}
