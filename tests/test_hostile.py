"""Issue 32: hostile files and interrupted runs. Tried as an attacker and as a CI system would (`timeout`,
`docker stop`, a cancelled job, a killed machine): nothing left behind, nothing served or written that
shouldn't be, one line for each refusal, bounded memory. (The web server's cases: web/test/server.test.js;
the code-file readers' fuzzing, in both languages: tests/test_fuzz_codefile.py, js/test/fuzz*.test.js.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime import spec
from aeonnx.runtime.aez import codefile, nametable, varint

from .helpers import REPO, invoke, one_line_error
from .test_parallel import _alive, _wait_for_workers, _wait_until

CLI = "from aeonnx.cli import main; main()"
# Every process of the command, workers included, draws its PNGs slowly and says so in a file, so that a signal
# comes while the work is under way (the test waits on those files, not on a guess).
SLOW_PNGS = """
import os, time
from aeonnx.runtime.jobs import engine
real = engine.png_files
def slow(*args, **kwargs):
    open(os.path.join(os.environ["AEONNX_TEST_DRAWING"], str(os.getpid())), "w").close()
    time.sleep(0.3)
    return real(*args, **kwargs)
engine.png_files = slow
"""


@pytest.fixture
def many_codes(mnist, tmp_path):
    """A container of 12,000 codes, and an environment whose processes draw PNGs slowly."""
    np.savez(tmp_path / "digits.npz", x=np.resize(mnist["x_test"], (12000, 28, 28)))
    assert invoke("compress", tmp_path / "digits.npz", "-o", tmp_path / "many.aez").exit_code == 0
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "sitecustomize.py").write_text(SLOW_PNGS)
    (tmp_path / "drawing").mkdir()
    path = os.pathsep.join([str(tmp_path / "slow"), os.environ.get("PYTHONPATH", "")])
    return tmp_path / "many.aez", {**os.environ, "PYTHONPATH": path, "AEONNX_TEST_DRAWING": str(tmp_path / "drawing")}


def decompressing(code_file, out, env, *more):
    """decompress into `out` with two workers, in a session of its own; returns once both workers draw."""
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "decompress", str(code_file), "-o", str(out), "-j", "2", *more],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    _wait_for_workers(process.pid)
    drawing = env["AEONNX_TEST_DRAWING"]
    _wait_until(lambda: len(set(os.listdir(drawing)) - {str(process.pid)}) >= 2, "both workers draw")
    return process


def temporaries(folder) -> list[str]:
    """The temporaries in a folder and its subfolders (a code named digits/x/00001 goes to FOLDER/digits/x/)."""
    return [name for _, _, names in os.walk(folder) for name in names if name.endswith(".partial")]


# --- signals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGHUP, "SIGHUP")])
def test_sigterm_and_sighup_stop_a_run_as_ctrl_c_does(signum, name, many_codes, tmp_path):
    """What `timeout`, `docker stop` and a cancelled CI job send, to the command alone: its temporaries are
    removed, its workers stopped, one line, exit 128 + N."""
    code_file, env = many_codes
    process = decompressing(code_file, tmp_path / "out", env)
    _wait_until(lambda: temporaries(tmp_path / "out"), "the first pictures are staged")
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert stderr.strip().splitlines() == [f"aeonnx: error: stopped by {name}; no partial output was kept"]
    assert not (tmp_path / "out").exists()  # the folder it made went with its temporaries
    _wait_until(lambda: not _alive(process.pid), "no worker outlives the command", timeout=10)


def test_after_sigkill_the_workers_die_and_the_next_run_removes_what_was_left(many_codes, tmp_path):
    code_file, env = many_codes
    out = tmp_path / "out"
    process = decompressing(code_file, out, env)
    _wait_until(lambda: temporaries(out), "the first pictures are staged")
    process.kill()
    process.wait(timeout=30)
    _wait_until(lambda: not _alive(process.pid), "the workers die with their parent", timeout=10)
    left = temporaries(out)
    assert left and all(f".{process.pid}." in name for name in left)
    (out / "digits" / "x" / f".keep.png.{os.getpid()}.0123abcd.partial").write_bytes(b"")  # a live process's: kept
    (out / "digits" / "x" / "notes.partial").write_bytes(b"")  # not our pattern: kept
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            CLI,
            "decompress",
            str(code_file),
            "-o",
            str(out),
            "--name",
            "digits/x/00007",
            "--name",
            "digits/x/00008",
        ],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert again.stderr.strip().splitlines() == [
        f"aeonnx: removed {len(left):,} temporary file(s) that a stopped run of aeonnx left in {out / 'digits' / 'x'}"
    ]
    assert sorted(temporaries(out)) == sorted([f".keep.png.{os.getpid()}.0123abcd.partial", "notes.partial"])


# --- code-count bombs ------------------------------------------------------------------------------------------


def bomb(path, count: int, names: bool = False):
    """A version 2 file of `count` codes of 0 bytes each (valid: a code may be empty) for the shipped AE, one
    byte each in its index; with `names`, a names table of one run naming them all in a few bytes."""
    from aeonnx.runtime import load

    model_id = bytes.fromhex(load("ae", device="cpu").model_id)
    header = codefile.MAGIC + bytes([2, 6, codefile.FLAG_NAMES if names else 0, 2]) + b"ae" + model_id + b"\x20"
    index = varint.encode(count) + b"\x00" * (count - 1)
    if names:
        table = nametable.Writer()
        table.add_all([f"scan_{i:07d}" for i in range(count)])
        index += table.finish()
    data = header + index + varint.encode_backwards(len(index))
    path.write_bytes(data + zlib.crc32(data).to_bytes(4, "little"))
    return path


def peak_memory(*args) -> tuple[subprocess.CompletedProcess, float]:
    """The command line run in a process of its own: its result, and its peak resident memory in MB."""
    script = (
        "import resource, subprocess, sys; "
        f"done = subprocess.run([sys.executable, '-c', {CLI!r}, *sys.argv[1:]], capture_output=True, text=True); "
        "sys.stdout.write(done.stdout); sys.stderr.write(done.stderr); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)"
    )
    result = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True)
    *lines, peak = result.stderr.strip().splitlines()
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout, "\n".join(lines)), int(
        peak
    ) / 1024


def test_a_small_file_of_many_codes_is_refused_from_its_header_or_read_in_bounded_memory(tmp_path):
    small = bomb(tmp_path / "small.aez", 200_000)  # 200 KB: 200,000 pictures, 794 MB, were written
    out = tmp_path / "out"
    result = invoke("decompress", small, "-o", out)
    one_line_error(result, "200,000 codes, over the limit of 100,000 decoded in one run (raise it with --max-files)")
    assert not out.exists()
    big = bomb(tmp_path / "big.aez", 1_000_000, names=True)  # 1 MB, a million named codes
    assert big.stat().st_size < 1_050_000
    described, megabytes = peak_memory("info", big)
    assert described.returncode == 0 and "1,000,000 code(s)" in described.stdout, described.stderr
    assert megabytes <= 200, megabytes
    looked_up, megabytes = peak_memory("decompress", big, "--name", "scan_0999999", "-o", tmp_path / "one.png")
    assert looked_up.returncode == 0 and (tmp_path / "one.png").is_file(), looked_up.stderr
    assert megabytes <= 200, megabytes
    over = bomb(tmp_path / "over.aez", 1_000_001)
    one_line_error(
        invoke("info", over), "1,000,001 codes, over the limit of 1,000,000 a file (raise it with --max-codes)"
    )
    assert invoke("info", over, "--max-codes", "2000000").exit_code == 0


def test_names_that_expand_past_the_limit_are_refused(tmp_path):
    """A run of long names: a few bytes of table naming a million codes with a kilobyte each."""
    from aeonnx.runtime import load

    header = codefile.MAGIC + bytes([2, 6, codefile.FLAG_NAMES, 2]) + b"ae"
    header += bytes.fromhex(load("ae", device="cpu").model_id) + b"\x20"
    count, long = 100_000, b"n" * 1000 + b"000000"
    index = varint.encode(count) + b"\x00" * (count - 1) + b"\x01" + varint.encode(len(long)) + long + b"\x00"
    index += varint.encode(count - 1)
    data = header + index + varint.encode_backwards(len(index))
    (tmp_path / "long.aez").write_bytes(data + zlib.crc32(data).to_bytes(4, "little"))
    one_line_error(invoke("info", tmp_path / "long.aez"), "names table: its names expand past the limit")


# --- pictures: one reader, its formats and its pixel limit ---------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: what a decompression bomb's header says."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def hostile_folder(folder, digits: np.ndarray):
    """Good digits, and beside them what a folder can hold that is no picture to read."""
    folder.mkdir()
    for index, digit in enumerate(digits):
        Image.fromarray(digit).save(folder / f"{index:03d}.png")
    (folder / "bomb.png").write_bytes(png_header(30000, 30000))
    (folder / "large.png").write_bytes(png_header(7000, 7000))
    (folder / "garbage.png").write_bytes(b"not a picture at all")
    (folder / "eps.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    (folder / "dangling.png").symlink_to(folder / "nothing.png")
    (folder / "loop.png").symlink_to(folder / "loop.png")
    os.mkfifo(folder / "fifo.png")
    (folder / "elsewhere").symlink_to(folder.parent, target_is_directory=True)
    return folder


SKIPPED = {
    "bomb.png": "decompression-bomb",
    "large.png": "over the limit of 40,000,000 pixels",
    "garbage.png": "not an image Pillow can read",
    "eps.png": "not an image Pillow can read",
    "dangling.png": "a symbolic link to nothing",
    "loop.png": "a symbolic link in a loop",
    "fifo.png": "not a regular file (a pipe, socket or device)",
    "elsewhere": "a link to a folder, not followed",
}


def said_once_each(stderr: str) -> None:
    for name, why in SKIPPED.items():
        lines = [line for line in stderr.splitlines() if f"/{name}: " in line]
        assert len(lines) == 1 and why in lines[0], (name, stderr)


def test_compress_reports_every_entry_of_a_folder_it_cannot_read(mnist, tmp_path):
    folder = hostile_folder(tmp_path / "scans", mnist["x_test"][:5])
    result = invoke("compress", folder, "-o", tmp_path / "scans.aez")
    said_once_each(result.stderr)
    assert (
        result.stderr.strip().splitlines()[-1] == f"aeonnx: error: {len(SKIPPED)} input(s) failed; the others were done"
    )
    assert "5 code(s)" in result.stdout and "Traceback" not in result.output


def test_export_reads_a_folder_as_compress_does_and_skips_what_it_cannot_read(mnist, tmp_path):
    import keras
    from keras import layers

    folder = hostile_folder(tmp_path / "scans", mnist["x_test"][:40])
    encoder = keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(), layers.Dense(8)])
    decoder = keras.Sequential(
        [keras.Input((8,)), layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28, 1))]
    )
    encoder.save(tmp_path / "enc.keras")
    decoder.save(tmp_path / "dec.keras")
    result = invoke("export", "--encoder", tmp_path / "enc.keras", "--decoder", tmp_path / "dec.keras",
                    "--data", folder, "--name", "mine", "--out", tmp_path / "models")  # fmt: skip
    assert result.exit_code == 0, result.output
    said_once_each(result.stderr)
    assert "measure  40 inputs of (28, 28, 1)" in result.stdout


def test_train_reports_every_entry_of_a_folder_it_cannot_read(mnist, tmp_path):
    folder = hostile_folder(tmp_path / "pictures", mnist["x_test"][:64])
    result = invoke("train", "ae", "--data", folder, "--epochs", "1", "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    said_once_each(result.stderr)


def test_an_eps_file_named_png_never_reaches_ghostscript(tmp_path):
    (tmp_path / "eps.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    script = (
        "import sys\nfrom typer.testing import CliRunner\nfrom aeonnx.cli import app\n"
        f"result = CliRunner().invoke(app, ['compress', {str(tmp_path / 'eps.png')!r}])\n"
        "print(result.exit_code, 'PIL.EpsImagePlugin' in sys.modules)\nprint(result.stderr, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.split() == ["1", "False"], done.stderr
    assert "not an image Pillow can read" in done.stderr


# --- outputs: never over an input, never outside the output folder -------------------------------------------


def test_verify_junit_never_replaces_a_file_it_reads(exported_models, tmp_path):
    import shutil

    models = tmp_path / "models"
    shutil.copytree(exported_models, models)
    for victim in (models / spec.MANIFEST_FILE, models / "ae_encoder.onnx"):
        before = victim.read_bytes()
        one_line_error(invoke("verify", models, "--junit", victim, "--force"), "is one of the inputs")
        assert victim.read_bytes() == before


def test_a_code_named_into_a_linked_folder_is_not_written_through_the_link(mnist, tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    Image.fromarray(mnist["x_test"][0]).save(tmp_path / "in" / "sub" / "x.png")
    Image.fromarray(mnist["x_test"][1]).save(tmp_path / "in" / "y.png")
    assert invoke("compress", tmp_path / "in", "-o", tmp_path / "codes.aez").exit_code == 0
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "sub").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    result = invoke("decompress", tmp_path / "codes.aez", "-o", tmp_path / "out")
    one_line_error(result, f"{tmp_path / 'out' / 'sub'} is a symbolic link: refusing to write through it")
    assert list((tmp_path / "elsewhere").iterdir()) == [] and sorted(os.listdir(tmp_path / "out")) == ["sub"]


def test_an_unsafe_name_is_refused_naming_the_file(tmp_path):
    from aeonnx.runtime import load

    data = load("ae", device="cpu").compress(np.zeros((2, 28, 28), np.uint8), names=["../escape", "fine"])
    (tmp_path / "evil.aez").write_bytes(data)
    result = invoke("decompress", tmp_path / "evil.aez", "-o", tmp_path / "grid.png", "--grid")
    assert result.exit_code == 0, result.output  # a grid writes no file by name
    one_line_error(
        invoke("decompress", tmp_path / "evil.aez", "-o", tmp_path / "folder" / "x"),
        f"{tmp_path / 'evil.aez'}: refusing unsafe name '../escape' in the code file",
    )


def test_train_force_onto_a_linked_run_folder_leaves_no_hidden_link(tmp_path):
    from aeonnx.runtime.files import staged_directory

    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "run.json").write_text("{}")
    (tmp_path / "run").symlink_to(tmp_path / "real", target_is_directory=True)
    with staged_directory(tmp_path / "run", force=True, marker="run.json") as staging:
        (staging / "run.json").write_text('{"new": true}')
    assert sorted(os.listdir(tmp_path)) == ["real", "run"]  # no .run.PID.XXXX.old
    assert json.loads((tmp_path / "run" / "run.json").read_text()) == {"new": True}
    assert (tmp_path / "real" / "run.json").read_text() == "{}"  # what the link named is not deleted


def test_a_dangling_link_at_the_output_is_said_to_be_one(tmp_path):
    (tmp_path / "out.aez").symlink_to(tmp_path / "nowhere")
    result = invoke("compress", REPO / "examples" / "digit-2.png", "-o", tmp_path / "out.aez")
    one_line_error(result, "out.aez is a symbolic link to nothing; pass --force to replace it")


# --- messages --------------------------------------------------------------------------------------------------


def test_names_with_newlines_and_escape_sequences_are_printed_escaped(tmp_path):
    for name in ("two\nlines.png", "title\x1b]0;owned\x07.png"):
        (tmp_path / name).write_bytes(b"not a picture")
    result = invoke("compress", tmp_path / "two\nlines.png", tmp_path / "title\x1b]0;owned\x07.png",
                    "-o", tmp_path / "x.aez")  # fmt: skip
    assert result.exit_code == 1 and "\x1b" not in result.stderr and "\x07" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3 and "two\\nlines.png" in lines[0] and "title\\x1b]0;owned\\x07.png" in lines[1], lines


def test_a_file_of_another_shape_says_what_the_model_takes(tmp_path):
    from dataclasses import replace

    from aeonnx.runtime import load

    binding = replace(load("ae", device="cpu").binding, image_shape=(65535, 65535, 3))
    data = codefile.pack(np.zeros((1, 32), np.float32), "float32", binding)
    (tmp_path / "huge.aez").write_bytes(data)
    result = invoke("decompress", tmp_path / "huge.aez", "-o", tmp_path / "x.png")
    one_line_error(result, "the codes are of inputs of (65535, 65535, 3); the model takes 28x28 digits")
    assert "None" not in result.stderr


def test_help_shows_the_extras_it_names():
    from typer.testing import CliRunner

    from aeonnx.cli import app

    for command, extra in (("verify", "'.[train]'"), ("decompress", "'.[ray]'")):
        shown = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "240"}).output
        assert extra in shown and "(needs )" not in shown, shown


def test_the_python_api_decodes_at_most_what_it_is_allowed(tmp_path):
    from aeonnx.runtime import load
    from aeonnx.runtime.errors import DataError

    data = bomb(tmp_path / "many.aez", 100_001).read_bytes()
    ae = load("ae", device="cpu")
    with pytest.raises(DataError, match=r"100,001 codes, over the limit of 100,000 decoded in one call"):
        ae.decompress(data)
    assert len(ae.decompress(bomb(tmp_path / "few.aez", 3).read_bytes(), max_decoded=3).names) == 3


def test_a_folder_of_many_broken_entries_is_said_in_a_few_lines(mnist, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    Image.fromarray(mnist["x_test"][0]).save(folder / "good.png")
    for index in range(25):
        (folder / f"gone{index:02d}.png").symlink_to(tmp_path / "nowhere")
    result = invoke("compress", folder, "-o", tmp_path / "x.aez")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 12 and all("a symbolic link to nothing" in line for line in lines[:10]), lines
    assert lines[10] == "aeonnx: skipped 15 more input(s)"
    assert lines[11] == "aeonnx: error: 25 input(s) failed; the others were done"
