"""The images `aeonnx train` learns from: MNIST-layout data sets (Keras' download, a Keras mnist.npz, a folder
of IDX files), arrays of any (N, H, W[, C]), or a folder of pictures; converted on load to one size and
colour, and split into the images trained on and those held out to measure the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeonnx.provenance import fingerprint
from aeonnx.runtime import spec
from aeonnx.runtime.conventions import as_model_input
from aeonnx.runtime.errors import DataError
from aeonnx.runtime.pictures.arrays import check_images, iter_idx_blocks

from .image_folder import LARGEST_SIDE_UNASKED, read_folder

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
IDX_BLOCK = 65_536  # entries per read: the blocks are joined at once, so this only sizes each read
ARRAY_KEYS = ("x", "images", "x_train")  # where an .npz without a test split keeps its images
DEFAULT_HELD_OUT = 0.1  # the share of a data set without a test split held out to measure the run on


@dataclass(frozen=True)
class Dataset:
    x_train: np.ndarray  # uint8 (N, H, W) grey or (N, H, W, C) colour; MNIST: (N, 28, 28)
    y_train: np.ndarray
    x_test: np.ndarray  # the data set's own test split, or the images held out by --val-fraction
    y_test: np.ndarray
    source: str
    # How a picture is made this size for the model, as compress must do it too (spec.PICTURE_READINGS):
    # MNIST's layout locates the digit; pictures and arrays of your own are cropped to the aspect, then resized.
    reading: str = "locate"
    classes: tuple[str, ...] = ()  # a folder's class subfolders, by label
    test_split: str = "the data set's test split"  # where x_test came from, as run.json says it
    skipped: int = 0  # unreadable files left out
    converted: str = ""  # what --size / --channels did, as run.json says it

    @property
    def image_shape(self) -> tuple[int, ...]:
        """One image: (H, W) grey, or (H, W, C)."""
        return tuple(self.x_train.shape[1:])

    @property
    def sha256(self) -> str:
        return fingerprint(self.x_train, self.y_train, self.x_test, self.y_test)

    def train_inputs(self, input_shape: tuple[int, ...] | None = None) -> np.ndarray:
        """float32 [N, *input_shape] in [0, 1], as the runtime scales its inputs; default flat (N, H*W*C)."""
        return as_model_input(self.x_train, input_shape or (int(np.prod(self.image_shape)),))

    def test_inputs(self, input_shape: tuple[int, ...] | None = None) -> np.ndarray:
        return as_model_input(self.x_test, input_shape or (int(np.prod(self.image_shape)),))


@dataclass(frozen=True)
class Conversion:
    """What `aeonnx train` is asked to make of the images: None keeps what they are."""

    size: tuple[int, int] | None = None  # (height, width)
    channels: int | None = None  # 1 or 3
    held_out: float | None = None  # --val-fraction: the share held out when the data has no test split

    def describe(self) -> str:
        parts = []
        if self.size:
            parts.append(f"{self.size[0]}x{self.size[1]} (centre cropped to the aspect ratio, Lanczos)")
        if self.channels:
            parts.append({1: "grey (ITU-R 601 luma)", 3: "RGB"}[self.channels] + ", transparency over white")
        return "; ".join(parts)


def parse_size(text: str) -> tuple[int, int]:
    """'32x32' or '32' -> (height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        sides = tuple(int(part) for part in parts)
    except ValueError:
        sides = ()
    if len(sides) == 1:
        sides = sides * 2
    if len(sides) != 2 or not all(4 <= side <= 1024 for side in sides):
        raise DataError(f"--size {text!r}: give HEIGHTxWIDTH, each from 4 to 1024 pixels, e.g. 32x32")
    return sides


def load_dataset(path: str | Path | None, conversion: Conversion = Conversion()) -> Dataset:
    """The data set at `path`, or Keras' MNIST download when None, converted as asked. `path`: a Keras-layout
    .npz, a folder of IDX files, an .npz or .npy of images (N, H, W[, C]), or a folder of pictures."""
    if conversion.channels not in (None, 1, 3):
        raise DataError(f"--channels {conversion.channels}: pictures are grey (1) or colour (3)")
    if conversion.held_out is not None and not 0 < conversion.held_out < 1:
        raise DataError(f"--val-fraction {conversion.held_out}: give a share between 0 and 1, e.g. 0.1")
    if path is None:
        dataset = _mnist_layout(_download_keras_mnist(), "keras.datasets.mnist", conversion)
    else:
        path = Path(path)
        if path.is_dir() and _has_idx_files(path):
            dataset = _mnist_layout(_load_idx_folder(path), str(path), conversion)
        elif path.is_dir():
            images = read_folder(path, conversion.size, conversion.channels)
            dataset = _held_out_split(*images, str(path), conversion)
        elif path.exists():
            dataset = _load_array_file(path, conversion)
        else:
            raise DataError(f"{path}: no such file or folder")
    _check(dataset, conversion)
    return dataset


def _check(dataset: Dataset, conversion: Conversion) -> None:
    for split in ("train", "test"):
        images = getattr(dataset, f"x_{split}")
        check_images(images, f"{dataset.source} x_{split}", images.shape[1:])
        check_labels(getattr(dataset, f"y_{split}"), len(images), f"{dataset.source} y_{split}")
        if len(images) == 0:
            raise DataError(f"{dataset.source}: x_{split} holds no images")
    if max(dataset.image_shape[:2]) > LARGEST_SIDE_UNASKED and conversion.size is None:
        raise DataError(
            f"{dataset.source}: images of {dataset.image_shape[1]}x{dataset.image_shape[0]} pixels; "
            "give --size HxW (e.g. --size 64x64) to train on them at a model's size"
        )


def _mnist_layout(arrays: dict[str, np.ndarray], source: str, conversion: Conversion) -> Dataset:
    """A data set with its own test split (MNIST's layout): no --val-fraction."""
    if conversion.held_out is not None:
        raise DataError(f"{source} has a test split of its own; --val-fraction is for data without one")
    for split in ("train", "test"):
        check_pictures(arrays[f"x_{split}"], f"{source} x_{split}")
    x_train, x_test = (convert(arrays[key], conversion) for key in ("x_train", "x_test"))
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{source}: x_train's images are {x_train.shape[1:]}, x_test's {x_test.shape[1:]}")
    grey_digits = x_train.shape[1:] == (28, 28)
    return Dataset(
        x_train,
        arrays["y_train"],
        x_test,
        arrays["y_test"],
        source,
        reading="locate" if grey_digits else "crop",
        converted=conversion.describe(),
    )


def _load_array_file(path: Path, conversion: Conversion) -> Dataset:
    """An .npz (Keras' layout, or one array of images with optional labels 'y') or an .npy of images."""
    arrays = _load_npz(path) if path.suffix.lower() != ".npy" else {"x": _load_npy(path)}
    if "x_test" in arrays or "y_test" in arrays:  # Keras' layout, all of it
        missing = [key for key in NPZ_KEYS if key not in arrays]
        if missing:
            raise DataError(f"{path}: missing arrays {', '.join(missing)} (expected {', '.join(NPZ_KEYS)})")
        return _mnist_layout(arrays, str(path), conversion)
    key = next((k for k in ARRAY_KEYS if k in arrays), None)
    if key is None:
        raise DataError(
            f"{path}: no images in it: name the array x (and its labels y), or give Keras' layout "
            f"({', '.join(NPZ_KEYS)}); it has {', '.join(arrays) or 'nothing'}"
        )
    images = check_pictures(arrays[key], f"{path} {key}")
    labels = arrays.get("y", arrays.get("y_train"))
    labels = np.zeros(len(images), np.int64) if labels is None else check_labels(labels, len(images), f"{path} y")
    return _held_out_split(convert(images, conversion), labels, (), 0, str(path), conversion)


def _held_out_split(
    images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], skipped: int, source: str, conversion: Conversion
) -> Dataset:
    """Images without a test split: a share of each class held out (a fixed draw), the rest trained on."""
    share = DEFAULT_HELD_OUT if conversion.held_out is None else conversion.held_out
    test = held_out_indices(labels, share)
    if len(test) == 0 or len(test) == len(images):
        raise DataError(f"{source}: {len(images)} images are too few to hold out {share:g} of them; add images")
    train = np.setdiff1d(np.arange(len(images)), test)
    return Dataset(
        images[train],
        labels[train],
        images[test],
        labels[test],
        source,
        reading="crop",
        classes=classes,
        test_split=f"{share:g} of the images, the same share of each class (--val-fraction)",
        skipped=skipped,
        converted=conversion.describe(),
    )


