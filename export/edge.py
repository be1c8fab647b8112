"""Files for edge runtimes (`aeonnx export --edge`): fixed-shape copies, ORT-format files, operator lists.

NNAPI and CoreML take only models with fixed shapes, so each part gets a batch-1 copy; ORT Mobile
takes `.ort` files, and a reduced onnxruntime build is configured by `required_operators.config`.
Every copy keeps the original's metadata_props. What onnxruntime's mobile usability checker says of
each fixed copy is recorded in the manifest.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from pathlib import Path

import onnx

from aeonnx.runtime import spec

FIXED_BATCH = 1


def fixed_file(onnx_file: str) -> str:
    """`ae_encoder.onnx` -> `ae_encoder.batch1.onnx`."""
    return onnx_file.removesuffix(".onnx") + f".batch{FIXED_BATCH}.onnx"


def ort_file(onnx_file: str) -> str:
    return onnx_file.removesuffix(".onnx") + ".ort"


def operators_file(model_name: str) -> str:
    return f"{model_name}.required_operators.config"


def fixed_batch_copy(payload: bytes) -> bytes:
    """The same model with the `batch` axis fixed to 1 on every input and output."""
    from onnxruntime.tools.onnx_model_utils import fix_output_shapes, make_dim_param_fixed

    proto = onnx.load_from_string(payload)
    make_dim_param_fixed(proto.graph, spec.BATCH_AXIS, FIXED_BATCH)
    fix_output_shapes(proto)
    onnx.checker.check_model(proto, full_check=True)
    return proto.SerializeToString()


# onnxruntime's ORT-format writer lays some graphs out in one of several byte orders, from one conversion to
# the next (the same graph: its serialiser walks a hash map whose order follows memory addresses, even with no
# optimisation). The file kept is the least of the layouts seen in this many conversions (~10 ms each): the
# dense models have two or so, and a rebuild gives the same bytes; a conv encoder had 59 in 60 conversions,
# so its .ort file may differ from one export to the next (its .onnx files, sidecars and vectors do not).
# Converting without address randomisation (setarch -R) was tried: steady in one environment, not across.
ORT_CONVERSIONS = 24


def ort_files(model_name: str, payloads: dict[str, bytes]) -> dict[str, bytes]:
    """{file name: bytes}: one `.ort` per ONNX file of the model, and the operators a reduced build needs."""
    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "onnx"
        source.mkdir()
        for file_name, payload in payloads.items():
            (source / file_name).write_bytes(payload)
        for attempt in range(ORT_CONVERSIONS):
            target = Path(folder) / f"ort{attempt}"
            with contextlib.redirect_stdout(io.StringIO()), _quiet("ort_format_model.utils"):  # progress chatter
                convert_onnx_models_to_ort(source, output_dir=target, optimization_styles=[OptimizationStyle.Fixed])
            for name in payloads:
                made = (target / ort_file(name)).read_bytes()
                files[ort_file(name)] = min(made, files.get(ort_file(name), made))
        config = (target / "required_operators.config").read_text()
    # The config names the temporary paths it was made from: name the shipped files instead (same bytes twice).
    files[operators_file(model_name)] = config.replace(f"{target}/", "").encode()
    return files


@contextlib.contextmanager
def _quiet(logger_name: str):
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def mobile_usability(payload: bytes) -> dict[str, str]:
    """What `python -m onnxruntime.tools.check_onnx_model_mobile_usability` says of a model, per provider."""
    from onnxruntime.tools.mobile_helpers.usability_checker import analyze_model

    verdicts: dict[str, str] = {}
    handler = _VerdictHandler(verdicts)
    logger = logging.getLogger("aeonnx.usability_checker")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.onnx"
            path.write_bytes(payload)
            analyze_model(path, skip_optimize=False, logger=logger)
    finally:
        logger.removeHandler(handler)
    return verdicts


class _VerdictHandler(logging.Handler):
    """Keeps the checker's 'Model should perform well with EP as is: YES' lines as {EP: verdict}."""

    PREFIX = "Model should perform well with "

    def __init__(self, verdicts: dict[str, str]):
        super().__init__()
        self.verdicts = verdicts

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.PREFIX) and " as is: " in message:
            provider, verdict = message[len(self.PREFIX) :].split(" as is: ")
            self.verdicts[provider] = verdict.strip()


def edge_files(model_spec: spec.ModelSpec, payloads: dict[str, bytes]) -> tuple[dict[str, bytes], dict]:
    """Every edge file of one model's float32 parts ({part name: bytes}), and their manifest entry."""
    from aeonnx.runtime.manifest import file_entry

    onnx_files = {model_spec.onnx_file(name): payload for name, payload in payloads.items()}
    written = ort_files(model_spec.name, onnx_files)
    copies, usability = {}, {}
    for part_name, payload in payloads.items():
        original = model_spec.onnx_file(part_name)
        written[fixed_file(original)] = fixed = fixed_batch_copy(payload)
        usability[fixed_file(original)] = mobile_usability(fixed)
        copies[part_name] = [
            {**file_entry(fixed_file(original), fixed), "batch": FIXED_BATCH},
            file_entry(ort_file(original), written[ort_file(original)]),
        ]
    operators = operators_file(model_spec.name)
    entry = {
        "files": copies,
        "required_operators": file_entry(operators, written[operators]),
        "mobile_usability": usability,
    }
    return written, entry
