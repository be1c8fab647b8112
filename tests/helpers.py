"""Helpers the test files import: the command line in-process, its one-line errors, scaling, traced memory.

Fixtures live in conftest.py; what a test calls lives here, so no test imports conftest."""

from __future__ import annotations

from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# The real MNIST digits every test reads (see tests/data/README.md).
MNIST_10K = REPO / "tests" / "data" / "mnist-10k.npz"


def unit_float(digits: np.ndarray) -> np.ndarray:
    """uint8 digits (N, 28, 28) -> float32 (N, 784) in [0, 1]: the contract's scaling, written out here
    rather than taken from the code under test."""
    return digits.reshape(len(digits), -1).astype(np.float32) / 255


def traced_peak(work):
    """(work(), the peak of Python-tracked memory while it ran, in bytes)."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def invoke(*args):
    """The command line in-process, through Typer's CliRunner (arguments may be paths)."""
    from typer.testing import CliRunner

    from aeonnx.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def one_line_error(result, fragment: str = "", alone: bool = False) -> str:
    """The failed command's one `aeonnx: error: ...` line, which holds `fragment`: exit code 1, no traceback,
    and the error last on stderr; `alone`: nothing else on stderr (a batch reports skipped inputs before it)."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("aeonnx: error: ")]
    assert len(errors) == 1 and errors[0] == lines[-1] and fragment in errors[0], result.stderr
    assert len(lines) == 1 or not alone, result.stderr
    assert "Traceback" not in result.output
    return errors[0]
