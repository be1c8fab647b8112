"""--jobs N: every local core, the same bytes as one process, failures and warnings in input order,
Ctrl-C leaving nothing behind (no file, no temporary, no process)."""

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
from aeonnx.runtime.jobs import parallel

from .helpers import invoke, one_line_error


def mixed_folder(digits: np.ndarray, folder, count: int):
    """`count` real digits as PNGs (some in a subfolder), with photos and odd pictures spread among them:
    light paper (RGB JPEG), transparency, 16-bit, palette GIF, 1x1, tall and thin, and two unreadable files."""
    rng = np.random.default_rng(0)
    (folder / "sub").mkdir(parents=True)
    for index in range(count):
        where = folder / "sub" if index % 7 == 0 else folder
        Image.fromarray(digits[index % len(digits)]).save(where / f"scan_{index:05d}.png")
    ink = np.kron(255 - digits[0], np.ones((4, 3), np.uint8))  # dark digit on light paper, 84x112
    photo = np.clip(ink[..., None] + rng.normal(0, 12, (*ink.shape, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(photo).save(folder / "scan_00003b.jpg", quality=90)
    rgba = np.zeros((45, 17, 4), np.uint8)
    rgba[..., 3], rgba[10:35, 5:12, :3] = 0, 255
    rgba[10:35, 5:12, 3] = 255
    Image.fromarray(rgba).save(folder / "scan_00040b.png")
    Image.fromarray(digits[1].astype(np.uint16) * 257).save(folder / "scan_00077b.png")
    Image.fromarray(digits[2]).convert("P").save(folder / "scan_00090b.gif")
    Image.fromarray(np.full((1, 1), 200, np.uint8)).save(folder / "scan_00100b.png")
    Image.fromarray(np.kron(digits[3], np.ones((10, 1), np.uint8))).save(folder / "scan_00120b.png")
    (folder / "scan_00050b.png").write_bytes(b"not a png at all")
    (folder / "scan_00130b.png").write_bytes(b"")
    return folder


@pytest.fixture(scope="module")
def model():
    return load("ae", device="cpu")


@pytest.fixture
def small_tasks(monkeypatch):
    """Tasks of a few items, so that a test-sized input spreads over every worker; counts the pools."""
    monkeypatch.setattr(parallel, "IMAGES_PER_TASK", 16)
    monkeypatch.setattr(parallel, "CODES_PER_TASK", 50)
    pools = []
    real = parallel._start_pool
    monkeypatch.setattr(parallel, "_start_pool", lambda workers, ref: pools.append(workers) or real(workers, ref))
    return pools


def compress_with(engine, model, sources, output, **how):
    failures, warnings = [], []
    events = jobs.Events(on_failure=failures.append, on_warning=lambda label, why: warnings.append((label, why)))
    result = jobs.compress_files(jobs.CompressJob.of(sources, output, **how), model, events, engine)
    return output.read_bytes(), [(f.source, f.reason) for f in failures], warnings, result


def test_folders_and_arrays_give_the_same_bytes_with_any_number_of_jobs(mnist, model, tmp_path, small_tasks):
    folder = mixed_folder(mnist["x_test"], tmp_path / "scans", 150)
    npz = tmp_path / "digits.npz"
    np.savez(npz, x=np.resize(mnist["x_test"], (9000, 28, 28)))  # three chunks of inputs.CHUNK
    truncated = tmp_path / "cut.npy"  # fails midway: its first chunk is dropped, the rest goes on
    np.save(truncated, np.resize(mnist["x_train"], (5000, 28, 28)))
    truncated.write_bytes(truncated.read_bytes()[:-1000])
    sources = [folder, npz, truncated]
    serial = compress_with(jobs.SERIAL, model, sources, tmp_path / "serial.aez")
    assert serial[1] and serial[2] and serial[3].done == 150 + 6 + 9000  # failures and warnings were exercised
    for count in (1, 2, 3):
        parallel_run = compress_with(parallel.LocalProcesses(count), model, sources, tmp_path / f"jobs{count}.aez")
        assert parallel_run[:3] == serial[:3], count  # bytes, failures and warnings, in input order
    assert small_tasks == [2, 3]  # --jobs 1 ran in this process; the others really used their workers


@pytest.mark.parametrize(
    "precision,invert,framing",
    [("float16", True, "locate"), ("float32", None, "center"), ("auto", None, "fit"), (5, False, "locate")],
)
def test_reading_options_and_precisions_travel_to_the_workers(
    mnist, model, tmp_path, small_tasks, precision, invert, framing
):
    folder = mixed_folder(mnist["x_test"], tmp_path / "scans", 60)
    how = dict(precision=precision, invert=invert, framing=framing)
    serial = compress_with(jobs.SERIAL, model, [folder], tmp_path / "serial.aez", **how)
    assert compress_with(parallel.LocalProcesses(2), model, [folder], tmp_path / "two.aez", **how)[:3] == serial[:3]
    assert small_tasks == [2]


def test_decompress_writes_the_same_pngs_with_any_number_of_jobs(mnist, tmp_path, small_tasks):
    np.savez(tmp_path / "digits.npz", x=mnist["x_test"][:333])
    assert invoke("compress", tmp_path / "digits.npz", "-o", tmp_path / "d.aez", "-j", "1").exit_code == 0
    outputs = {}
    for count in ("1", "2", "3"):
        result = invoke("decompress", tmp_path / "d.aez", "-o", tmp_path / f"out{count}", "-j", count)
        assert result.exit_code == 0, result.output
        outputs[count] = {p.name: p.read_bytes() for p in sorted((tmp_path / f"out{count}" / "digits" / "x").iterdir())}
    assert len(outputs["1"]) == 333
    assert outputs["1"] == outputs["2"] == outputs["3"]
    assert small_tasks == [2, 3]


def test_the_command_line_gives_the_same_container_for_any_jobs(mnist, tmp_path, small_tasks):
    folder = mixed_folder(mnist["x_test"], tmp_path / "scans", 100)
    results = [invoke("compress", folder, "-o", tmp_path / f"{count}.aez", "--jobs", count) for count in ("1", "2")]
    assert [r.exit_code for r in results] == [1, 1]  # two inputs failed; the others were done
    assert results[0].stderr == results[1].stderr  # the same messages, in the same order
    assert (tmp_path / "1.aez").read_bytes() == (tmp_path / "2.aez").read_bytes()


def test_bad_jobs_and_engine_options_are_one_line_errors(tmp_path):
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "a.png")
    one_line_error(invoke("compress", tmp_path / "a.png", "-j", "0"), "--jobs must be at least 1", alone=True)
    one_line_error(invoke("decompress", tmp_path / "a.aez", "--jobs", "-2"), "--jobs must be at least 1", alone=True)
    one_line_error(
        invoke("compress", tmp_path / "a.png", "--address", "127.0.0.1:6379"), "needs --engine ray", alone=True
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "a.png"]


def test_the_ray_engine_without_its_extra_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed: `import ray` fails
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "a.png")
    line = one_line_error(invoke("compress", tmp_path / "a.png", "--engine", "ray"), alone=True)
    assert line == "aeonnx: error: the Ray engine needs the ray extra: pip install '.[ray]' in aeonnx's folder"


def test_a_worker_that_dies_fails_the_batch_in_one_line(mnist, model, tmp_path, small_tasks, monkeypatch):
    folder = mixed_folder(mnist["x_test"], tmp_path / "scans", 100)
    monkeypatch.setattr(parallel, "_encode_files", _die)  # run by the workers: they import this test module
    with pytest.raises(parallel.AeonnxError, match="a worker process died"):
        compress_with(parallel.LocalProcesses(2), model, [folder], tmp_path / "out.aez")
    assert not (tmp_path / "out.aez").exists()


def _die(*args):
    os._exit(9)


# Each process that reads announces it once, with a file named after its pid in $AEONNX_TEST_READING: the
# test waits on those files (events), not on a guess of how long start-up takes.
SLOW_READER = """
import os, time
from aeonnx.runtime.pictures import images
real = images.read_image
def slow(*args, **kwargs):
    marker = os.path.join(os.environ["AEONNX_TEST_READING"], str(os.getpid()))
    if not os.path.exists(marker):
        open(marker, "w").close()
    time.sleep(0.005)
    return real(*args, **kwargs)
images.read_image = slow
"""


def test_ctrl_c_stops_the_workers_and_leaves_nothing(mnist, tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    for index, digit in enumerate(np.resize(mnist["x_test"], (6000, 28, 28))):
        Image.fromarray(digit).save(folder / f"{index:05d}.png")
    # Every process of the command, workers included, reads slowly (15 s of work), so that Ctrl-C comes
    # while the workers work.
    (tmp_path / "slow").mkdir()
    (tmp_path / "slow" / "sitecustomize.py").write_text(SLOW_READER)
    reading = tmp_path / "slow" / "reading"
    reading.mkdir()
    path = os.pathsep.join([str(tmp_path / "slow"), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path, "AEONNX_TEST_READING": str(reading)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from aeonnx.cli import main; main()",
            "compress",
            str(folder),
            "-o",
            str(tmp_path / "out.aez"),
            "-j",
            "2",
        ],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    _wait_for_workers(process.pid)
    _wait_until(lambda: len({int(p.name) for p in reading.iterdir()} - {process.pid}) >= 2, "the workers read")
    assert process.poll() is None
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert stderr.strip().splitlines()[-1] == "aeonnx: error: interrupted; no partial output was kept"
    assert "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scans", "slow"]
    _wait_until(lambda: not _alive(process.pid), "every process of the command ends", timeout=10)


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for_workers(pid: int) -> None:
    """Until `pid` has started two worker processes."""
    _wait_until(lambda: sum("spawn_main" in _command_line(child) for child in _children(pid)) >= 2, "workers start")


def _wait_until(happened, what: str, timeout: float = 60) -> None:
    """Poll for an event (a file, a process) every 0.05 s; fail naming it after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not happened():
        assert time.monotonic() < deadline, f"waited {timeout} s for: {what}"
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().decode(errors="replace")
    except OSError:
        return ""


def test_one_image_starts_no_worker_and_imports_neither_ray_nor_multiprocessing(tmp_path):
    """The default --jobs is every core, but work too small to share stays in the process: start-up stays light."""
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "a.png")
    probe = (
        "import sys\nfrom typer.testing import CliRunner\nfrom aeonnx.cli import app\n"
        "for args in (['compress', 'a.png'], ['decompress', 'a.aez', '-o', 'b.png']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'multiprocessing', 'pyarrow')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == "[]"


def test_without_jobs_small_work_stays_in_the_process_and_large_work_uses_the_cores(monkeypatch):
    engine = parallel.LocalProcesses()
    monkeypatch.setattr(engine, "jobs", 8)
    assert engine._workers(tasks=20, worth=0.9) == 1  # starting a worker would cost more than it saves
    assert engine._workers(tasks=20, worth=3.5) == 3
    assert engine._workers(tasks=20, worth=100) == 8
    assert engine._workers(tasks=2, worth=100) == 2  # never more workers than tasks
    assert parallel.LocalProcesses(5)._workers(tasks=20, worth=0.1) == 5  # --jobs N is obeyed
