"""Golden vectors and JSON sidecars: what lets a model file prove itself anywhere, without Keras.

Each model file gets, beside it, its golden vectors in ONNX's backend-test layout and a JSON
sidecar that mirrors its metadata_props (the JavaScript bindings cannot read those).
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import numpy_helper

from aeonnx.runtime import spec
from aeonnx.runtime.providers import create_session


def part_inputs(model_spec: spec.ModelSpec, encoder: bytes, x: np.ndarray) -> dict[str, np.ndarray]:
    """The golden batch of each part: validation digits for the encoder, their codes for the decoder."""
    x = x[: spec.GOLDEN_BATCH]
    session, _ = create_session(encoder, "cpu")
    code = session.run([model_spec.encoder.outputs[0]], {spec.X: x})[0]
    return {model_spec.encoder.name: x, model_spec.decoder.name: code}


def golden_files(onnx_file: str, payload: bytes, part: spec.Part, inputs: np.ndarray) -> dict[str, bytes]:
    """{relative path: TensorProto bytes}: the part's input and the outputs this model file gives for it."""
    session, _ = create_session(payload, "cpu")
    outputs = session.run(list(part.outputs), {part.inputs[0]: inputs})
    folder = f"{spec.golden_dir(onnx_file)}/{spec.GOLDEN_DATA_SET}"
    files = {f"{folder}/input_0.pb": _tensor(part.inputs[0], inputs)}
    for index, (name, value) in enumerate(zip(part.outputs, outputs)):
        files[f"{folder}/output_{index}.pb"] = _tensor(name, value)
    return files


def golden_entry(onnx_file: str) -> dict:
    """What the manifest and the sidecar say about a file's golden vectors."""
    return {
        "folder": f"{spec.golden_dir(onnx_file)}/{spec.GOLDEN_DATA_SET}",
        "batch": spec.GOLDEN_BATCH,
        "atol": spec.GOLDEN_ATOL,
        "rtol": spec.GOLDEN_RTOL,
        "layout": "onnx backend test (TensorProto .pb)",
    }


def proof_entry(onnx_file: str) -> dict:
    """Where a model file's golden vectors and sidecar are, and the tolerance they are checked with."""
    return {"golden": golden_entry(onnx_file), "sidecar": spec.sidecar_file(onnx_file)}


def sidecar(onnx_file: str, payload: bytes) -> bytes:
    """The JSON sidecar: every metadata_props entry (the same strings), the tensors, the golden vectors."""
    proto = onnx.load_from_string(payload)
    document = {
        "file": onnx_file,
        "metadata_props": {entry.key: entry.value for entry in proto.metadata_props},
        "inputs": _shapes(proto.graph.input),
        "outputs": _shapes(proto.graph.output),
        "golden": golden_entry(onnx_file),
    }
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def _tensor(name: str, value: np.ndarray) -> bytes:
    return numpy_helper.from_array(np.asarray(value, np.float32), name=name).SerializeToString()


def _shapes(values) -> dict[str, list]:
    return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}


def proof_files(
    model_spec: spec.ModelSpec, files: dict[str, tuple[spec.Part, bytes]], encoder: bytes, x: np.ndarray
) -> dict[str, bytes]:
    """For each model file: its golden vectors and its JSON sidecar, by relative path.
    `encoder` is the float32 encoder: its codes feed every decoder, int8 copies included."""
    inputs = part_inputs(model_spec, encoder, x)
    written = {}
    for file_name, (part, payload) in files.items():
        written.update(golden_files(file_name, payload, part, inputs[part.name]))
        written[spec.sidecar_file(file_name)] = sidecar(file_name, payload)
    return written
