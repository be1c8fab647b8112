"""Timing helpers: repeated, interleaved runs; medians with min-max; ratios taken within one run."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO / "tests" / "data" / "mnist-10k.npz"  # the same file as ../shared/data/mnist-10k.npz
# What the shipped models were trained on (artifacts/regenerate.sh's default): the AE family trains on it too.
TRAIN_DATA = REPO.parent / "shared" / "data" / "mnist-60k.npz"
RESULTS = REPO / "bench" / "results"


def summary(samples: list[float]) -> dict:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "runs": len(samples)}


def interleaved(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, dict]:
    """Run each contender once per round, in turn, so machine noise hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            samples[name].append(run())
    return {name: summary(values) for name, values in samples.items()}


# Measured commands start from this small launcher, not from the bench process: Linux counts the
# memory a child had before exec() (here: the bench's, TensorFlow and all) in its peak RSS, and
# forking a large process costs time that is not the command's.
_LAUNCHER = """
import os, subprocess, sys, tempfile, time
errors = tempfile.TemporaryFile()  # not a pipe: a command saying much on stderr would block on a full one
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=errors)
_, status, usage = os.wait4(child.pid, 0)
elapsed = time.perf_counter() - started
code = os.waitstatus_to_exitcode(status)
if code:
    errors.seek(0)
    sys.stderr.write(errors.read().decode(errors="replace")[-800:])
print(elapsed, usage.ru_maxrss, code)
"""


def timed_process(command: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one run of `command`; fails loudly if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *map(str, command)], cwd=cwd, capture_output=True, text=True, check=False
    )
    elapsed, max_rss_kib, code = done.stdout.split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({code}): {done.stderr[-800:]}")
    return float(elapsed), int(max_rss_kib) // 1024


def per_call(function: Callable[[], object], calls: int) -> list[float]:
    """Seconds of each of `calls` calls, after one warm-up."""
    function()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def machine() -> dict:
    import onnxruntime

    return {
        "python": platform.python_version(),
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "onnxruntime": onnxruntime.__version__,
        "platform": platform.platform(),
    }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def aeonnx_command() -> list[str]:
    """The installed console script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("aeonnx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "aeonnx.cli"]


def table(rows: list[list], headers: list[str]) -> str:
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def ms(seconds: float) -> str:
    """A duration in the unit that reads best: s, ms or µs."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    return f"{seconds * 1000:.3g} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.3g} µs"


def span(stats: dict, unit: Callable[[float], str] = ms) -> str:
    return f"{unit(stats['median'])} ({unit(stats['min'])}–{unit(stats['max'])})"
