"""The work behind the runtime commands: files in, files out, nothing lost.

Each job takes paths and options, writes its outputs atomically (never over an
existing file unless forced), reports bad inputs through `on_failure` and goes
on with the rest. The CLI only parses options and prints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import numpy as np

from . import codefile, grids, images, inputs, spec
from . import shards as shards_module
from .errors import AeonnxError, DataError
from .files import atomic_write_bytes, check_targets, read_bytes, staged_files, staged_streams
from .model import Assessment, Autoencoder, load

CODE_SUFFIX = ".aez"
DECODED_SUFFIX = "-decoded"
DECODE_CHUNK = 1024  # codes decoded at once while writing PNGs: writing dominates, so small costs nothing
MAX_PICTURE_PIXELS = images.MAX_PIXELS  # a grid or manifold picture: what we write, we could read back
MAX_SAMPLE_FILES = 100_000  # `sample` into a folder: one run's worth; more is a loop of runs with seeds
Report = Callable[[inputs.Failure], None]
Warn = Callable[[str, str], None]  # (input, why it is unlike the digits the model knows)


class Written(list):
    """The files a command wrote, and `where`: the picture, or the folder that holds them."""

    def __init__(self, files, where: Path):
        super().__init__(files)
        self.where = where


@dataclass
class BatchResult:
    output: Path | None
    done: int
    failures: list[inputs.Failure] = field(default_factory=list)
    bytes_written: int = 0
    unusual: int = 0  # inputs unlike the digits the model knows (warned about, still compressed)


def default_code_path(todo: inputs.Plan) -> Path:
    """img.png -> img.aez beside it; one folder or array file -> NAME.aez beside it. A folder is named
    as it resolves (`.` in ~/work -> ./work.aez, in the current folder: never a hidden `.aez`)."""
    if todo.single_image:
        return todo.image_files[0][0].with_suffix(CODE_SUFFIX)
    if len(todo.given) == 1:
        path = todo.given[0]
        stem = inputs.array_stem(path) if path.is_file() else path.resolve().name
        if not stem:
            raise AeonnxError(f"{path} has no name to give the container: name it with -o FILE{CODE_SUFFIX}")
        return path.parent / f"{stem}{CODE_SUFFIX}"
    raise AeonnxError(f"{len(todo.given)} inputs make one container: name it with -o FILE{CODE_SUFFIX}")


@dataclass(frozen=True)
class CompressJob:
    """What `compress` is asked to do: its inputs, expanded once (`inputs.plan`), where the codes go,
    and how they are made."""

    plan: inputs.Plan
    output: Path
    precision: str | int | None = None  # None or "auto": the model's default bits (codefile.resolve_precision)
    invert: bool | None = None
    framing: str = "locate"  # how a picture that is not 28x28 becomes a digit: images.FRAMINGS
    force: bool = False
    strict: bool = False  # an input unlike the digits the model knows stops the batch
    bits: int | None = None  # entropy-coded at this many bits, whatever `precision` says
    shard_size: int | None = None  # codes per file: `output` is a folder of shards with an index.json

    @classmethod
    def of(cls, paths: list[Path], output: Path | None = None, **how) -> CompressJob:
        todo = inputs.plan(paths)
        if how.get("shard_size") is not None:
            if how["shard_size"] < 1:
                raise AeonnxError(f"--shard-size must be at least 1, got {how['shard_size']}")
            if output is None:
                raise AeonnxError("--shard-size writes a folder of shards: name it with -o FOLDER")
        return cls(todo, output or default_code_path(todo), **how)

    def count(self) -> int:
        """How many digits the inputs hold, cheaply (array files by their headers), for a progress bar."""
        return count_inputs(self.plan)

    def targets(self) -> list[Path]:
        """Every file the job may write: one .aez, or as many shards as the inputs can fill and the index."""
        if self.shard_size is None:
            return [self.output]
        if self.output.exists() and not self.output.is_dir():
            raise AeonnxError(f"{self.output} is a file; --shard-size writes a folder of shards")
        shards = max(1, -(-self.count() // self.shard_size))
        return [shards_module.shard_path(self.output, n) for n in range(shards)] + [self.output / shards_module.INDEX]

    def chunks(
        self, todo: inputs.Plan | None = None, chunk: int = inputs.CHUNK
    ) -> Iterator[inputs.Chunk | inputs.Failure]:
        """The digits of `todo` (default: the whole plan), read as this job reads them: every engine's reader."""
        return inputs.chunks(self.plan if todo is None else todo, invert=self.invert, framing=self.framing, chunk=chunk)


