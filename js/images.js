// A drawing -> a 28x28 MNIST-style digit, as runtime/images.py frames a clean picture: grey levels as
// Pillow makes them (RGBA composited onto white paper, then luminance), dark ink on light paper inverted,
// then MNIST's normalisation: the bounding box of the ink scaled into 20x20 keeping its aspect ratio
// (Pillow's Lanczos), placed on black 28x28 by its centre of mass. float32 arithmetic and numpy's
// summation order are kept, so the digit equals Python's within a grey level.

import { DataError } from './errors.js';
import { rint } from './numbers.js';
import { resizeLanczos } from './resample.js';
import { IMAGE_SIDE } from './spec.js';

export const MNIST_BOX = 20; // MNIST scales each digit's bounding box into 20x20 ...
export const INK_THRESHOLD = 0.2; // ... of pixels at least this bright (relative to the brightest), after inversion

/**
 * A drawing -> uint8 28x28 (row-major), white digit on black; Python's preprocess with MNIST framing.
 * `image`: { data, width, height } with `data` RGBA bytes (a canvas' ImageData) or, with `gray: true`,
 * float luminance in [0, 1]. `invert`: true (dark ink on light paper), false, or null to detect it.
 */
export function preprocess({ data, width, height }, { invert = null, gray = false } = {}) {
  checkSize(data, width, height, gray ? 1 : 4);
  let pixels = gray ? Float32Array.from(data) : grayFromRGBA(data, width, height);
  if (invert ?? hasLightBackground(pixels, width, height)) pixels = pixels.map((v) => 1 - v);
  const digit = mnistNormalize(pixels, width, height);
  return Uint8Array.from(digit, (v) => Math.min(255, Math.max(0, rint(Math.fround(v * 255)))));
}

function checkSize(data, width, height, channels) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new DataError(`a drawing needs a positive integer width and height, got ${width}x${height}`);
  }
  if (data?.length !== width * height * channels) {
    throw new DataError(`a ${width}x${height} drawing needs ${width * height * channels} values `
      + `(${channels === 4 ? 'RGBA bytes' : 'grey levels'}), got ${data?.length}`);
  }
}

/**
 * RGBA bytes -> float32 luminance in [0, 1], as to_gray does: Pillow's alpha_composite onto opaque white
 * paper (integer arithmetic, 7 bits of precision), then convert('L') (ITU-R 601-2 weights), / 255.
 */
export function grayFromRGBA(rgba, width, height) {
  const gray = new Float32Array(width * height);
  for (let i = 0; i < gray.length; i++) {
    const [r, g, b] = overWhite(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]);
    gray[i] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16) / 255;
  }
  return gray;
}

/**
 * One RGBA pixel composited onto opaque white: libImaging/AlphaComposite.c's integer formula, where an
 * opaque paper makes the output alpha 255 * 255 and the source's weight exactly 128 * alpha (7 bits).
 */
function overWhite(r, g, b, alpha) {
  if (alpha === 0) return [255, 255, 255];
  const [coef1, coef2] = [128 * alpha, 128 * (255 - alpha)];
  const blend = (c) => shiftForDiv255(c * coef1 + 255 * coef2 + (0x80 << 7)) >>> 7;
  return [blend(r), blend(g), blend(b)];
}

const shiftForDiv255 = (a) => ((a >>> 8) + a) >>> 8;

/** Paper is light when most of the image's outer ring is bright (over half the range). */
export function hasLightBackground(gray, width, height) {
  const border = [];
  for (let x = 0; x < width; x++) border.push(gray[x], gray[(height - 1) * width + x]);
  for (let y = 0; y < height; y++) border.push(gray[y * width], gray[y * width + width - 1]);
  return 2 * border.filter((v) => v > 0.5).length > border.length;
}

/**
 * MNIST's recipe, as images.mnist_normalize: bounding box of the ink into 20x20 (aspect kept), centre of
 * mass at the centre of 28x28. float32 [height * width] in [0, 1] -> float32 [784].
 */
