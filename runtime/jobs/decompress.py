"""decompress: codes in (an .aez file or a folder of shards), pictures out: one PNG per code into a
folder, one picture, or one grid; the model the file names decodes it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import spec
from ..aez import codefile
from ..aez import shards as shards_module
from ..errors import AeonnxError
from ..files import atomic_write_bytes, check_targets, staged_files
from ..manifest import complete_from
from ..model import Autoencoder, load
from ..models_folder import model_spec_of, shipped_models_dir
from ..pictures import images
from .engine import SERIAL, Engine
from .events import Written
from .generate import check_grid_size, grid_of

DECODED_SUFFIX = "-decoded"


MAX_FILES = spec.MAX_FILES_PER_RUN  # pictures one decompress writes unless told more (--max-files), as sample's


def read_code_file(path: Path) -> codefile.CodeFile:
    return shards_module.read_file(path)


def read_codes(
    path: Path, max_codes: int = codefile.MAX_CODES, models_dir: Path | None = None
) -> list[tuple[Path, codefile.CodeFile]]:
    """The code file at `path`, or each shard of a folder of shards (shards.Shards), with its path; their
    names read when asked for (codefile.from_bytes lazy): memory follows the files' bytes until then. A
    short-frame file is named by the model of `models_dir` (default: the shipped ones) its id prefix fits."""
    if path.is_dir():
        return shards_module.read_folder(path, max_codes, lazy=True)
    code_file = shards_module.read_file(path, max_codes, lazy=True)
    if code_file.short:
        code_file = _named_by_its_model(code_file, models_dir)
        if code_file.short:
            raise AeonnxError(
                f"{path}: made by a model whose id begins {code_file.model_id}, which the models folder "
                f"({models_dir or 'shipped with aeonnx'}) does not hold; pass --models with the folder that made it"
            )
    return [(path, code_file)]


def _named_by_its_model(code_file: codefile.CodeFile, models_dir: Path | None) -> codefile.CodeFile:
    """A short-frame file named by the model of the folder whose id begins with its prefix: from the manifest
    and history, or, in a folder without a manifest, from the shipped models' decoding parts it holds."""
    folder = models_dir or shipped_models_dir()
    named = complete_from(code_file, folder)
    for name, model_spec in spec.MODELS.items():
        if not named.short:
            break
        try:
            model = load(name, folder, "cpu", part=model_spec.decoder.name)
        except AeonnxError:
            continue
        named = codefile.complete(code_file, name, model.model_id, model.latent_size, model.binding.image_shape)
    return named


def select_names(
    found: list[tuple[Path, codefile.CodeFile]], names, where: Path
) -> list[tuple[Path, codefile.CodeFile]]:
    """Only the codes called `names`, in each file: random access, nothing else is decoded."""
    wanted = list(dict.fromkeys(names))
    picked, seen, asked = [], set(), set(wanted)
    for path, code_file in found:
        positions = {}  # of the names asked for only: a file of a million names is read past, not kept
        for index, name in enumerate(code_file.names):
            if name in asked:
                positions.setdefault(name, index)
        here = [positions[name] for name in wanted if name in positions]
        if here:
            picked.append((path, code_file.take(here)))
            seen.update(name for name in wanted if name in positions)
    missing = [name for name in wanted if name not in seen]
    if missing:
        raise AeonnxError(
            f"{where}: no code named {missing[0]!r}"
            + (f" ({len(missing)} names not found)" if len(missing) > 1 else "")
        )
    return picked


@dataclass(frozen=True)
class DecompressJob:
    """What `decompress` is asked to do: which codes, into what, and with which model files."""

    code_path: Path  # an .aez file or a folder of shards
    output: Path | None = None  # default: NAME-decoded/ (or NAME-decoded.png for one code or a grid)
    grid: bool = False  # one grid picture of every code
    force: bool = False  # replace the files of the same names
    names: tuple[str, ...] = ()  # only the codes called so, decoded by random access; empty: all
    models_dir: Path | None = None
    device: str = "auto"
    variant: str = "float32"
    max_codes: int = codefile.MAX_CODES  # a file may declare at most this many codes (--max-codes)
    max_files: int = MAX_FILES  # pictures written at most (--max-files)


