"""The parity gate: an exported ONNX model must reproduce its Keras original, or it is not handed over.

Checks output names, then shapes, then values, on real inputs at several batch
sizes; every mismatch is collected, and one ParityError lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aeonnx.runtime import metrics, spec
from aeonnx.runtime.errors import ParityError
from aeonnx.runtime.providers import create_session


@dataclass
class ParityReport:
    part: str
    batch_sizes: list[int]
    max_abs_diff: float = 0.0
    failures: list[str] = field(default_factory=list)
    atol: float = spec.PARITY_ATOL  # in the part's output values: scaled with the range of a decoder's pixels

    def as_metadata(self) -> dict:
        return {
            "atol": self.atol,
            "rtol": spec.PARITY_RTOL,
            "max_abs_diff": self.max_abs_diff,
            "batch_sizes": self.batch_sizes,
            "checked_on": "validation digits of the training run, onnxruntime CPUExecutionProvider",
        }


def keras_outputs(keras_model, inputs: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    outputs = keras_model(inputs, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return {name: np.asarray(value) for name, value in zip(names, outputs)}


def compare(
    onnx_bytes: bytes, keras_model, part: spec.Part, inputs: np.ndarray, batch_sizes, scale: float = 1.0
) -> ParityReport:
    """Run onnxruntime (CPU) and Keras on `inputs` split into each batch size; collect every mismatch. `scale`:
    the width of the outputs' value range (a decoder of pixels in 0..255: 255), which the absolute tolerance
    follows, so that float32 rounding of larger values is not taken for a drift."""
    session, _ = create_session(onnx_bytes, "cpu", source=f"exported {part.name}")
    report = ParityReport(part=part.name, batch_sizes=list(batch_sizes), atol=spec.PARITY_ATOL * max(scale, 1.0))
    onnx_inputs = [i.name for i in session.get_inputs()]
    onnx_outputs = [o.name for o in session.get_outputs()]
    if onnx_inputs != list(part.inputs):
        report.failures.append(f"{part.name}: input names {onnx_inputs}, expected {list(part.inputs)}")
    if onnx_outputs != list(part.outputs):
        report.failures.append(f"{part.name}: output names {onnx_outputs}, expected {list(part.outputs)}")
    if report.failures:
        return report
    for batch_size in batch_sizes:
        batch = inputs[:batch_size]
        expected = keras_outputs(keras_model, batch, part.outputs)
        actual = dict(zip(onnx_outputs, session.run(None, {onnx_inputs[0]: batch})))
        for name in part.outputs:
            _compare_values(report, f"{part.name}.{name} at batch {batch_size}", actual[name], expected[name])
    return report


def _compare_values(report: ParityReport, where: str, actual: np.ndarray, expected: np.ndarray) -> None:
    if actual.shape != expected.shape:
        report.failures.append(f"{where}: shape {actual.shape}, Keras gives {expected.shape}")
        return
    max_diff, beyond = metrics.drift(actual, expected, report.atol, spec.PARITY_RTOL)
    report.max_abs_diff = max(report.max_abs_diff, max_diff)
    if beyond:
        report.failures.append(
            f"{where}: {beyond} of {actual.size} values differ beyond "
            f"atol {report.atol:g} + rtol {spec.PARITY_RTOL:g}*|keras| (max abs diff {max_diff:.3g})"
        )


def require_parity(reports: list[ParityReport]) -> None:
    failures = [failure for report in reports for failure in report.failures]
    if failures:
        raise ParityError(f"ONNX export does not match Keras ({len(failures)} mismatches): " + "; ".join(failures))
