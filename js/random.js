// Seeded noise for sampling the VAE: xoshiro128** (Blackman and Vigna, 2018), its four 32-bit words
// filled by SplitMix32 from the seed, and standard normals by Box-Muller from 53-bit uniforms.
// Same seed, same numbers in every JavaScript engine whose Math.log, Math.cos and Math.sin agree
// (V8 everywhere: Node and Chromium); it is not numpy's stream, so JavaScript's digits for a seed
// differ from Python's.

import { DataError } from './errors.js';

/** xoshiro128** seeded with an integer 0 <= seed < 2^32; `next()` gives uint32s. */
export class Xoshiro128 {
  constructor(seed) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new DataError(`the seed must be an integer from 0 to ${0xffffffff}, got ${seed}`);
    }
    let mix = seed >>> 0;
    const splitMix32 = () => { // Stafford's mix13 variant for 32 bits: every seed gives a nonzero state
      mix = (mix + 0x9e3779b9) >>> 0;
      let z = mix;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.state = Uint32Array.from({ length: 4 }, splitMix32);
    if (this.state.every((word) => word === 0)) this.state[0] = 1;
  }

  next() {
    const s = this.state;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform float64 in (0, 1]: 53 random bits, never 0 (Box-Muller takes its log). */
  uniform() {
    const high = this.next() >>> 5; // 27 bits
    const low = this.next() >>> 6; // 26 bits
    return (high * 67108864 + low + 1) / 9007199254740992;
  }
}

const rotl = (x, k) => (x << k) | (x >>> (32 - k));

/** `count` draws from N(0, 1) as float32, from generator `rng` (Box-Muller, both values of each pair). */
export function standardNormal(rng, count) {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(rng.uniform()));
    const angle = 2 * Math.PI * rng.uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/** A seed for callers who give none: from the platform's cryptographic generator. */
export function randomSeed() {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0];
}
