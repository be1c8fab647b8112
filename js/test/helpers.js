// Shared by the tests: where things are, the Python side, pixel comparison.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { crc32 } from '../crc32.js';

export const JS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(JS_DIR, '..');
export const ARTIFACTS = path.join(REPO, 'artifacts');
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