def _ignore(*_) -> None:
    pass


@dataclass(frozen=True)
class Events:
    """What a batch tells its caller as it goes."""

    on_failure: Report = _ignore  # an input that could not be used (the rest go on)
    on_warning: Warn = _ignore  # an input unlike the digits the model knows
    progress: Callable[[int], None] = _ignore  # so many more inputs done


def compress_files(
    job: CompressJob, model: Autoencoder, events: Events = Events(), engine: Engine | None = None
) -> BatchResult:
    """Encode every input into one .aez file (or a folder of shards), streamed: each chunk's codes are
    written as they are made, so memory does not grow with the batch. Inputs that fail are reported and
    skipped. Each input's round trip is measured; unusual ones are reported, and with `job.strict`
    stop the batch before anything is published. `engine` does the encoding (default: this process,
    SERIAL); any engine gives the same bytes."""
    precision = codefile.resolve_precision(job.precision, model.binding, job.bits)
    job = replace(job, precision=precision, bits=None)  # what every engine's workers encode at
    check_targets(job.targets(), job.force, inputs=job.plan.paths())
    result = BatchResult(output=None, done=0)
    with staged_streams(job.force) as streams:
        if job.shard_size is None:
            sink = shards_module.OneFile(streams, job.output, precision, model.binding, not _named_after_its_image(job))
        else:
            sink = shards_module.Shards(streams, job.output, precision, model.binding, job.shard_size)
        try:
            _encode_into(sink, job, model, events, result, engine or SERIAL)
            if not sink.count:
                raise AeonnxError(f"no input could be compressed ({len(result.failures)} failed); nothing written")
            if job.strict and result.unusual:
                raise AeonnxError(
                    f"{result.unusual} input(s) unlike the digits this model knows (--strict); nothing written"
                )
            result.bytes_written = sink.finish()
        except OSError as e:  # a full disk, a folder gone: said against the output named, not a temporary
            raise AeonnxError(f"{job.output}: cannot write ({e.strerror or e})") from None
    result.output, result.done = job.output, sink.count
    return result


def _named_after_its_image(job: CompressJob) -> bool:
    """img.png -> img.aez: the file's name says the code's, so the file stores none (shards.read_file)."""
    todo = job.plan
    return (
        todo.single_image
        and todo.given == [todo.image_files[0][0]]
        and job.output.stem == todo.image_files[0][1]
        and job.output.suffix.lower() == CODE_SUFFIX
    )


def _encode_into(
    sink, job: CompressJob, model: Autoencoder, events: Events, result: BatchResult, engine: Engine
) -> None:
    """The codes of every input into `sink`, in input order, as `engine` makes them; failures and warnings
    reported on the way. An array file that fails midway takes back the codes already written from it."""
    source, mark = None, None
    for item in engine.encode(job, model):
        if isinstance(item, inputs.Failure):
            result.failures.append(item)
            events.on_failure(item)
            if source is not None and item.source == source:
                sink.rollback(mark)
                source = None
            continue
        chunk = item.chunk
        if chunk.source is None or chunk.source != source:
            source, mark = chunk.source, sink.mark()
        result.unusual += warn_unusual(chunk, item.assessment, events.on_warning)
        sink.add(item.codes, chunk.names, chunk.sizes)
        events.progress(len(chunk.names))


@dataclass
class Encoded:
    """A chunk of inputs, their codes and their round-trip assessment: what every engine yields."""

    chunk: inputs.Chunk
    codes: np.ndarray
    assessment: Assessment | None = None


