"""No file lost, ever (issue 9, part 4): a command writes only the files it produces, never over its
inputs; odd names, sizes and files give one line, not a traceback; messages say what really happened."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from aeonnx.cli import app
from aeonnx.runtime import files, jobs, load, spec
from aeonnx.runtime.aez import codefile
from aeonnx.runtime.errors import AeonnxError
from aeonnx.runtime.model import shipped_models_dir

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, fragment=""):
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.strip().splitlines() if line.startswith("aeonnx: error:")]
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def snapshot(folder):
    """Every file under `folder` with its bytes: what must survive a command."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def no_temporaries(folder):
    return not [p for p in folder.rglob("*") if p.name.endswith((".partial", ".old"))]


@pytest.fixture
def work(mnist, tmp_path):
    """The issue's scene: digits, notes, a photo in a subfolder, and the container made from them."""
    folder = tmp_path / "work"
    (folder / "photos").mkdir(parents=True)
    for index, name in enumerate(("two", "seven", "one")):
        Image.fromarray(mnist["x_test"][index]).resize((56, 56)).save(folder / f"{name}.png")
    (folder / "notes.txt").write_text("notes\n")
    Image.fromarray(255 - mnist["x_test"][3]).save(folder / "photos" / "holiday.jpg")
    assert (
        invoke(
            "compress", folder / "two.png", folder / "seven.png", folder / "one.png", "-o", folder / "batch.aez"
        ).exit_code
        == 0
    )
    return folder


@pytest.fixture
def single(mnist, tmp_path):
    """d.png and its one-code container d.aez."""
    Image.fromarray(mnist["x_test"][4]).save(tmp_path / "d.png")
    assert invoke("compress", tmp_path / "d.png").exit_code == 0
    return tmp_path / "d.png", tmp_path / "d.aez"


# --- a command writes only its own files; --force replaces only those -----------------------------------
def test_decompress_into_a_folder_with_force_keeps_every_other_file(work):
    before = snapshot(work)
    result = invoke("decompress", work / "batch.aez", "-o", work, "--force")
    assert result.exit_code == 0, result.output
    after = snapshot(work)
    for kept in ("notes.txt", "batch.aez", "photos/holiday.jpg"):
        assert after[kept] == before[kept]
    assert set(after) == set(before)  # the three decodes replaced the three PNGs of the same names, nothing else
    assert all(after[name] != before[name] for name in ("two.png", "seven.png", "one.png"))
    assert no_temporaries(work)


def test_decompress_refuses_up_front_and_writes_nothing(work):
    (work / "seven.png").unlink()  # one of the three targets is free: it must not be written either
    before = snapshot(work)
    message = one_line_error(invoke("decompress", work / "batch.aez", "-o", work), "pass --force")
    assert str(work / "one.png") in message or str(work / "two.png") in message
    assert snapshot(work) == before and no_temporaries(work)


