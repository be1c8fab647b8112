// Is this input like the digits the model knows? The round trip's PSNR and the ink, against training;
// as runtime/quality.py. Training records percentiles of its digits' round-trip PSNR and ink; export
// writes them into the model's metadata (and so its JSON sidecar) under spec.META_QUALITY. An input
// below the QUALITY_PERCENTILE-th percentile of either gets a warning, in Python's words.

import { ModelError } from './errors.js';
import { formatFixed, formatG } from './numbers.js';
import { META_QUALITY, QUALITY_PERCENTILE } from './spec.js';

export class QualityProfile {
  /** psnrFloor: dB; inkLow: mean pixel value, below which a page holds no digit the model could know. */
  constructor(psnrFloor, inkLow) {
    Object.assign(this, { psnrFloor, inkLow });
    Object.freeze(this);
  }

  /** '99.9%': the share of training digits at or above the floor, as the warning says it. */
  get shareAbove() {
    return `${formatG(100 - QUALITY_PERCENTILE)}%`;
  }

  /** null for a usual digit; otherwise why it is not, in words for the warning. */
  judge(psnr, ink) {
    if (ink < this.inkLow) {
      return ink < this.inkLow / 4 ? 'no digit found' : `very little ink (${formatFixed(ink * 100, 1)}% of the frame)`;
    }
    if (psnr < this.psnrFloor) {
      return `${formatFixed(psnr, 1)} dB; ${this.shareAbove} of its training digits give >= ${formatFixed(this.psnrFloor, 1)} dB`;
    }
    return null;
  }
}

/** The profile a model's metadata carries; null for a model exported before it was recorded. */
export function profileFromMetadata(metadata, where = 'the model') {
  const raw = metadata?.[META_QUALITY];
  if (raw === undefined || raw === null) return null;
  const key = `p${formatG(QUALITY_PERCENTILE)}`;
  let quality;
  try {
    quality = JSON.parse(raw);
  } catch { /* told below */ }
  const [psnrFloor, inkLow] = [quality?.psnr_db?.[key], quality?.ink?.[key]];
  if (typeof psnrFloor !== 'number' || typeof inkLow !== 'number') {
    throw new ModelError(`${where}: metadata ${META_QUALITY} has no ${key} of psnr_db and ink`);
  }
  return new QualityProfile(psnrFloor, inkLow);
}
