// Latent grids and image tiling, as runtime/grids.py: the VAE's manifold.

import { IMAGE_SIDE } from './spec.js';

/** n evenly spaced float32 values over [-extent, extent], as np.linspace(..., dtype=float32). */
export function manifoldAxis(n, extent) {
  const step = n > 1 ? (2 * extent) / (n - 1) : 0;
  const axis = Float32Array.from({ length: n }, (_, i) => i * step - extent);
  if (n > 1) axis[n - 1] = extent; // numpy sets the end point exactly
  return axis;
}

/** (n*n) latent points [n*n * 2], row-major, top row at +extent on the second axis (as the plot reads). */
export function manifoldLatents(n, extent) {
  const axis = manifoldAxis(n, extent);
  const z = new Float32Array(n * n * 2);
  for (let row = 0; row < n; row++) {
    for (let column = 0; column < n; column++) {
      z[2 * (row * n + column)] = axis[column];
      z[2 * (row * n + column) + 1] = axis[n - 1 - row];
    }
  }
  return z;
}

/** N side x side images [N * side * side] -> one (rows*side) x (columns*side) image, left to right. */
export function tile(images, columns, side = IMAGE_SIDE) {
  const count = images.length / (side * side);
  const rows = Math.max(1, Math.ceil(count / columns));
  const width = columns * side;
  const canvas = new images.constructor(rows * side * width);
  for (let index = 0; index < count; index++) {
    const top = Math.floor(index / columns) * side, left = (index % columns) * side;
    for (let y = 0; y < side; y++) {
      const from = (index * side + y) * side;
      canvas.set(images.subarray(from, from + side), (top + y) * width + left);
    }
  }
  return canvas;
}
