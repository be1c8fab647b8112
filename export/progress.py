"""An export's stages, each said in one line with its time as it ends: a 10-30 s export is not silent."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable


class Stage:
    detail = ""  # what the stage did, said with its time


class Stages:
    """`with stages("convert") as stage: ...; stage.detail = "2 parts"` says `convert  2 parts (3.1 s)`;
    `tell(line)` says anything else on the way; `warn(line)` keeps what the user should look at for
    `finish()`, once the export has succeeded (a refusal stays one line). Without `say` (the Python API's
    default) stages are silent; without `warn`, warnings are Python warnings."""

    def __init__(self, say: Callable[[str], None] | None = None, warn: Callable[[str], None] | None = None):
        self.tell = say or (lambda line: None)
        self._warn = warn or (lambda line: warnings.warn(line, UserWarning, stacklevel=5))
        self.warnings: list[str] = []

    def warn(self, line: str) -> None:
        self.warnings.append(line)

    def finish(self) -> None:
        for line in self.warnings:
            self._warn(line)
        self.warnings = []

    @contextlib.contextmanager
    def __call__(self, name: str):
        stage, start = Stage(), time.perf_counter()
        yield stage
        detail = f"{stage.detail} " if stage.detail else ""
        self.tell(f"{name:<8} {detail}({time.perf_counter() - start:.1f} s)")
