"""Keras on TensorFlow, quietly: set up before Keras is first imported, by every command that trains or exports.

tf2onnx converts TensorFlow graphs, so training and export run Keras 3 on its TensorFlow backend whatever
KERAS_BACKEND says; a .keras file saved under JAX or PyTorch loads the same (its weights are plain arrays).
TensorFlow's C++ start-up writes to the process's stderr before any log level applies (absl's "All log
messages before absl::InitializeLog()", "Could not find cuda drivers", oneDNN's notice): those known lines
are dropped, anything else it writes there is passed on. `verbose` keeps them all.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings

# What TensorFlow's native start-up prints on a machine without a GPU, or without TensorRT: nothing a user can act on.
NATIVE_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|Could not find cuda drivers|oneDNN custom operations"
    r"|This TensorFlow binary is optimized|rebuild TensorFlow with the appropriate compiler flags"
    r"|Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered"
    r"|TF-TRT Warning|failed call to cuInit|cuda_executor|cuda_diagnostics|Could not find TensorRT"
)
# Python warnings Keras and TensorFlow give on a normal run that say nothing about the user's model.
KNOWN_WARNINGS = (
    r"The structure of `inputs` doesn't match the expected structure",
    r"Compiled the loaded model, but the compiled metrics have yet to be built",
    r"`build\(\)` was called on layer",
    r"Skipping variable loading for optimizer",
)
BACKEND = "tensorflow"


def use_tensorflow(verbose: bool = False) -> str | None:
    """Make Keras run on TensorFlow, quietly unless `verbose`; what to tell the user about it, if anything:
    the backend KERAS_BACKEND asked for and that conversion runs on TensorFlow instead."""
    asked = os.environ.get("KERAS_BACKEND", BACKEND)
    already = sys.modules.get("keras")
    if already is not None:
        return _already_imported(already)
    os.environ["KERAS_BACKEND"] = BACKEND
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # after start-up, only fatal native errors
        for message in KNOWN_WARNINGS:
            warnings.filterwarnings("ignore", message=message)
        with native_stderr_filtered():
            import tensorflow  # noqa: F401  its native start-up is what writes the lines filtered
    if asked != BACKEND:
        return f"KERAS_BACKEND={asked}: Keras runs on TensorFlow here (tf2onnx converts TensorFlow graphs)"
    return None


def _already_imported(keras) -> None:
    """Keras imported before us (a script calling the export API): its backend cannot change any more."""
    from aeonnx.runtime.errors import ModelError

    running = keras.config.backend()
    if running != BACKEND:
        raise ModelError(
            f"Keras runs on {running} in this process, and tf2onnx converts TensorFlow graphs: save the models "
            f"(model.save('encoder.keras')) and run `aeonnx export`, or set KERAS_BACKEND={BACKEND}"
        )
    return None


@contextlib.contextmanager
def native_stderr_filtered():
    """What native code writes to file descriptor 2 meanwhile, less NATIVE_NOISE, written out afterwards."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode("utf-8", "replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not NATIVE_NOISE.search(line)))
            sys.stderr.flush()
