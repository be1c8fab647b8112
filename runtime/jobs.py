"""The work behind the runtime commands: files in, files out, nothing lost.

Each job takes paths and options, writes its outputs atomically (never over an
existing file unless forced), reports bad inputs through `on_failure` and goes
on with the rest. The CLI only parses options and prints.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from . import codefile, grids, images, inputs, spec
from .errors import AeonnxError, DataError
from .files import atomic_write_bytes, refuse_overwrite, staged_directory
from .model import Autoencoder, load

CODE_SUFFIX = ".aez"
DECODED_SUFFIX = "-decoded"
DECODE_CHUNK = 1024  # codes decoded at once while writing PNGs: writing dominates, so small costs nothing
Report = Callable[[inputs.Failure], None]


@dataclass
class BatchResult:
    output: Path | None
    done: int
    failures: list[inputs.Failure] = field(default_factory=list)
    bytes_written: int = 0


def default_code_path(paths: list[Path], todo: inputs.Plan) -> Path:
    """img.png -> img.aez beside it; one folder or array file -> NAME.aez beside it."""
    if todo.single_image:
        return todo.image_files[0][0].with_suffix(CODE_SUFFIX)
    if len(paths) == 1:
        path = paths[0]
        stem = path.name.removesuffix(".gz").removesuffix(".npz") if path.is_file() else path.name
        return path.parent / f"{stem}{CODE_SUFFIX}"
    raise AeonnxError(f"{len(paths)} inputs make one container: name it with -o FILE{CODE_SUFFIX}")


def compress(paths: list[Path], model: Autoencoder, output: Path | None = None, precision: str = "uint8",
             invert: bool | None = None, framing: str = "locate", force: bool = False,
             on_failure: Report = lambda f: None, progress: Callable[[int], None] = lambda n: None,
             todo: inputs.Plan | None = None) -> BatchResult:
    """Encode every input into one .aez file; inputs that fail are reported and skipped.
    `todo` is `inputs.plan(paths)` when the caller has already made it."""
    todo = todo or inputs.plan(paths)
    output = output or default_code_path(paths, todo)
    refuse_overwrite(output, force)
    result = BatchResult(output=None, done=0)
    # Only `inputs.CHUNK` digits are in memory at once; what is kept of each is its code, name and size.
    done: list[tuple[str | None, list[str], list[tuple[int, int]], np.ndarray]] = []
    for item in inputs.chunks(todo, invert=invert, framing=framing):
        if isinstance(item, inputs.Failure):
            result.failures.append(item)
            on_failure(item)
            done = [kept for kept in done if kept[0] is None or kept[0] != item.source]  # drop a failed file's
            continue
        done.append((item.source, item.names, item.sizes, model.quantized_codes(item.digits, precision)))
        progress(len(item.names))
    names = [name for _, chunk_names, _, _ in done for name in chunk_names]
    if not names:
        raise AeonnxError(f"no input could be compressed ({len(result.failures)} failed); nothing written")
    sizes = [size for _, _, chunk_sizes, _ in done for size in chunk_sizes]
    payload = model.pack(np.concatenate([codes for *_, codes in done]), precision, inputs.unique_names(names), sizes)
    atomic_write_bytes(output, payload, force=force)
    result.output, result.done, result.bytes_written = output, len(names), len(payload)
    return result


def count_inputs(todo: inputs.Plan) -> int:
    """How many digits the planned inputs hold, cheaply (array files by their headers), for a progress bar."""
    from .arrays import image_count

    total = len(todo.image_files)
    for path in todo.array_files:
        try:
            total += image_count(path)
        except DataError:
            pass  # the real read reports it
    return total


def read_code_file(path: Path) -> codefile.CodeFile:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AeonnxError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AeonnxError(f"{path}: is a folder, not a code file") from None
    except OSError as e:
        raise AeonnxError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return codefile.from_bytes(data)
    except codefile.CodeFileError as e:
        raise codefile.CodeFileError(f"{path}: {e}") from None


def decompress(code_path: Path, output: Path | None = None, grid: bool = False, force: bool = False,
               models_dir: Path | None = None, device: str = "auto", variant: str = "float32") -> list[Path]:
    """One PNG per code (a folder named after the file), one PNG for a single code, or one grid."""
    code_file = read_code_file(code_path)
    model = load(code_file.model, models_dir, device, variant=variant)
    try:
        model.check_made_by_me(code_file)
    except codefile.CodeFileError as e:
        raise codefile.CodeFileError(f"{code_path}: {e}") from None
    z = codefile.dequantize(code_file.codes, code_file.precision, *model.latent_range)
    # NAME-decoded: the plain NAME.png or NAME/ is usually the very input that was compressed.
    default = code_path.with_name(code_path.with_suffix("").name + DECODED_SUFFIX)
    if grid or len(z) == 1:
        output = output or default.with_suffix(".png")
        digits = model.decode(z)
        picture = digits[0] if len(digits) == 1 and not grid else grid_of(digits)
        atomic_write_bytes(output, images.png_bytes(picture), force=force)
        return [output]
    output = output or default
    relative = [safe_relative_path(name) for name in code_file.names]
    with staged_directory(output, force) as staging:
        for start in range(0, len(z), DECODE_CHUNK):  # decoded a chunk at a time: memory does not grow with N
            for rel, digit in zip(relative[start:], model.decode(z[start : start + DECODE_CHUNK])):
                target = staging / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(images.png_bytes(digit))
    return [output / rel for rel in relative]


def safe_relative_path(name: str) -> Path:
    """A code's name as a relative .png path that cannot leave the output folder."""
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or "\\" in name or any(p in ("..", ".", "") for p in parts):
        raise codefile.CodeFileError(f"refusing unsafe name {name!r} in the code file")
    return Path(*parts).with_name(parts[-1] + ".png")


