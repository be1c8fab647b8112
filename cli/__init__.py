"""The `aeonnx` command line over the three stages: train, export, and the runtime library.

Each command parses its options and calls one library function. Start-up stays light: the
runtime's commands import only the runtime; `train`, `export` and `verify --run` import
TensorFlow inside themselves and name the extra to install when it is missing.
"""

from . import codes, models, score, training  # noqa: F401  each module registers its commands on `app`
from .app import app, main

__all__ = ["app", "main"]
