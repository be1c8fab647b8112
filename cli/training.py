"""The pipeline's first two stages: train a Keras model, export it to ONNX. Both need the [train] extra."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.errors import printable

from .app import app, fail, friendly_errors, train_extra
from .options import ModelName, with_groups
from .your_model import YourModel

_IMAGES = "Images of your own"
_LEARNING_RATES = ", ".join(f"{name} {rate:g}" for name, rate in spec.LEARNING_RATES.items())


@app.command()
@friendly_errors
def train(
    model: Annotated[ModelName, typer.Argument(help="Which architecture to train.")],
    data: Annotated[
        Path | None,
        typer.Option(
            help="A Keras-layout mnist.npz or a folder of IDX files; an .npz/.npy of images (N, H, W[, C]); or a "
            "folder of pictures (subfolders: classes). Default: download MNIST with Keras."
        ),
    ] = None,
    arch: Annotated[
        str | None,
        typer.Option(help="dense (the seed's models) or conv. Default: dense for 28x28 grey digits, else conv."),
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            help="Train at HxW: each image's centre cropped to that aspect ratio, then resized (Lanczos). "
            "Default: the images' own size.",
            rich_help_panel=_IMAGES,
        ),
    ] = None,
    channels: Annotated[
        int | None,
        typer.Option(
            help="1 (grey) or 3 (colour), transparency over white. Default: the images' own (a folder: colour "
            "if any picture is).",
            rich_help_panel=_IMAGES,
        ),
    ] = None,
    val_fraction: Annotated[
        float | None,
        typer.Option(
            help="Share of the images held out to measure the run, the same of each class, when the data has "
            "no test split of its own (pictures, arrays). Default: 0.1.",
            rich_help_panel=_IMAGES,
        ),
    ] = None,
    augment: Annotated[
        bool,
        typer.Option(
            help="Move each training image by up to 1/16 of its size, and mirror colour pictures, afresh each epoch.",
            rich_help_panel=_IMAGES,
        ),
    ] = False,
    rate_distortion: Annotated[
        bool,
        typer.Option(
            help="Train an ae for rate and distortion at 8 quality levels (learned entropy model); "
            "compress then takes --quality 1-8.",
        ),
    ] = False,
    epochs: Annotated[int | None, typer.Option(help=spec.default_help("epochs"))] = None,
    batch_size: Annotated[int | None, typer.Option(help=spec.default_help("batch_size"))] = None,
    optimizer: Annotated[str, typer.Option(help=", ".join(spec.LEARNING_RATES) + ".")] = "adam",
    learning_rate: Annotated[
        float | None, typer.Option(help=f"Default per optimizer: {_LEARNING_RATES} (not Keras 3's 1e-3).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed and data give the same loss curve.")] = 0,
    latent_size: Annotated[int | None, typer.Option(help=spec.default_help("latent_size"))] = None,
    hidden_size: Annotated[int | None, typer.Option(help="Hidden width. " + spec.default_help("hidden_size"))] = None,
    schedule: Annotated[
        str | None,
        typer.Option(help="Learning rate over the epochs: constant or cosine. " + spec.default_help("schedule")),
    ] = None,
    warmup_epochs: Annotated[
        int | None,
        typer.Option(
            help="First epochs over which the learning rate rises from 0. " + spec.default_help("warmup_epochs")
        ),
    ] = None,
    validation_size: Annotated[
        int | None,
        typer.Option(
            help=f"Training digits held out to keep the best epoch's weights (never the test digits); "
            f"default {spec.VALIDATION_DIGITS}, at most a tenth; 0: keep the last epoch's."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory; default runs/MODEL.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing run directory.")] = False,
) -> None:
    """Train an AE or a VAE (dense or convolutional) on MNIST or on images of your own; write a run directory."""
    fit, note = train_extra("train")
    if note:
        typer.echo(f"aeonnx: {note}", err=True)
    config = fit.TrainConfig(
        model=model.value,
        out=str(out or Path("runs") / model.value),
        data=str(data) if data else None,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        learning_rate=learning_rate,
        seed=seed,
        latent_size=latent_size,
        hidden_size=hidden_size,
        schedule=schedule,
        validation_size=validation_size,
        warmup_epochs=warmup_epochs,
        arch=arch,
        size=size,
        channels=channels,
        val_fraction=val_fraction,
        augment=augment,
        rate_distortion=rate_distortion,
    )
    run_dir = fit.train(config, force=force, verbose=1 if sys.stdout.isatty() else 2)
    fit.print_summary(run_dir)


@app.command()
@friendly_errors
@with_groups(yours=YourModel)
def export(
    model: Annotated[
        ModelName | None,
        typer.Argument(help="Which model the run holds (or give your own: --encoder and --decoder, or --autoencoder)."),
    ] = None,
    run: Annotated[Path | None, typer.Option(help="Training run directory; default runs/MODEL.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Models folder to write into.")] = Path("models"),
    opset: Annotated[int, typer.Option(help=f"ONNX opset, at most {spec.MAX_OPSET}.")] = spec.DEFAULT_OPSET,
    force: Annotated[bool, typer.Option(help="Replace existing ONNX files of this model.")] = False,
    quantize: Annotated[
        str | None,
        typer.Option(help=f"Also write int8 copies (int8), if they lose <= {spec.INT8_MAX_PSNR_DROP} dB of PSNR."),
    ] = None,
    edge: Annotated[
        bool,
        typer.Option(
            "--edge",
            help="Also write edge files: batch-1 copies (NNAPI, CoreML), .ort files and "
            "the operator list of a reduced onnxruntime build (ORT Mobile).",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also show what TensorFlow, tf2onnx and Keras print.")
    ] = False,
    *,
    yours: YourModel,
) -> None:
    """Convert a training run, or a Keras autoencoder of your own, to ONNX; refuse it unless onnxruntime
    matches Keras (the parity gate)."""
    if model is not None and yours.given:
        raise fail(
            "give MODEL (with --run) or a model of your own (--encoder and --decoder, or --autoencoder), not both"
        )
    if model is None and not yours.given:
        raise fail(
            "give MODEL (ae or vae, with --run), or --encoder and --decoder (or --autoencoder), --data and --name"
        )
    if model is None:
        yours.check()
    from aeonnx.export.progress import Stages

    with Stages(_say)("start") as stage:
        _, note = train_extra("export", verbose)
        stage.detail = note or "TensorFlow, Keras, tf2onnx"
    settings = dict(opset=opset, force=force, quantize=quantize, edge=edge)
    if model is None:
        entry = yours.export(out, _say, _warn, **settings)
    else:
        from aeonnx.export.exporter import export_model

        run = run or Path("runs") / model.value
        entry = export_model(
            model.value, run, out, name=yours.name, preprocessing=yours.preprocessing, say=_say, **settings
        )
    _print_export(entry, out)


def _say(line: str) -> None:
    """A stage of the export: on stdout, so that a refusal stays the one line on stderr."""
    typer.echo(printable(f"aeonnx: {line}"))


def _warn(line: str) -> None:
    typer.echo(printable(f"aeonnx: warning: {line}"), err=True)


def _print_export(entry: dict, out: Path) -> None:
    lines = [
        f"{out / info['file']}: {info['bytes']:,} bytes, parity max abs diff {info['parity_max_abs_diff']:.2g}"
        for info in entry["files"].values()
    ]
    if "int8" in entry:
        lines += [f"{out / info['file']}: {info['bytes']:,} bytes" for info in entry["int8"]["files"].values()]
        lines.append(
            f"int8 PSNR drop {entry['int8']['quality']['psnr_drop']:.3f} dB (allowed {spec.INT8_MAX_PSNR_DROP})"
        )
    for copies in entry.get("edge", {}).get("files", {}).values():
        lines += [f"{out / info['file']}: {info['bytes']:,} bytes" for info in copies]
    lines.append(f"model id {entry['model_id']}; manifest {out / spec.MANIFEST_FILE}")
    for line in lines:
        typer.echo(printable(line))
