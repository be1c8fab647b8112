"""What a batch tells its caller as it goes (failures, warnings, progress), and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..pictures import inputs

Report = Callable[[inputs.Failure], None]

Warn = Callable[[str, str], None]  # (input, why it is unlike the digits the model knows)
Assessed = Callable[[list[str], object], None]  # (inputs, their model.Assessment): every input's figures


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


def _ignore(*_) -> None:
    pass


@dataclass(frozen=True)
class Events:
    """What a batch tells its caller as it goes."""

    on_failure: Report = _ignore  # an input that could not be used (the rest go on)
    on_warning: Warn = _ignore  # an input unlike the digits the model knows
    progress: Callable[[int], None] = _ignore  # so many more inputs done
    on_assessed: Assessed = _ignore  # every input's round trip and ink (compress and encode --report)


def warn_unusual(item: inputs.Chunk, assessment, events: Events) -> int:
    """Report each digit of `item`'s figures, and each the assessment found unusual; how many there were."""
    labels = item.labels or item.names
    events.on_assessed(list(labels), assessment)
    unusual = [(label, why) for label, why in zip(labels, assessment.warnings) if why]
    for label, why in unusual:
        events.on_warning(label, why)
    return len(unusual)
