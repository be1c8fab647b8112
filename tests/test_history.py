"""The model history (export/history.py, Autoencoder.for_code): after the models are retrained, every code
file an earlier release made decodes to the pixels it decoded to, through that release's decoding part."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aeonnx.export import history
from aeonnx.runtime import jobs, load, spec
from aeonnx.runtime.model import shipped_models_dir

from .helpers import REPO, invoke, one_line_error

RELEASED = REPO / "tests" / "fixtures" / "released"
V2 = REPO / "tests" / "fixtures" / "v2"


@pytest.fixture(scope="module")
def retrained(trained_runs, tmp_path_factory) -> Path:
    """A models folder as after a retraining: new models on top (with int8 copies), the shipped release kept
    in its history (whichever release the shipped folder holds, and the releases its own history keeps)."""
    from aeonnx.export.exporter import export_model

    shipped = tmp_path_factory.mktemp("shipped") / "models"
    shutil.copytree(shipped_models_dir(), shipped)
    history.keep(shipped)
    models = tmp_path_factory.mktemp("retrained") / "models"
    for name, run_dir in trained_runs.items():
        export_model(name, run_dir, models, quantize="int8")
    shutil.copytree(shipped / spec.HISTORY_DIR, models / spec.HISTORY_DIR)
    return models


def released_files() -> list[Path]:
    return sorted(RELEASED.glob("*.aez")) + sorted(V2.glob("*-container.aez"))


def expected_pixels(path: Path, variant: str = "float32") -> np.ndarray:
    decoded = np.load(path.parent / "decoded.npz")
    return decoded[path.stem + (".int8" if variant == "int8" else "")]


@pytest.mark.parametrize("variant", ["float32", "int8"])
def test_every_released_file_decodes_to_its_pixels_after_retraining(retrained, variant):
    for path in released_files():
        if variant == "int8" and path.parent == V2:
            continue  # the v2 fixtures record float32 pixels only
        made_by = json.loads((path.parent / "expected.json").read_text())[path.name]["model"]
        model = load(made_by, retrained, device="cpu", variant=variant, part="decoder")
        assert model.model_id != json.loads((path.parent / "expected.json").read_text())[path.name]["model_id"]
        names, pixels, _ = model.decompress(path.read_bytes())
        assert np.array_equal(pixels, expected_pixels(path, variant)), path.name


def test_decompress_on_the_command_line_picks_the_release(retrained, tmp_path):
    code = RELEASED / "ae-examples.aez"
    result = invoke("decompress", code, "--models", retrained, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    pngs = sorted((tmp_path / "out").rglob("*.png"))
    names = load("ae", device="cpu", part="decoder").decompress(code.read_bytes())[0]
    decoded = [np.asarray(Image.open(tmp_path / "out" / f"{name}.png")) for name in names]
    assert len(pngs) == 3 and np.array_equal(np.stack(decoded), expected_pixels(code))


def test_a_short_frame_of_a_release_decodes_after_retraining(retrained, tmp_path):
    shutil.copy(REPO / "examples" / "digit-2.png", tmp_path / "digit-2.png")
    assert invoke("compress", tmp_path / "digit-2.png", "--model", "ae").exit_code == 0  # a short frame
    assert jobs.read_codes(tmp_path / "digit-2.aez")[0][1].model == "ae"
    assert invoke("decompress", tmp_path / "digit-2.aez", "-o", tmp_path / "then.png").exit_code == 0
    result = invoke("decompress", tmp_path / "digit-2.aez", "--models", retrained, "-o", tmp_path / "now.png")
    assert result.exit_code == 0, result.output
    then, now = (np.asarray(Image.open(tmp_path / name)) for name in ("then.png", "now.png"))
    assert np.array_equal(then, now)
    index = json.loads((retrained / spec.HISTORY_DIR / spec.HISTORY_INDEX).read_text())["releases"]
    assert index[load("ae", device="cpu").model_id] == "ae"  # what a reader that cannot list folders finds


def test_a_file_no_release_made_is_refused_in_one_line(retrained, exported_models, tmp_path):
    model = load("ae", exported_models, device="cpu")
    (tmp_path / "new.aez").write_bytes(model.compress(np.zeros((1, 28, 28), np.uint8)))  # a short frame
    (tmp_path / "named.aez").write_bytes(model.compress(np.zeros((1, 28, 28), np.uint8), names=["one"]))
    result = invoke("decompress", tmp_path / "new.aez", "-o", tmp_path / "x.png")  # the shipped models
    one_line_error(result, f"made by a model whose id begins {model.model_id[:8]}, which the models folder", alone=True)
    result = invoke("decompress", tmp_path / "named.aez", "-o", tmp_path / "x.png")
    one_line_error(result, "this code was made by model ae ", alone=True)
    assert (retrained / spec.HISTORY_DIR).is_dir() and not (tmp_path / "x.png").exists()


def test_keeping_is_done_once_and_never_rewrites(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(shipped_models_dir(), models)
    ids = {entry["model_id"] for entry in json.loads((models / spec.MANIFEST_FILE).read_text())["models"].values()}
    kept = history.keep(models)
    assert {folder.name for folder in kept} == ids
    before = {path: path.read_bytes() for path in (models / spec.HISTORY_DIR).rglob("*") if path.is_file()}
    assert history.keep(models) == []
    assert before == {path: path.read_bytes() for path in (models / spec.HISTORY_DIR).rglob("*") if path.is_file()}
    for folder in kept:  # the decoding part alone: no encoder, no edge copies
        assert not any("encoder" in path.name or "batch1" in path.name for path in folder.rglob("*"))


def test_verify_and_info_cover_the_history(retrained, tmp_path):
    result = invoke("verify", retrained)
    assert result.exit_code == 0, result.output
    assert f"{spec.HISTORY_DIR}/" in result.output
    info = invoke("info", "--models", retrained, "--json")
    releases = json.loads(info.output)["history"]
    assert {release["model"] for release in releases} == {"ae", "conv", "rd", "vae"}  # every shipped model
    broken = tmp_path / "broken"
    shutil.copytree(retrained, broken)
    release = next((broken / spec.HISTORY_DIR).iterdir())
    onnx = next(release.glob("*.onnx"))
    onnx.write_bytes(onnx.read_bytes()[:-1] + b"\0")
    result = invoke("verify", broken)
    assert result.exit_code != 0 and "sha256 differs" in result.output


def test_a_code_file_naming_no_model_id_looks_nowhere(retrained):
    """The id in a file names a folder: anything but 16 hex digits is not looked up (no path from a file)."""
    code_file = jobs.read_codes(RELEASED / "ae-examples.aez")[0][1]
    model = load("ae", retrained, device="cpu", part="decoder")
    for odd in ("../../../etc", "11B7A56BC4202D8E", "11b7a56bc4202d8"):
        assert model.for_code(dataclasses.replace(code_file, model_id=odd)) is model


def test_a_rebuild_of_the_same_models_keeps_nothing_a_retraining_keeps_the_replaced(retrained, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(shipped_models_dir(), models)
    assert history.keep(models, replaced_by=shipped_models_dir()) == []
    kept = history.keep(models, replaced_by=retrained)  # every model there has another id
    assert len(kept) == 2 and all((folder / spec.MANIFEST_FILE).is_file() for folder in kept)


def test_int8_copies_made_again_leave_the_float32_files_and_pass_verify(tmp_path, capsys):
    """artifacts/requantize.sh's work: a method change makes each int8 copy again, current and kept, from
    its float32 file (untouched); done once, and a second run changes nothing."""
    from aeonnx.export import requantize

    models = tmp_path / "models"
    shutil.copytree(shipped_models_dir(), models)
    made_by = json.loads((RELEASED / "expected.json").read_text())["ae-examples.aez"]["model_id"]
    release = models / spec.HISTORY_DIR / made_by
    kept = json.loads((release / spec.MANIFEST_FILE).read_text())
    next(iter(kept["models"].values()))["int8"]["quality"]["method"] = "an older method"
    (release / spec.MANIFEST_FILE).write_text(json.dumps(kept))
    before = {path: path.read_bytes() for path in models.rglob("*") if path.is_file()}
    training = REPO / "artifacts" / "training"
    assert requantize.main([str(models), f"ae={training / 'ae'}", f"vae={training / 'vae'}"]) == 0
    after = {path: path.read_bytes() for path in models.rglob("*") if path.is_file()}
    changed = {path.relative_to(models) for path in before if before[path] != after[path]}
    assert changed and all(".int8" in str(path) or path.name == spec.MANIFEST_FILE for path in changed)
    assert history.requantize(models) == []
    assert invoke("verify", models, "--int8").exit_code == 0
    other_run = tmp_path / "other"
    shutil.copytree(training / "ae", other_run)
    record = json.loads((other_run / "run.json").read_text())
    record["metrics"]["psnr"] += 1
    (other_run / "run.json").write_text(json.dumps(record))
    assert requantize.main([str(models), f"ae={other_run}"]) == 1
    assert f"its ae is not the model trained in {other_run}" in capsys.readouterr().err
