"""The Typer app, and what every command shares: one-line errors, exit codes, messages."""

from __future__ import annotations

import copy
import functools
import sys
from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.errors import AeonnxError, Interrupted, printable

app = typer.Typer(
    name="aeonnx",
    help="Keras autoencoders to ONNX and back: train, export with a parity gate, compress digits to latent codes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_TRAIN_EXTRA_MODULES = {"tensorflow", "keras", "tf2onnx", "onnx", "matplotlib"}


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"aeonnx: error: {printable(message)}", err=True)
    return typer.Exit(code)


def friendly_errors(command):
    """Turn the errors a user can fix into one line and exit code 1; Ctrl-C into exit code 130."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Interrupted as e:
            raise fail(str(e), code=130) from None
        except AeonnxError as e:
            raise fail(str(e)) from None
        except OSError as e:  # a folder we cannot write to, a full disk: one line, not a traceback
            where = f"{e.filename}: " if e.filename else ""
            raise fail(f"{where}{e.strerror or e}") from None
        except KeyboardInterrupt:
            raise fail("interrupted; no partial output was kept", code=130) from None

    return wrapper


def train_extra(command_name: str):
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


def report_failure(failure) -> None:
    typer.echo(f"aeonnx: skipped {printable(failure.reason)}", err=True)


def warn_unusual(label: str, why: str) -> None:
    typer.echo(printable(f"aeonnx: {label}: unlike the digits this model knows ({why})"), err=True)


class WarningLines:
    """A batch's warnings: the first SHOWN as lines, then one line saying how many more and where they are."""

    SHOWN = 10

    def __init__(self, report: Path | None = None):
        self.report, self.count = report, 0

    def __call__(self, label: str, why: str) -> None:
        self.count += 1
        if self.count <= self.SHOWN:
            warn_unusual(label, why)

    def close(self) -> None:
        more = self.count - self.SHOWN
        if more > 0:
            where = f"every input's figures are in {self.report}" if self.report else "--report FILE lists them all"
            typer.echo(printable(f"aeonnx: {more} more input(s) unlike the digits this model knows; {where}"), err=True)


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


def main() -> None:
    _app_for(sys.argv[1:])()


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command being run: Typer reads the signature of every command it builds (10 ms
    for all of them, 1.5 ms for one, measured). Root options (--help before the command), a mistyped command
    and no command get them all."""
    invoked = args[0] if args else None
    chosen = [info for info in app.registered_commands if _name_of(info) == invoked]
    if not chosen:
        return app
    lean = copy.copy(app)
    lean.registered_commands = chosen
    return lean


def _name_of(info: typer.models.CommandInfo) -> str:
    return info.name or typer.main.get_command_name(info.callback.__name__)
