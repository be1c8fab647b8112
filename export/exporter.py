"""The export job behind `aeonnx export`: a training run -> validated, self-describing ONNX files.

Nothing is written until every part has passed the parity gate; each file is
written atomically, and the manifest last, so a model is listed only once all
its files are in place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from aeonnx.provenance import library_versions
from aeonnx.runtime import spec
from aeonnx.runtime.conventions import as_model_input
from aeonnx.runtime.errors import ModelError
from aeonnx.runtime.files import atomic_write_bytes, refuse_overwrite
from aeonnx.runtime.manifest import file_entry, read_manifest

from . import convert, metadata, parity
from .golden import proof_entry
from .progress import Stages

PARITY_BATCH_SIZES = (1, 7, 256)


def read_run(run_dir: Path, model_name: str | None = None) -> dict:
    """A run's run.json; with `model_name`, refused unless it is a run of that model."""
    path = run_dir / spec.RUN_CONFIG_FILE
    try:
        run = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelError(
            f"{run_dir}: not a training run (no {spec.RUN_CONFIG_FILE}); make one with `aeonnx train`"
        ) from None
    except (OSError, ValueError) as e:
        raise ModelError(f"{path}: unreadable ({e})") from None
    if model_name is not None and run.get("model") != model_name:
        raise ModelError(f"{run_dir} holds a {run.get('model')!r} run, not {model_name!r}")
    return run


def load_keras_part(run_dir: Path, model_spec: spec.ModelSpec, part: spec.Part):
    from aeonnx.train import models  # noqa: F401  registers the VAE class for loading

    from .keras_files import load

    return load(run_dir / model_spec.keras_file(part.name), part.name)


def validation_inputs(run_dir: Path, input_shape: tuple[int, ...] = (spec.INPUT_SIZE,)) -> np.ndarray:
    path = run_dir / spec.RUN_VALIDATION_FILE
    try:
        with np.load(path) as archive:
            return as_model_input(archive["x"], input_shape)
    except (OSError, KeyError, ValueError) as e:
        raise ModelError(f"{path}: cannot read the validation digits ({e})") from None


def export_model(
    model_name: str,
    run_dir: Path,
    out_dir: Path,
    opset: int = spec.DEFAULT_OPSET,
    force: bool = False,
    quantize: str | None = None,
    edge: bool = False,
    name: str | None = None,
    preprocessing: str | None = None,
    say=None,
) -> dict:
    """Convert, gate and write both parts of one trained model, each with its golden vectors and JSON
    sidecar (and int8 copies, edge files if asked); returns its manifest entry. `name`: another name to
    export it under (default: model_name); `preprocessing`: how compress reads a picture for it (default:
    as the run read its training images); `say`: told each stage as it ends."""
    stages = Stages(say)
    run = read_run(run_dir, model_name)
    model_spec = run_spec(model_name, run, name, preprocessing)
    check_outputs(model_spec, out_dir, force, quantize)
    with stages("load") as stage:
        keras_parts = {part.name: load_keras_part(run_dir, model_spec, part) for part in model_spec.parts}
        x = validation_inputs(run_dir, model_spec.input_shape)
        stage.detail = f"{run_dir}: {', '.join(keras_parts)}, {len(x)} validation inputs"
    return export_parts(model_spec, keras_parts, x, run, out_dir, opset, force, quantize, edge, stages)


def run_spec(model_name: str, run: dict, name: str | None = None, preprocessing: str | None = None) -> spec.ModelSpec:
    """The spec a run is exported under: the shipped model's, for the seed's dense models on MNIST's digits;
    otherwise that kind's parts with the run's input shape, latent size and picture reading (a conv model,
    images of another size or colour, another name or reading), which its files and manifest entry record."""
    shipped = spec.get_model(model_name)
    name = name or model_name
    if name != model_name and name in spec.MODELS:
        raise ModelError(f"--name {name!r} is the shipped {name}'s; a {model_name} run needs a name of its own")
    check_name_pattern(name)
    shape = tuple(run.get("input_shape", shipped.input_shape))
    reading = preprocessing or run.get("picture_reading", shipped.preprocessing)
    check_reading(reading, shape)
    if (name, shape, reading) == (shipped.name, shipped.input_shape, shipped.preprocessing):
        return shipped
    return spec.your_model(name, shipped.kind, run["config"]["latent_size"], shape, reading)


