// Pillow's Lanczos resize of a float32 ("F" mode) image, as Image.resize(size, LANCZOS) computes it
// (libImaging/Resample.c): separable, horizontal pass first, float64 weights normalised per output
// pixel, float64 sums stored as float32. The normalisation of drawings (images.js) rests on it.

const SUPPORT = 3; // Lanczos-3

function sinc(x) {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const lanczos = (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

/** Per output pixel: the first input index, the count, and the weights (Pillow's precompute_coeffs). */
function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  return Array.from({ length: outSize }, (_, xx) => {
    const centre = (xx + 0.5) * scale;
    const first = Math.max(0, Math.trunc(centre - support + 0.5));
    const count = Math.min(inSize, Math.trunc(centre + support + 0.5)) - first;
    const weights = new Float64Array(count);
    const reciprocal = 1 / filterScale;
    let total = 0;
    for (let x = 0; x < count; x++) total += weights[x] = lanczos((x + first - centre + 0.5) * reciprocal);
    if (total !== 0) for (let x = 0; x < count; x++) weights[x] /= total;
    return { first, weights };
  });
}

/** A float32 image [height * width] -> [outHeight * outWidth], Lanczos-resampled as Pillow does. */
export function resizeLanczos(pixels, width, height, outWidth, outHeight) {
  let image = Float32Array.from(pixels), rows = height, columns = width;
  const vertical = coefficients(height, outHeight);
  if (outWidth !== width) {
    // Only the input rows the vertical pass reads are resampled, as Pillow does.
    const top = vertical[0].first;
    const bottom = vertical[outHeight - 1].first + vertical[outHeight - 1].weights.length;
    image = pass(image, columns, top, bottom - top, coefficients(width, outWidth), true);
    for (const c of vertical) c.first -= top;
    rows = bottom - top;
    columns = outWidth;
  }
  if (outHeight !== height) image = pass(image, columns, 0, outHeight, vertical, false);
  return image;
}

/** One pass: along rows (horizontal) or along columns (vertical), starting at input row `offset`. */
function pass(image, width, offset, count, coefficientsOut, horizontal) {
  const outWidth = horizontal ? coefficientsOut.length : width;
  const out = new Float32Array(outWidth * count);
  for (let y = 0; y < count; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { first, weights } = coefficientsOut[horizontal ? x : y];
      let sum = 0;
      for (let k = 0; k < weights.length; k++) {
        sum += weights[k] * (horizontal ? image[(y + offset) * width + first + k] : image[(first + k) * width + x]);
      }
      out[y * outWidth + x] = sum;
    }
  }
  return out;
}
