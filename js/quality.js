// Is this input like the digits the model knows? The round trip's PSNR and the ink, against training;
// as runtime/quality.py. Training records percentiles of its digits' round-trip PSNR and ink; export
// writes them into the model's metadata (and so its JSON sidecar) under spec.META_QUALITY. An input a tail
// step below the QUALITY_PERCENTILE-th percentile of PSNR, or under half of it in ink, gets a warning, in
// Python's words.

import { ModelError } from './errors.js';
import { formatFixed, formatG } from './numbers.js';
import {
  META_QUALITY, QUALITY_INK_SHARE, QUALITY_PERCENTILE, QUALITY_TAIL_PERCENTILE, QUALITY_TAIL_STEPS,
} from './spec.js';

export class QualityProfile {
  /**
   * psnrTypicalLow: dB, what all but QUALITY_PERCENTILE% of training digits reach (the warning says it);
   * psnrFloor: dB, below it a warning; inkLow: mean pixel value, below which a frame holds no digit.
   */
  constructor(psnrTypicalLow, psnrFloor, inkLow) {
    Object.assign(this, { psnrTypicalLow, psnrFloor, inkLow });
    Object.freeze(this);
  }

  /** '99.9%': the share of training digits at or above psnrTypicalLow, as the warning says it. */
  get shareAbove() {
    return `${formatG(100 - QUALITY_PERCENTILE)}%`;
  }

  /** null for a usual digit; otherwise why it is not, in words for the warning. */
  judge(psnr, ink) {
    if (ink < this.inkLow) {
      return ink < this.inkLow / 2 ? 'no digit found' : `very little ink (${formatFixed(ink * 100, 1)}% of the frame)`;
    }
    if (psnr < this.psnrFloor) {
      return `${formatFixed(psnr, 1)} dB; ${this.shareAbove} of its training digits give >= ${formatFixed(this.psnrTypicalLow, 1)} dB`;
    }
    return null;
  }
}

/** The profile a model's metadata carries; null for a model exported before it was recorded. */
export function profileFromMetadata(metadata, where = 'the model') {
  const raw = metadata?.[META_QUALITY];
  if (raw === undefined || raw === null) return null;
  const [key, tailKey] = [QUALITY_PERCENTILE, QUALITY_TAIL_PERCENTILE].map((p) => `p${formatG(p)}`);
  let quality;
  try {
    quality = JSON.parse(raw);
  } catch { /* told below */ }
  const [low, tail, ink] = [quality?.psnr_db?.[key], quality?.psnr_db?.[tailKey], quality?.ink?.[key]];
  if (![low, tail, ink].every((value) => typeof value === 'number')) {
    throw new ModelError(`${where}: metadata ${META_QUALITY} has no ${key} and ${tailKey} of psnr_db and ${key} of ink`);
  }
  // As runtime/quality.py profile_of, operation for operation, so that both draw the line at the same double.
  const floor = low - QUALITY_TAIL_STEPS * Math.max(tail - low, 0.0);
  return new QualityProfile(low, floor, QUALITY_INK_SHARE * ink);
}
