"""Execution providers: CPU, or CUDA only where it really runs.

onnxruntime asked for CUDAExecutionProvider on a machine without it only warns
and runs on CPU. We check the session it made instead: `cuda` fails loudly,
`auto` falls back to CPU and says so.
"""

from __future__ import annotations

import onnxruntime

from . import spec
from .errors import AeonnxError, ModelError

DEVICES = spec.DEVICES
CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"


def available() -> list[str]:
    return onnxruntime.get_available_providers()


def create_session(
    model: bytes | str, device: str, options: onnxruntime.SessionOptions | None = None, source: str | None = None
):
    """An InferenceSession on the device asked for; returns (session, provider it really uses).

    The one place sessions are made (runtime, export's parity and int8 gates). A model onnxruntime
    cannot load is a ModelError, its message led by `source` (the file) when given; a device that
    cannot run is an AeonnxError: nothing is wrong with the model.
    """
    if device not in DEVICES:
        raise AeonnxError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
    where = f"{source}: " if source else ""  # which file a command needed, when CUDA cannot run it
    if device in ("cuda", "auto") and CUDA in available():
        session = _session(model, [CUDA, CPU], options, source)
        if session.get_providers()[0] == CUDA:
            return session, CUDA
        if device == "cuda":
            raise AeonnxError(
                f"{where}--device cuda: onnxruntime could not start CUDAExecutionProvider (check the NVIDIA driver, "
                "CUDA and cuDNN libraries that onnxruntime-gpu needs); use --device cpu or auto"
            )
    elif device == "cuda":
        raise AeonnxError(
            f"{where}--device cuda: this onnxruntime has no CUDAExecutionProvider; "
            "install the GPU build with pip install '.[gpu]' in aeonnx's folder (see README), or use --device cpu"
        )
    return _session(model, [CPU], options, source), CPU


def _session(model, providers, options, source):
    try:
        return onnxruntime.InferenceSession(model, sess_options=options, providers=providers)
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph/... types, all one story here
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        where = f"{source}: " if source else ""
        raise ModelError(f"{where}onnxruntime cannot load the model: {reason}") from None
