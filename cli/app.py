"""The Typer app, and what every command shares: one-line errors, exit codes, messages."""

from __future__ import annotations

import copy
import functools
import sys
from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.errors import AeonnxError, Interrupted, Stopped, printable, signal_number

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
    """Turn the errors a user can fix into one line and exit code 1; Ctrl-C into exit code 130, SIGTERM
    and SIGHUP (see main) into 143 and 129, as a shell reports a process those signals ended."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Interrupted as e:
            raise fail(str(e), code=128 + e.signum) from None
        except AeonnxError as e:
            raise fail(str(e)) from None
        except OSError as e:  # a folder we cannot write to, a full disk: one line, not a traceback
            where = f"{e.filename}: " if e.filename else ""
            raise fail(f"{where}{e.strerror or e}") from None
        except KeyboardInterrupt as e:
            signum = signal_number(e)
            said = "interrupted" if signum == 2 else f"stopped by {_SIGNAL_NAMES.get(signum, signum)}"
            raise fail(f"{said}; no partial output was kept", code=128 + signum) from None

    return wrapper


_SIGNAL_NAMES = {1: "SIGHUP", 15: "SIGTERM"}


def train_extra(command_name: str, verbose: bool = False):
    """(the training package, a note on the Keras backend or None), or an error saying which extra installs
    it. Keras runs on TensorFlow, without TensorFlow's start-up chatter unless `verbose` (train/backend.py)."""
    try:
        from aeonnx.train import backend

        note = backend.use_tensorflow(verbose)
        from aeonnx.train import fit
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in _TRAIN_EXTRA_MODULES:
            raise AeonnxError(
                f"`aeonnx {command_name}` needs the training extra ({e.name} is not installed): "
                "pip install '.[train]' in aeonnx's folder (the clone it was installed from)"
            ) from None
        raise
    return fit, note


def report_failure(failure) -> None:
    typer.echo(f"aeonnx: skipped {printable(failure.reason)}", err=True)


class SkippedLines:
    """A batch's skipped inputs (a folder of thousands of broken links stays readable): the first SHOWN said a
    line each, then one line for how many more; every one is kept for the summary's count."""

    SHOWN = spec.SKIPPED_SHOWN

    def __init__(self):
        self.failures: list = []

    def __call__(self, failure) -> None:
        self.failures.append(failure)
        if len(self.failures) <= self.SHOWN:
            report_failure(failure)

    def close(self) -> None:
        more = len(self.failures) - self.SHOWN
        if more > 0:
            typer.echo(f"aeonnx: skipped {more:,} more input(s)", err=True)


KNOWN_DIGITS = "digits this model knows"


def warn_unusual(label: str, why: str, known: str = KNOWN_DIGITS) -> None:
    """`known`: what the model was trained on, in words (model.Autoencoder.known_inputs)."""
    typer.echo(printable(f"aeonnx: {label}: unlike the {known} ({why})"), err=True)


class WarningLines:
    """A batch's warnings: the first SHOWN as lines, then one line saying how many more and where they are."""

    SHOWN = 10

    def __init__(self, report: Path | None = None, known: str = KNOWN_DIGITS):
        self.report, self.count, self.known = report, 0, known

    def __call__(self, label: str, why: str) -> None:
        self.count += 1
        if self.count <= self.SHOWN:
            warn_unusual(label, why, self.known)

    def close(self) -> None:
        more = self.count - self.SHOWN
        if more > 0:
            where = f"every input's figures are in {self.report}" if self.report else "--report FILE lists them all"
            more_lines = f"aeonnx: {more} more input(s) unlike the {self.known}; {where}"
            typer.echo(printable(more_lines), err=True)


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
    _stop_on_termination()
    _app_for(sys.argv[1:])()


def _stop_on_termination() -> None:
    """SIGTERM and SIGHUP stop a command as Ctrl-C does (runtime.errors.Stopped): the temporaries are removed
    and the worker processes stopped by the same code, and the command says so in one line."""
    import signal

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stopped)


def _raise_stopped(signum: int, frame) -> None:
    raise Stopped(signum)


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
