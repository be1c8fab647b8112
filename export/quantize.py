"""int8 copies of exported models: onnxruntime's dynamic quantisation, gated on reconstruction quality.

Elementwise tolerance does not fit int8, so the gate is the PSNR of the whole
round trip (int8 encoder, then int8 decoder) on the run's validation digits:
at most spec.INT8_MAX_PSNR_DROP dB below the float32 models, or nothing is written.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper

from aeonnx.runtime import metrics, spec
from aeonnx.runtime.errors import ParityError
from aeonnx.runtime.providers import create_session

from . import metadata

METHOD = "onnxruntime dynamic quantisation, uint8 activations x uint8 weights per channel"


def quantize_int8(float32_model: bytes) -> bytes:
    """Dynamic quantisation: uint8 activations, uint8 weights per channel (0.02 dB on the shipped AE, against
    0.09 per-tensor).

    Not int8 (signed) weights: onnxruntime multiplies uint8 x int8 with VPMADDUBSW on x86 CPUs without VNNI
    (AVX2, AVX-512 before Cascade Lake/Zen 4), which saturates pairs of products at 16 bits; there the shipped
    VAE lost 1.4 dB and the outputs differed from a VNNI machine's by up to 0.9. uint8 x uint8 is exact on
    every CPU (onnxruntime's quantisation docs suggest it, or reduce_range, for this), so a file gives the same
    pixels everywhere and its golden vectors hold on any machine.
    """
    from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

    with tempfile.TemporaryDirectory() as folder:
        source, prepared, quantized = (Path(folder) / n for n in ("source.onnx", "prepared.onnx", "int8.onnx"))
        source.write_bytes(float32_model)
        # skip_symbolic_shape: symbolic shape inference needs sympy, which we do not depend on.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(str(prepared), str(quantized), weight_type=QuantType.QUInt8, per_channel=True)
        return quantized.read_bytes()


def round_trip_psnr(encoder: bytes, decoder: bytes, model_spec: spec.ModelSpec, x: np.ndarray) -> float:
    def run(model, feed):
        session, _ = create_session(model, "cpu")
        return session.run(None, feed)

    code = run(encoder, {spec.X: x})[0]  # z or z_mean: the first output
    (x_hat,) = run(decoder, {spec.Z: code})
    return metrics.psnr(x, x_hat)


def quantized_parts(model_spec: spec.ModelSpec, payloads: dict[str, bytes], x: np.ndarray) -> tuple[dict, dict]:
    """int8 bytes of each part with their metadata, and the quality report; ParityError past the allowed drop."""
    int8 = {name: quantize_int8(data) for name, data in payloads.items()}
    encoder, decoder = model_spec.encoder.name, model_spec.decoder.name
    reference = round_trip_psnr(payloads[encoder], payloads[decoder], model_spec, x)
    quantized = round_trip_psnr(int8[encoder], int8[decoder], model_spec, x)
    report = {
        "method": METHOD,
        "psnr_float32": reference,
        "psnr_int8": quantized,
        "psnr_drop": reference - quantized,
        "max_psnr_drop": spec.INT8_MAX_PSNR_DROP,
        "checked_on": f"{len(x)} validation digits of the training run",
    }
    if report["psnr_drop"] > spec.INT8_MAX_PSNR_DROP:
        raise ParityError(
            f"int8 {model_spec.name} loses {report['psnr_drop']:.3f} dB of PSNR "
            f"({reference:.2f} -> {quantized:.2f}), over the allowed {spec.INT8_MAX_PSNR_DROP} dB; nothing written"
        )
    return {name: _with_metadata(data, payloads[name], report) for name, data in int8.items()}, report


def _with_metadata(int8_model: bytes, float32_model: bytes, report: dict) -> bytes:
    """The float32 file's metadata (same trained model, same id), marked as the int8 variant."""
    proto = onnx.load_from_string(int8_model)
    source = onnx.load_from_string(float32_model)
    entries = {e.key: e.value for e in source.metadata_props}
    entries[spec.META_VARIANT] = "int8"
    entries[spec.META_QUANTIZATION] = json.dumps(report)
    metadata.attach(proto, entries, source.doc_string + " int8 weights (dynamic quantisation).")
    return proto.SerializeToString()


def requantized_copies(folder: Path, name: str, entry: dict) -> dict:
    """A kept release's int8 copies (export/requantize.py) made again in `folder` from its float32 parts:
    model files, sidecars and golden vectors (the same inputs as before); their new manifest entry. Its
    encoder is not kept, so the quality is each int8 part's PSNR against its float32 part's outputs."""
    from aeonnx.runtime.manifest import file_entry

    from .golden import golden_files, proof_entry, sidecar

    model_spec = spec.model_in_manifest(name, entry)
    made = {}  # part name -> (its listing, int8 bytes, float32 bytes, golden inputs)
    for part_name, listed in entry["int8"]["files"].items():
        float32 = (folder / entry["files"][part_name]["file"]).read_bytes()
        inputs = onnx.numpy_helper.to_array(onnx.load_tensor(str(folder / listed["golden"]["folder"] / "input_0.pb")))
        made[part_name] = (listed, quantize_int8(float32), float32, inputs)
    agreement = {
        part_name: _agreement(float32, int8, model_spec.part(part_name), inputs)
        for part_name, (_, int8, float32, inputs) in made.items()
    }
    golden_batch = len(next(iter(made.values()))[3])
    report = {
        "method": METHOD,
        "psnr_against_float32": agreement,
        "replaces": entry["int8"]["quality"],
        "checked_on": f"the {golden_batch} inputs of its golden vectors",
    }
    copies = {}
    for part_name, (listed, int8, float32, inputs) in made.items():
        payload = _with_metadata(int8, float32, report)
        files = {listed["file"]: payload, spec.sidecar_file(listed["file"]): sidecar(listed["file"], payload)}
        files.update(golden_files(listed["file"], payload, model_spec.part(part_name), inputs))
        for relative, data in files.items():
            (folder / relative).write_bytes(data)
        copies[part_name] = {**file_entry(listed["file"], payload), **proof_entry(listed["file"])}
    return {"files": copies, "quality": report}


def _agreement(float32: bytes, int8: bytes, part: spec.Part, inputs: np.ndarray) -> float:
    """PSNR of the int8 part's first output against the float32 part's, on the same inputs."""
    outputs = [
        create_session(model, "cpu")[0].run([part.outputs[0]], {part.inputs[0]: inputs})[0] for model in (float32, int8)
    ]
    return metrics.psnr(*outputs)