def check_name_pattern(name: str) -> None:
    """A model's name fit for file names and code files (spec.MODEL_NAME_PATTERN)."""
    if not re.fullmatch(spec.MODEL_NAME_PATTERN, name):
        raise ModelError(f"--name {name!r}: use 1-32 lowercase letters, digits, '-' or '_', starting with a letter")


def check_reading(preprocessing: str, input_shape: tuple[int, ...]) -> None:
    """A picture reading of spec.PICTURE_READINGS that suits a model of this input shape."""
    if preprocessing not in spec.PICTURE_READINGS:
        raise ModelError(f"--preprocessing {preprocessing!r}: choose one of {', '.join(spec.PICTURE_READINGS)}")
    if preprocessing == "locate" and spec.image_of(input_shape) != (spec.IMAGE_SIDE, spec.IMAGE_SIDE):
        raise ModelError(f"--preprocessing locate frames 28x28 grey digits; this model takes {input_shape}")


def export_parts(
    model_spec: spec.ModelSpec,
    keras_parts: dict,
    x: np.ndarray,
    run: dict,
    out_dir: Path,
    opset: int = spec.DEFAULT_OPSET,
    force: bool = False,
    quantize: str | None = None,
    edge: bool = False,
    stages: Stages | None = None,
) -> dict:
    """The export itself, of a trained run or of a Keras pair of your own (export/your_model.py): `x`, real
    inputs to check the parts on; `run`, the record (run.json's keys) its metadata and manifest entry carry;
    `stages`, told each stage as it ends."""
    stages = stages or Stages()
    part_inputs = _part_inputs(model_spec, keras_parts, x)
    protos, reports = gated_onnx(model_spec, keras_parts, part_inputs, opset, stages)
    identity = metadata.model_id(model_spec.name, keras_parts.values())
    payloads = _self_describing(model_spec, protos, reports, part_inputs, identity, run)
    entry = _manifest_entry(model_spec, run, identity, opset, protos, payloads, reports)
    files = {model_spec.onnx_file(name): payload for name, payload in payloads.items()}
    if quantize:
        with stages("int8") as stage:
            int8_files, entry["int8"] = _int8_copies(model_spec, payloads, x)
            stage.detail = f"PSNR drop {entry['int8']['quality']['psnr_drop']:.3f} dB"
        files.update(int8_files)
    if edge:
        with stages("edge"):
            edge_files, entry["edge"] = _edge_copies(model_spec, payloads)
        files.update(edge_files)
    with stages("vectors") as stage:
        proofs = _proofs(model_spec, files, payloads[model_spec.encoder.name], x)
        stage.detail = f"golden vectors and sidecars of {len(files)} model files"
    files.update(proofs)
    with stages("files") as stage:
        for file_name, payload in files.items():  # nothing is written before every gate has passed
            atomic_write_bytes(out_dir / file_name, payload, force=force)
        update_manifest(out_dir, model_spec.name, entry)
        stage.detail = f"{len(files) + 1} files in {out_dir}"
    stages.finish()
    return entry


def check_outputs(model_spec: spec.ModelSpec, out_dir: Path, force: bool, quantize: str | None) -> None:
    """Before any work: the copies asked for exist, and the export would overwrite no model file unasked."""
    if quantize not in (None, "int8"):
        raise ModelError(f"unknown quantisation {quantize!r}; the one supported is int8")
    variants = ["float32"] + ([quantize] if quantize else [])
    for part in model_spec.parts:
        for variant in variants:
            refuse_overwrite(out_dir / model_spec.onnx_file(part.name, variant), force)


