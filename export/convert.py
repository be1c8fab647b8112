"""Keras -> ONNX with tf2onnx, in-process, with the contract's tensor and axis names."""

from __future__ import annotations

import onnx

from aeonnx.runtime import spec
from aeonnx.runtime.errors import ModelError


def keras_to_onnx(keras_model, part: spec.Part, opset: int = spec.DEFAULT_OPSET) -> onnx.ModelProto:
    """Convert one part (encoder or decoder/generator); inputs and outputs named from the contract."""
    import tensorflow as tf
    import tf2onnx

    if not 1 <= opset <= spec.MAX_OPSET:
        raise ModelError(f"opset {opset} is not supported: tf2onnx 1.17 converts opsets up to {spec.MAX_OPSET}")
    (input_name,) = part.inputs
    width = keras_model.input_shape[-1]
    signature = (tf.TensorSpec([None, width], tf.float32, name=input_name),)
    proto, _ = tf2onnx.convert.from_keras(keras_model, input_signature=signature, opset=opset)
    rename_outputs(proto, part.outputs)
    name_batch_axis(proto)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def rename_outputs(proto: onnx.ModelProto, names: tuple[str, ...]) -> None:
    """Give the graph outputs, in order, the contract's names (whatever Keras called its layers)."""
    outputs = proto.graph.output
    if len(outputs) != len(names):
        raise ModelError(f"converted graph has {len(outputs)} outputs, the contract expects {len(names)}: {names}")
    for output, name in zip(outputs, names):
        old = output.name
        if old == name:
            continue
        for node in proto.graph.node:
            node.output[:] = [name if o == old else o for o in node.output]
            node.input[:] = [name if i == old else i for i in node.input]
        output.name = name


def name_batch_axis(proto: onnx.ModelProto) -> None:
    """The dynamic first axis of every graph input and output is called `batch`."""
    for value in list(proto.graph.input) + list(proto.graph.output):
        first = value.type.tensor_type.shape.dim[0]
        first.ClearField("dim_value")
        first.dim_param = spec.BATCH_AXIS
