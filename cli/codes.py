"""Commands between digit images and codes: compress, decompress, encode."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from aeonnx.runtime.errors import printable

from .app import app, fail, friendly_errors, load, report_failure, say_provider, warn_unusual
from .options import (CenterOption, Device, DeviceOption, EncoderOption, ForceOption, InputsArgument, Int8Option,
                      InvertOption, ModelName, ModelsOption, Precision, StrictOption, VerboseOption, variant)

PROGRESS_THRESHOLD = 300  # images; below this a progress bar is only noise


@app.command()
@friendly_errors
def compress(
    inputs: InputsArgument,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="The .aez file to write.")] = None,
    model: EncoderOption = ModelName.ae,
    precision: Annotated[Precision, typer.Option(help="How each latent value is stored.")] = Precision.uint8,
    invert: InvertOption = None,
    center: CenterOption = False,
    force: ForceOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    verbose: VerboseOption = False,
    int8: Int8Option = False,
    strict: StrictOption = False,
) -> None:
    """Compress digit images to latent codes: img.png -> img.aez; several inputs -> one container (-o)."""
    from aeonnx.runtime import jobs

    loaded = load(model.value, models, device, verbose, int8)
    job = jobs.CompressJob.of(inputs, output, precision=precision.value, invert=invert, center=center,
                              force=force, strict=strict)
    total = job.count()
    with typer.progressbar(length=total, label="compressing", file=sys.stderr,
                           hidden=total < PROGRESS_THRESHOLD) as bar:
        events = jobs.Events(on_failure=report_failure, on_warning=warn_unusual, progress=bar.update)
        result = jobs.compress_files(job, loaded, events)
    summary = f"{result.output}: {result.done} code(s), {result.bytes_written:,} bytes"
    typer.echo(printable(summary) + (f"; {result.unusual} unlike the digits the model knows" if result.unusual else ""))
    if result.failures:
        raise fail(f"{len(result.failures)} input(s) failed; the others were done")


@app.command()
@friendly_errors
def decompress(
    code: Annotated[Path, typer.Argument(help="An .aez file.")],
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="A picture for one code or --grid (format from its extension), "
                     "else a folder to write the PNGs into (only those files are written)."),
    ] = None,
    grid: Annotated[bool, typer.Option(help="One grid image of every code.")] = False,
    force: ForceOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    verbose: VerboseOption = False,
    int8: Int8Option = False,
) -> None:
    """Decode an .aez file back to 28x28 PNG digits; the file says which model made it."""
    from aeonnx.runtime import jobs

    written = jobs.decompress_file(code, output, grid, force, models, device.value, variant(int8),
                                   on_load=say_provider if verbose else lambda model: None)
    where = printable(str(written.where))
    typer.echo(where if written == [written.where] else f"{where}: {len(written)} image(s)")


@app.command()
@friendly_errors
def encode(
    inputs: InputsArgument,
    model: EncoderOption = ModelName.ae,
    invert: InvertOption = None,
    center: CenterOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    verbose: VerboseOption = False,
    int8: Int8Option = False,
    strict: StrictOption = False,
) -> None:
    """Latent vectors as JSON lines on stdout (with each round trip's PSNR), for scripts and other programs."""
    from aeonnx.runtime import jobs

    failures, unusual = [], []
    events = jobs.Events(on_failure=lambda f: (failures.append(f), report_failure(f)),
                         on_warning=lambda label, why: (unusual.append(label), warn_unusual(label, why)))
    encoded = 0
    loaded = load(model.value, models, device, verbose, int8)
    for line in jobs.encode_lines(inputs, loaded, invert, center, events):
        typer.echo(line)
        encoded += 1
    if failures and not encoded:
        raise fail(f"no input could be encoded ({len(failures)} failed)")
    if failures:
        raise fail(f"{len(failures)} input(s) failed; the others were encoded")
    if strict and unusual:
        raise fail(f"{len(unusual)} input(s) unlike the digits this model knows (--strict)")
