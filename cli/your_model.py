"""`aeonnx export`'s options for a Keras autoencoder of your own (docs/your-own-model.md), as one group."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime.errors import AeonnxError

_PANEL = "A model of your own"
_VALUES = "Its values"


def _same_file(first: Path, second: Path) -> bool:
    try:
        return first.samefile(second)
    except OSError:
        return False  # a missing file is named when it is loaded


def value_range(text: str | None, option: str) -> tuple[float, float] | None:
    """LO,HI -> (LO, HI); the library checks that they are finite and in order."""
    if text is None:
        return None
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise AeonnxError(f"{option} {text!r}: give LO,HI, e.g. -1,1 or 0,255") from None
    return low, high


@dataclasses.dataclass(frozen=True)
class YourModel:
    """The Keras files of a model of your own, what its parts and values are, and the data to check it on."""

    encoder: Annotated[
        Path | None, typer.Option(help="Your Keras encoder (.keras), instead of a run.", rich_help_panel=_PANEL)
    ] = None
    decoder: Annotated[
        Path | None, typer.Option(help="Your Keras decoder or generator (.keras).", rich_help_panel=_PANEL)
    ] = None
    autoencoder: Annotated[
        Path | None,
        typer.Option(
            help="Your autoencoder as one Keras model (.keras), instead of --encoder and --decoder: split at "
            "--code-layer.",
            rich_help_panel=_PANEL,
        ),
    ] = None
    code_layer: Annotated[
        str | None,
        typer.Option(
            help="The layer whose output is the code, by name. Default: the narrowest layer everything flows through.",
            rich_help_panel=_PANEL,
        ),
    ] = None
    data: Annotated[
        Path | None,
        typer.Option(
            help="Your data: an .npz/.npy/IDX array or a folder of images; normal data, in the model's values.",
            rich_help_panel=_PANEL,
        ),
    ] = None
    name: Annotated[
        str | None,
        typer.Option(
            help="The name your model is exported and loaded under (a run: default MODEL).", rich_help_panel=_PANEL
        ),
    ] = None
    custom_objects: Annotated[
        list[str] | None,
        typer.Option(
            "--custom-objects",
            help="A .py file or module defining the model's custom layers, models or functions (repeatable). Of a "
            "file, only its imports, classes, functions and constants run.",
            rich_help_panel=_PANEL,
            show_default=False,
        ),
    ] = None
    unsafe_deserialization: Annotated[
        bool,
        typer.Option(
            "--unsafe-deserialization",
            help="Let Keras run the Python lambdas stored in the files (Lambda layers): only for files you trust.",
            rich_help_panel=_PANEL,
        ),
    ] = False
    code_output: Annotated[
        str | None,
        typer.Option(help="The encoder's output that is the code, among several, by name.", rich_help_panel=_PANEL),
    ] = None
    mean_output: Annotated[
        str | None, typer.Option(help="A VAE encoder's mean output, by name.", rich_help_panel=_PANEL)
    ] = None
    log_var_output: Annotated[
        str | None, typer.Option(help="A VAE encoder's log-variance output, by name.", rich_help_panel=_PANEL)
    ] = None
    preprocessing: Annotated[
        str | None,
        typer.Option(
            help="How compress makes a picture its input: resize, crop (to its aspect ratio, then resize), or "
            "locate (28x28 grey digits: found and framed as MNIST did). Default: a run's as it read its images; "
            "your model's resize.",
            rich_help_panel=_PANEL,
        ),
    ] = None
    value_range: Annotated[
        str | None,
        typer.Option(
            "--value-range",
            metavar="LO,HI",
            help="The values the model's pixels take, 0 to LO and 255 to HI, e.g. -1,1 (tanh) or 0,255 (a model that "
            "rescales its own input). Default: 0,1.",
            rich_help_panel=_VALUES,
        ),
    ] = None
    output_range: Annotated[
        str | None,
        typer.Option(
            "--output-range",
            metavar="LO,HI",
            help="The decoder's, where it differs from --value-range (e.g. 0,1 after 0,255).",
            rich_help_panel=_VALUES,
        ),
    ] = None
    floats: Annotated[
        bool,
        typer.Option(
            "--floats",
            help="The model takes float arrays as they are, not pictures: signals, tables, z-scored values. "
            "compress reads .npy/.npz arrays, decompress writes them.",
            rich_help_panel=_VALUES,
        ),
    ] = False

    @property
    def given(self) -> bool:
        """Is a model of your own asked for? (--name and --preprocessing also serve a run's export.)"""
        shared = ("name", "preprocessing")
        return any(value not in (None, False) for key, value in dataclasses.asdict(self).items() if key not in shared)

    def check(self) -> None:
        """One line for options that do not go together, before any work."""
        if self.autoencoder is not None and (self.encoder is not None or self.decoder is not None):
            raise AeonnxError("give --autoencoder (one model) or --encoder and --decoder (two), not both")
        if self.encoder is not None and self.decoder is not None and _same_file(self.encoder, self.decoder):
            from aeonnx.export.parts import SAME_FILE

            raise AeonnxError(SAME_FILE)
        if self.code_layer is not None and self.autoencoder is None:
            raise AeonnxError("--code-layer splits the model given with --autoencoder")
        parts = {"--autoencoder": self.autoencoder} if self.autoencoder else {"--encoder": self.encoder}
        if not self.autoencoder:
            parts["--decoder"] = self.decoder
        missing = [option for option, value in {**parts, "--data": self.data, "--name": self.name}.items() if not value]
        if missing:
            raise AeonnxError(f"a model of your own also needs {', '.join(missing)}")

    def export(self, out: Path, say, warn, **settings) -> dict:
        """Through the gate into `out` (export/your_model.py); `settings`: opset, force, quantize, edge."""
        from aeonnx.export.your_model import export_keras_autoencoder, export_keras_pair

        if self.unsafe_deserialization:
            warn("--unsafe-deserialization runs the Python code stored in the .keras files: trust them first")
        how = dict(
            code_output=self.code_output,
            mean_output=self.mean_output,
            log_var_output=self.log_var_output,
            preprocessing=self.preprocessing or "resize",
            floats=self.floats,
            value_range=value_range(self.value_range, "--value-range"),
            output_range=value_range(self.output_range, "--output-range"),
            custom_objects=self.custom_objects or (),
            unsafe=self.unsafe_deserialization,
            say=say,
            warn=warn,
            **settings,
        )
        if self.autoencoder is not None:
            return export_keras_autoencoder(
                self.autoencoder, self.data, out, self.name, code_layer=self.code_layer, **how
            )
        return export_keras_pair(self.encoder, self.decoder, self.data, out, self.name, **how)
