// numpy's float32 and float16 arithmetic, bit for bit, so JavaScript makes the codes Python makes.
// A float32 operation is a float64 one rounded with Math.fround: for +, -, *, / of float32 operands
// that double rounding is exact (float64 has more than 2 * 24 + 2 bits), so it equals numpy's float32.

/** np.rint: round half to even. */
export function rint(x) {
  const floor = Math.floor(x);
  const fraction = x - floor; // exact: a float64 minus its floor
  const rounded = fraction > 0.5 || (fraction === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return rounded === 0 && x < 0 ? -0 : rounded; // -0.5 -> -0, as numpy
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 -> IEEE binary16 bits, rounding half to even, as numpy's astype(float16). */
export function toHalfBits(value) {
  f32[0] = value;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = bits & 0x7f800000;
  if (exponent === 0x7f800000) { // inf, or NaN keeping the top of its payload (never turned into inf)
    const significand = bits & 0x7fffff;
    if (significand === 0) return sign | 0x7c00;
    const half = 0x7c00 + (significand >>> 13);
    return sign | (half === 0x7c00 ? 0x7c01 : half);
  }
  if (exponent >= 0x47800000) return sign | 0x7c00; // 65536 and more: overflow to inf
  if (exponent <= 0x38000000) return sign | subnormalHalf(bits, exponent);
  let significand = bits & 0x7fffff;
  if ((significand & 0x3fff) !== 0x1000) significand += 0x1000; // round half to even
  // A carry out of the significand steps the exponent up, to inf at the top: as it should.
  return sign | (((exponent - 0x38000000) >>> 13) + (significand >>> 13));
}

function subnormalHalf(bits, exponent) {
  if (exponent < 0x33000000) return 0; // under half the smallest subnormal: signed zero
  const shift = 113 - (exponent >>> 23);
  const significand = (0x800000 + (bits & 0x7fffff)) >>> shift;
  // Round half to even; bits shifted out below the 13 (at most 11 more) break a tie upwards.
  const roundUp = (significand & 0x3fff) !== 0x1000 || (bits & 0x7ff) !== 0;
  return (roundUp ? significand + 0x1000 : significand) >>> 13;
}

/** IEEE binary16 bits -> its value (exact in float32). */
export function fromHalfBits(half) {
  const sign = half & 0x8000 ? -1 : 1;
  const exponent = (half >>> 10) & 0x1f;
  const significand = half & 0x3ff;
  if (exponent === 0) return sign * significand * 2 ** -24;
  if (exponent === 0x1f) return significand ? NaN : sign * Infinity;
  return sign * (1024 + significand) * 2 ** (exponent - 25);
}

/** numpy's float64 sum of `n` values from `start` (its pairwise_sum: 8 accumulators, blocks of 128). */
export function pairwiseSum(values, start, n) {
  if (n < 8) {
    let sum = 0;
    for (let i = start; i < start + n; i++) sum += values[i];
    return sum;
  }
  if (n <= 128) {
    const r = values.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += values[start + i + j];
    let sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) sum += values[start + i];
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwiseSum(values, start, half) + pairwiseSum(values, start + half, n - half);
}

/** Python's f'{x:.{digits}f}': the exact binary value rounded half to even (toFixed breaks ties upwards). */
export function formatFixed(x, digits) {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const rounded = x.toFixed(digits);
  const exact = Math.abs(x).toFixed(100); // every digit of a double above 2^-47: enough to see a tie
  const cut = exact.indexOf('.') + 1 + digits;
  if (!/^50*$/.test(exact.slice(cut))) return rounded; // not a tie
  const truncated = exact.slice(0, digits === 0 ? cut - 1 : cut);
  const lastDigit = Number(truncated.at(-1));
  return lastDigit % 2 === 0 ? (x < 0 ? '-' : '') + truncated : rounded;
}

/** Python's f'{x:g}' for plain values such as percentiles (6 significant digits, no trailing zeros). */
export const formatG = (x) => String(Number(x.toPrecision(6)));
