"""Speed and memory: cold start, in-process latency and throughput, threads, bulk compression, training."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from aeonnx.runtime import load, spec
from aeonnx.runtime.model import shipped_models_dir

from .common import REPO, aeonnx_command, interleaved, per_call, summary, timed_process

KERAS_RECORD = REPO / "artifacts" / "training"

KERAS_ONE_IMAGE = """
import sys, numpy as np, keras
from PIL import Image
model = keras.models.load_model(sys.argv[1], compile=False)
x = np.asarray(Image.open(sys.argv[2]).convert("L"), np.float32).reshape(1, 784) / 255
model.predict(x, verbose=0)
"""


FLOOR = "import numpy, onnxruntime, PIL.Image"
KERAS_ROUNDS = 3
FLOOR_NAME = f"floor: {FLOOR}"
# What any command line built on Typer that opens a PNG adds to the floor, then our modules on top: the
# differences between these contenders say where a cold start's time goes.
START_UP_LAYERS = {
    FLOOR_NAME: FLOOR,
    "+ import typer, PIL.PngImagePlugin": f"{FLOOR}, typer, PIL.PngImagePlugin",
    "+ import aeonnx.cli": f"{FLOOR}, typer, PIL.PngImagePlugin, aeonnx.cli",
    "+ the compress job's modules": f"{FLOOR}, typer, PIL.PngImagePlugin, aeonnx.cli, aeonnx.runtime.jobs.compress, "
    "aeonnx.runtime.jobs.parallel",
}


def cold_start(rounds: int, workdir: Path) -> dict:
    """`aeonnx compress one.png` and `aeonnx decompress one.aez` against the import floor, the layers of
    imports between (START_UP_LAYERS), `rounds` times in turn, and an equivalent Keras script (a few times:
    5 s a run). Each one's ratio to the floor is paired, the median of its run over the floor's run of the
    same round, which a machine's slow drifts leave alone. The package is byte-compiled first, as
    `pip install` leaves it: where PYTHONDONTWRITEBYTECODE is set, every start would compile our sources."""
    import compileall
    import importlib

    for package in ("aeonnx.cli", "aeonnx.runtime", "aeonnx.artifacts"):
        compileall.compile_dir(Path(importlib.import_module(package).__file__).parent, quiet=1)
    image, one, decoded = REPO / "examples" / "digit-2.png", workdir / "one.aez", workdir / "one-decoded.png"
    compress = [*aeonnx_command(), "compress", str(image), "-o", str(one), "--force"]
    subprocess.run(compress, check=True)
    contenders = {name: [sys.executable, "-c", imports] for name, imports in START_UP_LAYERS.items()}
    contenders["aeonnx compress one.png"] = compress
    contenders["aeonnx decompress one.aez"] = [*aeonnx_command(), "decompress", str(one), "-o", str(decoded), "--force"]
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, command in contenders.items():
            samples[name].append(timed_process(command)[0])
    results = {name: summary(values) for name, values in samples.items()}
    for name, stats in results.items():
        stats["vs_floor"] = statistics.median(t / floor for t, floor in zip(samples[name], samples[FLOOR_NAME]))
    keras = [sys.executable, "-c", KERAS_ONE_IMAGE, str(KERAS_RECORD / "ae" / "encoder.keras"), str(image)]
    keras_runs = [timed_process(keras)[0] for _ in range(KERAS_ROUNDS)]
    results["keras: load encoder, predict one image"] = summary(keras_runs)
    results["keras: load encoder, predict one image"]["vs_floor"] = statistics.median(keras_runs) / statistics.median(
        samples[FLOOR_NAME]
    )
    return {"rounds": rounds, "keras_rounds": KERAS_ROUNDS, "results": results}


def numpy_part(model_name: str, part_name: str):
    """The same part in plain numpy with the Keras checkpoint's weights: the floor."""
    layers = [layer for layer in _keras_part(model_name, part_name).layers if layer.weights]
    params = [(np.asarray(layer.kernel), np.asarray(layer.bias), layer.activation.__name__) for layer in layers]

    def act(name, v):
        return np.maximum(v, 0) if name == "relu" else 1 / (1 + np.exp(-v)) if name == "sigmoid" else v

    if model_name == "vae" and part_name == "encoder":
        (k0, b0, a0), (k1, b1, _), (k2, b2, _) = params
        return lambda x: (lambda h: (h @ k1 + b1, h @ k2 + b2))(act(a0, x @ k0 + b0))

    def forward(x):
        for kernel, bias, activation in params:
            x = act(activation, x @ kernel + bias)
        return x

    return forward


_KERAS_CACHE: dict = {}


