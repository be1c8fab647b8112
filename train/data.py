"""MNIST-layout data sets: Keras' download, a Keras mnist.npz, or a folder of IDX files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeonnx.provenance import fingerprint
from aeonnx.runtime.errors import DataError
from aeonnx.runtime.model import as_model_input
from aeonnx.runtime.pictures.arrays import check_images, iter_idx_blocks

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IDX_BLOCK = 65_536  # entries per read: the blocks are joined at once, so this only sizes each read


@dataclass(frozen=True)
class Dataset:
    x_train: np.ndarray  # uint8 (N, 28, 28)
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def sha256(self) -> str:
        return fingerprint(self.x_train, self.y_train, self.x_test, self.y_test)

    def train_inputs(self) -> np.ndarray:
        return as_model_input(self.x_train)  # float32 (N, 784) in [0, 1], as the runtime scales its inputs

    def test_inputs(self) -> np.ndarray:
        return as_model_input(self.x_test)


def load_dataset(path: str | Path | None) -> Dataset:
    """The data set at `path` (npz file or IDX folder), or Keras' MNIST download when None."""
    if path is None:
        arrays, source = _download_keras_mnist(), "keras.datasets.mnist"
    else:
        path = Path(path)
        if path.is_dir():
            arrays, source = _load_idx_folder(path), str(path)
        elif path.exists():
            arrays, source = _load_npz(path), str(path)
        else:
            raise DataError(f"{path}: no such file or folder")
    for split in ("train", "test"):
        images = check_images(arrays[f"x_{split}"], f"{source} x_{split}")
        check_labels(arrays[f"y_{split}"], len(images), f"{source} y_{split}")
        if len(images) == 0:
            raise DataError(f"{source}: x_{split} holds no images")
    return Dataset(**{key: arrays[key] for key in NPZ_KEYS}, source=source)


def _download_keras_mnist() -> dict[str, np.ndarray]:
    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as e:  # urllib, ssl and socket errors all land here
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(
            f"could not download MNIST ({reason}); pass a local copy with --data PATH "
            "(a Keras-layout mnist.npz or a folder of IDX files)"
        ) from None
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def check_labels(labels: np.ndarray, count: int, where: str) -> np.ndarray:
    if labels.ndim != 1 or labels.shape[0] != count:
        raise DataError(f"{where}: labels must have shape ({count},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{where}: labels must be integers, got {labels.dtype}")
    return labels


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    """Every array of a Keras-layout .npz file, loaded without pickles."""
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    missing = [key for key in NPZ_KEYS if key not in arrays]
    if missing:
        raise DataError(f"{path}: missing arrays {', '.join(missing)} (expected {', '.join(NPZ_KEYS)})")
    return arrays


def _load_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for key, stem in IDX_FILES.items():
        candidates = [folder / stem, folder / f"{stem}.gz"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise DataError(f"{folder}: missing IDX file {stem} (or {stem}.gz)")
        arrays[key] = read_idx(found)
    return arrays


def read_idx(path: Path) -> np.ndarray:
    """A whole IDX file (raw or gzipped) as a uint8 array: the runtime's streaming reader's blocks, joined."""
    shapes = []
    blocks = list(iter_idx_blocks(path, IDX_BLOCK, on_header=shapes.append))
    return np.concatenate(blocks) if blocks else np.empty((0, *shapes[0][1:]), np.uint8)
