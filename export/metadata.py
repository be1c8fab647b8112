"""What each ONNX file says about itself (metadata_props), and the manifest beside the files."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx

from aeonnx.runtime import spec


def model_id(model_name: str, keras_parts) -> str:
    """A hash of the trained weights of both parts: the identity that code files cite."""
    digest = hashlib.sha256(f"{spec.CONTRACT_VERSION}:{model_name}".encode())
    for keras_model in keras_parts:
        for weight in keras_model.get_weights():
            digest.update(str(weight.shape).encode())
            digest.update(np.ascontiguousarray(weight, dtype=np.float32).tobytes())
    return digest.hexdigest()[: spec.MODEL_ID_LENGTH]


def part_metadata(
    model_spec: spec.ModelSpec,
    part: spec.Part,
    identity: str,
    run: dict,
    input_shape: tuple[int, ...],
    parity: dict,
    versions: dict,
) -> dict[str, str]:
    latent_size = run["config"]["latent_size"]
    extra = {spec.META_QUALITY: json.dumps(run["quality"])} if "quality" in run else {}
    if model_spec.yours:  # what a reader needs to know of its shape and values
        extra[spec.META_KIND] = model_spec.kind
        extra[spec.META_IMAGE_SHAPE] = json.dumps(list(model_spec.input_shape))
        if model_spec.conventions:
            extra[spec.META_VALUES] = json.dumps(model_spec.conventions)
    if "anomaly" in run:  # `aeonnx score`'s threshold, learnt from the data (runtime/scores.py)
        extra[spec.META_ANOMALY] = json.dumps(run["anomaly"])
    if "latent_priors" in run:  # format v2's entropy coding (runtime/entropy.py); older runs have none
        extra[spec.META_LATENT_PRIORS] = run["latent_priors"]
        extra[spec.META_LATENT_CODING] = json.dumps(run["latent_coding"])
    if "quality_levels" in run:  # a rate-distortion model's integer tables (runtime/aez/levels.py)
        extra[spec.META_QUALITY_LEVELS] = run["quality_levels"]
    return {
        spec.META_CONTRACT_VERSION: spec.CONTRACT_VERSION,
        spec.META_MODEL: model_spec.name,
        spec.META_PART: part.name,
        spec.META_MODEL_ID: identity,
        spec.META_INPUT_SHAPE: json.dumps([None, *input_shape]),
        spec.META_LATENT_SIZE: str(latent_size),
        spec.META_PREPROCESSING: json.dumps(preprocessing(model_spec)),
        spec.META_LATENT_STATS: json.dumps(run["latent_stats"]),
        spec.META_DATA_SHA256: run["data"]["sha256"],
        spec.META_TRAIN_CONFIG: json.dumps(train_config(run)),
        spec.META_METRICS: json.dumps(run["metrics"]),
        spec.META_VERSIONS: json.dumps({"training": run["versions"], "export": versions}),
        spec.META_PARITY: json.dumps(parity),
        spec.META_VARIANT: "float32",
        **extra,
    }


def preprocessing(model_spec: spec.ModelSpec) -> dict[str, str]:
    """How pixels become the model's input, in words: the seed's contract, or your model's shape and reading."""
    if model_spec.yours:
        return spec.your_preprocessing(
            model_spec.input_shape, model_spec.preprocessing, model_spec.values, model_spec.value_range
        )
    return spec.PREPROCESSING


# Settings `aeonnx train` records since issue 20 (train/fit.py TrainConfig), left out where they hold what every
# earlier run did: the seed's models on MNIST's digits export to the very bytes they did before.
EARLIER_SETTINGS = {"arch": "dense", "size": None, "channels": None, "val_fraction": None, "augment": False}


def train_config(run: dict) -> dict:
    """The training settings, less where the run was written: that says nothing of the model and
    would make the same weights export to different bytes."""
    return {
        key: value
        for key, value in run["config"].items()
        if key != "out" and not (key in EARLIER_SETTINGS and EARLIER_SETTINGS[key] == value)
    }


def describe(model_spec: spec.ModelSpec, part: spec.Part, latent_size: int) -> str:
    """A human-readable doc_string: what goes in, what comes out, and the pixels' preprocessing (the contract's)."""
    image = ", ".join(map(str, model_spec.input_shape))
    sizes = {spec.X: image, spec.X_HAT: image}

    def shape(name: str) -> str:
        return f"{name}: float32[batch, {sizes.get(name, latent_size)}]"

    values = "Values" if model_spec.values == "floats" else "Pixels"
    return (
        f"aeonnx {model_spec.name} {part.name}. Inputs: {', '.join(map(shape, part.inputs))}. "
        f"Outputs: {', '.join(map(shape, part.outputs))}. {values}: {', '.join(preprocessing(model_spec).values())}."
    )


def attach(proto: onnx.ModelProto, metadata: dict[str, str], doc_string: str) -> None:
    """The one metadata writer: `metadata` replaces the file's metadata_props, in key order."""
    del proto.metadata_props[:]
    for key, value in sorted(metadata.items()):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = doc_string
    proto.producer_name = "aeonnx (tf2onnx)"


def io_shapes(proto: onnx.ModelProto) -> dict[str, dict[str, list]]:
    def shape(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    return {
        "inputs": {value.name: shape(value) for value in proto.graph.input},
        "outputs": {value.name: shape(value) for value in proto.graph.output},
    }
