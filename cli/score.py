"""`aeonnx score`: each input's reconstruction error, and whether it is an anomaly (runtime/scores.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.errors import printable

from .app import SkippedLines, app, fail, friendly_errors
from .options import EncoderOption, ForceOption, InputsArgument, InvertOption, JsonOption, ModelRun, with_groups


@app.command()
@friendly_errors
@with_groups(run=ModelRun)
def score(
    inputs: InputsArgument,
    model: EncoderOption = None,
    metric: Annotated[
        str, typer.Option(help="mse (mean squared error) or mae (mean absolute error), over each input's values.")
    ] = "mse",
    threshold: Annotated[
        float | None,
        typer.Option(
            help="An anomaly lies above this error. Default: the one export learnt from the model's data (its "
            f"{spec.ANOMALY_PERCENTILE:g}th percentile).",
            show_default=False,
        ),
    ] = None,
    histogram: Annotated[
        Path | None,
        typer.Option(help="Also draw the errors' histogram, the threshold on it, as this picture.", show_default=False),
    ] = None,
    invert: InvertOption = None,
    as_json: JsonOption = False,
    force: ForceOption = False,
    *,
    run: ModelRun,
) -> None:
    """Each input's reconstruction error and whether it is an anomaly, a line each (TAB-free text, or JSON
    lines); a one-line summary on stderr. Inputs: pictures, folders, or arrays (.npy, .npz)."""
    from aeonnx.runtime import jobs
    from aeonnx.runtime.files import check_targets
    from aeonnx.runtime.jobs.score import Tally, score_lines
    from aeonnx.runtime.jobs.score import histogram as draw

    if metric not in spec.SCORE_METRICS:
        raise fail(f"--metric {metric!r}: choose one of {', '.join(spec.SCORE_METRICS)}")
    if histogram is not None:
        check_targets([histogram], force, inputs=inputs)  # before any work: nothing overwritten unasked
    loaded, tally, skipped = run.load(model), Tally(metric), SkippedLines()
    try:
        for line in score_lines(inputs, loaded, tally, threshold, as_json, {"invert": invert}, jobs.Events(skipped)):
            typer.echo(printable(line))
    finally:
        skipped.close()
    failures = skipped.failures
    if not tally.errors:
        raise fail(f"no input could be scored ({len(failures)} failed)")
    typer.echo(printable(f"aeonnx: {tally.summary()}"), err=True)
    if histogram is not None:
        draw(tally, histogram, force)
    if failures:
        raise fail(f"{len(failures)} input(s) failed; the others were scored")
