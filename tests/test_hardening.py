"""Hostile and odd inputs, large batches, interruption and concurrency: each guarantee has its test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from aeonnx.runtime import jobs, load
from aeonnx.runtime.aez import codefile
from aeonnx.runtime.errors import DataError
from aeonnx.runtime.pictures.images import read_image

from .helpers import invoke, traced_peak


@pytest.fixture(scope="module")
def digit(mnist):
    return mnist["x_test"][0]


def save(image: Image.Image, path, **options):
    image.save(path, **options)
    return path


# --- hostile and odd images: each has a defined outcome -------------------------------------------
def test_decompression_bomb_over_our_limit(tmp_path):
    path = save(Image.new("1", (7000, 7000)), tmp_path / "bomb.png")  # 49 Mpixel in a few kB
    assert path.stat().st_size < 100_000
    with pytest.raises(DataError, match="7000x7000 image is over the limit of 40,000,000 pixels"):
        read_image(path)


def test_decompression_bomb_over_pillows_limit(tmp_path):
    path = save(Image.new("1", (12000, 12000)), tmp_path / "bomb.png")  # past Pillow's own bomb check
    with pytest.raises(DataError, match="over"):
        read_image(path)


def test_huge_dimensions_within_the_limit_are_fitted(tmp_path):
    wide = np.zeros((10, 100_000), np.uint8)
    wide[:, 40_000:60_000] = 255
    digit, size, _ = read_image(save(Image.fromarray(wide), tmp_path / "wide.png"))
    assert size == (100_000, 10) and digit.shape == (28, 28) and digit.max() > 0


def test_sixteen_bit_png_keeps_its_range(tmp_path, digit):
    deep = Image.fromarray(digit.astype(np.uint16) * 257)  # mode I;16
    np.testing.assert_array_equal(read_image(save(deep, tmp_path / "deep.png"))[0], digit)


def test_palette_png(tmp_path, digit):
    np.testing.assert_array_equal(read_image(save(Image.fromarray(digit).convert("P"), tmp_path / "p.png"))[0], digit)


def test_alpha_strokes_on_transparent_paper(tmp_path, digit):
    strokes = Image.fromarray(np.stack([np.zeros_like(digit), digit], axis=-1), mode="LA")  # black ink, alpha = ink
    got = read_image(save(strokes, tmp_path / "alpha.png"))[0]
    assert np.abs(got.astype(int) - digit).max() <= 1  # over white paper, then inverted


def test_cmyk_jpeg(tmp_path, digit):
    cmyk = Image.fromarray(digit).convert("CMYK")
    got = read_image(save(cmyk, tmp_path / "cmyk.jpg", quality=100))[0]
    assert np.abs(got.astype(int) - digit).mean() < 6


def test_animated_gif_uses_its_first_frame(tmp_path, digit):
    frames = [Image.fromarray(digit), Image.fromarray(255 - digit)]
    path = save(frames[0], tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    np.testing.assert_array_equal(read_image(path)[0], digit)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "not an image Pillow can read"),
        (b"hello, not a picture", "not an image Pillow can read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "not an image Pillow can read"),
    ],
)
def test_empty_text_and_truncated_files(tmp_path, content, fragment):
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    with pytest.raises(DataError, match=fragment):
        read_image(path)


def test_a_folder_named_like_an_image(tmp_path):
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        read_image(tmp_path / "folder.png")
    result = invoke("compress", tmp_path / "folder.png", "-o", tmp_path / "x.aez")
    assert result.exit_code == 1 and "folder holds no images" in result.stderr


def test_unreadable_file(tmp_path, digit, monkeypatch):
    path = save(Image.fromarray(digit), tmp_path / "secret.png")
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: make the open fail as it would for a user
        real_open = Image.open

        def denied(fp, *args, **kwargs):
            if str(fp) == str(path):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(fp, *args, **kwargs)

        monkeypatch.setattr(Image, "open", denied)
    with pytest.raises(DataError, match="permission denied"):
        read_image(path)


def test_symlink_loops_in_folder_input(tmp_path, digit):
    folder = tmp_path / "in"
    folder.mkdir()
    save(Image.fromarray(digit), folder / "real.png")
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # a folder that contains itself
    (folder / "a.png").symlink_to(folder / "b.png")
    (folder / "b.png").symlink_to(folder / "a.png")  # a file link loop
    result = invoke("compress", folder, "-o", tmp_path / "x.aez")
    # Issue 32: each is said in one line (they were skipped without a word), and the rest is done.
    assert result.exit_code == 1 and "3 input(s) failed; the others were done" in result.stderr, result.output
    for name, why in (("loop", "a link to a folder, not followed"), ("a.png", "in a loop"), ("b.png", "in a loop")):
        assert f"{folder / name}: " in result.stderr and why in result.stderr
    assert codefile.from_bytes((tmp_path / "x.aez").read_bytes()).names == ("real",)


def test_the_rest_of_a_batch_goes_on(tmp_path, digit):
    folder = tmp_path / "in"
    folder.mkdir()
    save(Image.fromarray(digit), folder / "good.png")
    (folder / "empty.png").write_bytes(b"")
    (folder / "text.png").write_text("no")
    save(Image.new("1", (7000, 7000)), folder / "bomb.png")
    save(Image.fromarray(digit).convert("CMYK"), folder / "cmyk.jpg")
    result = invoke("compress", folder, "-o", tmp_path / "x.aez")
    assert result.exit_code == 1 and "3 input(s) failed" in result.stderr
    assert "Traceback" not in result.output
    assert codefile.from_bytes((tmp_path / "x.aez").read_bytes()).names == ("cmyk", "good")


# --- array files that break midway ------------------------------------------------------------------
def test_truncated_npz_midway_keeps_nothing_of_it(tmp_path, mnist):
    np.savez(tmp_path / "big.npz", x=mnist["x_train"][:9000])
    data = (tmp_path / "big.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) * 2 // 3])
    save(Image.fromarray(mnist["x_test"][0]), tmp_path / "ok.png")
    model = load("ae", device="cpu")
    result = jobs.compress_files(
        jobs.CompressJob.of([tmp_path / "ok.png", tmp_path / "cut.npz"], tmp_path / "out.aez"), model
    )
    assert [f.source for f in result.failures] == [str(tmp_path / "cut.npz")]
    assert codefile.from_bytes((tmp_path / "out.aez").read_bytes()).names == ("ok",)


# --- large batches: memory follows the chunk, not the batch ---------------------------------------------
@pytest.mark.slow
def test_compressing_100k_digits_from_npz_holds_one_chunk_at_a_time(tmp_path, mnist):
    digits = np.resize(mnist["x_train"], (100_000, 28, 28))  # 78 MB of pixels
    np.savez(tmp_path / "many.npz", x=digits)
    del digits
    model = load("ae", device="cpu")
    job = jobs.CompressJob.of([tmp_path / "many.npz"], tmp_path / "many.aez")
    result, peak = traced_peak(lambda: jobs.compress_files(job, model))
    assert result.done == 100_000
    assert peak < 40e6  # bytes: a 4,096-digit chunk as float32 is 12.8 MB; the whole file would be 78 MB+


@pytest.mark.slow
def test_decompressing_a_large_container_streams(tmp_path, mnist):
    """Memory grows with the codes' bookkeeping (names, paths: about 1 KB a code), never with their
    pixels: compared at two sizes, so that fixed costs (the priors' tables, imports) do not count."""
    model = load("ae", device="cpu")
    peaks = {}
    for count in (4_000, 12_000):
        path = tmp_path / f"many{count}.aez"
        path.write_bytes(model.compress(np.resize(mnist["x_test"], (count, 28, 28)), "uint8"))
        written, peaks[count] = traced_peak(lambda: jobs.decompress_file(jobs.DecompressJob(path, device="cpu")))
        assert len(written) == count and written[0].exists()
    per_code = (peaks[12_000] - peaks[4_000]) / 8_000
    assert per_code < 0.5 * 784 * 4  # half of what each code's float32 image alone would take


# --- Ctrl-C and concurrent writers ---------------------------------------------------------------------
def aeonnx(*args):
    return [sys.executable, "-m", "aeonnx.cli", *map(str, args)]


# A FIFO no longer blocks a batch (it is skipped), so the stuck read is made here: a reader that sleeps, after
# leaving a file 'stuck.started' beside the image, the event the test waits for.
_STUCK_READER = (
    "import sys, time\n"
    "from aeonnx.runtime.pictures import images\n"
    "real = images.read_image\n"
    "def stuck(path, *args, **kwargs):\n"
    "    if path.name == 'stuck.png':\n"
    "        (path.parent / 'stuck.started').rename(path.parent / 'stuck.reading')\n"
    "        time.sleep(600)\n"
    "    return real(path, *args, **kwargs)\n"
    "images.read_image = stuck\n"
    "from aeonnx.cli import main\n"
    "main()\n"
)


def test_ctrl_c_during_a_batch_exits_cleanly(tmp_path, mnist):
    """SIGINT while the batch is being read: exit 130, one clear line, no output, no temporary file."""
    Image.fromarray(mnist["x_test"][0]).save(tmp_path / "first.png")
    Image.fromarray(mnist["x_test"][1]).save(tmp_path / "stuck.png")  # reading it takes forever
    (tmp_path / "stuck.started").touch()  # renamed to stuck.reading when the read begins
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _STUCK_READER,
            "compress",
            str(tmp_path / "first.png"),
            str(tmp_path / "stuck.png"),
            "-o",
            str(tmp_path / "out.aez"),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "stuck.reading").exists():
        assert process.poll() is None and time.monotonic() < deadline, "the read of stuck.png did not begin"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "aeonnx: error: interrupted; no partial output was kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.png", "stuck.png", "stuck.reading"]