export function mnistNormalize(gray, width, height) {
  let peak = -Infinity;
  for (const v of gray) peak = Math.max(peak, v);
  const threshold = Math.fround(INK_THRESHOLD * Math.max(peak, 1e-6)); // numpy 2 compares in float32
  const box = inkBox(gray, width, height, threshold);
  if (box === null) return new Float32Array(IMAGE_SIDE * IMAGE_SIDE); // no ink: black (Python: fit of a black page)
  const { top, left, bottom, right } = box;
  const [boxWidth, boxHeight] = [right - left, bottom - top];
  const crop = new Float32Array(boxWidth * boxHeight);
  for (let y = 0; y < boxHeight; y++) crop.set(gray.subarray((top + y) * width + left, (top + y) * width + right), y * boxWidth);
  const scale = MNIST_BOX / Math.max(boxWidth, boxHeight);
  const [w, h] = [Math.max(1, rint(boxWidth * scale)), Math.max(1, rint(boxHeight * scale))];
  const small = resizeLanczos(crop, boxWidth, boxHeight, w, h).map((v) => Math.min(1, Math.max(0, v)));
  // MNIST's digits have their centre of mass at pixel index 14.0 (Python's centred_by_mass), not 13.5.
  return centredByMass(small, w, h, IMAGE_SIDE / 2);
}

/** Rows and columns holding ink (>= threshold): { top, left, bottom, right } (exclusive), or null. */
function inkBox(gray, width, height, threshold) {
  let top = height, left = width, bottom = 0, right = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] >= threshold) {
        top = Math.min(top, y), bottom = Math.max(bottom, y + 1);
        left = Math.min(left, x), right = Math.max(right, x + 1);
      }
    }
  }
  return bottom > 0 ? { top, left, bottom, right } : null;
}

/** `box` (w x h, at most 28x28) on black 28x28, its centre of mass rounded (half to even) onto `centre`. */
function centredByMass(box, w, h, centre) {
  const total = sumFloat32(box, 0, box.length, 1) || 1;
  const rowSums = Float64Array.from({ length: h }, (_, y) => sumFloat32(box, y * w, w, 1) * y);
  const columnSums = Float64Array.from({ length: w }, (_, x) => columnSum(box, x, w, h) * x);
  const centreY = sumFloat64(rowSums, 0, h) / total;
  const centreX = sumFloat64(columnSums, 0, w) / total;
  const top = Math.min(Math.max(rint(centre - centreY), 0), IMAGE_SIDE - h);
  const left = Math.min(Math.max(rint(centre - centreX), 0), IMAGE_SIDE - w);
  const canvas = new Float32Array(IMAGE_SIDE * IMAGE_SIDE);
  for (let y = 0; y < h; y++) canvas.set(box.subarray(y * w, (y + 1) * w), (top + y) * IMAGE_SIDE + left);
  return canvas;
}

/** numpy's float32 sum of n values from `start` (pairwise, 8 accumulators, blocks of 128). */
function sumFloat32(values, start, n, stride) {
  return pairwise(values, start, n, stride, Math.fround);
}

function sumFloat64(values, start, n) {
  return pairwise(values, start, n, 1, (v) => v);
}

/** numpy's pairwise_sum (loops_utils.h), every addition rounded by `round` to the array's precision. */
function pairwise(a, start, n, stride, round) {
  const at = (i) => a[start + i * stride];
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum = round(sum + at(i));
    return sum;
  }
  if (n <= 128) {
    const r = Array.from({ length: 8 }, (_, j) => at(j));
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = round(r[j] + at(i + j));
    let sum = round(round(round(r[0] + r[1]) + round(r[2] + r[3])) + round(round(r[4] + r[5]) + round(r[6] + r[7])));
    for (; i < n; i++) sum = round(sum + at(i));
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return round(pairwise(a, start, half, stride, round) + pairwise(a, start + half * stride, n - half, stride, round));
}

/** box.sum(axis=0) for one column: numpy adds the rows in order, in float32. */
function columnSum(box, x, w, h) {
  let sum = 0;
  for (let y = 0; y < h; y++) sum = Math.fround(sum + box[y * w + x]);
  return sum;
}
