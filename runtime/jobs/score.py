"""score: inputs in (pictures, folders, arrays), each one's reconstruction error out, and whether it lies above
the anomaly threshold (runtime/scores.py): the anomaly detection an autoencoder is most often deployed for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..model import Autoencoder
from ..pictures import inputs
from .events import Events


@dataclass
class Tally:
    """What a score run found, for its one-line summary and its histogram."""

    metric: str
    threshold: float | None = None
    source: str = ""
    errors: list[float] | None = None
    anomalies: int = 0

    def summary(self) -> str:
        count = len(self.errors or [])
        if self.threshold is None:
            return f"{count:,} input(s) scored ({self.metric}); no anomaly threshold: {self.source}"
        share = f" ({self.anomalies / count:.1%})" if count else ""
        return (
            f"{count:,} input(s): {self.anomalies:,} anomalous{share}, {self.metric} above {self.threshold:.6g} "
            f"({self.source})"
        )


def score_lines(
    paths: list[Path],
    model: Autoencoder,
    tally: Tally,
    threshold: float | None = None,
    as_json: bool = False,
    reading: dict | None = None,
    events: Events = Events(),
) -> Iterator[str]:
    """One line per input, in input order: its error and whether it is an anomaly (as text or JSON); `tally`
    gathers them. Inputs are read as compress reads them for this model (`reading`: invert, framing)."""
    how = dict(reading or {}, **model.reading)
    tally.errors = []
    for item in inputs.chunks(inputs.plan(paths), **how):
        if isinstance(item, inputs.Failure):
            events.on_failure(item)
            continue
        scores = model.score(item.digits, tally.metric, threshold)
        tally.threshold, tally.source = scores.threshold, scores.threshold_source
        tally.errors += scores.errors.tolist()
        anomalous = scores.anomalous
        tally.anomalies += int(anomalous.sum())
        flags = anomalous.tolist() if scores.threshold is not None else [None] * len(item.names)
        for name, error, flag in zip(item.names, scores.errors.tolist(), flags):
            yield _line(name, error, flag, as_json)
        events.progress(len(item.names))


def _line(name: str, error: float, anomaly: bool | None, as_json: bool) -> str:
    if as_json:
        return json.dumps({"name": name, "score": error, "anomaly": anomaly}, ensure_ascii=False)
    verdict = {True: "anomaly", False: "ok", None: "-"}[anomaly]
    return f"{error:<12.6g} {verdict:<7} {name}"


def histogram(tally: Tally, output: Path, force: bool = False) -> None:
    """The errors' histogram as a picture, the threshold drawn on it (runtime/pictures/histogram.py)."""
    from ..files import atomic_write_bytes
    from ..pictures import histogram as drawing
    from ..pictures.images import image_bytes, output_format

    picture = drawing.draw(
        np.asarray(tally.errors, np.float64), tally.threshold, f"reconstruction error ({tally.metric})"
    )
    atomic_write_bytes(output, image_bytes(picture, output_format(output)), force=force)