def _part_inputs(model_spec: spec.ModelSpec, keras_parts: dict, x: np.ndarray) -> dict[str, np.ndarray]:
    """What each part is checked on: the validation digits for the encoder, their Keras codes for the decoder."""
    code_name = model_spec.encoder.outputs[0]  # z (AE) or z_mean (VAE): what the decoder is fed
    codes = parity.keras_outputs(keras_parts[model_spec.encoder.name], x, model_spec.encoder.outputs)[code_name]
    return {model_spec.encoder.name: x, model_spec.decoder.name: codes}


def gated_onnx(
    model_spec: spec.ModelSpec, keras_parts: dict, part_inputs: dict, opset: int, stages: Stages | None = None
) -> tuple[dict, list]:
    """Each part as ONNX, with its parity report; one ParityError lists every mismatch of every part."""
    stages = stages or Stages()
    with stages("convert") as stage:
        protos = {part.name: convert.keras_to_onnx(keras_parts[part.name], part, opset) for part in model_spec.parts}
        stage.detail = ", ".join(f"{name} {len(proto.graph.node)} nodes" for name, proto in protos.items())
    with stages("gate") as stage:
        reports = [
            parity.compare(
                protos[part.name].SerializeToString(),
                keras_parts[part.name],
                part,
                part_inputs[part.name],
                PARITY_BATCH_SIZES,
                _output_scale(model_spec, part),
            )
            for part in model_spec.parts
        ]
        parity.require_parity(reports)
        worst = max(report.max_abs_diff for report in reports)
        batches = ", ".join(map(str, PARITY_BATCH_SIZES))
        stage.detail = f"ONNX matches Keras at batches {batches} (max abs diff {worst:.2g})"
    return protos, reports


def _output_scale(model_spec: spec.ModelSpec, part: spec.Part) -> float:
    """The width of a part's output values, which the parity gate's absolute tolerance follows: a decoder's
    pixel range (255 for a model giving 0..255), 1 for codes and for pixels in [0, 1]."""
    if part is model_spec.decoder and model_spec.values == "pixels":
        low, high = model_spec.pixel_ranges[1]
        return high - low
    return 1.0


def _self_describing(
    model_spec: spec.ModelSpec, protos: dict, reports: list, part_inputs: dict, identity: str, run: dict
) -> dict[str, bytes]:
    """Each part's bytes, with the contract and the run's record in its metadata."""
    versions = library_versions()
    payloads = {}
    for part, report in zip(model_spec.parts, reports):
        proto = protos[part.name]
        shape = part_inputs[part.name].shape[1:]
        meta = metadata.part_metadata(model_spec, part, identity, run, shape, report.as_metadata(), versions)
        metadata.attach(proto, meta, metadata.describe(model_spec, part, run["config"]["latent_size"]))
        payloads[part.name] = proto.SerializeToString()
    return payloads


def _manifest_entry(
    model_spec: spec.ModelSpec,
    run: dict,
    identity: str,
    opset: int,
    protos: dict,
    payloads: dict[str, bytes],
    reports: list,
) -> dict:
    yours = (
        {
            "kind": model_spec.kind,
            "input_shape": list(model_spec.input_shape),
            "preprocessing": model_spec.preprocessing,
            **model_spec.conventions,
        }
        if model_spec.yours
        else {}
    )
    return {
        **yours,
        "model_id": identity,
        "latent_size": run["config"]["latent_size"],
        "opset": opset,
        "data_sha256": run["data"]["sha256"],
        "metrics": run["metrics"],
        "files": {
            part.name: {
                **file_entry(model_spec.onnx_file(part.name), payloads[part.name]),
                **metadata.io_shapes(protos[part.name]),
                "parity_max_abs_diff": report.max_abs_diff,
                **proof_entry(model_spec.onnx_file(part.name)),
            }
            for part, report in zip(model_spec.parts, reports)
        },
    }