def held_out_indices(labels: np.ndarray, share: float) -> np.ndarray:
    """Sorted indices of `share` of each label's images (at least one of a class of two or more)."""
    rng = np.random.default_rng(spec.VALIDATION_SPLIT_SEED)  # a fixed draw, the same for every seed
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = int(round(share * len(members)))
        if len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        chosen.append(rng.permutation(members)[:count])
    return np.sort(np.concatenate(chosen)) if chosen else np.empty(0, np.int64)


def convert(images: np.ndarray, conversion: Conversion) -> np.ndarray:
    """uint8 images at the size and channels asked for, each as compress would read it as a picture
    (runtime.pictures.images.resized_to: centre crop to the aspect ratio, Lanczos); the rest as they are."""
    image = images.shape[1:]
    height, width = conversion.size or image[:2]
    channels = conversion.channels or (image[2] if len(image) == 3 else 1)
    target = (height, width) if channels == 1 else (height, width, channels)
    if image == target or (image == (height, width, 1) and channels == 1):
        return images.reshape(len(images), *target)
    from PIL import Image

    from aeonnx.runtime.pictures.images import resized_to

    mode = "L" if len(image) == 2 or image[2] == 1 else "RGB"
    out = np.empty((len(images), *target), np.uint8)
    for i, picture in enumerate(images):
        picture = Image.fromarray(picture.reshape(image[:2]) if mode == "L" else picture, mode)
        out[i] = resized_to(picture, target, crop=True)
    return out


def check_pictures(images: np.ndarray, where: str) -> np.ndarray:
    """uint8 (N, H, W) grey or (N, H, W, 1 or 3) images, or a one-line DataError."""
    shape = images.shape
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or (images.ndim == 4 and shape[3] not in (1, 3)):
        raise DataError(f"{where}: images must be uint8 (N, H, W) or (N, H, W, 1 or 3), got {images.dtype} {shape}")
    return images


def _has_idx_files(folder: Path) -> bool:
    stem = IDX_FILES["x_train"]
    return (folder / stem).is_file() or (folder / f"{stem}.gz").is_file()


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
    """Every array of an .npz file, loaded without pickles."""
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from None
    return arrays


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npy file ({e})") from None


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