def grid_of(digits: np.ndarray) -> np.ndarray:
    columns = max(1, math.ceil(math.sqrt(len(digits))))
    return grids.tile(digits, columns=columns, pad=2, fill=64)


def sample(model: Autoencoder, n: int, seed: int | None, output: Path, force: bool = False) -> list[Path]:
    """n generated digits: one grid if OUTPUT ends in .png, else a folder of sample_NNN.png."""
    digits = model.sample(n, seed=seed)
    if output.suffix.lower() == ".png":
        atomic_write_bytes(output, images.png_bytes(grid_of(digits)), force=force)
        return [output]
    with staged_directory(output, force) as staging:
        for index, digit in enumerate(digits):
            (staging / f"sample_{index:03d}.png").write_bytes(images.png_bytes(digit))
    return [output / f"sample_{i:03d}.png" for i in range(len(digits))]


def manifold(model: Autoencoder, n: int, extent: float, output: Path, force: bool = False) -> Path:
    picture = labelled_manifold(model.manifold(n, extent), n, extent)
    atomic_write_bytes(output, picture, force=force)
    return output


def labelled_manifold(grid: np.ndarray, n: int, extent: float, scale: int = 2) -> bytes:
    """The manifold grid with z[0] / z[1] axis labels and tick values, as PNG bytes (Pillow only)."""
    from PIL import Image, ImageDraw, ImageFont

    side = spec.IMAGE_SIDE * scale
    margin_left, margin_bottom, margin_top = 64, 56, 12
    body = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.Resampling.NEAREST)
    canvas = Image.new("L", (body.width + margin_left + 12, body.height + margin_bottom + margin_top), 255)
    canvas.paste(body, (margin_left, margin_top))
    draw, font = ImageDraw.Draw(canvas), ImageFont.load_default()
    ticks = grids.manifold_axis(n, extent)
    for index, value in enumerate(ticks):
        label = f"{value:.1f}"
        x = margin_left + index * side + side // 2
        draw.text((x, margin_top + body.height + 4), label, fill=0, font=font, anchor="ma")
        y = margin_top + (n - 1 - index) * side + side // 2
        draw.text((margin_left - 6, y), label, fill=0, font=font, anchor="rm")
    draw.text((margin_left + body.width // 2, canvas.height - 6), "z[0]", fill=0, font=font, anchor="md")
    draw.text((6, margin_top + body.height // 2), "z[1]", fill=0, font=font, anchor="lm")
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def encode_lines(paths: list[Path], model: Autoencoder, invert: bool | None = None, framing: str = "locate",
                 on_failure: Report = lambda f: None) -> Iterator[str]:
    """One JSON object per digit: {"name": ..., "z": [...]} (AE) or {"name", "z_mean", "z_log_var"} (VAE)."""
    for item in inputs.chunks(inputs.plan(paths), invert=invert, framing=framing):
        if isinstance(item, inputs.Failure):
            on_failure(item)
            continue
        outputs = model.encode_outputs(item.digits)
        for index, name in enumerate(item.names):
            record = {"name": name, "model": model.name, "model_id": model.model_id}
            record.update({key: [round(float(v), 7) for v in values[index]] for key, values in outputs.items()})
            yield json.dumps(record)


def describe_file(path: Path) -> dict:
    """What an .onnx model file or an .aez code file says about itself."""
    if path.suffix.lower() == ".onnx":
        from . import providers

        try:
            session, _ = providers.create_session(path.read_bytes(), "cpu")
        except OSError as e:
            raise AeonnxError(f"{path}: cannot read ({e.strerror or e})") from None
        meta = dict(session.get_modelmeta().custom_metadata_map)
        described = {key: _maybe_json(value) for key, value in sorted(meta.items())}
        described["inputs"] = {i.name: i.shape for i in session.get_inputs()}
        described["outputs"] = {o.name: o.shape for o in session.get_outputs()}
        return {"file": str(path), "kind": "onnx model", **described}
    code_file = read_code_file(path)
    return {
        "file": str(path),
        "kind": "aeonnx code file",
        "format_version": codefile.FORMAT_VERSION,
        "bytes": path.stat().st_size,
        "model": code_file.model,
        "model_id": code_file.model_id,
        "precision": code_file.precision,
        "latent_size": code_file.latent_size,
        "count": len(code_file),
        "names": list(code_file.names[:10]) + (["..."] if len(code_file) > 10 else []),
        "original_sizes": code_file.original_sizes is not None,
    }


def describe_models(models_dir: Path | None, device: str) -> dict:
    """The models in use (shipped by default), their metrics, and the execution providers."""
    from . import providers

    described = {"models": {}, "providers_available": providers.available()}
    for name in spec.MODEL_NAMES:
        try:
            model = load(name, models_dir, device)
        except AeonnxError as e:
            described["models"][name] = {"error": str(e)}
            continue
        int8_files = [model.spec.onnx_file(p.name, "int8") for p in model.spec.parts]
        described["models"][name] = {
            "model_id": model.model_id,
            "latent_size": model.latent_size,
            "files": [model.spec.onnx_file(p.name) for p in model.spec.parts],
            "int8_files": [f for f in int8_files if (model.models_dir / f).is_file()],
            "metrics": model.metrics,
            "provider": model.provider,
        }
    described["models_dir"] = str(models_dir) if models_dir else "shipped with aeonnx"
    return described


def _maybe_json(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value