def _int8_copies(model_spec: spec.ModelSpec, payloads: dict[str, bytes], x: np.ndarray) -> tuple[dict, dict]:
    """The int8 files' bytes by file name, and their manifest entry; ParityError if they lose too much PSNR."""
    from . import quantize as quantization

    int8_payloads, report = quantization.quantized_parts(model_spec, payloads, x)
    file_names = {name: model_spec.onnx_file(name, "int8") for name in int8_payloads}
    files = {file_names[name]: payload for name, payload in int8_payloads.items()}
    entry = {
        "files": {
            name: {**file_entry(file_names[name], payload), **proof_entry(file_names[name])}
            for name, payload in int8_payloads.items()
        },
        "quality": report,
    }
    return files, entry


def _edge_copies(model_spec: spec.ModelSpec, payloads: dict[str, bytes]) -> tuple[dict, dict]:
    from . import edge

    return edge.edge_files(model_spec, payloads)


def _proofs(model_spec: spec.ModelSpec, files: dict[str, bytes], encoder: bytes, x: np.ndarray) -> dict:
    """Golden vectors and a JSON sidecar for each float32 and int8 model file (edge copies reuse their
    original's: `aeonnx verify` runs them against it)."""
    from . import golden

    by_file = {model_spec.onnx_file(part.name, variant): part for part in model_spec.parts for variant in spec.VARIANTS}
    models = {name: (by_file[name], payload) for name, payload in files.items() if name in by_file}
    return golden.proof_files(model_spec, models, encoder, x)


def update_manifest(out_dir: Path, model_name: str, entry: dict) -> None:
    manifest = read_manifest(out_dir, missing_ok=True)
    manifest["contract_version"] = spec.CONTRACT_VERSION
    manifest.setdefault("models", {})[model_name] = entry
    manifest["models"] = dict(sorted(manifest["models"].items()))
    payload = (json.dumps(manifest, indent=2) + "\n").encode()
    atomic_write_bytes(out_dir / spec.MANIFEST_FILE, payload, force=True)


def requantize(model_name: str, run_dir: Path, models_dir: Path) -> dict:
    """A shipped model's int8 copies made again, with export/quantize.py's method, from the float32 files
    already in `models_dir` (which stay as they are, bytes and metadata): int8 files, their golden vectors
    and sidecars, the manifest's int8 entry (returned), through the same quality gate as an export."""
    run = read_run(run_dir, model_name)
    model_spec = run_spec(model_name, run)
    entry = read_manifest(models_dir)["models"].get(model_spec.name, {})
    if (entry.get("metrics"), entry.get("data_sha256")) != (run["metrics"], run["data"]["sha256"]):
        raise ModelError(f"{models_dir}: its {model_spec.name} is not the model trained in {run_dir}")
    payloads = {part.name: (models_dir / model_spec.onnx_file(part.name)).read_bytes() for part in model_spec.parts}
    x = validation_inputs(run_dir, model_spec.input_shape)
    files, int8_entry = _int8_copies(model_spec, payloads, x)
    files.update(_proofs(model_spec, files, payloads[model_spec.encoder.name], x))
    for file_name, payload in files.items():
        atomic_write_bytes(models_dir / file_name, payload, force=True)
    update_manifest(models_dir, model_spec.name, {**entry, "int8": int8_entry})
    return int8_entry


def recheck_parity(run_dir: Path, models_dir: Path) -> tuple[str, list[parity.ParityReport]]:
    """The parity gate again, on files already exported from `run_dir` (for `aeonnx verify --run`)."""
    run_model = read_run(run_dir).get("model")
    try:
        model_spec = spec.get_model(run_model)
    except KeyError:
        raise ModelError(f"{run_dir}: not a training run of a known model ({run_model!r})") from None
    keras_parts = {part.name: load_keras_part(run_dir, model_spec, part) for part in model_spec.parts}
    part_inputs = _part_inputs(model_spec, keras_parts, validation_inputs(run_dir))
    reports = []
    for part in model_spec.parts:
        path = models_dir / model_spec.onnx_file(part.name)
        try:
            onnx_bytes = path.read_bytes()
        except OSError as e:
            raise ModelError(f"{path}: cannot read ({e.strerror or e})") from None
        reports.append(
            parity.compare(onnx_bytes, keras_parts[part.name], part, part_inputs[part.name], PARITY_BATCH_SIZES)
        )
    return model_spec.name, reports
