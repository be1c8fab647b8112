"""Commands between digit images and codes: compress, decompress, encode."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.errors import printable

from .app import KNOWN_DIGITS, SkippedLines, WarningLines, app, fail, friendly_errors, warn_unusual
from .options import (
    EncoderOption,
    ForceOption,
    InputsArgument,
    InvertOption,
    MaxCodesOption,
    ModelRun,
    NamesOption,
    Precision,
    Reading,
    Scale,
    ShardSizeOption,
    say_provider,
    with_groups,
)

PROGRESS_THRESHOLD = 300  # images; below this a progress bar is only noise
ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        help="Also write every input's name, round-trip PSNR, ink and warning (or null) to FILE, as JSON lines; "
        "a batch prints only its first 10 warnings.",
        show_default=False,
    ),
]


@app.command()
@friendly_errors
@with_groups(reading=Reading, run=ModelRun, scale=Scale)
def compress(
    inputs: InputsArgument,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The .aez file to write (with --shard-size: a folder).")
    ] = None,
    precision: Annotated[
        Precision,
        typer.Option(
            help="How each latent value is stored: auto (entropy-coded at the model's default bits), "
            "float32 or float16 (exact, uncoded), uint8 (entropy-coded at 8 bits)."
        ),
    ] = Precision.auto,
    bits: Annotated[
        int | None,
        typer.Option(
            "--bits",
            min=4,
            max=8,
            help="Entropy-code each latent value at 4-8 bits (fewer: smaller, "
            "less faithful); overrides the model's default.",
            show_default=False,
        ),
    ] = None,
    quality: Annotated[
        int | None,
        typer.Option(
            "--quality",
            "-q",
            min=1,
            max=spec.QUALITY_LEVELS,
            help=f"A rate-distortion model's quality level (rd, the default model), 1-{spec.QUALITY_LEVELS}: "
            "higher, more bytes and a better picture. Default: the knee of its bytes-PSNR curve on held-out "
            "images, which `aeonnx info` marks. Other models: --bits.",
            show_default=False,
        ),
    ] = None,
    shard_size: ShardSizeOption = None,
    report: ReportOption = None,
    force: ForceOption = False,
    *,
    reading: Reading,
    run: ModelRun,
    scale: Scale,
) -> None:
    """Compress digit images to latent codes: img.png -> img.aez; several inputs -> one container (-o)."""
    from aeonnx.runtime import jobs

    report_file = jobs.InputReport(report, force, tuple(inputs)) if report else None
    engine = scale.make()
    loaded = run.load(reading.model)
    job = jobs.CompressJob.of(
        inputs,
        output,
        precision=precision.value,
        bits=bits,
        quality=quality,
        shard_size=shard_size,
        invert=reading.invert,
        framing=reading.framing,
        force=force,
        strict=reading.strict,
    )

    def work(events):
        return jobs.compress_files(job, loaded, events, engine)

    result = _with_progress(job, work, report_file, loaded.known_inputs)
    if report_file:
        report_file.write()
    summary = f"{result.output}: {result.done} code(s), {result.bytes_written:,} bytes"
    unusual = f"; {result.unusual} unlike the {loaded.inputs_known_to('the model')}" if result.unusual else ""
    typer.echo(printable(summary + unusual))
    if result.failures:
        raise fail(f"{len(result.failures)} input(s) failed; the others were done")


def _with_progress(job, work, report_file=None, known: str = KNOWN_DIGITS):
    """Run `work(events)` with a progress bar over the job's inputs (hidden for a few); at most 10 warnings
    printed, every input's figures into `report_file` (a jobs.InputReport) if given."""
    total = job.count()
    lines, skipped = WarningLines(report_file.path if report_file else None, known), SkippedLines()
    with _progress_bar(total) as progress:
        events = _events(lines, report_file, on_failure=skipped, progress=progress)
        try:
            return work(events)
        finally:
            skipped.close()
            lines.close()


