"""--engine ray on a real local Ray cluster (2 CPUs on 127.0.0.1): the same codes, bit for bit, as the
local path; the public Encoder/Decoder in a pipeline of one's own. Skipped without the [ray] extra.

Every test runs under a deadline (SIGALRM): a starved or stuck cluster fails the test, it never hangs CI.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import ray

from aeonnx.runtime import jobs, load
from aeonnx.runtime.aez import codefile
from aeonnx.runtime.jobs.ray_engine import Decoder, Encoder, RayEngine

from .helpers import REPO
from .test_parallel import compress_with, mixed_folder

DEADLINE_SECONDS = 180  # each test, and the cluster's start: measured at about 10-30 s each on 2 busy CPUs


@contextlib.contextmanager
def deadline(seconds: int = DEADLINE_SECONDS):
    def expired(signum, frame):
        raise TimeoutError(f"the Ray cluster did not finish within {seconds} s (starved or stuck)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def cluster():
    """A real local cluster of 2 CPUs on 127.0.0.1, shared by this module's tests: its GCS address."""
    with deadline():
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            log_to_driver=False,
            logging_level="ERROR",
        )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(autouse=True)
def bounded():
    with deadline():
        yield


@pytest.fixture(scope="module")
def inputs(mnist, tmp_path_factory):
    """A mixed folder of 1,200 images (photos, odd sizes, two broken files), 3,000 digits in an .npz and a
    truncated .npy: a few thousand digits, every path of the reader."""
    work = tmp_path_factory.mktemp("ray")
    folder = mixed_folder(mnist["x_test"], work / "scans", 1200)
    np.savez(work / "digits.npz", x=np.resize(mnist["x_train"], (3000, 28, 28)))
    np.save(work / "cut.npy", mnist["x_test"][:500])
    (work / "cut.npy").write_bytes((work / "cut.npy").read_bytes()[:-100])
    return work, [folder, work / "digits.npz", work / "cut.npy"]


@pytest.fixture(scope="module")
def model():
    return load("ae", device="cpu")


def test_ray_gives_the_local_bytes_failures_and_warnings(cluster, inputs, model):
    work, sources = inputs
    local = compress_with(jobs.SERIAL, model, sources, work / "local.aez")
    on_ray = compress_with(RayEngine(), model, sources, work / "ray.aez")
    assert local[3].done == 1200 + 6 + 3000 and local[1] and local[2]
    assert on_ray[:3] == local[:3]  # bytes, failures and warnings in input order
    assert ray.is_initialized()  # a cluster it joined is not the engine's to stop


def test_ray_decompress_writes_the_local_pngs(cluster, inputs, tmp_path):
    work, sources = inputs
    container = work / "digits-only.aez"
    model = load("ae", device="cpu")
    compress_with(jobs.SERIAL, model, sources[1:2], container)
    local = jobs.decompress_file(jobs.DecompressJob(container, tmp_path / "local"))
    on_ray = jobs.decompress_file(jobs.DecompressJob(container, tmp_path / "ray"), engine=RayEngine())
    assert len(local) == 3000
    assert [p.read_bytes() for p in on_ray] == [p.read_bytes() for p in local]


def test_the_public_classes_in_a_pipeline_of_ones_own(cluster, inputs, model):
    """read_binary_files -> filter -> map_batches(Encoder): the codes of the local path, image by image;
    then map_batches(Decoder) on those codes: the PNGs decompress writes."""
    work, sources = inputs
    folder = sources[0]
    dataset = ray.data.read_binary_files(str(folder), include_paths=True)
    dataset = dataset.filter(lambda row: not row["path"].endswith(".gif"))
    encoded = dataset.map_batches(
        Encoder,
        fn_constructor_kwargs={"model": "ae"},
        batch_size=256,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=2),
        num_cpus=0.5,
    )
    rows = encoded.take_all()
    local = codefile.from_bytes(compress_with(jobs.SERIAL, model, [folder], work / "folder.aez")[0])
    local_codes = dict(zip(local.names, codefile.stored_values(local, model.binding)))
    failed = sorted(Path(row["path"]).name for row in rows if row["error"])
    assert failed == ["scan_00050b.png", "scan_00130b.png"]
    good = [row for row in rows if not row["error"]]
    assert len(good) == 1200 + 5  # the GIF was filtered out
    for row in good:
        name = Path(row["path"]).relative_to(folder).with_suffix("").as_posix()
        assert np.array_equal(row["code"], local_codes[name]), name
    decoded = ray.data.from_items([{"name": n, "code": c} for n, c in list(local_codes.items())[:300]])
    pngs = decoded.map_batches(
        Decoder,
        fn_constructor_kwargs={"model": "ae", "precision": local.precision},
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=1),
        num_cpus=0.5,
    )
    written = {row["name"]: row["png"] for row in pngs.take_all()}
    jobs.decompress_file(jobs.DecompressJob(work / "folder.aez", work / "folder-local"))
    for name, png in written.items():
        assert png == (work / "folder-local" / f"{name}.png").read_bytes(), name