def test_interrupted_write_leaves_neither_file_nor_temporary(tmp_path, monkeypatch):
    from aeonnx.runtime import files

    def ctrl_c(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "link", ctrl_c)  # Ctrl-C between writing the data and publishing it
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write_bytes(tmp_path / "out.aez", b"payload")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    with pytest.raises(KeyboardInterrupt):
        with files.staged_directory(tmp_path / "folder") as staging:
            (staging / "one.png").write_bytes(b"x")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_concurrent_processes_never_clobber(tmp_path, mnist):
    for index in range(4):
        Image.fromarray(mnist["x_test"][index]).save(tmp_path / f"d{index}.png")
    same = [
        subprocess.Popen(
            aeonnx("compress", tmp_path / f"d{i}.png", "-o", tmp_path / "same.aez"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    own = [
        subprocess.Popen(
            aeonnx("compress", tmp_path / f"d{i}.png"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for i in range(4)
    ]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in same + own]
    same_codes = [code for code, _ in results[:4]]
    assert sorted(same_codes) == [0, 1, 1, 1]  # exactly one writer won; the others were refused
    assert all("already exists" in err for code, err in results[:4] if code)
    winner = codefile.from_bytes((tmp_path / "same.aez").read_bytes())  # whole, with a valid CRC
    assert len(winner.names) == 1 and winner.names[0].startswith("d")
    assert [code for code, _ in results[4:]] == [0, 0, 0, 0]
    for index in range(4):
        assert jobs.read_code_file(tmp_path / f"d{index}.aez").names == (f"d{index}",)  # named after its file