def _events(lines: WarningLines, report_file, **more):
    """compress's and encode's events: warnings through `lines`, and every input's figures into `report_file`
    (a jobs.InputReport) when there is one."""
    from aeonnx.runtime import jobs

    assessed = {"on_assessed": report_file.add} if report_file else {}
    return jobs.Events(on_warning=lines, **assessed, **more)


@contextlib.contextmanager
def _progress_bar(total: int):
    """A progress bar's update function; for a few inputs none is drawn (nor Click's terminal code imported)."""
    if total < PROGRESS_THRESHOLD:
        yield lambda done: None
        return
    with typer.progressbar(length=total, label="compressing", file=sys.stderr) as bar:
        yield bar.update


@app.command()
@friendly_errors
@with_groups(run=ModelRun, scale=Scale)
def decompress(
    code: Annotated[Path, typer.Argument(help="An .aez file, or a folder of shards (compress --shard-size).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="A picture for one code or --grid (format from its extension), "
            "else a folder to write the PNGs into (only those files are written).",
        ),
    ] = None,
    grid: Annotated[bool, typer.Option(help="One grid image of every code.")] = False,
    name: NamesOption = None,
    force: ForceOption = False,
    max_codes: MaxCodesOption = spec.MAX_CODES_PER_FILE,
    max_files: Annotated[
        int, typer.Option("--max-files", min=1, help="Decode at most this many codes in one run (a file each).")
    ] = spec.MAX_FILES_PER_RUN,
    *,
    run: ModelRun,
    scale: Scale,
) -> None:
    """Decode an .aez file (or a folder of shards) back to 28x28 PNG digits; the file says which model made it."""
    from aeonnx.runtime import jobs

    picked = tuple(name or ())
    job = jobs.DecompressJob(
        code, output, grid, force, picked, run.models, run.device.value, run.variant, max_codes, max_files
    )
    written = jobs.decompress_file(
        job, on_load=say_provider if run.verbose else lambda model: None, engine=scale.make()
    )
    where = printable(str(written.where))
    typer.echo(where if written == [written.where] else f"{where}: {len(written)} image(s)")


@app.command()
@friendly_errors
@with_groups(reading=Reading, run=ModelRun)
def encode(
    inputs: InputsArgument,
    report: ReportOption = None,
    force: ForceOption = False,
    *,
    reading: Reading,
    run: ModelRun,
) -> None:
    """Latent vectors as JSON lines on stdout (with each round trip's PSNR), for scripts and other programs."""
    from aeonnx.runtime import jobs

    report_file = jobs.InputReport(report, force, tuple(inputs)) if report else None
    loaded = run.load(reading.model)
    skipped, lines = SkippedLines(), WarningLines(report, loaded.known_inputs)
    failures = skipped.failures
    events = _events(lines, report_file, on_failure=skipped)
    encoded = 0
    try:
        for line in jobs.encode_lines(inputs, loaded, reading.invert, reading.framing, events):
            typer.echo(line)
            encoded += 1
    finally:
        skipped.close()
        lines.close()
    if report_file:
        report_file.write()
    if failures and not encoded:
        raise fail(f"no input could be encoded ({len(failures)} failed)")
    if failures:
        raise fail(f"{len(failures)} input(s) failed; the others were encoded")
    if reading.strict and lines.count:
        raise fail(f"{lines.count} input(s) unlike the {loaded.known_inputs} (--strict)")


@app.command()
@friendly_errors
@with_groups(run=ModelRun)
def inspect(
    image: Annotated[Path, typer.Argument(help="A picture of a digit, as you would compress it.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The picture to write; default IMAGE-inspect.png.")
    ] = None,
    model: EncoderOption = None,
    invert: InvertOption = None,
    force: ForceOption = False,
    *,
    run: ModelRun,
) -> None:
    """Draw what compress does to an image: the input, the located digit, the 28x28 digit, its reconstruction."""
    from aeonnx.runtime import jobs

    loaded = run.load(model)
    seen = jobs.inspect_image(image, loaded, output, invert, force=force)
    typer.echo(printable(f"{seen.output}: round trip {seen.psnr:.1f} dB"))
    if seen.warning:
        warn_unusual(str(image), seen.warning, loaded.known_inputs)
