"""Options that several commands share, each defined once, with choices taken from the library."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.codefile import PRECISIONS

ModelName = Enum("ModelName", {name: name for name in spec.MODEL_NAMES}, type=str)
Device = Enum("Device", {name: name for name in spec.DEVICES}, type=str)
Precision = Enum("Precision", {name: name for name in PRECISIONS}, type=str)

ModelsOption = Annotated[
    Optional[Path], typer.Option("--models", help="Folder of exported models to use instead of the shipped ones.")
]
DeviceOption = Annotated[
    Device, typer.Option(help="cpu, cuda (fails unless CUDA really runs), or auto (CUDA when it works, else CPU).")
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Say which execution provider runs.")]
ForceOption = Annotated[
    bool, typer.Option(help="Replace the output files that exist; only those: nothing else is deleted.")
]
Int8Option = Annotated[bool, typer.Option("--int8", help="Use the int8 (quantised) copies of the models.")]
InvertOption = Annotated[
    Optional[bool],
    typer.Option("--invert/--no-invert", help="Force inverting the image (default: invert light backgrounds)."),
]
CenterOption = Annotated[
    bool, typer.Option("--center", help="MNIST normalisation: bounding box into 20x20, centred by centre of mass.")
]
InputsArgument = Annotated[
    list[Path], typer.Argument(help="Images, folders of images, or .npz / .npy / IDX digit arrays.")
]
EncoderOption = Annotated[ModelName, typer.Option("--model", help="Which model encodes.")]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Fail (exit 1) when an input is unlike the digits the model knows.")
]


def variant(int8: bool) -> str:
    return "int8" if int8 else "float32"

