"""compress and encode: image files and digit arrays in, codes out (an .aez file, a folder of shards, or
JSON lines), streamed; nothing written over what exists unless forced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..aez import codefile
from ..aez import shards as shards_module
from ..errors import AeonnxError, DataError
from ..files import check_targets, staged_streams
from ..model import Autoencoder
from ..pictures import inputs
from .engine import SERIAL, Engine
from .events import BatchResult, Events, warn_unusual

CODE_SUFFIX = ".aez"


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
    quality: int | None = None  # a rate-distortion model's level, 1-8
    shard_size: int | None = None  # codes per file: `output` is a folder of shards with an index.json
    shape: tuple[int, ...] | None = None  # a model of your own's image: pictures resized to it (None: digits)
    crop: bool = False  # and cropped to its aspect ratio first
    numbers: bool = False  # a model of float values: arrays of numbers, no pictures

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
        todo = self.plan if todo is None else todo
        return inputs.chunks(
            todo,
            invert=self.invert,
            framing=self.framing,
            chunk=chunk,
            shape=self.shape,
            crop=self.crop,
            numbers=self.numbers,
        )


def compress_files(
    job: CompressJob, model: Autoencoder, events: Events = Events(), engine: Engine | None = None
) -> BatchResult:
    """Encode every input into one .aez file (or a folder of shards), streamed: each chunk's codes are
    written as they are made, so memory does not grow with the batch. Inputs that fail are reported and
    skipped. Each input's round trip is measured; unusual ones are reported, and with `job.strict`
    stop the batch before anything is published. `engine` does the encoding (default: this process,
    SERIAL); any engine gives the same bytes."""
    precision = codefile.resolve_precision(job.precision, model.binding, job.bits, job.quality)
    # How every engine's workers read, and what they encode at.
    job = replace(job, precision=precision, bits=None, quality=None, **model.reading)
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
                    f"{result.unusual} input(s) unlike the {model.known_inputs} (--strict); nothing written"
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
        result.unusual += warn_unusual(chunk, item.assessment, events)
        sink.add(item.codes, chunk.names, chunk.sizes)
        events.progress(len(chunk.names))


def count_inputs(todo: inputs.Plan) -> int:
    """How many digits the planned inputs hold, cheaply (array files by their headers), for a progress bar."""
    from ..pictures.arrays import image_count

    total = len(todo.image_files)
    for path in todo.array_files:
        try:
            total += image_count(path)
        except DataError:
            pass  # the real read reports it
    return total


def encode_lines(
    paths: list[Path],
    model: Autoencoder,
    invert: bool | None = None,
    framing: str = "locate",
    events: Events = Events(),
) -> Iterator[str]:
    """One JSON object per digit: {"name", "z"} (AE) or {"name", "z_mean", "z_log_var"} (VAE), with the
    round trip's "psnr" (float32 codes) and, for a digit unlike the training digits, its "warning"."""
    reading = dict(invert=invert, framing=framing, **model.reading)
    for item in inputs.chunks(inputs.plan(paths), **reading):
        if isinstance(item, inputs.Failure):
            events.on_failure(item)
            continue
        outputs = model.encode_outputs(item.digits)
        assessment = model.assess(item.digits, outputs[model.spec.encoder.outputs[0]]).noting(item.concerns)
        warn_unusual(item, assessment, events)
        for index, name in enumerate(item.names):
            record = {"name": name, "model": model.name, "model_id": model.model_id}
            record.update({key: [round(float(v), 7) for v in values[index]] for key, values in outputs.items()})
            if model.gives_pictures:
                record["psnr"] = round(float(assessment.psnr[index]), 2)
            if assessment.warnings[index]:
                record["warning"] = assessment.warnings[index]
            yield json.dumps(record)