def without_pixels(chunk: inputs.Chunk) -> inputs.Chunk:
    """The chunk's names, sizes and labels: what a worker sends back (the pixels are most of its bytes)."""
    return replace(chunk, digits=np.empty((0, spec.IMAGE_SIDE, spec.IMAGE_SIDE), np.uint8))


def encode_chunk(chunk: inputs.Chunk, model: Autoencoder, precision) -> Encoded:
    """One chunk's codes at `precision` and the round trip of what decompress will decode from them:
    the one function every engine runs, so that every engine gives the same bytes."""
    codes = codefile.quantize(model.encode(chunk.digits), precision, model.binding)
    stored = codefile.dequantize(codes, precision, model.binding)
    return Encoded(chunk, codes, model.assess(chunk.digits, stored).noting(chunk.concerns))


def encode_serially(job: CompressJob, model: Autoencoder) -> Iterator[inputs.Failure | Encoded]:
    """The inputs' codes made in this process, chunk by chunk, in input order; failures as they happen."""
    for item in job.chunks():
        yield item if isinstance(item, inputs.Failure) else encode_chunk(item, model, job.precision)


def render_serially(model: Autoencoder, z: np.ndarray) -> Iterator[bytes]:
    """Each code's PNG file bytes, in order, decoded a chunk at a time: memory does not grow with N."""
    for start in range(0, len(z), DECODE_CHUNK):
        yield from map(images.png_bytes, model.decode(z[start : start + DECODE_CHUNK]))


class Engine:
    """Where the work of compress and decompress runs: this process (SERIAL), local worker processes
    (parallel.LocalProcesses) or a Ray cluster (ray_engine.RayEngine). An engine yields exactly what the
    serial functions yield, in the same order, so the files written do not depend on it."""

    def encode(self, job: CompressJob, model: Autoencoder) -> Iterator[inputs.Failure | Encoded]:
        return encode_serially(job, model)

    def render(self, model: Autoencoder, z: np.ndarray) -> Iterator[bytes]:
        return render_serially(model, z)


SERIAL = Engine()


def warn_unusual(item: inputs.Chunk, assessment, on_warning: Warn) -> int:
    """Report each digit of `item` that the assessment found unusual; how many there were."""
    labels = item.labels or item.names
    unusual = [(label, why) for label, why in zip(labels, assessment.warnings) if why]
    for label, why in unusual:
        on_warning(label, why)
    return len(unusual)


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
    return shards_module.read_file(path)


def read_codes(path: Path) -> list[tuple[Path, codefile.CodeFile]]:
    """The code file at `path`, or each shard of a folder of shards (shards.Shards), with its path."""
    return shards_module.read_folder(path) if path.is_dir() else [(path, shards_module.read_file(path))]


def select_names(
    found: list[tuple[Path, codefile.CodeFile]], names, where: Path
) -> list[tuple[Path, codefile.CodeFile]]:
    """Only the codes called `names`, in each file: random access, nothing else is decoded."""
    wanted = list(dict.fromkeys(names))
    picked, seen = [], set()
    for path, code_file in found:
        positions = {name: index for index, name in enumerate(code_file.names)}
        here = [positions[name] for name in wanted if name in positions]
        if here:
            picked.append((path, code_file.take(here)))
            seen.update(code_file.names[i] for i in here)
    missing = [name for name in wanted if name not in seen]
    if missing:
        raise AeonnxError(
            f"{where}: no code named {missing[0]!r}"
            + (f" ({len(missing)} names not found)" if len(missing) > 1 else "")
        )
    return picked


