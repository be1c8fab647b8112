"""`aeonnx verify`: do the model files still give, here, the outputs they gave at export?

For every model file the manifest lists: its sha256 against the manifest, its JSON sidecar against
its embedded metadata, and its golden vectors (spec.GOLDEN_*) run on this onnxruntime and execution
provider, names, shapes and values within the recorded tolerance. Each file is one case; a case
lists every failure, so one run says all that drifted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import metrics, providers, spec, tensorproto
from .errors import AeonnxError, ModelError
from .files import read_bytes
from .manifest import history, read_manifest


@dataclass
class Case:
    """One model file checked: what ran, the largest drift per output, and every failure."""

    model: str
    part: str
    file: str
    checks: list[str] = field(default_factory=list)
    max_abs_diff: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    provider: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class ModelFile:
    """A file to check, with what the manifest says of it; `batch` is 1 for fixed-shape edge copies."""

    model: str
    part: spec.Part
    file: str
    sha256: str | None
    golden_of: str  # the file whose golden vectors and sidecar it must match (itself, or its float32 original)
    batch: int | None = None


def model_files(manifest: dict, int8: bool = False) -> list[ModelFile]:
    """Every file to check: float32 parts and their edge copies, or with `int8` the int8 copies."""
    found = []
    for name, entry in manifest.get("models", {}).items():
        try:
            model_spec = spec.model_in_manifest(name, entry)
        except KeyError as e:
            raise ModelError(f"{spec.MANIFEST_FILE}: {e.args[0]}") from None
        files = entry.get("int8", {}).get("files", {}) if int8 else entry.get("files", {})
        for part in model_spec.parts:
            if part.name not in files:
                continue
            listed = files[part.name]
            found.append(ModelFile(name, part, listed["file"], listed.get("sha256"), listed["file"]))
            for copy in [] if int8 else entry.get("edge", {}).get("files", {}).get(part.name, []):
                found.append(ModelFile(name, part, copy["file"], copy.get("sha256"), listed["file"], copy.get("batch")))
    return found


def verify(models_dir: Path, device: str = "auto", int8: bool = False) -> list[Case]:
    """Check every model file in `models_dir`, its history's included; one Case per file."""
    manifest = read_manifest(models_dir)
    files = model_files(manifest, int8)
    if not files:
        raise ModelError(f"{models_dir / spec.MANIFEST_FILE} lists no {'int8 ' if int8 else ''}model files")
    cases = [check_file(models_dir, listed, device) for listed in files]
    for release in history(models_dir):  # the decoding parts of earlier releases: their codes still decode
        for listed in model_files(read_manifest(release), int8):
            case = check_file(release, listed, device)
            case.file = f"{spec.HISTORY_DIR}/{release.name}/{case.file}"
            cases.append(case)
    return cases


def check_file(models_dir: Path, listed: ModelFile, device: str) -> Case:
    case = Case(listed.model, listed.part.name, listed.file)
    try:
        payload = read_bytes(models_dir / listed.file, "an ONNX model", ModelError)
    except ModelError as e:
        case.failures.append(str(e))
        return case
    _check_hash(case, payload, listed.sha256)
    try:
        session, case.provider = providers.create_session(payload, device)
    except AeonnxError as e:
        case.failures.append(f"{listed.file}: {e}")
        return case
    _check_sidecar(case, models_dir, listed.golden_of, session)  # edge copies keep their original's metadata
    _check_golden(case, models_dir, listed, session)
    return case


def _check_hash(case: Case, payload: bytes, expected: str | None) -> None:
    if expected is None:
        case.failures.append(f"{case.file}: the manifest records no sha256 for it")
    elif hashlib.sha256(payload).hexdigest() != expected:
        case.failures.append(f"{case.file}: sha256 differs from the manifest's (the file was changed)")
    else:
        case.checks.append("sha256")


def _check_sidecar(case: Case, models_dir: Path, original: str, session) -> None:
    path = models_dir / spec.sidecar_file(original)
    try:
        mirrored = json.loads(path.read_text())["metadata_props"]
    except FileNotFoundError:
        case.failures.append(f"{path.name}: missing (the JSON sidecar of {case.file})")
        return
    except (OSError, ValueError, KeyError, TypeError) as e:
        case.failures.append(f"{path.name}: unreadable sidecar ({e})")
        return
    embedded = dict(session.get_modelmeta().custom_metadata_map)
    differing = sorted(k for k in embedded.keys() | mirrored.keys() if embedded.get(k) != mirrored.get(k))
    if differing:
        case.failures.append(f"{path.name}: differs from the embedded metadata in {', '.join(differing)}")
    else:
        case.checks.append("sidecar")


