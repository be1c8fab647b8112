"""Format v2 in use: codes streamed to the file as they are made, folders of shards, lookups by name, and
the issue's targets on the shipped AE (bytes per digit and PSNR)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime import jobs, load, metrics
from aeonnx.runtime.aez import codefile

from .helpers import REPO, invoke, one_line_error, traced_peak


def psnr_of(model, digits, data: bytes) -> float:
    return metrics.psnr(digits.astype(np.float32) / 255, model.decompress(data, as_float=True).images)


# --- the targets (issue 12), on the 1,000 shared test digits --------------------------------------------
def test_a_1000_digit_container_of_scans_costs_at_most_24_bytes_a_digit(ae, mnist, tmp_path):
    digits = mnist["x_test"][:1000]
    folder = tmp_path / "scans"
    folder.mkdir()
    for index, digit in enumerate(digits):
        Image.fromarray(digit).save(folder / f"scan_{index:06d}.png")
    assert invoke("compress", folder, "--model", "ae", "-o", tmp_path / "scans.aez").exit_code == 0
    data = (tmp_path / "scans.aez").read_bytes()
    code_file = codefile.from_bytes(data)
    assert code_file.names[123] == "scan_000123" and code_file.precision == ae.binding.default_precision
    assert len(data) / 1000 <= 24  # format v1: 53
    assert psnr_of(ae, digits, data) >= psnr_of(ae, digits, ae.compress(digits, "float32")) - 0.1


def test_the_default_model_beats_the_ae_on_bytes_and_psnr(ae, mnist, tmp_path):
    """Issue 33: compress's default (rd at its default quality) against the AE's default bits, 1,000 digits a
    file (measured: 20.6 bytes at 25.5 dB against 22.4 at 20.9), and one digit alone (digit-2: 38 bytes)."""
    digits = mnist["x_test"][:1000]
    np.savez(tmp_path / "digits.npz", x=digits)
    assert invoke("compress", tmp_path / "digits.npz", "-o", tmp_path / "default.aez").exit_code == 0
    data = (tmp_path / "default.aez").read_bytes()
    model = load(codefile.from_bytes(data).model, device="cpu")
    theirs = ae.compress(digits, names=[f"digits/x/{i:05d}" for i in range(1000)])
    assert len(data) < len(theirs) and psnr_of(model, digits, data) >= psnr_of(ae, digits, theirs) + 3
    image = tmp_path / "digit-2.png"
    image.write_bytes((REPO / "examples" / "digit-2.png").read_bytes())
    assert invoke("compress", image).exit_code == 0
    assert len((tmp_path / "digit-2.aez").read_bytes()) <= 40  # the 32: not reached at the knee


def test_a_single_digit_file_is_at_most_40_bytes(ae, tmp_path):
    image = tmp_path / "digit-2.png"
    image.write_bytes((REPO / "examples" / "digit-2.png").read_bytes())
    assert invoke("compress", image, "--model", "ae").exit_code == 0
    data = (tmp_path / "digit-2.aez").read_bytes()
    assert len(data) <= 40  # format v1: 85; the full frame of v2: 49
    digit = np.asarray(Image.open(image))[None]
    # The 0.1 dB target is a mean over digits (the container above); one digit's loss spreads around it
    # (the shipped AE at 6 bits on the 1,000 test digits: mean 0.05 dB, 90th percentile 0.21, this one 0.15).
    assert psnr_of(ae, digit, data) >= psnr_of(ae, digit, ae.compress(digit, "float32")) - 0.25
    assert jobs.read_code_file(tmp_path / "digit-2.aez").names == ("digit-2",)  # named after its file


# --- streaming: memory holds the index, not the codes ----------------------------------------------------
@pytest.mark.slow
def test_compressing_a_million_digits_streams_with_bounded_memory(ae, mnist, tmp_path):
    np.savez(tmp_path / "million.npz", x=np.resize(mnist["x_test"], (1_000_000, 28, 28)))  # 784 MB of pixels
    job = jobs.CompressJob.of([tmp_path / "million.npz"], tmp_path / "m.aez")
    result, peak = traced_peak(lambda: jobs.compress_files(job, ae))
    assert result.done == 1_000_000 and result.bytes_written < 23 * 1_000_000
    # Measured: 20 MB (a 4,096-digit chunk as float32 is 12.8 MB; the index about 2 bytes a code; 43 s).
    assert peak < 40e6
    (tmp_path / "million.npz").unlink()
    code_file = jobs.read_code_file(tmp_path / "m.aez")
    assert len(code_file) == 1_000_000 and code_file.names[999_999] == "million/x/999999"
    one = code_file.take(code_file.find(["million/x/123456"]))
    expected = codefile.quantize(ae.encode(mnist["x_test"][123456 % 1000][None]), code_file.precision, ae.binding)
    np.testing.assert_array_equal(codefile.stored_values(one, ae.binding), expected)


# --- folders of shards --------------------------------------------------------------------------------------
def test_shards_round_trip_with_their_index(mnist, tmp_path):
    np.savez(tmp_path / "digits.npz", x=mnist["x_test"][:250])
    result = invoke("compress", tmp_path / "digits.npz", "-o", tmp_path / "shards", "--shard-size", "100")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "shards").iterdir()) == [
        "index.json",
        "shard-00000.aez",
        "shard-00001.aez",
        "shard-00002.aez",
    ]
    index = json.loads((tmp_path / "shards" / "index.json").read_text())
    assert index["count"] == 250 and [s["count"] for s in index["shards"]] == [100, 100, 50]
    assert index["shards"][1]["first"] == "digits/x/00100" and index["shards"][2]["last"] == "digits/x/00249"
    assert all(s["bytes"] == (tmp_path / "shards" / s["file"]).stat().st_size for s in index["shards"])
    described = json.loads(invoke("info", tmp_path / "shards", "--json").stdout)
    assert described["count"] == 250 and described["shards"] == 3 and described["bytes_per_code"] < 24
    assert invoke("decompress", tmp_path / "shards").exit_code == 0
    decoded = sorted(p.name for p in (tmp_path / "shards-decoded" / "digits" / "x").iterdir())
    assert decoded == [f"{i:05d}.png" for i in range(250)]


def test_a_name_is_looked_up_without_decoding_the_rest(ae, mnist, tmp_path, monkeypatch):
    np.savez(tmp_path / "digits.npz", x=mnist["x_test"][:250])
    shards = ["-o", tmp_path / "shards", "--shard-size", "100", "--model", "ae"]
    assert invoke("compress", tmp_path / "digits.npz", *shards).exit_code == 0
    decoded = []
    real = codefile.latents
    monkeypatch.setattr(codefile, "latents", lambda cf, binding: decoded.append(len(cf)) or real(cf, binding))
    result = invoke("decompress", tmp_path / "shards", "--name", "digits/x/00142", "-o", tmp_path / "one.png")
    assert result.exit_code == 0, result.output
    assert decoded == [1]  # one code of one shard
    single = np.asarray(Image.open(tmp_path / "one.png"))
    full = ae.decompress(ae.compress(mnist["x_test"][142:143])).images[0]
    np.testing.assert_array_equal(single, full)
    one_line_error(
        invoke("decompress", tmp_path / "shards", "--name", "digits/x/00250"), "no code named 'digits/x/00250'"
    )


def test_an_array_file_failing_midway_takes_back_its_shards(mnist, tmp_path):
    np.savez(tmp_path / "big.npz", x=mnist["x_train"][:9000])
    data = (tmp_path / "big.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) * 2 // 3])
    Image.fromarray(mnist["x_test"][0]).save(tmp_path / "ok.png")
    np.savez(tmp_path / "after.npz", x=mnist["x_test"][:150])
    model = load("ae", device="cpu")
    job = jobs.CompressJob.of(
        [tmp_path / "ok.png", tmp_path / "cut.npz", tmp_path / "after.npz"], tmp_path / "out", shard_size=100
    )
    result = jobs.compress_files(job, model)
    assert [f.source for f in result.failures] == [str(tmp_path / "cut.npz")] and result.done == 151
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["index.json", "shard-00000.aez", "shard-00001.aez"]
    found = jobs.read_codes(tmp_path / "out")
    names = [name for _, code_file in found for name in code_file.names]
    assert names == ["ok"] + [f"after/x/{i:05d}" for i in range(150)]
    assert not list((tmp_path / "out").glob(".*partial"))


def test_shards_never_replace_files_unasked(mnist, tmp_path):
    np.savez(tmp_path / "digits.npz", x=mnist["x_test"][:30])
    out = tmp_path / "out"
    out.mkdir()
    (out / "shard-00001.aez").write_bytes(b"precious")
    (out / "notes.txt").write_text("mine")
    one_line_error(invoke("compress", tmp_path / "digits.npz", "-o", out, "--shard-size", "10"), "already exists")
    assert (out / "shard-00001.aez").read_bytes() == b"precious" and sorted(p.name for p in out.iterdir()) == [
        "notes.txt",
        "shard-00001.aez",
    ]
    assert invoke("compress", tmp_path / "digits.npz", "-o", out, "--shard-size", "10", "--force").exit_code == 0
    assert (out / "notes.txt").read_text() == "mine" and len(list(out.glob("shard-*.aez"))) == 3
    one_line_error(invoke("compress", tmp_path / "digits.npz", "--shard-size", "10"), "-o FOLDER")
    (tmp_path / "file").write_text("x")
    one_line_error(
        invoke("compress", tmp_path / "digits.npz", "-o", tmp_path / "file", "--shard-size", "10"), "is a file"
    )


def test_a_folder_without_an_index_is_not_a_code_file(tmp_path):
    (tmp_path / "empty").mkdir()
    one_line_error(invoke("decompress", tmp_path / "empty"), "is a folder")
    (tmp_path / "empty" / "index.json").write_text('{"format": "something else"}')
    one_line_error(invoke("info", tmp_path / "empty"), "not an index of aeonnx code shards")


# --- precision options ---------------------------------------------------------------------------------
def test_bits_and_precision_choose_how_codes_are_stored(mnist, tmp_path):
    np.savez(tmp_path / "d.npz", x=mnist["x_test"][:200])
    sizes = {}
    for option in (["--bits", "4"], ["--bits", "8"], ["--precision", "uint8"], ["--precision", "float16"], []):
        out = tmp_path / f"{'-'.join(option) or 'auto'}.aez"
        assert invoke("compress", tmp_path / "d.npz", "--model", "ae", "-o", out, *option).exit_code == 0
        described = json.loads(invoke("info", out, "--json").stdout)
        sizes[out.stem] = (described["precision"], described["bytes_per_code"])
    assert sizes["--bits-4"][0] == 4 and sizes["--bits-8"] == sizes["--precision-uint8"] and sizes["auto"][0] == 6
    assert sizes["--bits-4"][1] < sizes["auto"][1] < sizes["--bits-8"][1] < 32 < sizes["--precision-float16"][1]
    one_line_error(invoke("compress", tmp_path / "d.npz", "--precision", "float32", "--bits", "5"), "cannot go with")
    assert invoke("compress", tmp_path / "d.npz", "--bits", "9").exit_code == 2  # out of range, said by the parser


def test_a_shard_index_without_its_model_is_one_line(ae, mnist, tmp_path):
    folder = tmp_path / "shards"
    np.savez(tmp_path / "d.npz", x=mnist["x_test"][:30])
    assert invoke("compress", tmp_path / "d.npz", "-o", folder, "--shard-size", "10").exit_code == 0
    index = json.loads((folder / "index.json").read_text())
    del index["model_id"]
    (folder / "index.json").write_text(json.dumps(index))
    for command in ("info", "decompress"):
        one_line_error(invoke(command, folder), "not an index of aeonnx code shards")