def test_decompress_into_an_existing_folder_without_conflicts_needs_no_force(work, tmp_path):
    out = tmp_path / "out"
    (out / "photos").mkdir(parents=True)
    (out / "thesis.tex").write_text("chapter 1")
    result = invoke("decompress", work / "batch.aez", "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(snapshot(out)) == ["one.png", "seven.png", "thesis.tex", "two.png"]


def test_sample_into_a_folder_with_force_keeps_every_other_file(tmp_path):
    victim = tmp_path / "victim"
    (victim / "photos").mkdir(parents=True)
    (victim / "photos" / "holiday.jpg").write_bytes(b"\xff\xd8 a photo")
    (victim / "thesis.tex").write_text("chapter 1")
    (victim / "sample_000.png").write_bytes(b"old sample")
    before = snapshot(victim)
    one_line_error(invoke("sample", "-n", "2", "-o", victim), "sample_000.png already exists")
    assert snapshot(victim) == before  # refused up front: not even sample_001.png
    result = invoke("sample", "-n", "2", "--seed", "1", "-o", victim, "--force")
    assert result.exit_code == 0, result.output
    after = snapshot(victim)
    assert after["photos/holiday.jpg"] == before["photos/holiday.jpg"] and after["thesis.tex"] == before["thesis.tex"]
    assert sorted(after) == ["photos/holiday.jpg", "sample_000.png", "sample_001.png", "thesis.tex"]
    assert after["sample_000.png"][:4] == b"\x89PNG" and no_temporaries(victim)


def test_a_folder_in_place_of_an_output_file_is_refused(work, tmp_path):
    (tmp_path / "out" / "two.png").mkdir(parents=True)
    one_line_error(invoke("decompress", work / "batch.aez", "-o", tmp_path / "out", "--force"), "is a folder")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["two.png"]


def test_an_error_midway_leaves_no_temporary_and_no_new_file(work, tmp_path, monkeypatch):
    from aeonnx.runtime.jobs import engine

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    real = engine.png_files

    def fail_on_the_third(pictures):  # Ctrl-C after two files were staged
        for index, data in enumerate(real(pictures)):
            if index == 2:
                raise KeyboardInterrupt
            yield data

    monkeypatch.setattr(engine, "png_files", fail_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        jobs.decompress_file(jobs.DecompressJob(work / "batch.aez", out, device="cpu"))
    assert snapshot(out) == {"keep.txt": b"mine"}
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_training_folder_with_foreign_files_is_not_replaced(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "thesis.tex").write_text("chapter 1")
    with pytest.raises(AeonnxError, match="no run.json"):  # not a run folder: refused before any work
        files.check_folder_target(run, force=True, marker="run.json")
    (run / "run.json").write_text("old")
    with pytest.raises(AeonnxError, match="thesis.tex"):  # a run folder with a file the new run lacks
        with files.staged_directory(run, force=True, marker="run.json") as staging:
            (staging / "run.json").write_text("new")
    assert snapshot(run) == {"run.json": b"old", "thesis.tex": b"chapter 1"} and no_temporaries(tmp_path)
    (run / "thesis.tex").unlink()
    with files.staged_directory(run, force=True, marker="run.json") as staging:  # an old run: replaced
        (staging / "run.json").write_text("new")
    assert snapshot(run) == {"run.json": b"new"} and no_temporaries(tmp_path)


# --- an output that is an input is refused, even with --force --------------------------------------------
def test_compress_onto_its_own_input(single):
    image, _ = single
    before = image.read_bytes()
    one_line_error(invoke("compress", image, "-o", image, "--force"), "is one of the inputs")
    assert image.read_bytes() == before


def test_decompress_onto_its_own_input(single):
    _, code = single
    before = code.read_bytes()
    one_line_error(invoke("decompress", code, "-o", code, "--force"), "is one of the inputs")
    assert code.read_bytes() == before


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_an_output_that_links_to_the_input(single, tmp_path, link):
    image, code = single
    (tmp_path / "img-link.aez").symlink_to(image) if link == "symlink" else os.link(image, tmp_path / "img-link.aez")
    (tmp_path / "code-link.png").symlink_to(code) if link == "symlink" else os.link(code, tmp_path / "code-link.png")
    before = image.read_bytes(), code.read_bytes()
    one_line_error(invoke("compress", image, "-o", tmp_path / "img-link.aez", "--force"), "is one of the inputs")
    one_line_error(invoke("decompress", code, "-o", tmp_path / "code-link.png", "--force"), "is one of the inputs")
    assert (image.read_bytes(), code.read_bytes()) == before


def test_compress_onto_an_image_inside_its_input_folder(work):
    before = snapshot(work)
    one_line_error(invoke("compress", work, "-o", work / "two.png", "--force"), "is one of the inputs")
    assert snapshot(work) == before


def test_decompress_whose_names_would_overwrite_the_container(work, mnist, tmp_path):
    model = load("ae", device="cpu")
    (tmp_path / "x.png").write_bytes(model.compress(mnist["x_test"][:2], names=["x", "y"]))  # a container named .png
    one_line_error(invoke("decompress", tmp_path / "x.png", "-o", tmp_path, "--force"), "is one of the inputs")
    assert codefile.from_bytes((tmp_path / "x.png").read_bytes()).names == ("x", "y")


# --- messages name the user's path, never a temporary -------------------------------------------------------
def test_a_failed_write_names_the_output_not_a_temporary(single, tmp_path, monkeypatch):
    image, _ = single

    def read_only(source, destination, *args, **kwargs):
        raise OSError(30, "Read-only file system", str(source))

    monkeypatch.setattr(files.os, "link", read_only)
    monkeypatch.setattr(files.os, "replace", read_only)
    message = one_line_error(invoke("compress", image, "-o", tmp_path / "out.aez"), "Read-only file system")
    assert str(tmp_path / "out.aez") in message and ".partial" not in message
    message = one_line_error(invoke("sample", "-n", "2", "-o", tmp_path / "s"), "Read-only file system")
    assert str(tmp_path / "s") in message and ".partial" not in message
    assert no_temporaries(tmp_path) and not (tmp_path / "out.aez").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_named(single, tmp_path):
    image, _ = single
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o500)
    try:
        message = one_line_error(invoke("compress", image, "-o", tmp_path / "ro" / "out.aez"))
        assert str(tmp_path / "ro" / "out.aez") in message and ".partial" not in message
    finally:
        (tmp_path / "ro").chmod(0o700)


# --- odd names, sizes and files: one line, never a traceback ------------------------------------------------
def test_a_file_name_that_is_not_utf8_is_skipped_with_one_line(mnist, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(mnist["x_test"][0]).save(folder / "good.png")
    try:
        Image.fromarray(mnist["x_test"][1]).save(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.png"), format="PNG")
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    result = invoke("compress", folder, "-o", tmp_path / "out.aez")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1 and "1 input(s) failed" in result.stderr
    skipped = [line for line in result.stderr.splitlines() if "caf" in line]
    assert len(skipped) == 1 and "caf\\xe9.png" in skipped[0] and "UTF-8" in skipped[0]
    assert codefile.from_bytes((tmp_path / "out.aez").read_bytes()).names == ("good",)


def test_output_dot_for_sample_and_decompress(work, single, tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    (here / "mine.txt").write_text("mine")
    monkeypatch.chdir(here)
    assert invoke("sample", "-n", "2", "-o", ".").exit_code == 0
    assert invoke("sample", "-n", "2", "-o", ".", "--force").exit_code == 0
    assert invoke("decompress", work / "batch.aez", "-o", ".").exit_code == 0
    result = invoke("decompress", single[1], "-o", ".", "--force")
    assert result.exit_code == 0, result.output
    assert sorted(snapshot(here)) == [
        "d-decoded.png",
        "mine.txt",
        "one.png",
        "sample_000.png",
        "sample_001.png",
        "seven.png",
        "two.png",
    ]


def test_a_nul_byte_in_a_name_inside_a_container(mnist, tmp_path):
    model = load("ae", device="cpu")
    data = model.compress(mnist["x_test"][:2], names=["fine", "evil\x00.png"])
    (tmp_path / "nul.aez").write_bytes(data)
    one_line_error(invoke("decompress", tmp_path / "nul.aez", "-o", tmp_path / "out"), "unsafe name")
    assert not (tmp_path / "out").exists()


def test_huge_sample_counts_are_refused_before_any_work(tmp_path):
    one_line_error(invoke("sample", "-n", "100000000", "-o", tmp_path / "grid.png"), "pixels")
    one_line_error(invoke("sample", "-n", "100000000", "-o", tmp_path / "many"), "100,000")
    one_line_error(invoke("manifold", "-n", "100000", "-o", tmp_path / "m.png"), "pixels")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("extent", ["nan", "inf", "-inf", "1e300"])
def test_manifold_range_must_be_finite(tmp_path, extent):
    one_line_error(invoke("manifold", "--range", extent, "-o", tmp_path / "m.png"), "--range")
    assert not (tmp_path / "m.png").exists()


def test_fifo_inputs_do_not_hang(mnist, tmp_path):
    Image.fromarray(mnist["x_test"][0]).save(tmp_path / "good.png")
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "in").mkdir()
    os.mkfifo(tmp_path / "in" / "pipe.png")
    Image.fromarray(mnist["x_test"][1]).save(tmp_path / "in" / "fine.png")
    os.mkfifo(tmp_path / "pipe.aez")
    command = [sys.executable, "-m", "aeonnx.cli"]
    runs = [
        subprocess.run(
            [
                *command,
                "compress",
                tmp_path / "good.png",
                tmp_path / "pipe.png",
                tmp_path / "in",
                "-o",
                tmp_path / "out.aez",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ),
        subprocess.run([*command, "decompress", tmp_path / "pipe.aez"], capture_output=True, text=True, timeout=60),
    ]
    compressed, decompressed = runs
    assert compressed.returncode == 1 and "2 input(s) failed" in compressed.stderr
    assert compressed.stderr.count("not a regular file") == 2
    assert codefile.from_bytes((tmp_path / "out.aez").read_bytes()).names == ("good", "fine")
    assert decompressed.returncode == 1 and "not a regular file" in decompressed.stderr
    assert "Traceback" not in compressed.stderr + decompressed.stderr


# --- messages that say what happened ------------------------------------------------------------------------
def idx_header(*shape):
    return bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)


def test_idx_shape_errors_report_the_real_count(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_header(60000, 32, 32))
    result = invoke("compress", tmp_path / "t10k-images-idx3-ubyte")
    one_line_error(result, "no input could be compressed")
    assert "got (60000, 32, 32)" in result.stderr and "(0, 32, 32)" not in result.stderr


def test_decompress_summary_names_the_folder_it_wrote(mnist, tmp_path):
    idx = tmp_path / "t10k-images-idx3-ubyte"
    idx.write_bytes(idx_header(3, 28, 28) + mnist["x_test"][:3].tobytes())
    assert invoke("compress", idx).exit_code == 0
    result = invoke("decompress", tmp_path / "t10k-images-idx3-ubyte.aez")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{tmp_path / 't10k-images-idx3-ubyte-decoded'}: 3 image(s)"
    assert (tmp_path / "t10k-images-idx3-ubyte-decoded" / "t10k-images-idx3-ubyte" / "00002.png").is_file()


def test_an_empty_container_says_where_and_how_many(tmp_path):
    model = load("ae", device="cpu")
    (tmp_path / "empty.aez").write_bytes(model.compress(np.zeros((0, 28, 28), np.uint8)))
    result = invoke("decompress", tmp_path / "empty.aez")
    assert result.exit_code == 0, result.output
    assert "None" not in result.stdout
    assert result.stdout.strip() == f"{tmp_path / 'empty-decoded'}: 0 image(s)"


def test_encode_with_no_success_does_not_speak_of_others(tmp_path):
    (tmp_path / "bad.png").write_text("not a picture")
    message = one_line_error(invoke("encode", tmp_path / "bad.png"))
    assert "others" not in message and "no input could be encoded" in message


def test_npy_input_is_read_like_npz(mnist, tmp_path):
    np.save(tmp_path / "digits.npy", mnist["x_test"][:5])
    result = invoke("compress", tmp_path / "digits.npy")
    assert result.exit_code == 0, result.output
    code_file = codefile.from_bytes((tmp_path / "digits.aez").read_bytes())
    assert code_file.names == tuple(f"digits/{i:05d}" for i in range(5))
    model = load(spec.DEFAULT_MODEL, device="cpu")  # what compress uses unless told
    expected = codefile.quantize(model.encode(mnist["x_test"][:5]), model.binding.default_precision, model.binding)
    np.testing.assert_array_equal(codefile.stored_values(code_file, model.binding), expected)
    np.save(tmp_path / "wrong.npy", np.zeros((7, 32, 32), np.uint8))
    assert "got (7, 32, 32)" in invoke("compress", tmp_path / "wrong.npy").stderr


def test_an_unknown_kind_of_file_is_told_what_is_accepted(tmp_path):
    (tmp_path / "table.csv").write_text("1,2,3\n")
    result = invoke("compress", tmp_path / "table.csv")
    assert ".npz" in result.stderr and ".png" in result.stderr and "Pillow" not in result.stderr


@pytest.fixture
def only_the_decoding_parts(tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    for name in ("vae_generator.onnx", "ae_decoder.onnx"):
        (folder / name).write_bytes(shipped_models_dir().joinpath(name).read_bytes())
    return folder


def test_commands_need_only_the_parts_they_run(only_the_decoding_parts, single, tmp_path):
    models = only_the_decoding_parts
    assert invoke("sample", "-n", "2", "-o", tmp_path / "s.png", "--models", models).exit_code == 0
    assert invoke("manifold", "-n", "2", "-o", tmp_path / "m.png", "--models", models).exit_code == 0
    assert invoke("compress", single[0], "--model", "ae", "-o", tmp_path / "ae.aez").exit_code == 0
    result = invoke("decompress", tmp_path / "ae.aez", "--models", models, "-o", tmp_path / "ae.png")
    assert result.exit_code == 0, result.output
    one_line_error(invoke("compress", single[0], "-o", tmp_path / "x.aez", "--models", models), "ae_encoder.onnx")
    (tmp_path / "empty").mkdir()
    for args in (["sample", "-o", tmp_path / "t.png"], ["manifold", "-o", tmp_path / "t.png"]):
        message = one_line_error(invoke(*args, "--models", tmp_path / "empty"), "vae_generator.onnx")
        assert "encoder" not in message
    message = one_line_error(
        invoke("decompress", tmp_path / "ae.aez", "-o", tmp_path / "t.png", "--models", tmp_path / "empty"),
        "ae_decoder.onnx",
    )
    assert "encoder" not in message


def test_device_cuda_errors_name_a_part_the_command_uses(single, tmp_path):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("CUDA is available here: nothing fails")
    for args, part in (
        (["sample", "-o", tmp_path / "s.png"], "generator"),
        (["manifold", "-o", tmp_path / "m.png"], "generator"),
        (["decompress", single[1], "-o", tmp_path / "out.png"], "decoder"),
        (["compress", single[0], "-o", tmp_path / "c.aez"], "encoder"),
    ):
        message = one_line_error(invoke(*args, "--device", "cuda"), "--device cuda")
        others = {"encoder", "decoder", "generator"} - {part}
        assert part in message and not any(other in message for other in others), message


def test_both_parts_must_still_agree(tmp_path):
    import onnx

    for name in ("ae_encoder.onnx", "ae_decoder.onnx"):
        (tmp_path / name).write_bytes(shipped_models_dir().joinpath(name).read_bytes())
    proto = onnx.load(tmp_path / "ae_encoder.onnx")
    for entry in proto.metadata_props:
        if entry.key == spec.META_MODEL_ID:
            entry.value = "0" * 16
    onnx.save(proto, tmp_path / "ae_encoder.onnx")
    model = load("ae", tmp_path, device="cpu", part="decoder")  # identity from the decoder, the first part used
    model.decode(np.zeros((1, 32), np.float32))
    with pytest.raises(AeonnxError, match="different trainings"):
        model.encode(np.zeros((1, 28, 28), np.uint8))


# --- the same options everywhere ----------------------------------------------------------------------------
def test_n_is_spelled_alike_on_sample_and_manifold(tmp_path):
    for command in ("sample", "manifold"):
        for spelling in ("-n", "--n"):
            out = tmp_path / f"{command}{spelling}.png"
            result = invoke(command, spelling, "3", "-o", out)
            assert result.exit_code == 0, result.output


def test_verbose_on_every_command_that_runs_a_model(single, tmp_path):
    for args in (
        ["compress", single[0], "-o", tmp_path / "c.aez"],
        ["decompress", single[1], "-o", tmp_path / "out.png"],
        ["sample", "-n", "1", "-o", tmp_path / "s.png"],
        ["manifold", "-n", "2", "-o", tmp_path / "m.png"],
        ["encode", single[0]],
    ):
        result = invoke(*args, "-v", "--device", "cpu")
        assert result.exit_code == 0 and "on CPUExecutionProvider" in result.stderr, (args, result.output)


@pytest.mark.parametrize(
    "suffix, magic",
    [
        (".jpg", b"\xff\xd8"),
        (".jpeg", b"\xff\xd8"),
        (".bmp", b"BM"),
        (".webp", b"RIFF"),
        (".png", b"\x89PNG"),
        (".tif", b"II"),
    ],
)
def test_an_output_gets_the_format_its_name_says(single, tmp_path, suffix, magic):
    outputs = [tmp_path / f"sample{suffix}", tmp_path / f"manifold{suffix}", tmp_path / f"decoded{suffix}"]
    assert invoke("sample", "-n", "4", "-o", outputs[0]).exit_code == 0
    assert invoke("manifold", "-n", "2", "-o", outputs[1]).exit_code == 0
    assert invoke("decompress", single[1], "-o", outputs[2]).exit_code == 0
    for output in outputs:
        assert output.is_file() and output.read_bytes().startswith(magic), output
        Image.open(output).verify()


def test_an_output_with_an_unknown_extension_is_refused(single, tmp_path):
    for args in (
        ["sample", "-o", tmp_path / "s.txt"],
        ["manifold", "-o", tmp_path / "m.txt"],
        ["decompress", single[1], "-o", tmp_path / "d.txt"],
    ):
        one_line_error(invoke(*args), ".txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.aez", "d.png"]


def test_compress_dot_names_the_container_after_the_folder(work, monkeypatch):
    shutil.rmtree(work / "photos")
    (work / "batch.aez").unlink()
    monkeypatch.chdir(work)
    result = invoke("compress", ".")
    assert result.exit_code == 0, result.output
    assert (work / "work.aez").is_file() and not (work / ".aez").exists()
    monkeypatch.chdir(work.parent)
    assert invoke("compress", "work/").exit_code == 0 and (work.parent / "work.aez").is_file()


def test_info_prints_names_as_text(mnist, tmp_path):
    model = load("ae", device="cpu")
    (tmp_path / "names.aez").write_bytes(model.compress(mnist["x_test"][:1], names=["Müller/ziffer"]))
    result = invoke("info", tmp_path / "names.aez")
    assert result.exit_code == 0 and "names: Müller/ziffer" in result.stdout and "\\u00fc" not in result.stdout
    as_json = invoke("info", tmp_path / "names.aez", "--json")
    assert json.loads(as_json.stdout)["names"] == ["Müller/ziffer"] and "\\u00fc" not in as_json.stdout
