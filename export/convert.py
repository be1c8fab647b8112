"""Keras -> ONNX with tf2onnx, in-process, with the contract's tensor and axis names."""

from __future__ import annotations

import logging
import re

import onnx

from aeonnx.runtime import spec
from aeonnx.runtime.errors import ModelError, first_line


def keras_to_onnx(keras_model, part: spec.Part, opset: int = spec.DEFAULT_OPSET) -> onnx.ModelProto:
    """Convert one part (encoder or decoder/generator); inputs and outputs named from the contract."""
    import tensorflow as tf
    import tf2onnx

    if not 1 <= opset <= spec.MAX_OPSET:
        raise ModelError(f"opset {opset} is not supported: tf2onnx 1.17 converts opsets up to {spec.MAX_OPSET}")
    (input_name,) = part.inputs
    shape = list(keras_model.input_shape[1:])  # one input: flat (784,) or an image (H, W, C)
    signature = (tf.TensorSpec([None, *shape], tf.float32, name=input_name),)
    quiet = logging.getLogger("tf2onnx")  # its per-op complaints: the error below says what matters, once
    level, quiet.level = quiet.level, logging.CRITICAL
    try:
        proto, _ = tf2onnx.convert.from_keras(keras_model, input_signature=signature, opset=opset)
    except Exception as e:  # tf2onnx raises bare exceptions (ValueError, RuntimeError, KeyError) per op
        raise ModelError(f"{part.name}: tf2onnx cannot convert it ({first_line(e)})") from None
    finally:
        quiet.setLevel(level)
    unconverted = _unconverted_layers(proto)
    if unconverted:
        raise ModelError(f"{part.name}: tf2onnx cannot convert {'; '.join(unconverted)}: no ONNX operator does it")
    rename_outputs(proto, part.outputs)
    name_batch_axis(proto)
    canonical_names(proto)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def canonical_names(proto: onnx.ModelProto) -> None:
    """Name every inner tensor and node by its place in the graph (t0, t1, ... in the order the nodes use them;
    a node by its index and op), and list the initializers in that order. tf2onnx names constants from a
    process-wide counter and Keras uniquifies layer names per process, so the same model converted twice gave
    other bytes; CI compares hashes. The contract's input and output names stay."""
    graph = proto.graph
    kept = {value.name for value in (*graph.input, *graph.output)}
    names: dict[str, str] = {}

    def renamed(name: str) -> str:
        if not name or name in kept:
            return name
        return names.setdefault(name, f"t{len(names)}")

    for index, node in enumerate(graph.node):
        node.input[:] = [renamed(name) for name in node.input]
        node.output[:] = [renamed(name) for name in node.output]
        node.name = f"{node.op_type}_{index}"
    for initializer in graph.initializer:
        initializer.name = renamed(initializer.name)
    for value in graph.value_info:
        value.name = renamed(value.name)
    # tf2onnx lists initializers in the order of a set (Python's hash seed): in the order of their new names.
    place = {name: index for index, name in enumerate(names.values())}
    for field in (graph.initializer, graph.value_info):
        ordered = sorted(field, key=lambda value: place.get(value.name, len(place)))
        copies = [type(value).FromString(value.SerializeToString()) for value in ordered]
        del field[:]
        field.extend(copies)


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


def _unconverted_layers(proto: onnx.ModelProto) -> list[str]:
    """The layers whose TensorFlow ops tf2onnx left in the graph as they were (it logs them and goes on):
    no ONNX runtime runs them. Named as Keras named the layer (`model/layer_1/Op` -> layer `layer`)."""
    found = []
    for node in proto.graph.node:
        if node.domain in ("", "ai.onnx") and not onnx.defs.has(node.op_type):
            path = node.name.split("/")
            layer = re.sub(r"_\d+$", "", path[1] if len(path) > 2 else path[0])
            found.append(f"layer {layer!r} (TensorFlow op {node.op_type})")
    return sorted(set(found))
