"""Every runtime command through CliRunner: outputs, defaults, one-line errors, nothing overwritten."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime import load, spec
from aeonnx.runtime.aez import codefile

from .helpers import invoke, one_line_error


@pytest.fixture
def digit_files(mnist, tmp_path):
    """Three real digits as PNG files: one plain, one dark-on-white and enlarged, one in a subfolder."""
    (tmp_path / "in" / "sub").mkdir(parents=True)
    Image.fromarray(mnist["x_test"][0]).save(tmp_path / "in" / "two.png")
    Image.fromarray(255 - mnist["x_test"][1]).resize((84, 84)).save(tmp_path / "in" / "six-on-paper.jpg", quality=95)
    Image.fromarray(mnist["x_test"][2]).save(tmp_path / "in" / "sub" / "one.bmp")
    return tmp_path / "in"


def test_compress_one_image_writes_beside_it_and_decompress_reverses(digit_files):
    image = digit_files / "two.png"
    before = image.read_bytes()
    result = invoke("compress", image)
    assert result.exit_code == 0, result.output
    code = digit_files / "two.aez"
    assert code.exists() and image.read_bytes() == before  # input untouched
    result = invoke("decompress", code)
    assert result.exit_code == 0, result.output
    decoded = np.asarray(Image.open(digit_files / "two-decoded.png"))
    assert decoded.shape == (28, 28) and decoded.dtype == np.uint8


def test_folder_gives_one_container_with_names(digit_files, tmp_path):
    out = tmp_path / "batch.aez"
    result = invoke("compress", digit_files, "-o", out, "--precision", "float16")
    assert result.exit_code == 0, result.output
    code_file = codefile.from_bytes(out.read_bytes())
    assert code_file.names == ("six-on-paper", "sub/one", "two") and code_file.precision == "float16"
    assert code_file.original_sizes == ((84, 84), (28, 28), (28, 28))
    assert invoke("decompress", out).exit_code == 0
    written = sorted(
        p.relative_to(tmp_path / "batch-decoded").as_posix() for p in (tmp_path / "batch-decoded").rglob("*.png")
    )
    assert written == ["six-on-paper.png", "sub/one.png", "two.png"]
    grid = invoke("decompress", out, "--grid", "-o", tmp_path / "grid.png")
    assert grid.exit_code == 0 and Image.open(tmp_path / "grid.png").size[0] > 28


def test_npz_array_input(mnist, tmp_path):
    np.savez(tmp_path / "digits.npz", x=mnist["x_test"][:500])
    result = invoke("compress", tmp_path / "digits.npz")
    assert result.exit_code == 0, result.output
    code_file = codefile.from_bytes((tmp_path / "digits.aez").read_bytes())
    assert len(code_file) == 500 and code_file.names[3] == "digits/x/00003"
    model = load(spec.DEFAULT_MODEL, device="cpu")  # what compress uses unless told
    expected = codefile.quantize(model.encode(mnist["x_test"][:500]), model.binding.default_precision, model.binding)
    np.testing.assert_array_equal(codefile.stored_values(code_file, model.binding), expected)


def test_dark_on_white_file_gives_its_mnist_twins_code(mnist, tmp_path):
    Image.fromarray(mnist["x_test"][5]).save(tmp_path / "plain.png")
    Image.fromarray(255 - mnist["x_test"][5]).save(tmp_path / "paper.png")
    assert invoke("compress", tmp_path / "plain.png").exit_code == 0
    assert invoke("compress", tmp_path / "paper.png").exit_code == 0
    plain = codefile.from_bytes((tmp_path / "plain.aez").read_bytes())
    paper = codefile.from_bytes((tmp_path / "paper.aez").read_bytes())
    binding = load(spec.DEFAULT_MODEL, device="cpu").binding
    np.testing.assert_array_equal(codefile.stored_values(plain, binding), codefile.stored_values(paper, binding))
    forced = invoke("compress", tmp_path / "paper.png", "--no-invert", "-o", tmp_path / "forced.aez")
    assert forced.exit_code == 0
    forced_code = codefile.from_bytes((tmp_path / "forced.aez").read_bytes())
    assert not np.array_equal(codefile.stored_values(forced_code, binding), codefile.stored_values(plain, binding))


def test_overwrite_is_refused_without_force(digit_files):
    image = digit_files / "two.png"
    code = digit_files / "two.aez"
    code.write_bytes(b"precious")
    one_line_error(invoke("compress", image), "already exists; pass --force")
    assert code.read_bytes() == b"precious"
    assert invoke("compress", image, "--force").exit_code == 0
    assert code.read_bytes()[:4] == codefile.MAGIC
    assert not list(digit_files.glob(".*partial"))


def test_batch_goes_on_past_bad_inputs(digit_files, tmp_path):
    (digit_files / "notes.png").write_text("not an image")
    (digit_files / "empty.png").write_bytes(b"")
    out = tmp_path / "batch.aez"
    result = invoke("compress", digit_files, tmp_path / "missing.png", "-o", out)
    assert result.exit_code == 1
    assert "3 input(s) failed" in result.stderr and "missing.png: no such file" in result.stderr
    assert len(codefile.from_bytes(out.read_bytes())) == 3  # the good ones were done


def test_nothing_usable_writes_nothing(tmp_path):
    (tmp_path / "bad.png").write_text("nope")
    one_line_error(invoke("compress", tmp_path / "bad.png"), "no input could be compressed")
    assert not (tmp_path / "bad.aez").exists()


def test_several_inputs_need_an_output_name(digit_files):
    one_line_error(invoke("compress", digit_files / "two.png", digit_files / "sub" / "one.bmp"), "-o FILE.aez")


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda d: b"GIF89a" + d[6:], "not an aeonnx code file"),
        (lambda d: d[:4] + b"\x07" + d[5:], "unsupported code file format version 7"),
        (lambda d: d[:-9], "truncated code file"),
        (lambda d: d[:-6] + bytes([d[-6] ^ 1]) + d[-5:], "CRC32 mismatch"),
    ],
    ids=["magic", "version", "truncated", "bit-flip"],
)
def test_damaged_code_files_each_get_their_own_error(digit_files, damage, fragment):
    assert invoke("compress", digit_files / "two.png", "--precision", "float32").exit_code == 0
    code = digit_files / "two.aez"
    code.write_bytes(damage(code.read_bytes()))
    one_line_error(invoke("decompress", code), fragment)
    assert not (digit_files / "two-decoded.png").exists()


def test_code_from_another_model_names_both(digit_files, tmp_path):
    assert (
        invoke("compress", digit_files / "two.png", "-o", tmp_path / "named.aez").exit_code == 0
    )  # names: full header
    data = codefile.from_bytes((tmp_path / "named.aez").read_bytes())
    forged = dataclasses.replace(data, model_id="abcdefabcdefabcd")
    (tmp_path / "forged.aez").write_bytes(codefile.to_bytes(forged))
    one_line_error(
        invoke("decompress", tmp_path / "forged.aez"), f"made by model {spec.DEFAULT_MODEL} abcdefabcdefabcd"
    )
    assert invoke("compress", digit_files / "two.png").exit_code == 0  # two.aez: a short frame, its id's first bytes
    short = codefile.from_bytes((digit_files / "two.aez").read_bytes())
    assert short.short and len((digit_files / "two.aez").read_bytes()) == 15 + short.body_bytes
    (tmp_path / "short.aez").write_bytes(codefile.to_bytes(dataclasses.replace(short, model_id="abcdefab")))
    one_line_error(invoke("decompress", tmp_path / "short.aez"), "made by a model whose id begins abcdefab, which")


def test_missing_and_odd_files(tmp_path):
    one_line_error(invoke("decompress", tmp_path / "none.aez"), "no such file")
    (tmp_path / "dir.aez").mkdir()
    one_line_error(invoke("decompress", tmp_path / "dir.aez"), "is a folder")


def test_sample_is_seeded_and_writes_grid_or_files(tmp_path):
    for name in ("a.png", "b.png"):
        assert invoke("sample", "-n", "9", "--seed", "5", "-o", tmp_path / name).exit_code == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert invoke("sample", "-n", "3", "--seed", "5", "-o", tmp_path / "each").exit_code == 0
    assert sorted(p.name for p in (tmp_path / "each").iterdir()) == [
        "sample_000.png",
        "sample_001.png",
        "sample_002.png",
    ]
    one_line_error(invoke("sample", "-o", tmp_path / "a.png"), "already exists")


def test_manifold(tmp_path):
    result = invoke("manifold", "--n", "6", "--range", "3", "-o", tmp_path / "m.png")
    assert result.exit_code == 0, result.output
    width, height = Image.open(tmp_path / "m.png").size
    assert width > 6 * 28 and height > 6 * 28  # digits plus axis labels


def test_encode_json_lines(digit_files):
    result = invoke("encode", digit_files / "two.png", "--model", "vae")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip())
    assert record["name"] == "two" and len(record["z_mean"]) == 2 and len(record["z_log_var"]) == 2
    lines = invoke("encode", digit_files).stdout.strip().splitlines()
    assert [json.loads(line)["name"] for line in lines] == ["six-on-paper", "sub/one", "two"]
    assert all(len(json.loads(line)["z"]) == load(spec.DEFAULT_MODEL, device="cpu").latent_size for line in lines)


def test_info(digit_files):
    overview = json.loads(invoke("info", "--json").stdout)
    assert (
        set(overview["models"]) == {"ae", "conv", "rd", "vae"}
        and "CPUExecutionProvider" in overview["providers_available"]
    )
    assert overview["models"]["ae"]["provider"] == "CPUExecutionProvider"
    assert invoke("compress", digit_files / "two.png").exit_code == 0
    described = json.loads(invoke("info", digit_files / "two.aez", "--json").stdout)
    assert described["model"] == "rd" and described["count"] == 1 and described["precision"] == "q5"
    assert described["format_version"] == 2 and described["entropy_coded"]
    assert described["bytes_per_code"] + described["frame_overhead_bytes"] == described["bytes"]
    from aeonnx.runtime.model import shipped_models_dir

    with __import__("importlib").resources.as_file(shipped_models_dir().joinpath("vae_generator.onnx")) as path:
        model_info = json.loads(invoke("info", path, "--json").stdout)
    assert model_info["aeonnx.part"] == "generator" and model_info["inputs"] == {"z": ["batch", 2]}


def test_info_prints_a_summary_for_people(digit_files):
    overview = invoke("info")
    assert overview.exit_code == 0 and not overview.stdout.lstrip().startswith("{")
    lines = overview.stdout.splitlines()
    assert lines[0] == "models: shipped with aeonnx" and any(line.startswith("  ae: model ") for line in lines)
    assert any("test set: bce" in line for line in lines) and lines[-1].startswith("execution providers here: ")
    assert invoke("compress", digit_files / "two.png", "-o", digit_files / "summary.aez").exit_code == 0
    code = invoke("info", digit_files / "summary.aez").stdout
    assert "aeonnx code file, format version 2" in code and "made by model rd (" in code
    assert "quality 5, entropy-coded" in code and "1 code(s) in " in code and "names: two" in code
    from aeonnx.runtime.model import shipped_models_dir

    with __import__("importlib").resources.as_file(shipped_models_dir().joinpath("ae_decoder.onnx")) as path:
        model_file = invoke("info", path).stdout
    assert "inputs: z ['batch', 32]" in model_file and "aeonnx.part: decoder" in model_file


def test_device_choices(digit_files):
    result = invoke("compress", digit_files / "two.png", "--device", "cpu", "-v", "-o", digit_files / "c.aez")
    assert result.exit_code == 0 and "on CPUExecutionProvider" in result.stderr
    import onnxruntime

    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        one_line_error(invoke("compress", digit_files / "two.png", "--device", "cuda"), "--device cuda")
    assert invoke("compress", digit_files / "two.png", "--device", "tpu").exit_code == 2  # usage error


def test_wrong_models_folder(digit_files, tmp_path):
    one_line_error(invoke("compress", digit_files / "two.png", "--models", tmp_path / "nope"), "no such models folder")
    (tmp_path / "empty").mkdir()
    one_line_error(invoke("compress", digit_files / "two.png", "--models", tmp_path / "empty"), "no ae_encoder.onnx")


def test_readme_example_decodes_without_aeonnx(digit_files, tmp_path):
    """examples/decode_without_aeonnx.py reproduces aeonnx's own decoding, byte for byte: the default model's
    quality levels (a container, and a one-image short frame) and the AE's bits."""
    import subprocess
    import sys
    from importlib.resources import as_file

    from aeonnx.runtime.model import shipped_models_dir

    from .helpers import REPO

    names = ("six-on-paper", "sub/one", "two")
    assert invoke("compress", digit_files / "two.png").exit_code == 0  # two.aez: rd, one code, the short frame
    cases = {"rd": tmp_path / "b.aez", "ae": tmp_path / "ae.aez"}
    for model, path in cases.items():
        assert invoke("compress", digit_files, "--model", model, "-o", path).exit_code == 0
    for model, path, shown in [*((m, p, names) for m, p in cases.items()), ("rd", digit_files / "two.aez", ["two"])]:
        out = tmp_path / f"ours-{model}-{path.stem}"
        assert invoke("decompress", path, "-o", out / "x.png" if len(shown) == 1 else out).exit_code == 0
        with as_file(shipped_models_dir().joinpath(f"{model}_decoder.onnx")) as decoder:
            script = REPO / "examples" / "decode_without_aeonnx.py"
            subprocess.run(
                [sys.executable, script, path, decoder, tmp_path / "theirs.png"], check=True, capture_output=True
            )
        theirs = np.asarray(Image.open(tmp_path / "theirs.png"))
        pictures = [out / "x.png"] if len(shown) == 1 else [out / f"{name}.png" for name in shown]
        np.testing.assert_array_equal(theirs, np.hstack([np.asarray(Image.open(picture)) for picture in pictures]))
