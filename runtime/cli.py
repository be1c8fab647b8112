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
from .errors import AeonnxError, Interrupted

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
        except Interrupted as e:
            raise _fail(str(e), code=130) from None
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
    quantize: Annotated[
        Optional[str], typer.Option(help="Also write int8 copies (int8), if they lose <= 0.1 dB of PSNR.")
    ] = None,
) -> None:
    """Convert a training run to ONNX; refuse it unless onnxruntime matches Keras (the parity gate)."""
    _train_extra("export")
    from aeonnx.export.exporter import export_model

    entry = export_model(model.value, run or Path("runs") / model.value, out, opset=opset, force=force,
                         quantize=quantize)
    for part, info in entry["files"].items():
        typer.echo(f"{out / info['file']}: {info['bytes']:,} bytes, parity max abs diff {info['parity_max_abs_diff']:.2g}")
    if "int8" in entry:
        for info in entry["int8"]["files"].values():
            typer.echo(f"{out / info['file']}: {info['bytes']:,} bytes")
        typer.echo(f"int8 PSNR drop {entry['int8']['quality']['psnr_drop']:.3f} dB (allowed {spec.INT8_MAX_PSNR_DROP})")
    typer.echo(f"model id {entry['model_id']}; manifest {out / spec.MANIFEST_FILE}")


Device = Enum("Device", {name: name for name in ("auto", "cpu", "cuda")}, type=str)
Precision = Enum("Precision", {name: name for name in ("float32", "float16", "uint8")}, type=str)
ModelsOption = Annotated[
    Optional[Path], typer.Option("--models", help="Folder of exported models to use instead of the shipped ones.")
]
DeviceOption = Annotated[
    Device, typer.Option(help="cpu, cuda (fails unless CUDA really runs), or auto (CUDA when it works, else CPU).")
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Say which execution provider runs.")]
ForceOption = Annotated[bool, typer.Option(help="Replace existing output files.")]
Int8Option = Annotated[bool, typer.Option("--int8", help="Use the int8 (quantised) copies of the models.")]
InvertOption = Annotated[
    Optional[bool],
    typer.Option("--invert/--no-invert", help="Force inverting the image or not (default: detected from the page)."),
]
FitOption = Annotated[
    bool, typer.Option("--fit", help="Fit the whole image into 28x28 instead of locating the digit in it.")
]
# Before localisation became the default, --center applied MNIST's normalisation to the whole image;
# it still does, for scripts that pass it, but the default now does that to the located digit.
CenterOption = Annotated[bool, typer.Option("--center", hidden=True)]
InputsArgument = Annotated[
    list[Path], typer.Argument(help="Images, folders of images, or .npz / IDX digit arrays.")
]
EncoderOption = Annotated[ModelName, typer.Option("--model", help="Which model encodes.")]
PROGRESS_THRESHOLD = 300  # images; below this a progress bar is only noise


def _load(model: str, models: Optional[Path], device, verbose: bool, int8: bool = False):
    from .model import load

    loaded = load(model, models, device.value, variant="int8" if int8 else "float32")
    if verbose:
        typer.echo(f"aeonnx: {loaded.name} {loaded.variant} {loaded.model_id} on {loaded.provider}", err=True)
    return loaded


def _framing(fit: bool, center: bool) -> str:
    """How a picture that is not 28x28 becomes one: images.FRAMINGS."""
    if fit and center:
        raise AeonnxError("--fit and --center are two framings of the whole image: choose one")
    return "fit" if fit else "center" if center else "locate"


def _report_failure(failure) -> None:
    typer.echo(f"aeonnx: skipped {failure.reason}", err=True)


def _finish_batch(failures: list, done_message: str) -> None:
    typer.echo(done_message)
    if failures:
        raise _fail(f"{len(failures)} input(s) failed; the others were done")


@app.command()
@friendly_errors
def compress(
    inputs: InputsArgument,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="The .aez file to write.")] = None,
    model: EncoderOption = ModelName.ae,
    precision: Annotated[Precision, typer.Option(help="How each latent value is stored.")] = Precision.uint8,
    invert: InvertOption = None,
    fit: FitOption = False,
    center: CenterOption = False,
    force: ForceOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    verbose: VerboseOption = False,
    int8: Int8Option = False,
) -> None:
    """Compress digit images to latent codes: img.png -> img.aez; several inputs -> one container (-o)."""
    from . import jobs

    from .inputs import plan

    loaded = _load(model.value, models, device, verbose, int8)
    todo = plan(inputs)  # walked once: for the progress bar's length and for the work
    total = jobs.count_inputs(todo)
    with typer.progressbar(length=total, label="compressing", file=sys.stderr,
                           hidden=total < PROGRESS_THRESHOLD) as bar:
        result = jobs.compress(inputs, loaded, output, precision.value, invert, _framing(fit, center), force,
                               on_failure=_report_failure, progress=bar.update, todo=todo)
    _finish_batch(result.failures, f"{result.output}: {result.done} code(s), {result.bytes_written:,} bytes")


