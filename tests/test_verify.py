"""`aeonnx verify`: golden vectors, manifest hashes and JSON sidecars, on the shipped models and tampered copies."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from typer.testing import CliRunner

from aeonnx.cli import app
from aeonnx.runtime import spec, tensorproto, verify
from aeonnx.runtime.errors import DataError
from aeonnx.runtime.manifest import history
from aeonnx.runtime.model import shipped_models_dir

runner = CliRunner()
SHIPPED = Path(str(shipped_models_dir()))
FLOAT32_FILES = [spec.get_model(m).onnx_file(p.name) for m in spec.MODEL_NAMES for p in spec.get_model(m).parts]


@pytest.fixture
def models_copy(tmp_path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(SHIPPED, copy, ignore=shutil.ignore_patterns("__init__.py", "__pycache__", "training"))
    return copy


def failures(cases):
    return [f for case in cases for f in case.failures]


def test_shipped_models_pass_every_check():
    cases = verify.verify(SHIPPED, device="cpu")
    assert not failures(cases)
    files = {case.file for case in cases}
    assert set(FLOAT32_FILES) <= files
    for case in cases:
        assert "sha256" in case.checks and any(c.startswith("golden") for c in case.checks), case
        assert all(d <= spec.GOLDEN_ATOL for d in case.max_abs_diff.values()) or case.file.endswith(".ort")


def test_int8_copies_pass_against_their_own_golden_vectors():
    cases = verify.verify(SHIPPED, device="cpu", int8=True)
    assert not failures(cases)
    # Each shipped part, and the one decoding part of each release kept in the history.
    shipped = [spec.get_model(m).onnx_file(p, "int8") for m, p in spec.MODEL_PARTS]
    kept = [case.file for case in cases if case.file.startswith(spec.HISTORY_DIR + "/")]
    assert sorted(set(case.file for case in cases) - set(kept)) == sorted(shipped)
    assert len(kept) == len(history(SHIPPED)) and all(file.endswith(".int8.onnx") for file in kept)


def test_edge_copies_exist_and_reproduce_the_float32_outputs():
    manifest = json.loads((SHIPPED / spec.MANIFEST_FILE).read_text())
    cases = {case.file: case for case in verify.verify(SHIPPED, device="cpu")}
    for file in FLOAT32_FILES:
        stem = file.removesuffix(".onnx")
        for copy in (f"{stem}.batch1.onnx", f"{stem}.ort"):
            assert cases[copy].ok and cases[copy].max_abs_diff, cases[copy]
    for name in spec.MODEL_NAMES:
        assert (SHIPPED / f"{name}.required_operators.config").is_file()
        verdicts = manifest["models"][name]["edge"]["mobile_usability"]
        assert all(v["NNAPI"] == "YES" for v in verdicts.values()), verdicts


def test_metadata_survives_into_the_ort_files():
    for file in FLOAT32_FILES:
        ort_file = file.removesuffix(".onnx") + ".ort"
        session = onnxruntime.InferenceSession(SHIPPED / ort_file, providers=["CPUExecutionProvider"])
        sidecar = json.loads((SHIPPED / spec.sidecar_file(file)).read_text())
        assert dict(session.get_modelmeta().custom_metadata_map) == sidecar["metadata_props"]


def test_sidecars_mirror_the_embedded_metadata():
    for file in FLOAT32_FILES:
        session = onnxruntime.InferenceSession(SHIPPED / file, providers=["CPUExecutionProvider"])
        sidecar = json.loads((SHIPPED / spec.sidecar_file(file)).read_text())
        assert sidecar["metadata_props"] == dict(session.get_modelmeta().custom_metadata_map)
        assert sidecar["inputs"] == {i.name: i.shape for i in session.get_inputs()}


def test_golden_vectors_read_as_onnx_reads_them():
    import onnx
    from onnx import numpy_helper

    folder = SHIPPED / "ae_encoder" / spec.GOLDEN_DATA_SET
    for path in sorted(folder.glob("*.pb")):
        proto = onnx.TensorProto()
        proto.ParseFromString(path.read_bytes())
        tensor = tensorproto.parse(path.read_bytes(), path.name)
        assert tensor.name == proto.name
        np.testing.assert_array_equal(tensor.array, numpy_helper.to_array(proto))
    assert tensorproto.parse((folder / "input_0.pb").read_bytes(), "x").array.shape == (spec.GOLDEN_BATCH, 784)


@pytest.mark.parametrize("cut", [1, 7, 100])
def test_a_truncated_tensor_file_is_one_clear_error(cut):
    data = (SHIPPED / "ae_decoder" / spec.GOLDEN_DATA_SET / "output_0.pb").read_bytes()
    with pytest.raises(DataError, match="truncated|holds"):
        tensorproto.parse(data[:-cut], "output_0.pb")


def perturb_one_weight(path: Path) -> None:
    """Add 0.5 to the largest bias of the first layer: a unit every digit drives, so every output moves
    (the largest kernel weight may sit on a corner pixel that no digit lights, and change nothing)."""
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(path)
    bias = next(t for t in proto.graph.initializer if len(t.dims) == 1 and t.dims[0] > 1)
    weights = numpy_helper.to_array(bias).copy()
    weights[np.argmax(weights)] += 0.5
    bias.CopyFrom(numpy_helper.from_array(weights, bias.name))
    onnx.save(proto, path)


def test_a_perturbed_weight_fails_naming_part_and_output(models_copy):
    perturb_one_weight(models_copy / "ae_encoder.onnx")
    result = runner.invoke(app, ["verify", str(models_copy), "--device", "cpu"])
    assert result.exit_code == 1
    assert "encoder.z: max abs diff" in result.stdout and "sha256 differs" in result.stdout
    assert "FAIL ae    encoder" in result.stdout


def test_an_altered_golden_output_fails(models_copy):
    path = models_copy / "vae_generator" / spec.GOLDEN_DATA_SET / "output_0.pb"
    data = bytearray(path.read_bytes())
    data[-4:] = np.float32(0.75).tobytes()  # the last pixel of the last digit
    path.write_bytes(bytes(data))
    cases = verify.verify(models_copy, device="cpu")
    assert [c.file for c in cases if not c.ok] == [
        "vae_generator.onnx",
        "vae_generator.batch1.onnx",
        "vae_generator.ort",
    ]
    assert "generator.x_hat: max abs diff" in failures(cases)[0]


def test_a_manifest_hash_mismatch_fails(models_copy):
    manifest = json.loads((models_copy / spec.MANIFEST_FILE).read_text())
    manifest["models"]["ae"]["files"]["decoder"]["sha256"] = "0" * 64
    (models_copy / spec.MANIFEST_FILE).write_text(json.dumps(manifest))
    result = runner.invoke(app, ["verify", str(models_copy)])
    assert result.exit_code == 1 and "ae_decoder.onnx: sha256 differs from the manifest's" in result.stdout


def test_a_sidecar_that_disagrees_fails(models_copy):
    path = models_copy / spec.sidecar_file("ae_encoder.onnx")
    sidecar = json.loads(path.read_text())
    sidecar["metadata_props"][spec.META_LATENT_SIZE] = "33"
    path.write_text(json.dumps(sidecar))
    (case,) = [c for c in verify.verify(models_copy, device="cpu") if c.file == "ae_encoder.onnx"]
    assert case.failures == [f"ae_encoder.json: differs from the embedded metadata in {spec.META_LATENT_SIZE}"]


def test_junit_has_one_test_case_per_file_and_json_says_the_same(tmp_path):
    junit = tmp_path / "verify.xml"
    result = runner.invoke(app, ["verify", "--junit", str(junit), "--json"])
    assert result.exit_code == 0, result.output
    suite = ET.parse(junit).getroot()
    names = [case.get("name") for case in suite.iter("testcase")]
    assert set(FLOAT32_FILES) <= set(names) and len(names) == len(set(names)) == int(suite.get("tests"))
    report = json.loads(result.stdout)
    assert report["passed"] and [c["file"] for c in report["cases"]] == names


def test_cuda_without_cuda_fails_in_one_line_per_file():
    result = runner.invoke(app, ["verify", "--device", "cuda"])
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime has CUDA")
    assert result.exit_code == 1 and "no CUDAExecutionProvider" in result.stdout


def test_a_folder_without_manifest_is_one_line(tmp_path):
    result = runner.invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code == 1 and "no manifest.json" in result.stderr and "Traceback" not in result.output


@pytest.mark.slow
def test_verify_runs_on_a_fresh_export_and_reruns_the_keras_gate(exported_models, trained_runs, tmp_path):
    result = runner.invoke(app, ["verify", str(exported_models), "--run", str(trained_runs["vae"])])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("keras parity") == 2 and "6 passed, 0 failed" in result.stdout  # 4 files, 2 Keras parts
    copy = tmp_path / "models"
    shutil.copytree(exported_models, copy)
    perturb_one_weight(copy / "vae_generator.onnx")
    result = runner.invoke(app, ["verify", str(copy), "--run", str(trained_runs["vae"]), "--json"])
    report = json.loads(result.stdout)
    failed = {(c["file"], c["part"]) for c in report["cases"] if not c["ok"]}
    assert result.exit_code == 1 and failed == {("vae_generator.onnx", "generator"), ("vae (Keras)", "generator")}
