"""Where a model came from: the libraries that made it and the data it learnt from.

Training records both in run.json and export copies them into each ONNX file, so
neither job owns them. Standard library and numpy only.
"""

from __future__ import annotations

import hashlib
import platform

import numpy as np

# What a trained or exported model depends on, besides Python itself.
LIBRARIES = ("aeonnx", "tensorflow", "keras", "numpy", "tf2onnx", "onnx", "onnxruntime")


def library_versions() -> dict[str, str]:
    """Python's version and that of each installed library in LIBRARIES."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in LIBRARIES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return versions


def fingerprint(*arrays: np.ndarray) -> str:
    """sha256 over the arrays' dtypes, shapes and bytes: the same data, whatever file it came in."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
