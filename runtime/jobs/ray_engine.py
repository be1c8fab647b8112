"""Compress and decompress on a Ray cluster with Ray Data: same codes, bit for bit, as one process.

`Encoder` and `Decoder` are public: callable classes for `Dataset.map_batches`, one model per actor,
for people who build their own pipelines, e.g. digits in object storage:

    import ray
    from aeonnx.runtime.ray_engine import Encoder
    ds = ray.data.read_binary_files("s3://bucket/scans/", include_paths=True)
    codes = ds.map_batches(Encoder, fn_constructor_kwargs={"model": "ae"}, batch_size=512,
                           compute=ray.data.ActorPoolStrategy(size=8), num_cpus=0.5, batch_format="numpy")
    codes.filter(lambda row: not row["error"]).write_parquet("s3://bucket/codes/")

`RayEngine` is the engine behind `aeonnx compress --engine ray`: it reads the inputs with Ray Data (a
read task per slice of image files, or per array file), encodes them in actors, and hands the codes back
in input order to the same writer as the local path. Ray is imported only here, and only when used.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..aez import codefile
from ..errors import AeonnxError, DataError
from ..model import Assessment, Autoencoder, load
from ..pictures import arrays, images, inputs
from . import compress, engine

IMAGES_PER_TASK = 1024  # image files per read task and per Encoder batch: one block of ~0.3 MB of bytes
CODES_PER_TASK = engine.DECODE_CHUNK  # codes per Decoder batch
# Each actor reserves half a CPU. Measured: on a 2-CPU node, two actors of one full CPU each starved Ray
# Data's read tasks (nothing left to schedule them on) and the job hung for over five minutes.
ACTOR_CPUS = 0.5
INSTALL_HINT = "the Ray engine needs the ray extra: pip install '.[ray]' in aeonnx's folder"


def import_ray():
    """ray and ray.data, or a one-line error that says how to install them."""
    try:
        import ray
        import ray.data
    except ModuleNotFoundError as e:
        if (e.name or "").split(".")[0] in ("ray", "pyarrow", "pandas"):
            raise AeonnxError(INSTALL_HINT) from None
        raise
    return ray


# --- the public callable classes, run in Ray's actors ------------------------------------------------------
class Encoder:
    """Digits -> codes, for `Dataset.map_batches(Encoder, batch_format="numpy", ...)`; loads the model once
    per actor (onnxruntime with one thread: the actors are the parallelism).

    A batch holds either "bytes" (image files' contents, as `read_binary_files(..., include_paths=True)`
    gives them, with their "path") or "digits" (uint8 [n, 28, 28], MNIST layout, e.g. from an .npz).
    Other columns ride along; a non-empty "error" marks a row already failed upstream. Out: those columns
    without the pixels, plus "code" (the quantised latents, as stored in an .aez file at `precision`),
    "width" and "height" (original size), "psnr" (the round trip of the stored code), "ink" (its mean
    pixel value), "warning" ("" or why
    the digit is unlike the training digits) and "error" ("" or why the image could not be read)."""

    def __init__(
        self,
        model: str = "ae",
        precision: str | int = "auto",
        invert: bool | None = None,
        framing: str = "locate",
        models_dir: str | None = None,
        device: str = "cpu",
        variant: str = "float32",
    ):
        self.model = load(model, models_dir, device, threads=1, variant=variant)
        self.precision = codefile.resolve_precision(precision, self.model.binding)  # auto: the model's default bits
        self.invert, self.framing = invert, framing
        self.shape, self.crop = self.model.picture_shape, self.model.crops_pictures  # yours: resized to it

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = len(next(iter(batch.values())))
        errors = [str(e) for e in batch.get("error", [""] * rows)]
        if "digits" in batch:  # uint8 pixels, or float32 arrays for a model of float values: as they were read
            digits = np.asarray(batch["digits"], np.uint8 if self.model.gives_pictures else np.float32)
            sizes = [arrays.picture_size(digits.shape[1:])] * rows
            concerns_read = [None] * rows  # arrays of digits are taken as they are: nothing was located
        else:
            digits, sizes, concerns_read = self._read(batch["bytes"], batch.get("path", [""] * rows), errors)
        good = [i for i, error in enumerate(errors) if not error]
        out = {key: value for key, value in batch.items() if key not in ("bytes", "digits", "error")}
        dtype = codefile.quantize(
            np.zeros((1, self.model.latent_size), np.float32), self.precision, self.model.binding
        ).dtype
        out["code"], out["psnr"], out["ink"], warnings = (
            np.zeros((rows, self.model.latent_size), dtype),
            np.full(rows, np.nan),
            np.full(rows, np.nan),
            [""] * rows,
        )
        if good:
            concerns = [concerns_read[i] for i in good]
            chunk = inputs.Chunk([""] * len(good), digits[good], [sizes[i] for i in good], concerns=concerns)
            encoded = engine.encode_chunk(chunk, self.model, self.precision)
            out["code"][good], out["psnr"][good] = encoded.codes, encoded.assessment.psnr
            out["ink"][good] = encoded.assessment.ink
            for i, why in zip(good, encoded.assessment.warnings):
                warnings[i] = why or ""
        out["width"], out["height"] = (np.array([size[k] for size in sizes], np.int64) for k in (0, 1))
        out["warning"], out["error"] = np.array(warnings, object), np.array(errors, object)
        return out

    def _read(self, contents, paths, errors: list[str]):
        """Each image's bytes preprocessed as `compress` reads a file: (digits, sizes, what the localiser
        found instead of a digit); a failure goes into `errors`."""
        digits, sizes = np.zeros((len(contents), *(self.shape or arrays.DIGIT)), np.uint8), [(0, 0)] * len(contents)
        concerns: list[str | None] = [None] * len(contents)
        for i, (data, path) in enumerate(zip(contents, paths)):
            if errors[i]:
                continue
            if not self.model.gives_pictures:
                errors[i] = inputs.no_pictures(Path(str(path)), self.shape)
                continue
            try:
                digits[i], sizes[i], concerns[i] = images.read_image(
                    Path(str(path)), self.invert, self.framing, data=bytes(data), shape=self.shape, crop=self.crop
                )
            except DataError as e:
                errors[i] = str(e)
        return digits, sizes, concerns


class Decoder:
    """Codes -> PNG files' bytes, for `Dataset.map_batches(Decoder, batch_format="numpy", ...)`; one model
    per actor. A batch holds "z" (float32 latents [n, latent]) or, with `precision`, "code" (as Encoder
    makes them). Out: the other columns, plus "png" (the bytes of a 28x28 PNG file)."""

    def __init__(
        self,
        model: str = "ae",
        precision: str | None = None,
        models_dir: str | None = None,
        device: str = "cpu",
        variant: str = "float32",
    ):
        self.model = load(model, models_dir, device, threads=1, variant=variant, part="decoder")
        self.precision = precision

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.precision is not None:
            z = codefile.dequantize(np.asarray(batch["code"]), self.precision, self.model.binding)
        else:
            z = np.asarray(batch["z"], np.float32)
        out = {key: value for key, value in batch.items() if key not in ("z", "code")}
        out["png"] = np.array(list(engine.render_serially(self.model, z)), object)
        return out


# --- what Ray Data reads: the plan's inputs, in order ---------------------------------------------------
def plan_source(job: compress.CompressJob, per_task: int = IMAGES_PER_TASK):
    """A Ray Data source of everything `job` reads, in input order: its image files, `per_task` to a read
    task (columns "name", "path", "bytes", "error"), then one read task per array file (.npz, .npy, IDX)
    streaming blocks of inputs.CHUNK digits ("name", "source", "digits", "error"; a file that fails
    midway ends with one error row, after the blocks it gave, as on the local path). Every row has its
    "part" (read task) and "index" in it, so that the order can be checked. One source, so one pool of
    actors serves the whole job: each start of a pool costs seconds.

    (ray.data.read_binary_files reads any filesystem, object storage included, but spends ~0.3 ms of
    bookkeeping per file: measured 3,800 files/s on two CPUs, slower than decoding them.)"""
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    how = replace(job, plan=inputs.Plan())  # the reading options, without the plan's list of every file
    files = job.plan.image_files

    def metadata(rows):
        return BlockMetadata(num_rows=rows, size_bytes=None, exec_stats=None, input_files=None)

    class PlanInputs(Datasource):
        def estimate_inmemory_data_size(self):
            return None

        def get_read_tasks(self, parallelism, per_task_row_limit=None, data_context=None):
            # Each task holds only its own slice: a closure over the whole list would ship every path
            # with every task (measured: 100,000 files went 15x slower).
            tasks = [
                ReadTask(
                    lambda rows=files[start : start + per_task], start=start: [_read_files(rows, start)],
                    metadata(min(per_task, len(files) - start)),
                )
                for start in range(0, len(files), per_task)
            ]
            return tasks + [
                ReadTask(lambda part=part, path=path: _array_blocks(how, part, path), metadata(None))
                for part, path in enumerate(job.plan.array_files, start=1)
            ]

    return PlanInputs()


def _read_files(rows: list[tuple[Path, str]], start: int):
    """One read task's block: the bytes of these image files (numbered from `start`); one that cannot be
    read is a row with its "error", in the words the local path would use."""
    import pyarrow

    contents, errors = [], []
    for path, _ in rows:
        try:
            contents.append(path.read_bytes())
            errors.append("")
        except OSError:
            contents.append(b"")
            errors.append(_read_error(path))
    return pyarrow.table(
        {
            "part": [0] * len(rows),
            "index": list(range(start, start + len(rows))),
            "name": [name for _, name in rows],
            "path": [str(path) for path, _ in rows],
            "bytes": pyarrow.array(contents, pyarrow.binary()),
            "error": errors,
        }
    )


def _read_error(path: Path) -> str:
    try:
        images.read_image(path)
    except DataError as e:
        return str(e)
    return f"{path}: unreadable"


def _array_blocks(how: compress.CompressJob, part: int, path: Path):
    from ray.data.block import BlockAccessor

    done = 0
    for item in how.chunks(inputs.Plan(array_files=[path])):
        if isinstance(item, inputs.Failure):  # a row that says why, after the blocks already given
            names, digits, errors = [path.name], np.zeros((1, *(how.shape or arrays.DIGIT)), np.uint8), [item.reason]
        else:
            names, digits, errors = item.names, item.digits, [""] * len(item.names)
        yield BlockAccessor.batch_to_block(
            {
                "part": np.full(len(names), part),
                "index": np.arange(done, done + len(names)),
                "name": np.array(names, object),
                "digits": digits,
                "source": np.array([str(path)] * len(names), object),
                "error": np.array(errors, object),
            }
        )
        done += len(names)


# --- the engine behind --engine ray ----------------------------------------------------------------------
class RayEngine(engine.Engine):
    """compress and decompress through Ray Data on the cluster at `address` (default: a new one on this
    machine, stopped after the command), with `actors` Encoder/Decoder actors (default: the cluster's CPUs)."""

    def __init__(self, address: str | None = None, actors: int | None = None):
        if actors is not None and actors < 1:
            raise AeonnxError(f"--jobs must be at least 1; got {actors}")
        self.address, self.actors = address, actors
        self.ray = import_ray()

    def encode(self, job: compress.CompressJob, model: Autoencoder) -> Iterator[inputs.Failure | engine.Encoded]:
        yield from job.plan.failures
        if not (job.plan.image_files or job.plan.array_files):
            return
        with self._cluster():
            options = dict(
                model=model.name,
                precision=job.precision,
                invert=job.invert,
                framing=job.framing,
                **_model_options(model),
            )
            for batch in _in_order(self._run(plan_source(job), Encoder, options)):
                yield from _encoded(batch)

    def render(self, model: Autoencoder, z: np.ndarray) -> Iterator[bytes]:
        if not len(z):
            return
        with self._cluster():
            blocks = [z[start : start + CODES_PER_TASK] for start in range(0, len(z), CODES_PER_TASK)]
            dataset = self.ray.data.from_numpy(blocks).rename_columns({"data": "z"})
            for batch in self._run(dataset, Decoder, dict(model=model.name, **_model_options(model))):
                yield from (bytes(png) for png in batch["png"])

    def _run(self, source, worker: type, options: dict) -> Iterator[dict]:
        """`worker` applied to `source` (a Datasource or a Dataset) by the actors; batches in input order."""
        data = self.ray.data
        dataset = source if isinstance(source, data.Dataset) else data.read_datasource(source)
        dataset.context.execution_options.preserve_order = True  # the codes go into files in input order
        actors = self.actors or max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        with warnings.catch_warnings():
            # max_restarts=0: a lost actor fails the job (nothing is written) instead of a restart that Ray
            # itself warns may fail (its constructor's arguments live in the object store). Ray 2.60 takes it
            # only as a deprecated keyword: the extra pins ray below 2.64, which removes it.
            warnings.simplefilter("ignore", DeprecationWarning)
            mapped = dataset.map_batches(
                worker,
                fn_constructor_kwargs=options,
                batch_size=None,
                batch_format="numpy",
                compute=data.ActorPoolStrategy(size=actors),
                num_cpus=ACTOR_CPUS,
                max_restarts=0,
            )
        try:
            yield from mapped.iter_batches(batch_size=None, batch_format="numpy")
        except self.ray.exceptions.RayError as e:
            raise AeonnxError(f"the Ray job failed: {_first_line(e)}") from None

    @contextlib.contextmanager
    def _cluster(self):
        """Join the cluster at `address`, or start one here; a cluster started here stops afterwards,
        whatever happens (Ctrl-C included): no process is left behind."""
        ray = self.ray
        started = not ray.is_initialized()
        if started:
            try:
                ray.init(
                    address=self.address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False
                )
            except (ConnectionError, ValueError, RuntimeError) as e:
                raise AeonnxError(f"cannot start or join a Ray cluster{_at(self.address)}: {_first_line(e)}") from None
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its INFO lines are for Ray's own users
        try:
            yield
        finally:
            if started:
                ray.shutdown()


def _model_options(model: Autoencoder) -> dict:
    return dict(models_dir=str(model.models_dir), device=model.device, variant=model.variant)


def _encoded(batch: dict) -> Iterator[inputs.Failure | engine.Encoded]:
    """One Encoder batch as the serial path yields it: runs of codes, and each failure in its place."""
    errors = [str(error) for error in batch["error"]]
    start = 0
    for end in [i for i, error in enumerate(errors) if error] + [len(errors)]:
        if end > start:
            yield _encoded_rows(batch, slice(start, end))
        if end < len(errors):
            yield inputs.Failure(str(batch["source"][end] if "source" in batch else batch["path"][end]), errors[end])
        start = end + 1


def _encoded_rows(batch: dict, rows: slice) -> engine.Encoded:
    names = [str(name) for name in batch["name"][rows]]
    sizes = list(zip(batch["width"][rows].tolist(), batch["height"][rows].tolist()))
    source = str(batch["source"][rows.start]) if "source" in batch else None
    labels = [str(path) for path in batch["path"][rows]] if "path" in batch else None
    warnings = [str(why) or None for why in batch["warning"][rows]]
    chunk = inputs.Chunk(names, np.empty((0, 28, 28), np.uint8), sizes, source=source, labels=labels)
    assessment = Assessment(np.asarray(batch["psnr"][rows]), warnings, np.asarray(batch["ink"][rows]))
    return engine.Encoded(chunk, np.asarray(batch["code"][rows]), assessment)


def _in_order(batches: Iterator[dict]) -> Iterator[dict]:
    """The batches, refusing any row out of input order (the container would pair names and codes wrongly):
    rows are numbered by read task ("part") and by position within it ("index")."""
    part, expected = -1, 0
    for batch in batches:
        for row_part, index in zip(batch["part"].tolist(), batch["index"].tolist()):
            if row_part != part:
                part, expected = (row_part, 0) if row_part > part else (part, -1)
            if index != expected:
                raise AeonnxError("Ray Data returned the inputs out of order; nothing written")
            expected += 1
        yield batch


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__


def _at(address: str | None) -> str:
    return f" at {address}" if address else ""