def _keras_part(model_name: str, part_name: str):
    key = (model_name, part_name)
    if key not in _KERAS_CACHE:
        import keras

        import aeonnx.train.models  # noqa: F401  registers the VAE class

        path = KERAS_RECORD / model_name / spec.get_model(model_name).keras_file(part_name)
        _KERAS_CACHE[key] = keras.models.load_model(path, compile=False)
    return _KERAS_CACHE[key]


def in_process(x_test: np.ndarray, calls: int, keras_calls: int, big: int) -> dict:
    """Batch-1 latency and `big`-batch throughput of each part: API, raw onnxruntime, numpy, Keras."""
    import onnxruntime

    results = {}
    for model_name, part_name in spec.MODEL_PARTS:
        model = load(model_name, device="cpu")
        model_spec = spec.get_model(model_name)
        part = model_spec.part(part_name)
        x = x_test.reshape(-1, 784).astype(np.float32) / 255
        z = model.encode(x_test)
        inputs = x if part_name == "encoder" else z
        raw = onnxruntime.InferenceSession(
            shipped_models_dir().joinpath(model_spec.onnx_file(part_name)).read_bytes(),
            providers=["CPUExecutionProvider"],
        )
        api = model.encode if part_name == "encoder" else (lambda v: model.decode(v, as_float=True))
        numpy_forward = numpy_part(model_name, part_name)
        keras_model = _keras_part(model_name, part_name)
        one, many = inputs[:1], np.resize(inputs, (big, inputs.shape[1]))
        contenders = {
            "aeonnx API": (lambda v: api(v), calls),
            "onnxruntime": (lambda v: raw.run(None, {part.inputs[0]: v}), calls),
            "numpy": (numpy_forward, calls),
            "keras model(x)": (lambda v: keras_model(v, training=False), keras_calls),
            "keras predict": (lambda v: keras_model.predict(v, verbose=0, batch_size=len(v)), keras_calls),
        }
        part_results = {}
        for name, (function, count) in contenders.items():
            latency = summary(per_call(lambda f=function: f(one), count))
            throughput = [big / t for t in per_call(lambda f=function: f(many), 5)]
            part_results[name] = {"batch1_seconds": latency, "throughput_images_per_s": summary(throughput)}
        onnx_median = part_results["onnxruntime"]["batch1_seconds"]["median"]
        for stats in part_results.values():
            stats["batch1_vs_onnxruntime"] = stats["batch1_seconds"]["median"] / onnx_median
        results[f"{model_name} {part_name}"] = part_results
    return results


def threads(x_test: np.ndarray, big: int) -> dict:
    """Throughput of each part with onnxruntime intra-op threads 1 and all cores."""
    results = {}
    cores = os.cpu_count() or 1
    for count in sorted({1, cores}):
        for model_name in spec.MODEL_NAMES:
            model = load(model_name, device="cpu", threads=count)
            many = np.resize(x_test, (big, 28, 28))
            z = model.encode(many)
            encode = summary([big / t for t in per_call(lambda: model.encode(many), 5)])
            decode = summary([big / t for t in per_call(lambda: model.decode(z), 5)])
            results[f"{model_name} threads={count}"] = {"encode_images_per_s": encode, "decode_images_per_s": decode}
    return results


def digit_files(x_test: np.ndarray, count: int, workdir: Path, name: str) -> tuple[Path, Path]:
    """`count` real digits (repeated) as NAME.npz and as a folder NAME-pngs/ of PNG files."""
    from PIL import Image

    digits = np.resize(x_test, (count, 28, 28))
    npz = workdir / f"{name}.npz"
    np.savez(npz, x=digits)
    folder = workdir / f"{name}-pngs"
    folder.mkdir(exist_ok=True)
    for index, digit in enumerate(digits):
        Image.fromarray(digit).save(folder / f"{index:06d}.png")
    return npz, folder


def bulk(x_test: np.ndarray, count: int, rounds: int, workdir: Path) -> dict:
    """Compress `count` digits from an .npz and from a folder of PNGs: images/s, peak RSS, decoding's share."""
    contenders = _bulk_contenders(x_test, count, workdir)
    samples = {name: [] for name in contenders}
    peaks: dict[str, int] = {}
    for _ in range(rounds):
        for name, run in contenders.items():
            seconds, peak = run()
            samples[name].append(seconds)
            if peak is not None:
                peaks[name] = max(peaks.get(name, 0), peak)
    results = {
        name: {"seconds": summary(v), "images_per_s": count / summary(v)["median"]} for name, v in samples.items()
    }
    for name, peak in peaks.items():
        results[name]["peak_rss_mib"] = peak
    png_total = results["png folder (CLI)"]["seconds"]["median"]
    results["png decoding share"] = results["png decode only"]["seconds"]["median"] / png_total
    results["png read+preprocess share"] = results["png read + preprocess only"]["seconds"]["median"] / png_total
    results["count"] = count
    return results


