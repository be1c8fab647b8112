"""Shared fixtures. The real MNIST digits come from one place: the `mnist_path` fixture."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
# CI and developers have shared/ beside the checkout; AEONNX_TEST_DATA points elsewhere.
DEFAULT_MNIST = REPO.parent / "shared" / "data" / "mnist-10k.npz"


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


@pytest.fixture(autouse=True, scope="session")
def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
