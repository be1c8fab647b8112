"""Commands on the models themselves: sample, manifold, info, verify."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.errors import printable

from .app import app, friendly_errors, train_extra
from .options import (
    DescribedArgument,
    Device,
    DeviceOption,
    ForceOption,
    JsonOption,
    MaxCodesOption,
    ModelRun,
    ModelsFolderArgument,
    ModelsOption,
    VaeOption,
    with_groups,
)


@app.command()
@friendly_errors
@with_groups(run=ModelRun)
def sample(
    n: Annotated[int, typer.Option("-n", "--n", help="How many digits.")] = 16,
    seed: Annotated[int | None, typer.Option(help="The same seed gives the same digits.")] = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="A picture (.png, .jpg...) gets one grid; a folder or a name without "
            "an extension, one PNG per digit (only those files are written).",
        ),
    ] = Path("samples.png"),
    force: ForceOption = False,
    model: VaeOption = None,
    *,
    run: ModelRun,
) -> None:
    """New digits from the VAE generator, with z ~ N(0, I); a VAE of your own: new pictures of its kind."""
    from aeonnx.runtime import jobs

    loaded = run.load_vae(model, "sample")
    jobs.sample(loaded, n, seed, output, force)
    typer.echo(printable(f"{output}: {n} {'digit' if loaded.of_digits else 'image'}(s)"))


@app.command()
@friendly_errors
@with_groups(run=ModelRun)
def manifold(
    n: Annotated[int, typer.Option("-n", "--n", help="Digits per side.")] = 12,
    extent: Annotated[float, typer.Option("--range", help="The grid spans [-RANGE, RANGE] on both axes.")] = 4.0,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The picture; its format follows its extension.")
    ] = Path("manifold.png"),
    force: ForceOption = False,
    model: VaeOption = None,
    *,
    run: ModelRun,
) -> None:
    """The grid of digits (or pictures) a VAE with a 2-D latent generates across its latent space, with axis labels."""
    from aeonnx.runtime import jobs

    loaded = run.load_vae(model, "manifold")
    typer.echo(printable(str(jobs.manifold(loaded, n, extent, output, force))))


@app.command()
@friendly_errors
def info(
    file: DescribedArgument = None,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    as_json: JsonOption = False,
    max_codes: MaxCodesOption = spec.MAX_CODES_PER_FILE,
) -> None:
    """Metadata of a model or code file; with no file, the models in use and the execution providers."""
    from aeonnx.runtime import jobs

    described = jobs.describe_file(file, max_codes, models) if file else jobs.describe_models(models, device.value)
    text = json.dumps(described, indent=2, ensure_ascii=False) if as_json else jobs.summary(described)
    typer.echo(printable(text, lines=True))


@app.command()
@friendly_errors
def verify(
    models_dir: ModelsFolderArgument = None,
    device: DeviceOption = Device.auto,
    int8: Annotated[bool, typer.Option("--int8", help="Check the int8 copies instead of the float32 files.")] = False,
    run: Annotated[
        Path | None,
        typer.Option(
            help="Also re-run the Keras parity gate against this training run "
            "(needs the train extra: pip install '.\\[train]').",
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(help="Also write the results as JUnit XML, a test case per file.")
    ] = None,
    as_json: JsonOption = False,
    force: ForceOption = False,
) -> None:
    """Check that the model files give, on this runtime and device, the outputs recorded at export (exit 1 if not)."""
    from aeonnx.runtime import verify as verification
    from aeonnx.runtime.files import atomic_write_bytes
    from aeonnx.runtime.model import shipped_models_dir

    folder = models_dir or Path(str(shipped_models_dir()))
    if junit is not None:  # before any work: the report never replaces a file verify reads, even with --force
        from aeonnx.runtime.files import check_targets

        check_targets([junit], force, inputs=[folder, *(path for path in folder.rglob("*") if path.is_file())])
    cases = verification.verify(folder, device.value, int8=int8)
    if run is not None:
        cases += _keras_parity_cases(run, folder)
    if junit is not None:
        atomic_write_bytes(junit, verification.as_junit(cases), force=force)
    typer.echo(
        json.dumps(verification.as_json(cases), indent=2) if as_json else printable(verification.as_table(cases), True)
    )
    if not all(case.ok for case in cases):
        raise typer.Exit(1)


def _keras_parity_cases(run: Path, models_dir: Path) -> list:
    """`verify --run`: the export's parity gate, re-run against the training run's Keras models."""
    _, note = train_extra("verify --run")
    if note:
        typer.echo(f"aeonnx: {note}", err=True)
    from aeonnx.export.exporter import recheck_parity
    from aeonnx.runtime.verify import Case

    model_name, reports = recheck_parity(run, models_dir)
    return [
        Case(
            model_name,
            report.part,
            f"{run.name} (Keras)",
            checks=["keras parity"],
            max_abs_diff={"keras": report.max_abs_diff},
            failures=report.failures,
            provider="CPUExecutionProvider",
        )
        for report in reports
    ]