def _bulk_contenders(x_test: np.ndarray, count: int, workdir: Path) -> dict:
    """name -> one run, giving (seconds, peak RSS MiB or None): the CLI on both sources, the API, PNG reading alone."""
    from PIL import Image

    from aeonnx.runtime import jobs
    from aeonnx.runtime.pictures.images import read_image

    npz, folder = digit_files(x_test, count, workdir, "bulk")
    command = aeonnx_command()
    model = load("ae", device="cpu")

    def cli(source):
        return lambda: timed_process([*command, "compress", str(source), "-o", str(workdir / "out.aez"), "--force"])

    def in_process(work):
        def run():
            started = time.perf_counter()
            work()
            return time.perf_counter() - started, None

        return run

    def decode_only():
        for path in sorted(folder.iterdir()):
            with Image.open(path) as image:
                np.asarray(image.convert("L"))

    return {
        "npz (CLI)": cli(npz),
        "png folder (CLI)": cli(folder),
        "npz (in-process)": in_process(
            lambda: jobs.compress_files(jobs.CompressJob.of([npz], workdir / "api.aez", force=True), model)
        ),
        "png decode only": in_process(decode_only),
        "png read + preprocess only": in_process(lambda: [read_image(path) for path in sorted(folder.iterdir())]),
    }


def large_batches(x_test: np.ndarray, count: int, workdir: Path) -> dict:
    """`aeonnx compress` and `decompress` on `count` digits (npz and PNG folder): peak RSS stays flat."""
    npz, folder = digit_files(x_test, count, workdir, "large")
    command = aeonnx_command()
    results = {"count": count}
    for name, args in {
        "compress npz": ["compress", npz, "-o", workdir / "large.aez", "--force"],
        "compress png folder": ["compress", folder, "-o", workdir / "large-png.aez", "--force"],
        "decompress to PNG files": ["decompress", workdir / "large.aez", "-o", workdir / "large-out", "--force"],
    }.items():
        seconds, peak = timed_process([*command, *map(str, args)])
        results[name] = {"seconds": seconds, "images_per_s": count / seconds, "peak_rss_mib": peak}
    return results


PLAIN_KERAS_FIT = """
import json, sys, time, numpy as np, keras, tensorflow as tf
keras.utils.set_random_seed(0)
tf.config.experimental.enable_op_determinism()
with np.load(sys.argv[1]) as d:
    x, xt = (d[k].reshape(len(d[k]), 784).astype(np.float32) / 255 for k in ("x_train", "x_test"))
model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                          keras.layers.Dense(784, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["mse"])
class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds.append(time.perf_counter() - self.started)

seconds = []
model.fit(x, x, epochs=int(sys.argv[2]), batch_size=128, shuffle=True, validation_data=(xt, xt), verbose=0,
          callbacks=[EpochTimer()])
print(json.dumps({"epoch_seconds": seconds}))
"""


def training(data: Path, epochs: int, rounds: int, workdir: Path) -> dict:
    """Seconds per epoch of `aeonnx train ae` against a plain Keras fit of the same model and data:
    the median epoch after the first (the first traces the graphs, once per run)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def steady(epoch_seconds: list[float]) -> float:
        return float(np.median(epoch_seconds[1:]))

    def ours():
        out = workdir / "run"
        subprocess.run(
            [
                *aeonnx_command(),
                "train",
                "ae",
                "--data",
                str(data),
                "--epochs",
                str(epochs),
                "--out",
                str(out),
                "--force",
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        return steady(json.loads((out / spec.RUN_CONFIG_FILE).read_text())["epoch_seconds"])

    def plain():
        done = subprocess.run(
            [sys.executable, "-c", PLAIN_KERAS_FIT, str(data), str(epochs)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        return steady(json.loads(done.stdout.strip().splitlines()[-1])["epoch_seconds"])

    results = interleaved({"aeonnx train ae": ours, "plain keras fit": plain}, rounds)
    results["ratio"] = results["aeonnx train ae"]["median"] / results["plain keras fit"]["median"]
    results["epochs"] = epochs
    return results


def run_speed(data: Path, quick: bool) -> dict:
    with np.load(data) as archive:
        x_test = archive["x_test"]
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        return {
            "cold_start": cold_start(rounds=5 if quick else 25, workdir=workdir),
            "in_process": in_process(
                x_test, calls=200 if quick else 2000, keras_calls=20 if quick else 100, big=10_000
            ),
            "threads": threads(x_test, big=10_000),
            "bulk": bulk(x_test, count=2_000 if quick else 10_000, rounds=1 if quick else 3, workdir=workdir),
            "large_batches": large_batches(x_test, count=10_000 if quick else 100_000, workdir=workdir),
            "training": training(data, epochs=2 if quick else 5, rounds=1 if quick else 3, workdir=workdir),
        }
