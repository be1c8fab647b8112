"""The `aeonnx` command line. Each command parses its options and calls one library function.

Start-up stays light: training and export import TensorFlow inside their own
commands, and say which extra to install when it is missing.
"""

from __future__ import annotations

import functools
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import spec
from .errors import AeonnxError

app = typer.Typer(
    name="aeonnx",
    help="Keras autoencoders to ONNX and back: train, export with a parity gate, compress digits to latent codes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ModelName = Enum("ModelName", {name: name for name in spec.MODEL_NAMES}, type=str)
_TRAIN_EXTRA_MODULES = {"tensorflow", "keras", "tf2onnx", "onnx", "matplotlib"}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"aeonnx: error: {message}", err=True)
    return typer.Exit(code)


def friendly_errors(command):
    """Turn the errors a user can fix into one line and exit code 1; Ctrl-C into exit code 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AeonnxError as e:
            raise _fail(str(e)) from None
        except OSError as e:  # a folder we cannot write to, a full disk: one line, not a traceback
            where = f"{e.filename}: " if e.filename else ""
            raise _fail(f"{where}{e.strerror or e}") from None
        except KeyboardInterrupt:
            raise _fail("interrupted; no partial output was kept", code=130) from None

    return wrapper


def _train_extra(command_name: str):
    """Import the training package, or say which extra installs it."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter; Python errors still raise
    try:
        from aeonnx.train import fit
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in _TRAIN_EXTRA_MODULES:
            raise AeonnxError(
                f"`aeonnx {command_name}` needs the training extra ({e.name} is not installed): "
                "pip install 'aeonnx[train]'"
            ) from None
        raise
    return fit


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"aeonnx {version('aeonnx')} (contract {spec.CONTRACT_VERSION})")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


@app.command()
@friendly_errors
def train(
    model: Annotated[ModelName, typer.Argument(help="Which architecture to train.")],
    data: Annotated[
        Optional[Path],
        typer.Option(help="A Keras-layout mnist.npz or a folder of IDX files; default: download MNIST with Keras."),
    ] = None,
    epochs: Annotated[Optional[int], typer.Option(help="Default: 100 for ae, 60 for vae.")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Default: 128.")] = None,
    optimizer: Annotated[str, typer.Option(help="adam, adadelta, rmsprop, sgd or nadam.")] = "adam",
    learning_rate: Annotated[
        Optional[float], typer.Option(help="Default per optimizer: adam 1e-3, adadelta 1.0 (not Keras 3's 1e-3).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed and data give the same loss curve.")] = 0,
    latent_size: Annotated[Optional[int], typer.Option(help="Default: 32 for ae, 2 for vae.")] = None,
    hidden_size: Annotated[Optional[int], typer.Option(help="VAE hidden width; default 512.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Run directory; default runs/MODEL.")] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing run directory.")] = False,
) -> None:
    """Train the dense AE or the VAE on MNIST and write a run directory."""
    fit = _train_extra("train")
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
    )
    run_dir = fit.train(config, force=force, verbose=1 if sys.stdout.isatty() else 2)
    fit.print_summary(run_dir)


@app.command()
@friendly_errors
def export(
    model: Annotated[ModelName, typer.Argument(help="Which model the run holds.")],
    run: Annotated[Optional[Path], typer.Option(help="Training run directory; default runs/MODEL.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Models folder to write into.")] = Path("models"),
    opset: Annotated[int, typer.Option(help=f"ONNX opset, at most {spec.MAX_OPSET}.")] = spec.DEFAULT_OPSET,
    force: Annotated[bool, typer.Option(help="Replace existing ONNX files of this model.")] = False,
) -> None:
    """Convert a training run to ONNX; refuse it unless onnxruntime matches Keras (the parity gate)."""
    _train_extra("export")
    from aeonnx.export.exporter import export_model

    entry = export_model(model.value, run or Path("runs") / model.value, out, opset=opset, force=force)
    for part, info in entry["files"].items():
        typer.echo(f"{out / info['file']}: {info['bytes']:,} bytes, parity max abs diff {info['parity_max_abs_diff']:.2g}")
    typer.echo(f"model id {entry['model_id']}; manifest {out / spec.MANIFEST_FILE}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