@app.command()
@friendly_errors
def decompress(
    code: Annotated[Path, typer.Argument(help="An .aez file.")],
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="PNG file (one code or --grid) or folder (several).")
    ] = None,
    grid: Annotated[bool, typer.Option(help="One grid image of every code.")] = False,
    force: ForceOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    int8: Int8Option = False,
) -> None:
    """Decode an .aez file back to 28x28 PNG digits; the file says which model made it."""
    from . import jobs

    written = jobs.decompress(code, output, grid, force, models, device.value, "int8" if int8 else "float32")
    where = written[0] if len(written) == 1 else written[0].parent if len(written) else output
    typer.echo(f"{where}: {len(written)} image(s)" if len(written) != 1 else f"{where}")


@app.command()
@friendly_errors
def sample(
    n: Annotated[int, typer.Option("-n", help="How many digits.")] = 16,
    seed: Annotated[Optional[int], typer.Option(help="The same seed gives the same digits.")] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="A .png gets one grid; any other name, a folder of PNGs.")
    ] = Path("samples.png"),
    force: ForceOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    verbose: VerboseOption = False,
    int8: Int8Option = False,
) -> None:
    """New digits from the VAE generator, with z ~ N(0, I)."""
    from . import jobs

    written = jobs.sample(_load("vae", models, device, verbose, int8), n, seed, output, force)
    typer.echo(f"{output}: {len(written) if output.suffix.lower() != '.png' else n} digit(s)")


@app.command()
@friendly_errors
def manifold(
    n: Annotated[int, typer.Option("--n", help="Digits per side.")] = 12,
    extent: Annotated[float, typer.Option("--range", help="The grid spans [-RANGE, RANGE] on both axes.")] = 4.0,
    output: Annotated[Path, typer.Option("--output", "-o")] = Path("manifold.png"),
    force: ForceOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    verbose: VerboseOption = False,
    int8: Int8Option = False,
) -> None:
    """The grid of digits the VAE generates across its 2-D latent space, with axis labels."""
    from . import jobs

    typer.echo(str(jobs.manifold(_load("vae", models, device, verbose, int8), n, extent, output, force)))


@app.command()
@friendly_errors
def encode(
    inputs: InputsArgument,
    model: EncoderOption = ModelName.ae,
    invert: InvertOption = None,
    fit: FitOption = False,
    center: CenterOption = False,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
    verbose: VerboseOption = False,
    int8: Int8Option = False,
) -> None:
    """Latent vectors as JSON lines on stdout, for scripts and other programs."""
    from . import jobs

    failures = []

    def report(failure):
        failures.append(failure)
        _report_failure(failure)

    loaded = _load(model.value, models, device, verbose, int8)
    for line in jobs.encode_lines(inputs, loaded, invert, _framing(fit, center), report):
        typer.echo(line)
    if failures:
        raise _fail(f"{len(failures)} input(s) failed; the others were encoded")


@app.command()
@friendly_errors
def info(
    file: Annotated[Optional[Path], typer.Argument(help="An .onnx model or .aez code file.")] = None,
    models: ModelsOption = None,
    device: DeviceOption = Device.auto,
) -> None:
    """Metadata of a model or code file; with no file, the models in use and the execution providers."""
    import json

    from . import jobs

    described = jobs.describe_file(file) if file else jobs.describe_models(models, device.value)
    typer.echo(json.dumps(described, indent=2))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
