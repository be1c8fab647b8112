"""Options that several commands share, each defined once, with choices taken from the library.

Options that travel together are a group (a dataclass of Annotated fields); `with_groups` gives a
command every option of its groups, and the command receives one object per group.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from aeonnx.runtime import spec
from aeonnx.runtime.errors import AeonnxError

ModelName = Enum("ModelName", {name: name for name in spec.MODEL_NAMES}, type=str)
Device = Enum("Device", {name: name for name in spec.DEVICES}, type=str)
Precision = Enum("Precision", {name: name for name in spec.NAMED_PRECISIONS}, type=str)

ModelsOption = Annotated[
    Path | None, typer.Option("--models", help="Folder of exported models to use instead of the shipped ones.")
]
DeviceOption = Annotated[
    Device, typer.Option(help="cpu, cuda (fails unless CUDA really runs), or auto (CUDA when it works, else CPU).")
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Say which execution provider runs.")]
ForceOption = Annotated[
    bool, typer.Option(help="Replace the output files that exist; only those: nothing else is deleted.")
]
Int8Option = Annotated[bool, typer.Option("--int8", help="Use the int8 (quantised) copies of the models.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print it all as JSON, for programs, not as text for people.")]
ShardSizeOption = Annotated[
    int | None,
    typer.Option(
        "--shard-size",
        min=1,
        help="Write -o FOLDER as numbered shards of this many codes each, with an index.json.",
        show_default=False,
    ),
]
NamesOption = Annotated[
    list[str] | None,
    typer.Option(
        "--name",
        help="Decode only the code of this name (repeat for more); the others are not decoded.",
        show_default=False,
    ),
]
InvertOption = Annotated[
    bool | None,
    typer.Option("--invert/--no-invert", help="Force inverting the image or not (default: detected from the page)."),
]
FitOption = Annotated[
    bool,
    typer.Option(
        "--fit",
        help="Fit the whole image into 28x28 instead of locating the digit in it; take a 28x28 image as it is, "
        "even when MNIST would have framed it otherwise.",
    ),
]
# Before localisation became the default, --center applied MNIST's normalisation to the whole image;
# it still does, for scripts that pass it, but the default now does that to the located digit.
CenterOption = Annotated[bool, typer.Option("--center", hidden=True)]
InputsArgument = Annotated[
    list[Path], typer.Argument(help="Images, folders of images, or .npz / .npy / IDX digit arrays.")
]
DescribedArgument = Annotated[
    Path | None, typer.Argument(help="An .onnx model, an .aez code file or a folder of shards.")
]
ModelsFolderArgument = Annotated[
    Path | None, typer.Argument(help="A folder made by `aeonnx export`; default: the shipped models.")
]
EncoderOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Which model encodes: rd (quality levels), ae, conv, vae, or a model of your own in --models. "
        "Default: rd; with --models, the folder's rd, else its ae, else its only model.",
        show_default=False,
    ),
]
MaxCodesOption = Annotated[
    int,
    typer.Option(
        "--max-codes",
        min=1,
        help="Read a code file of at most this many codes (a small file can declare millions).",
    ),
]
VaeOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Which VAE generates: vae, or a VAE of your own in --models. Default: vae; with --models, the "
        "folder's vae, else its only VAE.",
        show_default=False,
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Fail (exit 1) when an input is unlike what the model was trained on.")
]


@dataclasses.dataclass(frozen=True)
class ModelRun:
    """Which models run, where, and what is said about it: the options of every command that runs one."""

    models: ModelsOption = None
    device: DeviceOption = Device.auto
    verbose: VerboseOption = False
    int8: Int8Option = False

    @property
    def variant(self) -> str:
        return "int8" if self.int8 else "float32"

    def load(self, model: str | None, part: str = "encoder"):
        """The model (None: the default of --models, models_folder.default_model), with `part` (the one the command runs
        first) opened: errors name a file it needs."""
        from aeonnx.runtime.model import load
        from aeonnx.runtime.models_folder import default_model

        model = model or default_model(self.models)
        loaded = load(model, self.models, self.device.value, variant=self.variant, part=part)
        if self.verbose:
            say_provider(loaded)
        return loaded

    def load_vae(self, model: str | None, what: str):
        """The VAE `what` (sample, manifold) runs, its generator opened: `model`, else the default VAE of
        --models (models_folder.choose_vae); a model without a generator is refused naming the folder's VAEs."""
        from aeonnx.runtime.models_folder import choose_vae

        return self.load(choose_vae(model, self.models, what), part="generator")


@dataclasses.dataclass(frozen=True)
class Reading:
    """How images become digits, and which model encodes them: compress and encode alike."""

    model: EncoderOption = None
    invert: InvertOption = None
    fit: FitOption = False
    center: CenterOption = False
    strict: StrictOption = False

    @property
    def framing(self) -> str:
        """How a picture becomes an MNIST-framed 28x28 digit: images.FRAMINGS."""
        if self.fit and self.center:
            raise AeonnxError("--fit and --center are two framings of the whole image: choose one")
        return "fit" if self.fit else "center" if self.center else "locate"


Engine = Enum("Engine", {"local": "local", "ray": "ray"}, type=str)
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j", help="Worker processes (default: the cores this process may use).", show_default=False
    ),
]
EngineOption = Annotated[
    Engine,
    typer.Option(help="local: worker processes on this machine; ray: a Ray cluster (pip install '.\\[ray]')."),
]
AddressOption = Annotated[
    str | None, typer.Option("--address", help="The Ray cluster to join (default: start one on this machine).")
]


@dataclasses.dataclass(frozen=True)
class Scale:
    """Where the work runs: this machine's cores, or a Ray cluster. Every choice writes the same bytes."""

    jobs: JobsOption = None
    engine: EngineOption = Engine.local
    address: AddressOption = None

    def make(self):
        """The engine these options ask for (runtime.jobs.Engine); Ray is imported only when chosen."""
        if self.engine is Engine.local:
            if self.address is not None:
                from aeonnx.runtime.errors import AeonnxError

                raise AeonnxError("--address names a Ray cluster: it needs --engine ray")
            from aeonnx.runtime.jobs.parallel import LocalProcesses

            return LocalProcesses(self.jobs)
        from aeonnx.runtime.jobs.ray_engine import RayEngine

        return RayEngine(self.address, self.jobs)


def say_provider(loaded) -> None:
    typer.echo(f"aeonnx: {loaded.name} {loaded.variant} {loaded.model_id} on {loaded.provider}", err=True)


@functools.cache
def _parameters_of(group: type) -> tuple[inspect.Parameter, ...]:
    """A group's fields as keyword-only parameters (once per group: evaluating annotations is slow)."""
    hints = typing.get_type_hints(group, include_extras=True)
    return tuple(
        inspect.Parameter(
            field.name, inspect.Parameter.KEYWORD_ONLY, default=field.default, annotation=hints[field.name]
        )
        for field in dataclasses.fields(group)
    )


def with_groups(**groups: type):
    """Give a command the options of each group (`run=ModelRun`): Typer sees them as the command's own
    parameters; the command receives one group object per keyword instead."""

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name not in groups]
        added = [parameter for group in groups.values() for parameter in _parameters_of(group)]

        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            for keyword, group in groups.items():
                kwargs[keyword] = group(**{f.name: kwargs.pop(f.name) for f in dataclasses.fields(group)})
            return command(*args, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=own + added)
        wrapper.__annotations__ = {p.name: p.annotation for p in own + added}
        return wrapper

    return decorate
