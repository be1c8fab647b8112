"""The engine protocol: where the encoding and the drawing of a batch run. Every engine (this process,
local worker processes in parallel.py, a Ray cluster in ray_engine.py) yields exactly what the serial
functions here yield, in the same order, so the files written do not depend on it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from .. import spec
from ..aez import codefile
from ..model import Assessment, Autoencoder
from ..pictures import inputs
from ..pictures.png import png_files

DECODE_CHUNK = 1024  # codes decoded at once while writing PNGs: writing dominates, so small costs nothing


class Job(Protocol):
    """What an engine encodes: a compress job (compress.CompressJob), read chunk by chunk."""

    precision: str | int | None

    def chunks(self, todo: inputs.Plan | None = None, chunk: int = inputs.CHUNK) -> Iterator: ...


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


def encode_serially(job: Job, model: Autoencoder) -> Iterator[inputs.Failure | Encoded]:
    """The inputs' codes made in this process, chunk by chunk, in input order; failures as they happen."""
    for item in job.chunks():
        yield item if isinstance(item, inputs.Failure) else encode_chunk(item, model, job.precision)


def render_serially(model: Autoencoder, z: np.ndarray) -> Iterator[bytes]:
    """Each code's PNG file bytes, in order, decoded a chunk at a time: memory does not grow with N."""
    for start in range(0, len(z), DECODE_CHUNK):
        yield from png_files(model.decode(z[start : start + DECODE_CHUNK]))  # filtered a chunk at a time


class Engine:
    """Where the work of compress and decompress runs: this process (SERIAL), local worker processes
    (parallel.LocalProcesses) or a Ray cluster (ray_engine.RayEngine). An engine yields exactly what the
    serial functions yield, in the same order, so the files written do not depend on it."""

    def encode(self, job: Job, model: Autoencoder) -> Iterator[inputs.Failure | Encoded]:
        return encode_serially(job, model)

    def render(self, model: Autoencoder, z: np.ndarray) -> Iterator[bytes]:
        return render_serially(model, z)


SERIAL = Engine()
