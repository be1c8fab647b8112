"""Models trained on images of your own: dense against conv at equal latent size, and both against JPEG and
WebP at matching bytes, on Fashion-MNIST, all of MNIST and colour photographs.

    python -m bench.your_images [--only fashion|mnist|colour] [--epochs 30] [--quick]

Each model is trained and exported by the commands a user runs (`aeonnx train`, `aeonnx export`), cached in
bench/results/cache by its settings, and measured on held-out images its training never saw: bytes per image
in one container of 1,000 (as `aeonnx compress FOLDER` writes), at the model's default bits and at 4-8 bits,
against the PSNR of the decoded images. JPEG and WebP are one file per image (Pillow), their PSNR read off
their curve at the aeonnx model's bytes. Writes bench/results/your_images.json; `python -m bench.report`
puts it in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from .common import RESULTS, TRAIN_DATA, aeonnx_command, machine

FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist: IDX files
TEST_IMAGES = 1_000
EPOCHS = 30  # the same for every model compared: conv epochs cost ~20 s on 55,000 digits on 2 cores
LATENT = 32
COLOUR_LATENT = 64
COLOUR_SIDE = 32
COLOUR_TRAIN_PATCHES = 20_000
JPEG_QUALITIES = (1, 5, 10, 20, 30, 50, 75, 90)
WEBP_QUALITIES = (0, 5, 10, 25, 50, 75, 90)
BITS = (4, 5, 6, 7, 8)


def train_and_export(name: str, model: str, data: Path, cache: Path, options: list[str]) -> Path:
    """A models folder holding `model` trained on `data` with `options`, cached under `name`."""
    models = cache / name
    if (models / "manifest.json").exists():
        return models
    run, command = cache / f"run-{name}", aeonnx_command()
    train = [*command, "train", model, "--data", str(data), "--seed", "0", "--out", str(run), "--force", *options]
    print(" ".join(train[len(command) - 1 :]), file=sys.stderr)
    subprocess.run(train, check=True, capture_output=True)
    export = [*command, "export", model, "--run", str(run), "--out", str(models), "--force"]
    reading = ["--preprocessing", "resize"] if "fashion" in name else []  # garments are not located as digits
    subprocess.run(export + reading, check=True, capture_output=True)
    return models


def aeonnx_points(models: Path | None, images: np.ndarray, label: str) -> list[dict]:
    """Bytes per image in one container of the test images, and PSNR, at each bits (default marked)."""
    from aeonnx.runtime import load, metrics

    model = load("ae", models, device="cpu")
    x = images.astype(np.float32) / 255
    names = [f"image_{i:06d}" for i in range(len(images))]
    points = []
    for bits in BITS:
        container = model.compress(images, bits, names)
        decoded = model.decompress(container, as_float=True).images
        points.append(
            {
                "model": label,
                "bits": bits,
                "default": bits == model.binding.default_precision,
                "bytes_per_image": len(container) / len(images),
                "psnr": metrics.psnr(x, decoded.reshape(x.shape)),
            }
        )
    float32 = model.decode(model.encode(images), as_float=True)
    for point in points:
        point["psnr_float32_codes"] = metrics.psnr(x, float32.reshape(x.shape))
    return points


def codec_curve(images: np.ndarray, fmt: str, qualities: tuple[int, ...]) -> list[dict]:
    """One file per image at each quality (bench.rate_distortion's codec run): bytes per image and PSNR."""
    from .rate_distortion import pillow_codec

    return [{"quality": quality, **pillow_codec(images, fmt, quality=quality)} for quality in qualities]


def at_bytes(curve: list[dict], target: float) -> float | None:
    """A codec's PSNR at `target` bytes per image, on its curve (None: no file of its is that small)."""
    points = sorted(curve, key=lambda p: p["bytes_per_image"])
    if target < points[0]["bytes_per_image"]:
        return None
    sizes, psnrs = [p["bytes_per_image"] for p in points], [p["psnr"] for p in points]
    return float(np.interp(target, sizes, psnrs))


def compare(points: list[dict], curves: dict[str, list[dict]]) -> list[dict]:
    """Each model's default-bits point, with each codec's PSNR at its bytes."""
    rows = []
    for point in (p for p in points if p["default"]):
        row = dict(point)
        for codec, curve in curves.items():
            row[f"{codec}_psnr_at_bytes"] = at_bytes(curve, point["bytes_per_image"])
            row[f"{codec}_smallest"] = min(curve, key=lambda p: p["bytes_per_image"])
        rows.append(row)
    return rows


def psnr_at(points: list[dict], label: str, target: float) -> float:
    """A model's PSNR at `target` bytes per image, on its 4-8 bit curve."""
    rows = sorted((p for p in points if p["model"] == label), key=lambda p: p["bytes_per_image"])
    return float(np.interp(target, [p["bytes_per_image"] for p in rows], [p["psnr"] for p in rows]))


def fashion(cache: Path, epochs: int) -> dict:
    from aeonnx.train.data import load_dataset

    test = load_dataset(FASHION).x_test[:TEST_IMAGES]
    options = ["--epochs", str(epochs), "--latent-size", str(LATENT)]
    points = []
    for arch in ("dense", "conv"):
        models = train_and_export(
            f"fashion-{arch}-{LATENT}-{epochs}ep", "ae", FASHION, cache, [*options, "--arch", arch]
        )
        points += aeonnx_points(models, test, f"{arch} AE, latent {LATENT}")
    curves = {"jpeg": codec_curve(test, "JPEG", JPEG_QUALITIES), "webp": codec_curve(test, "WEBP", WEBP_QUALITIES)}
    return {
        "data": f"{FASHION} (first {TEST_IMAGES} test images)",
        "epochs": epochs,
        "points": points,
        "compared": compare(points, curves),
        "codecs": curves,
    }


def mnist(cache: Path, epochs: int, data: Path) -> dict:
    with np.load(data) as archive:
        test = archive["x_test"][:TEST_IMAGES]
    conv = train_and_export(
        f"mnist-conv-{LATENT}-{epochs}ep",
        "ae",
        data,
        cache,
        ["--epochs", str(epochs), "--latent-size", str(LATENT), "--arch", "conv"],
    )
    shipped_label, conv_label = "dense AE, latent 32 (shipped, 200 epochs)", f"conv AE, latent {LATENT}"
    points = aeonnx_points(None, test, shipped_label) + aeonnx_points(conv, test, conv_label)
    curves = {"jpeg": codec_curve(test, "JPEG", JPEG_QUALITIES), "webp": codec_curve(test, "WEBP", WEBP_QUALITIES)}
    shipped = next(p for p in points if p["model"] == shipped_label and p["default"])
    gain = psnr_at(points, conv_label, shipped["bytes_per_image"]) - shipped["psnr"]
    return {
        "data": f"{data.name} (its first {TEST_IMAGES} test digits)",
        "epochs": epochs,
        "points": points,
        "compared": compare(points, curves),
        "codecs": curves,
        "conv_gain_db_at_shipped_bytes": gain,
        "shipped_bytes_per_image": shipped["bytes_per_image"],
    }


def colour_folders(root: Path) -> tuple[Path, Path]:
    """Patches of scikit-learn's two sample photographs (427x640): squares of 32-96 pixels, as PNG files in a
    folder per photograph; the training ones from the left three quarters of each, the held-out ones from the
    right quarter, so that no held-out patch overlaps a training one."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    train, test = root / "train", root / "held-out"
    if (root / "done").exists():
        return train, test
    rng = np.random.default_rng(0)
    photos = load_sample_images()
    for path, photo in zip(photos.filenames, photos.images):
        height, width = photo.shape[:2]
        split = width * 3 // 4
        for folder, (left, right), count in (
            (train, (0, split), COLOUR_TRAIN_PATCHES // 2),
            (test, (split, width), TEST_IMAGES // 2),
        ):
            target = folder / Path(path).stem
            target.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                side = int(rng.integers(32, 97))
                top, start = int(rng.integers(0, height - side)), int(rng.integers(left, right - side))
                Image.fromarray(photo[top : top + side, start : start + side]).save(target / f"{i:05d}.png")
    (root / "done").touch()
    return train, test


def colour(cache: Path, epochs: int) -> dict:
    from aeonnx.train.image_folder import read_folder

    train, test_folder = colour_folders(cache / "photo-patches")
    test = read_folder(test_folder, (COLOUR_SIDE, COLOUR_SIDE), 3)[0]  # as compress reads them: centre crop, Lanczos
    options = [
        "--epochs",
        str(epochs),
        "--latent-size",
        str(COLOUR_LATENT),
        "--arch",
        "conv",
        "--size",
        f"{COLOUR_SIDE}x{COLOUR_SIDE}",
        "--channels",
        "3",
    ]
    models = train_and_export(f"colour-conv-{COLOUR_LATENT}-{epochs}ep", "ae", train, cache, options)
    points = aeonnx_points(models, test, f"conv AE, latent {COLOUR_LATENT}")
    mean = test.astype(np.float32).mean(axis=0) / 255
    from aeonnx.runtime import metrics

    x = test.astype(np.float32) / 255
    mean_psnr = metrics.psnr(x, np.broadcast_to(mean, x.shape))
    curves = {"jpeg": codec_curve(test, "JPEG", JPEG_QUALITIES), "webp": codec_curve(test, "WEBP", WEBP_QUALITIES)}
    return {
        "data": f"scikit-learn's sample photographs: {COLOUR_TRAIN_PATCHES} training patches, "
        f"{len(test)} held-out ones from apart",
        "epochs": epochs,
        "points": points,
        "compared": compare(points, curves),
        "codecs": curves,
        "mean_image_psnr": mean_psnr,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("fashion", "mnist", "colour"))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--train-data", type=Path, default=TRAIN_DATA, help="all of MNIST (mnist-60k.npz)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    cache = args.out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    path = args.out / "your_images.json"
    report = json.loads(path.read_text()) if path.is_file() else {"measured": {}}
    sections = {
        "fashion": lambda: fashion(cache, args.epochs),
        "mnist": lambda: mnist(cache, args.epochs, args.train_data),
        "colour": lambda: colour(cache, args.epochs),
    }
    command = "python -m bench.your_images" + (f" --only {args.only}" if args.only else "")
    for name, run in sections.items():
        if args.only not in (None, name):
            continue
        report[name] = run()
        report["measured"][name] = {"date": datetime.date.today().isoformat(), "command": command, "machine": machine()}
        path.write_text(json.dumps(report, indent=2) + "\n")
        print(f"{name}: {json.dumps(report[name]['compared'], indent=1)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
