// Per-image figures, as runtime/metrics.py: float64 arithmetic and numpy's pairwise summation, so each
// figure equals Python's for the same pixels (log10 may differ in its last bit).

import { pairwiseSum } from './numbers.js';
import { INPUT_SIZE } from './spec.js';

/** Each image's PSNR in dB (float64 [N]), for pixels in [0, 1]; a perfect copy counts as 120 dB. */
export function psnrPerImage(x, xHat, size = INPUT_SIZE) {
  if (x.length !== xHat.length || x.length % size !== 0) {
    throw new RangeError(`psnrPerImage needs two arrays of N * ${size} pixels, got ${x.length} and ${xHat.length}`);
  }
  return errorsPerInput(x, xHat, size, 'mse').map((mse) => 10 * Math.log10(1 / Math.max(mse, 1e-12)));
}

// Reconstruction errors, as runtime/scores.py: over each input's values, in float64 with numpy's summation.
export const ERROR_METRICS = Object.freeze(['mse', 'mae']);

/** Each input's mean squared (mse) or absolute (mae) error over its `size` values (float64 [N]). */
export function errorsPerInput(x, xHat, size, metric = 'mse') {
  const each = new Float64Array(size);
  return Float64Array.from({ length: x.length / size }, (_, input) => {
    for (let i = 0; i < size; i++) {
      const difference = x[input * size + i] - xHat[input * size + i];
      each[i] = metric === 'mse' ? difference * difference : Math.abs(difference);
    }
    return pairwiseSum(each, 0, size) / size;
  });
}

/** Each image's mean pixel value in [0, 1]: how much of the frame the strokes cover. */
export function ink(x, size = INPUT_SIZE) {
  const pixels = Float64Array.from(x); // numpy sums the float64 copy
  return Float64Array.from({ length: x.length / size }, (_, image) => pairwiseSum(pixels, image * size, size) / size);
}
