"""`--report FILE` of compress and encode: every input's round trip as JSON lines, so that a batch of
thousands can print at most a few warnings and still say, for each input, how it fared.

    {"name": "scans/0001.png", "psnr": 21.37, "ink": 0.1211, "warning": null}

`psnr`: the round trip in dB (through the codes as stored); `ink`: the mean pixel value of the model's input;
`warning`: why it is unlike the images the model knows, or null. Written atomically when the batch ends.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..files import atomic_write_bytes, check_targets


class InputReport:
    def __init__(self, path: Path, force: bool = False, inputs: tuple[Path, ...] = ()):
        check_targets([path], force, inputs)  # before any work: nothing is overwritten unasked
        self.path, self.force, self.lines = path, force, []

    def add(self, labels: list[str], assessment) -> None:
        """One line per input of a chunk, from its model.Assessment."""
        inks = assessment.ink if assessment.ink is not None else [math.nan] * len(labels)
        for label, psnr, ink, why in zip(labels, assessment.psnr, inks, assessment.warnings):
            record = {"name": label, "psnr": _rounded(psnr, 2), "ink": _rounded(ink, 4), "warning": why}
            self.lines.append(json.dumps(record, ensure_ascii=False))

    def write(self) -> None:
        atomic_write_bytes(self.path, ("\n".join(self.lines) + "\n").encode(), force=self.force)


def _rounded(value: float, digits: int) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None
