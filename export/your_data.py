"""The data a model of your own is exported with, in the model's own values (runtime/conventions.py).

Pixels (uint8) are read into the model's value range; floats are taken as they are, and must lie in that range
(a model of float values, --floats: anything finite). Data that does not fit the model's convention is refused
in one line naming the flag that declares it, before any work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from aeonnx.runtime import conventions, spec
from aeonnx.runtime.errors import DataError, ModelError

MEASURED_IMAGES = 20_000  # at most this many give the statistics, priors and quality profile
SKIPPED_SHOWN = spec.SKIPPED_SHOWN
ARRAY_KEYS = ("x", "x_test", "images", "x_train")  # an .npz's array of inputs, by the names data sets use
CONVENTION_FLAGS = "pictures in another range: --value-range LO,HI (e.g. -1,1 or 0,255); signals or tables: --floats"


def conventions_of(floats: bool = False, value_range: tuple | None = None, output_range: tuple | None = None) -> dict:
    """spec.ModelSpec.conventions from the export's options, checked."""
    if floats and (value_range is not None or output_range is not None):
        raise ModelError("--floats takes values as they are: it has no --value-range or --output-range")
    if floats:
        return {"values": "floats"}
    found = {}
    for option, given in (("--value-range", value_range), ("--output-range", output_range)):
        if given is not None and not spec.is_value_range(list(given)):
            raise ModelError(f"{option} {given}: give LO,HI, two finite numbers, LO below HI")
    if value_range is not None and tuple(value_range) != spec.UNIT_RANGE:
        found["value_range"] = [float(v) for v in value_range]
    if output_range is not None and tuple(output_range) != tuple(value_range or spec.UNIT_RANGE):
        found["output_range"] = [float(v) for v in output_range]
    return found


def as_inputs(images, model_spec: spec.ModelSpec, report=lambda line: None) -> np.ndarray:
    """Your data as the encoder takes it: float32 [N, *input_shape], in the model's own values. `report`
    is told, in a line each (at most SKIPPED_SHOWN, then a count), the pictures of a folder that were skipped."""
    if isinstance(images, (str, Path)):
        images = _read(Path(images), model_spec, report)
    x = np.asarray(images)
    if len(x) == 0:
        raise DataError("no inputs to check the model on")
    x = _in_model_values(x, model_spec)
    shape = model_spec.input_shape
    if x.shape[1:] != shape and int(np.prod(x.shape[1:])) == int(np.prod(shape)):
        x = x.reshape(len(x), *shape)  # (N, H, W) for (H, W, 1), or (N, H, W) for a flat input
    if x.shape[1:] != shape:
        raise DataError(f"the data holds {x.shape[1:]} each, the encoder takes {shape}")
    return np.ascontiguousarray(x)


def _in_model_values(x: np.ndarray, model_spec: spec.ModelSpec) -> np.ndarray:
    if model_spec.values == "floats":
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise DataError(f"the data is {x.dtype}: give numbers")
        x = x.astype(np.float32)
        if not np.isfinite(x).all():
            raise DataError("the data holds NaN or infinite values")
        return x
    if x.dtype == np.uint8:
        return conventions.from_pixels(x, model_spec.value_range)
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"the data is {x.dtype}: give uint8 pixels or floats in the model's values")
    x = x.astype(np.float32)
    low, high = model_spec.value_range
    if x.size and not (np.isfinite(x).all() and x.min() >= low and x.max() <= high):
        raise DataError(
            f"the data holds floats from {np.nanmin(x):.4g} to {np.nanmax(x):.4g}, outside the model's values "
            f"[{low:g}, {high:g}]: uint8 pixels are read into them, floats must be in them; {CONVENTION_FLAGS}"
        )
    return x


def _read(path: Path, model_spec: spec.ModelSpec, report) -> np.ndarray:
    if path.is_dir():
        if model_spec.values == "floats":
            raise DataError(f"{path}: a model of float values (--floats) takes arrays (.npy, .npz), not pictures")
        return _read_folder(path, model_spec, report)
    if path.suffix.lower() not in (".npz", ".npy"):  # an IDX file (MNIST's own format), raw or gzipped
        from aeonnx.runtime.pictures.arrays import iter_idx_blocks

        return np.concatenate(list(iter_idx_blocks(path, MEASURED_IMAGES)))
    try:
        with open(path, "rb") as stream:
            loaded = np.load(stream, allow_pickle=False)
            return loaded if isinstance(loaded, np.ndarray) else _array_of(loaded, path)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: cannot read the array ({e})") from None


def _array_of(archive, path: Path) -> np.ndarray:
    """An .npz's array of inputs: the one named as data sets name it, or its only array."""
    with archive:
        key = next((k for k in ARRAY_KEYS if k in archive.files), None)
        if key is None and len(archive.files) == 1:
            key = archive.files[0]
        if key is None:
            raise DataError(f"{path}: which array holds the inputs? name it 'x' (it has {', '.join(archive.files)})")
        return archive[key]


def _read_folder(folder: Path, model_spec: spec.ModelSpec, report) -> np.ndarray:
    """A folder's pictures (sorted by name), read as compress reads them for this model (the one picture reader:
    its formats, its pixel limit, its preprocessing); those it cannot read are reported and skipped."""
    from aeonnx.runtime.pictures import inputs

    shape = spec.image_of(model_spec.input_shape)
    if len(shape) == 1 or (len(shape) == 3 and shape[2] != 3):
        raise DataError(f"pictures from a folder need an encoder taking (height, width[, 1 or 3]), not {shape}")
    reading = dict(invert=None, shape=None if model_spec.preprocessing == "locate" else shape)
    pictures, skipped = [], 0
    for item in inputs.chunks(inputs.plan([folder]), crop=model_spec.preprocessing == "crop", **reading):
        if isinstance(item, inputs.Failure):
            skipped += 1
            if skipped <= SKIPPED_SHOWN:
                report(f"skipped {item.reason}")
            continue
        pictures.append(item.digits)
        if sum(map(len, pictures)) >= MEASURED_IMAGES:
            break
    if skipped > SKIPPED_SHOWN:
        report(f"skipped {skipped - SKIPPED_SHOWN:,} more entries of {folder}")
    if not pictures:
        raise DataError(f"{folder}: no picture in it could be read ({skipped:,} skipped)")
    return np.concatenate(pictures)[:MEASURED_IMAGES]