def decompress_file(
    code_path: Path,
    output: Path | None = None,
    grid: bool = False,
    force: bool = False,
    models_dir: Path | None = None,
    device: str = "auto",
    variant: str = "float32",
    on_load: Callable[[Autoencoder], None] = lambda model: None,
    names=None,
    engine: Engine | None = None,
) -> Written:
    """One PNG per code (a folder named after the file), one picture for a single code, or one grid.
    `code_path` is an .aez file or a folder of shards; `names` picks codes by name (decoding only those).

    A folder output may exist: the PNGs are written into it and nothing else there is touched; with
    --force only the files of the same names are replaced. An output that is a code file read is refused."""
    found = read_codes(code_path)
    found = select_names(found, names, code_path) if names else found
    count, sources = sum(len(code_file) for _, code_file in found), [path for path, _ in found] or [code_path]
    # NAME-decoded: the plain NAME.png or NAME/ is usually the very input that was compressed.
    default = code_path.with_name(code_path.with_suffix("").name + DECODED_SUFFIX)
    if grid or count == 1:
        output = _picture_path(output, default)
        check_targets([output], force, inputs=sources)
        check_grid_size(count if grid else 1)
        picture_format = images.output_format(output)
    else:
        output = output or default
        relative = _folder_targets([name for _, cf in found for name in cf.names], output, force, sources)
    if not found:
        return Written([], output)
    model = load(found[0][1].model, models_dir, device, variant=variant, part="decoder")  # never the encoder
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
            for rel, png in zip(relative[done:], (engine or SERIAL).render(model, z)):
                stage(output / rel, png)
            done += len(z)
    return Written([output / rel for rel in relative], output)


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


def _folder_targets(names, output: Path, force: bool, sources: list[Path]) -> list[Path]:
    """The code names as PNG paths under `output`, checked before any work (see files.check_targets)."""
    if output.exists() and not output.is_dir():
        raise AeonnxError(f"{output} is a file; {len(names)} codes decode into a folder: name one with -o")
    if len(set(names)) != len(names):  # each file's are unique; a folder's shards might repeat one
        raise codefile.CodeFileError(f"{sources[0].parent}: the same name is in two shards")
    relative = [safe_relative_path(name) for name in names]
    check_targets((output / rel for rel in relative), force, inputs=sources)
    return relative


def safe_relative_path(name: str) -> Path:
    """A code's name as a relative .png path that cannot leave the output folder."""
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or "\\" in name or "\x00" in name or any(p in ("..", ".", "") for p in parts):
        raise codefile.CodeFileError(f"refusing unsafe name {name!r} in the code file")
    return Path(*parts).with_name(parts[-1] + ".png")


def grid_of(digits: np.ndarray) -> np.ndarray:
    columns = max(1, math.ceil(math.sqrt(len(digits))))
    return grids.tile(digits, columns=columns, pad=2, fill=64)