def decompress_file(
    job: DecompressJob, on_load: Callable[[Autoencoder], None] = lambda model: None, engine: Engine | None = None
) -> Written:
    """One PNG per code (a folder named after the file), one picture for a single code, or one grid; the
    model the file names decodes it (`on_load` is told which), on `engine` (default: this process).

    A folder output may exist: the PNGs are written into it and nothing else there is touched; with
    --force only the files of the same names are replaced. An output that is a code file read is refused."""
    code_path, output, grid, force, names = job.code_path, job.output, job.grid, job.force, job.names
    found = read_codes(code_path, job.max_codes, job.models_dir)
    found = select_names(found, names, code_path) if names else found
    count, sources = sum(len(code_file) for _, code_file in found), [path for path, _ in found] or [code_path]
    if count > job.max_files and not grid:  # before any name is read or any file written
        limit = f"over the limit of {job.max_files:,} decoded in one run (raise it with --max-files)"
        raise AeonnxError(f"{code_path}: {count:,} codes, {limit}")
    # NAME-decoded: the plain NAME.png or NAME/ is usually the very input that was compressed.
    default = code_path.with_name(code_path.with_suffix("").name + DECODED_SUFFIX)
    if found and model_spec_of(found[0][1].model, job.models_dir).values == "floats":
        return _decode_arrays(job, found, default.with_suffix(".npy"), sources, on_load)
    if grid or count == 1:
        output = _picture_path(output, default)
        check_targets([output], force, inputs=sources)
        picture_format = images.output_format(output)
    else:
        output = output or default
        targets = _folder_targets(found, output, force, sources)
    if not found:
        return Written([], output)
    model = load(found[0][1].model, job.models_dir, job.device, variant=job.variant, part="decoder")  # not the encoder
    model = model.for_code(found[0][1])  # the release that made the file, from the models folder's history
    if grid or count == 1:
        check_grid_size(count if grid else 1, model.image_shape)  # before any code is decoded
    on_load(model)
    batches = [_latents(path, code_file, model) for path, code_file in found]  # all checked before writing
    if grid or count == 1:
        digits = model.decode(np.concatenate(batches))
        picture = digits[0] if len(digits) == 1 and not grid else grid_of(digits)
        atomic_write_bytes(output, images.image_bytes(picture, picture_format), force=force)
        return Written([output], output)
    with staged_files(force) as stage:
        done = 0
        for z in batches:  # each file's codes, rendered by the engine a chunk at a time
            for target, png in zip(targets[done:], (engine or SERIAL).render(model, z)):
                stage(target, png)
            done += len(z)
    return Written(map(Path, targets), output)


ARRAY_SUFFIXES = (".npy", ".npz")


def _decode_arrays(job: DecompressJob, found, default: Path, sources: list[Path], on_load) -> Written:
    """A model of float values: every code's array into one .npy (N, *shape), or an .npz of `x` and `names`."""
    output = job.output or default
    if output.is_dir():
        output = output / default.name
    if job.grid or output.suffix.lower() not in ARRAY_SUFFIXES:
        raise AeonnxError(
            f"{found[0][1].model} gives float arrays, not pictures: name the array file with -o FILE.npy (or .npz)"
        )
    check_targets([output], job.force, inputs=sources)
    model = load(found[0][1].model, job.models_dir, job.device, variant=job.variant, part="decoder")
    model = model.for_code(found[0][1])
    on_load(model)
    values = model.decode(np.concatenate([_latents(path, code_file, model) for path, code_file in found]))
    names = [name for _, code_file in found for name in code_file.names]
    atomic_write_bytes(output, _array_file(values, names, output.suffix.lower()), force=job.force)
    return Written([output], output)


def _array_file(values: np.ndarray, names: list[str], suffix: str) -> bytes:
    import io

    buffer = io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, values, allow_pickle=False)
    else:
        np.savez(buffer, x=values, names=np.asarray(names, dtype=str))
    return buffer.getvalue()


def _latents(path: Path, code_file: codefile.CodeFile, model: Autoencoder) -> np.ndarray:
    try:
        return codefile.latents(code_file, model.binding)
    except codefile.CodeFileError as e:
        raise codefile.CodeFileError(f"{path}: {e}") from None


def _picture_path(output: Path | None, default: Path) -> Path:
    """Where one picture goes: -o FILE, or into -o FOLDER (`.` included) under the default name."""
    if output is None:
        return default.with_suffix(".png")
    return output / f"{default.name}.png" if output.is_dir() else output


def _folder_targets(found, output: Path, force: bool, sources: list[Path]) -> list[str]:
    """The code names of each (path, code file) of `found` as PNG paths under `output` (strings: a Path per
    file costs more than its PNG's filters), checked before any work (see files.check_targets)."""
    if output.exists() and not output.is_dir():
        count = sum(len(code_file) for _, code_file in found)
        raise AeonnxError(f"{output} is a file; {count} codes decode into a folder: name one with -o")
    folder, targets = os.fspath(output), []
    for path, code_file in found:  # each file's names read once, as they go
        try:
            targets += [os.path.join(folder, *safe_relative_parts(name)) + ".png" for name in code_file.names]
        except codefile.CodeFileError as e:
            raise codefile.CodeFileError(f"{path}: {e}") from None
    if len(set(targets)) != len(targets):  # the same name twice (in two shards), or two names of one path
        where = sources[0] if len(sources) == 1 else sources[0].parent
        raise codefile.CodeFileError(f"{where}: two codes would decode to the same file")
    refuse_links_below(folder, targets)
    check_targets(targets, force, inputs=sources)
    return targets


def refuse_links_below(output: str, targets: list[str]) -> None:
    """A code's name may hold folders (`sub/x`); none that exists under the output may be a symbolic link,
    which would take its files outside -o (the output folder itself may be one: the user named it)."""
    checked = {output}
    for target in targets:
        folder = os.path.dirname(target)
        below = []
        while folder not in checked and len(folder) > len(output):
            below.append(folder)
            folder = os.path.dirname(folder)
        for path in below:
            if os.path.islink(path):
                raise AeonnxError(f"{path} is a symbolic link: refusing to write through it, outside {output}")
        checked.update(below)


def safe_relative_parts(name: str) -> list[str]:
    """A code's name as the parts of a relative path that cannot leave the output folder."""
    parts = [part for part in name.split("/") if part not in ("", ".")]  # as a POSIX path reads it
    if not parts or name.startswith("/") or "\\" in name or "\x00" in name or ".." in parts:
        raise codefile.CodeFileError(
            f"refusing unsafe name {name!r} in the code file: it would leave the output folder"
        )
    return parts
