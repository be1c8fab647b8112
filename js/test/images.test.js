// JavaScript frames a drawing as Python does: the same grey levels from RGBA (Pillow's compositing onto
// white and luminance), and the same MNIST-normalised 28x28 digit within one grey level, on seeded
// drawings of every kind a page makes (white on black, black on white, on a transparent canvas, a
// coloured pen; tall, wide, tiny and empty). Python's side: test/python_side.py normalize.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { DataError } from '../errors.js';
import { grayFromRGBA, preprocess } from '../images.js';
import { Xoshiro128 } from '../random.js';
import { comparePixels, makeTemporaryFolder, percent, runPython } from './helpers.js';

/** A polyline `width` px wide, anti-aliased: each pixel's coverage in [0, 1]. */
function strokeCoverage(width, height, points, penWidth) {
  const coverage = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let distance = Infinity;
      for (let i = 0; i + 1 < points.length; i++) distance = Math.min(distance, toSegment(x + 0.5, y + 0.5, points[i], points[i + 1]));
      coverage[y * width + x] = Math.min(1, Math.max(0, penWidth / 2 - distance + 0.5));
    }
  }
  return coverage;
}

function toSegment(px, py, [ax, ay], [bx, by]) {
  const [dx, dy] = [bx - ax, by - ay];
  const t = dx || dy ? Math.min(1, Math.max(0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy))) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** RGBA bytes of a canvas: `paper` ('black', 'white', 'clear') and a pen of colour `ink`. */
function paint(coverage, paper, ink) {
  const rgba = new Uint8Array(coverage.length * 4);
  coverage.forEach((c, i) => {
    if (paper === 'clear') rgba.set([...ink, Math.round(255 * c)], 4 * i);
    else {
      const back = paper === 'black' ? 0 : 255;
      rgba.set([...ink.map((v) => Math.round(back + (v - back) * c)), 255], 4 * i);
    }
  });
  return rgba;
}

function drawings() {
  const rng = new Xoshiro128(2026);
  const below = (n) => Math.floor(rng.uniform() * n * (1 - 2 ** -53));
  const found = [];
  const kinds = [['black', [255, 255, 255]], ['white', [0, 0, 0]], ['clear', [0, 0, 0]], ['white', [20, 60, 200]]];
  const sizes = [[280, 280], [200, 300], [300, 120], [64, 64], [28, 40]];
  for (let i = 0; i < 32; i++) {
    const [width, height] = sizes[i % sizes.length];
    const [paper, ink] = kinds[i % kinds.length];
    const points = Array.from({ length: 2 + below(5) }, () => [below(width), below(height)]);
    const coverage = strokeCoverage(width, height, points, 2 + below(Math.max(3, Math.min(width, height) / 10)));
    found.push({ stem: `drawing-${i}`, width, height, kind: 'rgba', data: paint(coverage, paper, ink) });
  }
  const line = (points, pen, size = [280, 280]) => strokeCoverage(...size, points, pen);
  const special = {
    'one-stroke': line([[140, 30], [140, 250]], 16), 'dash': line([[40, 140], [240, 140]], 3),
    'dot': line([[100, 90], [100, 90]], 6), 'corner': line([[0, 0], [60, 40]], 12),
    'symmetric': line([[100, 60], [180, 60], [180, 220], [100, 220], [100, 60]], 10), 'empty': new Float32Array(280 * 280),
  };
  for (const [name, coverage] of Object.entries(special)) {
    found.push({ stem: name, width: 280, height: 280, kind: 'rgba', data: paint(coverage, 'black', [255, 255, 255]) });
    found.push({ stem: `${name}-gray`, width: 280, height: 280, kind: 'f32', data: coverage });
  }
  // Every grey and alpha: the compositing and luminance of each RGBA value Pillow can be given.
  const ramp = new Uint8Array(256 * 256 * 4);
  for (let a = 0; a < 256; a++) for (let v = 0; v < 256; v++) ramp.set([v, (v * 7) & 255, 255 - v, a], 4 * (a * 256 + v));
  found.push({ stem: 'every-grey-and-alpha', width: 256, height: 256, kind: 'rgba', data: ramp });
  return found;
}

describe('drawings framed in JavaScript as in Python', () => {
  let folder, made;
  before(() => {
    folder = makeTemporaryFolder();
    made = drawings();
    for (const { stem, kind, data } of made) writeFileSync(path.join(folder, `${stem}.${kind}`), data);
    writeFileSync(path.join(folder, 'drawings.json'), JSON.stringify(made.map(({ data, ...rest }) => rest)));
    runPython('normalize', folder);
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('the same grey levels from RGBA', () => {
    for (const { stem, width, height, kind, data } of made.filter((d) => d.kind === 'rgba')) {
      const ours = grayFromRGBA(data, width, height);
      const theirs = new Float32Array(readFileSync(path.join(folder, `${stem}.py-gray.f32`)).buffer.slice(0));
      assert.deepEqual(ours, theirs, `${stem} (${kind})`);
    }
  });

  test('the same digit within one grey level', (t) => {
    let equal = 0, total = 0, worst = 0;
    for (const { stem, width, height, kind, data } of made) {
      const ours = preprocess({ data, width, height }, { gray: kind === 'f32' });
      const theirs = new Uint8Array(readFileSync(path.join(folder, `${stem}.py-digit.u8`)));
      const { exact, maxDiff } = comparePixels(ours, theirs);
      assert.ok(maxDiff <= 1, `${stem}: max diff ${maxDiff} grey levels`);
      equal += exact * ours.length, total += ours.length, worst = Math.max(worst, maxDiff);
    }
    t.diagnostic(`${made.length} drawings: ${percent(equal / total)} of pixels equal Python's, max diff ${worst}`);
  });
});

test('a drawing of the wrong size is refused with one line', () => {
  assert.throws(() => preprocess({ data: new Uint8Array(10), width: 2, height: 2 }),
    (e) => e instanceof DataError && e.message === 'a 2x2 drawing needs 16 values (RGBA bytes), got 10');
  assert.throws(() => preprocess({ data: new Uint8Array(4), width: 0, height: 1 }), DataError);
});