def grid_size(count: int) -> tuple[int, int]:
    """(width, height) in pixels of grid_of(count digits)."""
    columns = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, -(-count // columns))
    return columns * (spec.IMAGE_SIDE + 2) - 2, rows * (spec.IMAGE_SIDE + 2) - 2


def check_grid_size(count: int) -> None:
    """Refuse, before any work, a grid picture over MAX_PICTURE_PIXELS: its memory grows with the count."""
    width, height = grid_size(count)
    if width * height > MAX_PICTURE_PIXELS:
        largest = _largest(lambda n: math.prod(grid_size(n)) <= MAX_PICTURE_PIXELS)
        raise AeonnxError(
            f"a grid of {count:,} digits would be {width:,}x{height:,} pixels, over the limit of "
            f"{MAX_PICTURE_PIXELS:,}: at most {largest:,} digits fit in one picture"
        )


def _largest(fits: Callable[[int], bool]) -> int:
    """The largest n >= 0 with fits(n), for a condition that stops holding as n grows."""
    low, high = 0, 1
    while fits(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def sample(model: Autoencoder, n: int, seed: int | None, output: Path, force: bool = False) -> list[Path]:
    """n generated digits: one grid in a picture file (its format from its extension), or into a folder
    (an existing one, `.`, or a name without an extension) as sample_NNN.png. Only those files are
    written; --force replaces only those."""
    if n < 0:
        raise DataError("-n must be at least 0")
    if output.is_dir() or not output.suffix:
        return _sample_files(model, n, seed, output, force)
    check_grid_size(n)
    picture_format = images.output_format(output)
    check_targets([output], force)
    picture = images.image_bytes(grid_of(model.sample(n, seed=seed)), picture_format)
    atomic_write_bytes(output, picture, force=force)
    return [output]


def _sample_files(model: Autoencoder, n: int, seed: int | None, output: Path, force: bool) -> list[Path]:
    if n > MAX_SAMPLE_FILES:
        raise AeonnxError(
            f"-n {n:,} is over the limit of {MAX_SAMPLE_FILES:,} files per run; "
            "run again with other --seed values for more"
        )
    if output.exists() and not output.is_dir():
        raise AeonnxError(f"{output} is a file; name a folder (or a picture such as samples.png)")
    targets = [output / f"sample_{index:03d}.png" for index in range(n)]
    check_targets(targets, force)
    z = model.sample_latents(n, seed)
    with staged_files(force) as stage:
        for start in range(0, n, DECODE_CHUNK):
            for target, digit in zip(targets[start:], model.decode(z[start : start + DECODE_CHUNK])):
                stage(target, images.png_bytes(digit))
    return targets


def manifold(model: Autoencoder, n: int, extent: float, output: Path, force: bool = False) -> Path:
    """The labelled manifold picture, in the format its extension names."""
    if not 0 < extent < float(np.finfo(np.float32).max):  # NaN fails both comparisons
        raise AeonnxError(f"--range must be a positive, finite number; got {extent}")
    if n < 1:
        raise AeonnxError(f"-n must be at least 1; got {n}")
    width, height = manifold_size(n)
    if width * height > MAX_PICTURE_PIXELS:
        largest = _largest(lambda k: math.prod(manifold_size(k)) <= MAX_PICTURE_PIXELS)
        raise AeonnxError(
            f"-n {n:,} would make a {width:,}x{height:,} picture, over the limit of "
            f"{MAX_PICTURE_PIXELS:,} pixels: use -n {largest} or less"
        )
    picture_format = images.output_format(output)
    check_targets([output], force)
    picture = labelled_manifold(model.manifold(n, extent), n, extent, format=picture_format)
    atomic_write_bytes(output, picture, force=force)
    return output


_MANIFOLD_SCALE, _MANIFOLD_MARGINS = 2, (64, 12, 56, 12)  # each digit drawn 2x; left, right, bottom, top


def manifold_size(n: int) -> tuple[int, int]:
    """(width, height) in pixels of the labelled manifold picture of n x n digits."""
    body = n * spec.IMAGE_SIDE * _MANIFOLD_SCALE
    left, right, bottom, top = _MANIFOLD_MARGINS
    return body + left + right, body + bottom + top


def labelled_manifold(
    grid: np.ndarray, n: int, extent: float, scale: int = _MANIFOLD_SCALE, format: str = "PNG"
) -> bytes:
    """The manifold grid with z[0] / z[1] axis labels and tick values, as `format` bytes (Pillow only)."""
    from PIL import Image, ImageDraw, ImageFont

    side = spec.IMAGE_SIDE * scale
    margin_left, margin_right, margin_bottom, margin_top = _MANIFOLD_MARGINS
    body = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.Resampling.NEAREST)
    width, height = body.width + margin_left + margin_right, body.height + margin_bottom + margin_top
    canvas = Image.new("L", (width, height), 255)
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
    return images.image_bytes(np.asarray(canvas), format)


def encode_lines(
    paths: list[Path],
    model: Autoencoder,
    invert: bool | None = None,
    framing: str = "locate",
    events: Events = Events(),
) -> Iterator[str]:
    """One JSON object per digit: {"name", "z"} (AE) or {"name", "z_mean", "z_log_var"} (VAE), with the
    round trip's "psnr" (float32 codes) and, for a digit unlike the training digits, its "warning"."""
    for item in inputs.chunks(inputs.plan(paths), invert=invert, framing=framing):
        if isinstance(item, inputs.Failure):
            events.on_failure(item)
            continue
        outputs = model.encode_outputs(item.digits)
        assessment = model.assess(item.digits, outputs[model.spec.encoder.outputs[0]]).noting(item.concerns)
        warn_unusual(item, assessment, events.on_warning)
        for index, name in enumerate(item.names):
            record = {"name": name, "model": model.name, "model_id": model.model_id}
            record.update({key: [round(float(v), 7) for v in values[index]] for key, values in outputs.items()})
            record["psnr"] = round(float(assessment.psnr[index]), 2)
            if assessment.warnings[index]:
                record["warning"] = assessment.warnings[index]
            yield json.dumps(record)


@dataclass(frozen=True)
class Inspection:
    output: Path
    psnr: float  # dB, the round trip through the code compress would store
    warning: str | None  # why the input is unlike the digits the model knows, or None


def inspect_image(
    path: Path,
    model: Autoencoder,
    output: Path | None = None,
    invert: bool | None = None,
    precision: str | int = "auto",
    force: bool = False,
) -> Inspection:
    """One picture of what compress does to an image, for a person to check: the input with the located
    digit boxed, the located crop, the normalised 28x28 digit, and its reconstruction with the quality figure."""
    from . import preview

    output = output or path.with_name(path.stem + "-inspect.png")
    check_targets([output], force, inputs=[path])
    picture_format = images.output_format(output)
    with images.open_image(path) as image:
        steps = images.preprocess_steps(image, invert)
        source = images.upright(image).convert("RGB")
    precision = codefile.resolve_precision(precision, model.binding)  # as compress stores it by default
    z = codefile.dequantize(
        codefile.quantize(model.encode(steps.digit), precision, model.binding), precision, model.binding
    )
    assessment = model.assess(steps.digit[None], z).noting([steps.concern])
    psnr, warning = float(assessment.psnr[0]), assessment.warnings[0]
    picture = preview.render(source, steps.page, steps.box, steps.digit, model.decode(z)[0], psnr, warning)
    atomic_write_bytes(output, preview.as_bytes(picture, picture_format), force=force)
    return Inspection(output, psnr, warning)


def describe_file(path: Path) -> dict:
    """What an .onnx model file or an .aez code file says about itself."""
    if path.suffix.lower() == ".onnx":
        from . import providers

        session, _ = providers.create_session(read_bytes(path, "an ONNX model"), "cpu", source=str(path))
        meta = dict(session.get_modelmeta().custom_metadata_map)
        described = {key: _maybe_json(value) for key, value in sorted(meta.items())}
        described["inputs"] = {i.name: i.shape for i in session.get_inputs()}
        described["outputs"] = {o.name: o.shape for o in session.get_outputs()}
        return {"file": str(path), "kind": "onnx model", **described}
    found = read_codes(path)
    total = sum(file.stat().st_size for file, _ in found)
    if path.is_dir():
        total += (path / shards_module.INDEX).stat().st_size
    return _describe_codes(path, found, total)


def _describe_codes(path: Path, found: list[tuple[Path, codefile.CodeFile]], total_bytes: int) -> dict:
    """A code file (or a folder of shards): what made it, how it stores its codes, what they cost."""
    files = [code_file for _, code_file in found]
    count, body = sum(map(len, files)), sum(code_file.body_bytes for code_file in files)
    first = files[0] if files else None
    names = [name for code_file in files for name in code_file.names[:10]][:10]
    described = {
        "file": str(path),
        "kind": "aeonnx code shards" if path.is_dir() else "aeonnx code file",
        "format_version": first.version if first else codefile.FORMAT_VERSION,
        "bytes": total_bytes,
        "model": first.model if first else None,
        "model_id": first.model_id if first else None,
        "precision": first.precision if first else None,
        "bits": first.bits if first else None,  # per latent value, before entropy coding
        "entropy_coded": first is not None and first.coded is not None,
        "latent_size": first.latent_size if first else None,
        "count": count,
        "bytes_per_code": round(body / count, 2) if count else None,
        "frame_overhead_bytes": total_bytes - body,  # all but the codes: header, index (names, sizes), CRC
        "names": names + (["..."] if count > 10 else []),
        "original_sizes": any(code_file.original_sizes is not None for code_file in files),
    }
    if path.is_dir():
        described["shards"] = len(files)
    return described


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
            "default_precision": model.binding.default_precision,  # what compress writes unless told
            "provider": model.provider,
        }
    described["models_dir"] = str(models_dir) if models_dir else "shipped with aeonnx"
    return described


def _maybe_json(value: str):
    try:
        return json.loads(value)
    except ValueError:
        return value