def _check_golden(case: Case, models_dir: Path, listed: ModelFile, session) -> None:
    folder = models_dir / spec.golden_dir(listed.golden_of) / spec.GOLDEN_DATA_SET
    try:
        x = _read_tensor(folder / "input_0.pb")
        expected = [_read_tensor(folder / f"output_{i}.pb") for i in range(len(listed.part.outputs))]
    except (AeonnxError, OSError) as e:
        case.failures.append(f"golden vectors of {listed.golden_of}: {e}")
        return
    names = [o.name for o in session.get_outputs()]
    if names != [t.name for t in expected]:
        case.failures.append(f"{case.file}: outputs {names}, the golden vectors have {[t.name for t in expected]}")
        return
    actual = _run(session, x.name, x.array, names, listed.batch)
    for name, got, want in zip(names, actual, (t.array for t in expected)):
        _compare(case, name, got, want)
    case.checks.append(f"golden x{len(x.array)}")


def _read_tensor(path: Path) -> tensorproto.Tensor:
    return tensorproto.parse(read_bytes(path, "a tensor file", ModelError), f"{path.parent.name}/{path.name}")


def _run(session, input_name: str, x: np.ndarray, names: list[str], batch: int | None) -> list[np.ndarray]:
    """All rows at once, or `batch` rows at a time for a fixed-shape copy."""
    if batch is None:
        return session.run(names, {input_name: x})
    runs = [session.run(names, {input_name: x[i : i + batch]}) for i in range(0, len(x), batch)]
    return [np.concatenate([r[k] for r in runs]) for k in range(len(names))]


def _compare(case: Case, name: str, actual: np.ndarray, expected: np.ndarray) -> None:
    if actual.shape != expected.shape:
        case.failures.append(f"{case.part}.{name}: shape {list(actual.shape)}, golden {list(expected.shape)}")
        return
    max_diff, beyond = metrics.drift(actual, expected, spec.GOLDEN_ATOL, spec.GOLDEN_RTOL)
    case.max_abs_diff[name] = max_diff
    if beyond:
        case.failures.append(
            f"{case.part}.{name}: max abs diff {max_diff:.3g} exceeds the tolerance "
            f"atol {spec.GOLDEN_ATOL:g} + rtol {spec.GOLDEN_RTOL:g}*|golden|"
        )


_HEADER = ("", "model", "part", "file", "provider", "max abs diff", "checks")


def as_table(cases: list[Case]) -> str:
    """One line per file: verdict, model, part, file, provider, largest drift, checks or failures; each column as
    wide as its widest cell, so that a long model name or file (history/<id>/...) keeps the columns aligned."""
    rows = [_HEADER, *map(_row, cases)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER) - 1)]
    lines = [_aligned(row, widths) for row in rows]
    failed = sum(not c.ok for c in cases)
    lines.append(f"{len(cases) - failed} passed, {failed} failed")
    return "\n".join(lines)


def _row(case: Case) -> tuple[str, ...]:
    drift = max(case.max_abs_diff.values(), default=float("nan"))
    detail = "; ".join(case.failures) if case.failures else ", ".join(case.checks)
    return ("ok" if case.ok else "FAIL", case.model, case.part, case.file, case.provider or "-", f"{drift:.3g}", detail)


def _aligned(row: tuple[str, ...], widths: list[int]) -> str:
    """The cells padded to their columns' widths, the drift right-aligned; the last cell (checks, failures) as is."""
    *cells, drift, detail = row
    padded = [cell.ljust(width) for cell, width in zip(cells, widths)]
    return " ".join([*padded, drift.rjust(widths[-1])]) + "  " + detail


def as_json(cases: list[Case]) -> dict:
    return {
        "passed": all(c.ok for c in cases),
        "tolerance": {"atol": spec.GOLDEN_ATOL, "rtol": spec.GOLDEN_RTOL},
        "cases": [
            {
                "model": c.model,
                "part": c.part,
                "file": c.file,
                "ok": c.ok,
                "provider": c.provider,
                "checks": c.checks,
                "max_abs_diff": c.max_abs_diff,
                "failures": c.failures,
            }
            for c in cases
        ],
    }


def as_junit(cases: list[Case]) -> bytes:
    """JUnit XML: one test case per model file, so CI systems list each part."""
    import xml.etree.ElementTree as ET

    suite = ET.Element(
        "testsuite", name="aeonnx verify", tests=str(len(cases)), failures=str(sum(not c.ok for c in cases)), errors="0"
    )
    for case in cases:
        element = ET.SubElement(suite, "testcase", classname=f"aeonnx.{case.model}.{case.part}", name=case.file)
        if case.failures:
            ET.SubElement(element, "failure", message=case.failures[0]).text = "\n".join(case.failures)
        else:
            ET.SubElement(element, "system-out").text = json.dumps(case.max_abs_diff)
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="utf-8", xml_declaration=True)
