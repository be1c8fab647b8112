"""Commands between digit images and codes: compress, decompress, encode."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from aeonnx.runtime.errors import printable

from .app import app, fail, friendly_errors, report_failure, warn_unusual
from .options import ForceOption, InputsArgument, ModelRun, Precision, Reading, Scale, say_provider, with_groups

PROGRESS_THRESHOLD = 300  # images; below this a progress bar is only noise


@app.command()
@friendly_errors
@with_groups(reading=Reading, run=ModelRun, scale=Scale)
def compress(
    inputs: InputsArgument,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="The .aez file to write.")] = None,
    precision: Annotated[Precision, typer.Option(help="How each latent value is stored.")] = Precision.uint8,
    force: ForceOption = False,
    *,
    reading: Reading,
    run: ModelRun,
    scale: Scale,
) -> None:
    """Compress digit images to latent codes: img.png -> img.aez; several inputs -> one container (-o)."""
    from aeonnx.runtime import jobs

    engine = scale.make()
    loaded = run.load(reading.model.value)
    job = jobs.CompressJob.of(inputs, output, precision=precision.value, invert=reading.invert,
                              center=reading.center, force=force, strict=reading.strict)
    total = job.count()
    with typer.progressbar(length=total, label="compressing", file=sys.stderr,
                           hidden=total < PROGRESS_THRESHOLD) as bar:
        events = jobs.Events(on_failure=report_failure, on_warning=warn_unusual, progress=bar.update)
        result = jobs.compress_files(job, loaded, events, engine)
    summary = f"{result.output}: {result.done} code(s), {result.bytes_written:,} bytes"
    typer.echo(printable(summary) + (f"; {result.unusual} unlike the digits the model knows" if result.unusual else ""))
    if result.failures:
        raise fail(f"{len(result.failures)} input(s) failed; the others were done")


@app.command()
@friendly_errors
@with_groups(run=ModelRun, scale=Scale)
def decompress(
    code: Annotated[Path, typer.Argument(help="An .aez file.")],
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="A picture for one code or --grid (format from its extension), "
                     "else a folder to write the PNGs into (only those files are written)."),
    ] = None,
    grid: Annotated[bool, typer.Option(help="One grid image of every code.")] = False,
    force: ForceOption = False,
    *,
    run: ModelRun,
    scale: Scale,
) -> None:
    """Decode an .aez file back to 28x28 PNG digits; the file says which model made it."""
    from aeonnx.runtime import jobs

    written = jobs.decompress_file(code, output, grid, force, run.models, run.device.value, run.variant,
                                   on_load=say_provider if run.verbose else lambda model: None,
                                   engine=scale.make())
    where = printable(str(written.where))
    typer.echo(where if written == [written.where] else f"{where}: {len(written)} image(s)")


@app.command()
@friendly_errors
@with_groups(reading=Reading, run=ModelRun)
def encode(inputs: InputsArgument, *, reading: Reading, run: ModelRun) -> None:
    """Latent vectors as JSON lines on stdout (with each round trip's PSNR), for scripts and other programs."""
    from aeonnx.runtime import jobs

    failures, unusual = [], []
    events = jobs.Events(on_failure=lambda f: (failures.append(f), report_failure(f)),
                         on_warning=lambda label, why: (unusual.append(label), warn_unusual(label, why)))
    encoded = 0
    loaded = run.load(reading.model.value)
    for line in jobs.encode_lines(inputs, loaded, reading.invert, reading.center, events):
        typer.echo(line)
        encoded += 1
    if failures and not encoded:
        raise fail(f"no input could be encoded ({len(failures)} failed)")
    if failures:
        raise fail(f"{len(failures)} input(s) failed; the others were encoded")
    if reading.strict and unusual:
        raise fail(f"{len(unusual)} input(s) unlike the digits this model knows (--strict)")
