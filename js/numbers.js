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
