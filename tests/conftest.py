"""Shared fixtures, the checkout guard and the skip policy. The real MNIST digits come from one place: the
`mnist_path` fixture, which reads the copy inside the repository (tests/data/)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from .helpers import MNIST_10K, REPO

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before any test module imports TensorFlow

# The only skips a run may have: reasons no user can fix. Any other skip fails the run (pytest_sessionfinish),
# so a missing data file, tool or extra is a failure, never a quiet green.
ALLOWED_SKIPS = (
    "root writes into read-only folders",  # the user is root: no permission can be taken away
    "CUDA is available here",  # the machine has what the test simulates missing
    "this onnxruntime has CUDA",
    "this file system refuses names that are not UTF-8",
)


def pytest_configure(config):
    """Stop at once when `aeonnx` is not this checkout's: tests would pass or fail on some other copy."""
    import aeonnx.runtime

    where = Path(aeonnx.runtime.__file__).resolve()
    if not where.is_relative_to(REPO):
        pytest.exit(f"aeonnx is imported from {where}, not from this checkout ({REPO}): pip install -e .", 2)


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    unexpected = [report for report in skipped if not _allowed_skip(report)]
    if unexpected and exitstatus == 0:
        for report in unexpected:
            reporter.write_line(f"SKIP NOT ALLOWED: {report.nodeid}: {_skip_reason(report)}", red=True)
        session.exitstatus = 1


def _skip_reason(report) -> str:
    return report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)


def _allowed_skip(report) -> bool:
    return any(reason in _skip_reason(report) for reason in ALLOWED_SKIPS)


@pytest.fixture(scope="session")
def mnist_path() -> Path:
    """The 10,000 real MNIST digits in Keras' mnist.npz layout (9,000 train / 1,000 test), shipped in tests/data."""
    assert MNIST_10K.is_file(), f"{MNIST_10K} is missing: it ships with the repository (see tests/data/README.md)"
    return MNIST_10K


FASHION_TEST_IMAGES = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


@pytest.fixture(scope="session")
def fashion() -> np.ndarray:
    """1,000 Fashion-MNIST test items (28x28 uint8): pictures that are not digits. `.ci/run` installs them."""
    assert FASHION_TEST_IMAGES.is_file(), f"{FASHION_TEST_IMAGES} not found: apt-get install dataset-fashion-mnist"
    from aeonnx.runtime.pictures.arrays import iter_image_blocks

    _, items = next(iter_image_blocks(FASHION_TEST_IMAGES, 1000))
    return items


@pytest.fixture(scope="session")
def ae():
    """The shipped AE on the CPU."""
    from aeonnx.runtime import load

    return load("ae", device="cpu")


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