def test_the_command_line_joins_a_cluster_by_address(cluster, inputs, tmp_path):
    work, sources = inputs
    aeonnx = [sys.executable, "-c", "from aeonnx.cli import main; main()"]
    runs = {}
    for name, extra in {"local": ["-j", "1"], "ray": ["--engine", "ray", "--address", cluster]}.items():
        done = subprocess.run(
            [*aeonnx, "compress", str(sources[0]), "-o", str(tmp_path / f"{name}.aez"), *extra],
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS - 30,
        )
        assert done.returncode == 1 and "2 input(s) failed; the others were done" in done.stderr, done.stderr
        runs[name] = done
    assert runs["ray"].stderr == runs["local"].stderr  # the same messages, in the same order, and nothing else
    assert (tmp_path / "ray.aez").read_bytes() == (tmp_path / "local.aez").read_bytes()
    done = subprocess.run(
        [
            *aeonnx,
            "decompress",
            str(tmp_path / "ray.aez"),
            "-o",
            str(tmp_path / "back"),
            "--engine",
            "ray",
            "--address",
            cluster,
        ],
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS - 30,
    )
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "back").rglob("*.png"))) == 1206


@pytest.fixture(scope="module")
def yours(mnist, tmp_path_factory):
    """A model of one's own (a conv autoencoder on 32x32 grey, untrained: the engines' bytes are compared,
    not its quality) exported with `export_keras_pair`; pictures of other sizes and an .npy array for it."""
    from PIL import Image

    from aeonnx.export.your_model import export_keras_pair

    from .test_your_model import conv_autoencoder, digits32

    work = tmp_path_factory.mktemp("yours")
    export_keras_pair(*conv_autoencoder((32, 32, 1)), digits32(mnist, "x_train", 300), work / "models", "scans32")
    (work / "scans").mkdir()
    for index, digit in enumerate(digits32(mnist, "x_test", 40)):
        Image.fromarray(digit).resize((32 + index, 48)).save(work / "scans" / f"{index:02d}.png")
    np.save(work / "more.npy", digits32(mnist, "x_test", 100)[40:])
    return work


def test_a_model_of_your_own_gives_the_same_bytes_on_every_engine(cluster, yours):
    aeonnx = [sys.executable, "-c", "from aeonnx.cli import main; main()"]
    reading = [str(yours / "scans"), str(yours / "more.npy"), "--models", str(yours / "models"), "--model", "scans32"]
    engines = {"serial": ["-j", "1"], "processes": ["-j", "2"], "ray": ["--engine", "ray", "--address", cluster]}
    for name, extra in engines.items():
        done = subprocess.run(
            [*aeonnx, "compress", *reading, "-o", str(yours / f"{name}.aez"), *extra],
            capture_output=True,
            text=True,
            timeout=DEADLINE_SECONDS - 30,
        )
        assert done.returncode == 0, done.stderr
    serial = (yours / "serial.aez").read_bytes()
    assert (yours / "processes.aez").read_bytes() == serial and (yours / "ray.aez").read_bytes() == serial
    names, decoded, sizes = load("scans32", yours / "models", device="cpu").decompress(serial)
    assert decoded.shape == (100, 32, 32) and sizes[1] == (33, 48)  # the pictures' own sizes, kept


def test_a_model_of_float_values_gives_the_same_bytes_on_every_engine(cluster, tmp_path):
    """Issue 31's --floats: Ray's actors take its arrays as float32 (not pixels) and refuse its pictures, as
    the local engines do; the same file, the same one-line refusal."""
    import keras
    from keras import layers

    from aeonnx.export.your_model import export_keras_autoencoder

    windows = np.random.default_rng(0).normal(0, 1, (300, 16, 1)).astype(np.float32)
    autoencoder = keras.Sequential(
        [
            keras.Input((16, 1)),
            layers.Flatten(),
            layers.Dense(4, name="code"),
            layers.Dense(16),
            layers.Reshape((16, 1)),
        ]
    )
    export_keras_autoencoder(autoencoder, windows, tmp_path / "models", "signal", floats=True, code_layer="code")
    np.save(tmp_path / "windows.npy", windows)
    aeonnx = [sys.executable, "-c", "from aeonnx.cli import main; main()"]
    picture, models = str(REPO / "examples" / "digit-2.png"), str(tmp_path / "models")
    reading = [str(tmp_path / "windows.npy"), picture, "--models", models, "--model", "signal"]
    for name, extra in {"serial": ["-j", "1"], "ray": ["--engine", "ray", "--address", cluster]}.items():
        done = subprocess.run([*aeonnx, "compress", *reading, "-o", str(tmp_path / f"{name}.aez"), *extra],
                              capture_output=True, text=True, timeout=DEADLINE_SECONDS - 30)  # fmt: skip
        assert done.returncode == 1 and "digit-2.png: the model takes arrays of (16, 1) numbers" in done.stderr
    assert (tmp_path / "ray.aez").read_bytes() == (tmp_path / "serial.aez").read_bytes()
