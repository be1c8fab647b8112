"""Shared fixtures. The real MNIST digits come from one place: the `mnist_path` fixture."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any test module imports TensorFlow

REPO = Path(__file__).resolve().parents[1]
# CI and developers have shared/ beside the checkout; AEONNX_TEST_DATA points elsewhere.
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist-10k.npz"


# --- helpers the test files import -------------------------------------------------------------------
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


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """The 10,000 real MNIST digits in Keras' mnist.npz layout (9,000 train / 1,000 test)."""
    path = Path(os.environ.get("AEONNX_TEST_DATA", DEFAULT_MNIST))
    if not path.is_file():
        message = f"MNIST test data not found at {path}; set AEONNX_TEST_DATA to a Keras-layout mnist.npz"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


FASHION_TEST_IMAGES = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


@pytest.fixture(scope="session")
def fashion() -> np.ndarray:
    """1,000 Fashion-MNIST test items (28x28 uint8): pictures that are not digits. `.ci/run` installs them."""
    if not FASHION_TEST_IMAGES.is_file():
        message = f"{FASHION_TEST_IMAGES} not found: apt-get install dataset-fashion-mnist"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from aeonnx.runtime.arrays import iter_image_blocks

    _, items = next(iter_image_blocks(FASHION_TEST_IMAGES, 1000))
    return items


@pytest.fixture(scope="session")
def mnist(mnist_path) -> dict[str, np.ndarray]:
    with np.load(mnist_path) as archive:
        return {key: archive[key] for key in archive.files}


@pytest.fixture(scope="session")
def small_mnist_path(mnist, tmp_path_factory) -> Path:
    """A 2,000 / 300 subset of the real digits, for training tests that must be quick."""
    path = tmp_path_factory.mktemp("data") / "mnist-small.npz"
    np.savez(
        path,
        x_train=mnist["x_train"][:2000],
        y_train=mnist["y_train"][:2000],
        x_test=mnist["x_test"][:300],
        y_test=mnist["y_test"][:300],
    )
    return path


@pytest.fixture(scope="session")
def digit_classifier(mnist):
    """A small digit classifier fitted on the shared training digits (about 2 s): the judge of real inputs."""
    from .real_inputs import train_classifier

    return train_classifier(mnist["x_train"], mnist["y_train"])


@pytest.fixture(scope="session")
def trained_runs(small_mnist_path, tmp_path_factory) -> dict[str, Path]:
    """One briefly trained run directory per model (2 epochs on the small subset)."""
    pytest.importorskip("keras")
    from aeonnx.runtime import spec
    from aeonnx.train.fit import TrainConfig, train

    root = tmp_path_factory.mktemp("runs")
    return {
        name: train(
            TrainConfig(model=name, data=str(small_mnist_path), out=str(root / name), epochs=2, seed=3), verbose=0
        )
        for name in spec.MODEL_NAMES
    }


@pytest.fixture(scope="session")
def exported_models(trained_runs, tmp_path_factory) -> Path:
    """Both trained runs exported into one models folder."""
    from aeonnx.export.exporter import export_model

    out = tmp_path_factory.mktemp("models")
    for name, run_dir in trained_runs.items():
        export_model(name, run_dir, out)
    return out
