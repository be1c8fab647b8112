"""Data loading: Keras npz, IDX folders (raw and gzipped), and every bad-file case."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from aeonnx.runtime.errors import DataError
from aeonnx.train.data import IDX_FILES, load_dataset


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_folder(folder, arrays, gzipped: bool):
    folder.mkdir(exist_ok=True)
    for key, stem in IDX_FILES.items():
        payload = idx_bytes(arrays[key])
        if gzipped:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(payload))
        else:
            (folder / stem).write_bytes(payload)
    return folder


@pytest.fixture
def arrays(mnist):
    return {
        "x_train": mnist["x_train"][:50],
        "y_train": mnist["y_train"][:50],
        "x_test": mnist["x_test"][:20],
        "y_test": mnist["y_test"][:20],
    }


def test_the_shipped_test_digits_are_the_documented_file(mnist_path):
    """tests/data/README.md names this file's provenance by its hash: a changed file must change the README."""
    import hashlib

    readme = (mnist_path.parent / "README.md").read_text()
    assert hashlib.sha256(mnist_path.read_bytes()).hexdigest() in readme


def test_npz_loads_real_digits(mnist_path):
    dataset = load_dataset(mnist_path)
    assert dataset.x_train.shape == (9000, 28, 28) and dataset.x_test.shape == (1000, 28, 28)
    x = dataset.train_inputs()
    assert x.dtype == np.float32 and x.shape == (9000, 784)
    assert 0.0 == x.min() and x.max() == 1.0


@pytest.mark.parametrize("gzipped", [True, False], ids=["gz", "raw"])
def test_idx_folder_matches_npz(tmp_path, arrays, gzipped):
    folder = write_idx_folder(tmp_path / "idx", arrays, gzipped)
    dataset = load_dataset(folder)
    for key, expected in arrays.items():
        np.testing.assert_array_equal(getattr(dataset, key), expected)


def test_fingerprint_is_the_same_for_npz_and_idx(tmp_path, arrays):
    np.savez(tmp_path / "d.npz", **arrays)
    folder = write_idx_folder(tmp_path / "idx", arrays, gzipped=True)
    assert load_dataset(tmp_path / "d.npz").sha256 == load_dataset(folder).sha256


def expect_data_error(path, *fragments):
    with pytest.raises(DataError) as caught:
        load_dataset(path)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda a: a.pop("y_test"), "missing arrays y_test"),
        (lambda a: a.update(x_train=a["x_train"].reshape(50, 784)), "uint8 (N, H, W) or (N, H, W, 1 or 3)"),
        (
            lambda a: a.update(x_test=np.zeros((20, 32, 32), np.uint8)),
            "x_train's images are (28, 28), x_test's (32, 32)",
        ),
        (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "must be uint8"),
        (lambda a: a.update(y_train=a["y_train"][:10]), "labels must have shape (50,)"),
        (lambda a: a.update(x_test=a["x_test"][:0], y_test=a["y_test"][:0]), "holds no images"),
    ],
    ids=["missing-key", "flat", "sizes-differ", "float-dtype", "label-count", "empty"],
)
def test_bad_npz(tmp_path, arrays, change, fragment):
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    expect_data_error(tmp_path / "bad.npz", fragment)


def test_truncated_npz(tmp_path, arrays):
    np.savez(tmp_path / "whole.npz", **arrays)
    data = (tmp_path / "whole.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    expect_data_error(tmp_path / "cut.npz", "not a readable .npz")


def test_not_an_npz(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    expect_data_error(tmp_path / "text.npz", "not a readable .npz")


def test_missing_path(tmp_path):
    expect_data_error(tmp_path / "nothing.npz", "no such file")


def test_idx_missing_file(tmp_path, arrays):
    folder = write_idx_folder(tmp_path / "idx", arrays, gzipped=False)
    (folder / IDX_FILES["y_test"]).unlink()
    expect_data_error(folder, "missing IDX file t10k-labels-idx1-ubyte")


def test_idx_truncated(tmp_path, arrays):
    folder = write_idx_folder(tmp_path / "idx", arrays, gzipped=False)
    path = folder / IDX_FILES["x_train"]
    path.write_bytes(path.read_bytes()[:-100])
    expect_data_error(folder, "IDX header declares shape (50, 28, 28)")


def test_idx_truncated_gzip(tmp_path, arrays):
    folder = write_idx_folder(tmp_path / "idx", arrays, gzipped=True)
    path = folder / f"{IDX_FILES['x_test']}.gz"
    path.write_bytes(path.read_bytes()[:-30])
    expect_data_error(folder, "corrupt or truncated gzip")


def test_idx_bad_magic(tmp_path, arrays):
    folder = write_idx_folder(tmp_path / "idx", arrays, gzipped=False)
    (folder / IDX_FILES["x_train"]).write_bytes(b"PK\x03\x04 definitely not idx")
    expect_data_error(folder, "not an IDX file")


def test_idx_wrong_element_type(tmp_path, arrays):
    folder = write_idx_folder(tmp_path / "idx", arrays, gzipped=False)
    path = folder / IDX_FILES["x_train"]
    data = bytearray(path.read_bytes())
    data[2] = 0x0D  # float32 elements
    path.write_bytes(bytes(data))
    expect_data_error(folder, "is not unsigned byte")


def test_download_failure_names_the_way_out(monkeypatch):
    import keras

    def offline():
        raise Exception("URL fetch failure on https://storage.googleapis.com/mnist.npz: None -- [Errno -3]")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    expect_data_error(None, "could not download MNIST", "--data PATH")
