"""Rate-distortion on the shared test digits: aeonnx codes against PNG, JPEG and WebP.

Bytes per image are what a user stores: a whole single-image file (PNG, JPEG,
WebP, or the .aez that `compress img.png` writes), or a share of one batch
container of the 1,000 digits named like a folder of scans (scan_000000 ...).
aeonnx rows: format v2, float32, float16 and entropy-coded at 4-8 bits
(the model's default bits marked). Distortion is PSNR (mean over images) and
per-pixel BCE of the decoded digit against the original.
"""

from __future__ import annotations

import io
import lzma
import subprocess
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from aeonnx.runtime import load, metrics, spec
from aeonnx.runtime.aez import codefile

from .common import aeonnx_command

AE_VARIANT_LATENTS = (8, 16, 64)  # besides the shipped 32
JPEG_QUALITIES = (1, 5, 10, 20, 30, 50, 75, 90, 95)
WEBP_QUALITIES = (0, 5, 10, 25, 50, 75, 90, 100)


def _quality(x: np.ndarray, x_hat: np.ndarray) -> dict:
    return {"psnr": metrics.psnr(x, x_hat), "bce": metrics.bce(x, x_hat)}


def pillow_codec(digits: np.ndarray, fmt: str, **options) -> dict:
    """One file per image (grey (N, H, W) or colour (N, H, W, 3)): mean bytes, and the decoded images' quality."""
    mode = "RGB" if digits.ndim == 4 else "L"
    sizes, decoded = [], []
    for digit in digits:
        buffer = io.BytesIO()
        Image.fromarray(digit).save(buffer, format=fmt, **options)
        sizes.append(buffer.tell())
        buffer.seek(0)
        decoded.append(np.asarray(Image.open(buffer).convert(mode)))
    x = digits.astype(np.float32) / 255
    return {"bytes_per_image": float(np.mean(sizes)), **_quality(x, np.stack(decoded).astype(np.float32) / 255)}


SINGLES = 200  # one-image files measured at each setting: the first digits


def compressed(model, digits: np.ndarray, precision) -> tuple[bytes, np.ndarray, float]:
    """One setting of a model on `digits`: the container of them all (named like a folder of scans), what
    it decodes to (float, one row per digit), and the mean size of a one-digit file of the first SINGLES."""
    names = [f"scan_{i:06d}" for i in range(len(digits))]
    container = model.compress(digits, precision, names)
    _, decoded, _ = model.decompress(container, as_float=True)
    single = float(np.mean([len(model.compress(d[None], precision)) for d in digits[:SINGLES]]))
    return container, decoded.reshape(len(digits), -1), single


def aeonnx_points(model, digits: np.ndarray, label: str) -> list[dict]:
    x = digits.reshape(len(digits), -1).astype(np.float32) / 255
    points = []
    for precision in codefile.PRECISIONS:
        container, decoded, single = compressed(model, digits, precision)
        quality = _quality(x, decoded)
        common = {
            "model": label,
            "precision": precision,
            "default": precision == model.binding.default_precision,
            **quality,
        }
        points.append({**common, "packing": "single-image file", "bytes_per_image": float(single)})
        points.append({**common, "packing": "batch container", "bytes_per_image": len(container) / len(digits)})
        if precision in codefile.FLOATS:  # general-purpose compressors on float codes, for comparison
            codes = codefile.from_bytes(container).codes.tobytes()
            points.append(
                {
                    **common,
                    "packing": "payload + zlib (not a format feature)",
                    "bytes_per_image": len(zlib.compress(codes, 9)) / len(digits),
                }
            )
            points.append(
                {
                    **common,
                    "packing": "payload + lzma (not a format feature)",
                    "bytes_per_image": len(lzma.compress(codes, preset=9)) / len(digits),
                }
            )
    return points


def ae_variant(latent: int, data: Path, cache: Path) -> Path:
    """Train and export an AE with another latent size by the same commands a user runs, with the shipped
    model's recipe (the defaults) on `data`; cached by latent size, data file and recipe."""
    recipe = spec.get_model("ae")
    key = f"ae-latent{latent}-{data.stem}-{recipe.epochs}ep-{recipe.schedule}-warmup{recipe.warmup_epochs}"
    models = cache / key
    if (models / "ae_encoder.onnx").exists():
        return models
    run = cache / f"run-{key}"
    command = aeonnx_command()
    subprocess.run(
        [
            *command,
            "train",
            "ae",
            "--latent-size",
            str(latent),
            "--data",
            str(data),
            "--seed",
            "0",
            "--out",
            str(run),
            "--force",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*command, "export", "ae", "--run", str(run), "--out", str(models), "--force"], check=True, capture_output=True
    )
    return models


def run_rate_distortion(data: Path, train_data: Path, cache: Path, quick: bool) -> dict:
    """The shipped models and the AE family (trained on `train_data`) on the test digits of `data`."""
    with np.load(data) as archive:
        digits = archive["x_test"]
    points = []
    points += aeonnx_points(load("ae", device="cpu"), digits, "aeonnx ae (latent 32, shipped)")
    points += aeonnx_points(load("vae", device="cpu"), digits, "aeonnx vae (latent 2, shipped)")
    for latent in () if quick else AE_VARIANT_LATENTS:
        model = load("ae", ae_variant(latent, train_data, cache), device="cpu")
        points += aeonnx_points(model, digits, f"aeonnx ae (latent {latent})")
    codecs = [{"model": "PNG (lossless)", "setting": "optimize", **pillow_codec(digits, "PNG", optimize=True)}]
    codecs += [{"model": "JPEG", "setting": f"q{q}", **pillow_codec(digits, "JPEG", quality=q)} for q in JPEG_QUALITIES]
    codecs += [{"model": "WebP", "setting": f"q{q}", **pillow_codec(digits, "WEBP", quality=q)} for q in WEBP_QUALITIES]
    return {"images": len(digits), "aeonnx": points, "codecs": codecs}


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 6))
    for name in ("JPEG", "WebP"):
        rows = [p for p in report["codecs"] if p["model"] == name]
        axis.plot([p["bytes_per_image"] for p in rows], [p["psnr"] for p in rows], "o-", label=name)
        for p in rows[:1] + rows[-1:]:
            axis.annotate(
                p["setting"], (p["bytes_per_image"], p["psnr"]), fontsize=7, xytext=(3, -9), textcoords="offset points"
            )
    png = report["codecs"][0]
    axis.axvline(
        png["bytes_per_image"], color="grey", linestyle=":", label=f"PNG, lossless ({png['bytes_per_image']:.0f} B)"
    )
    labels = sorted({p["model"] for p in report["aeonnx"]}, key=lambda m: (m.startswith("aeonnx vae"), len(m), m))
    colours = dict(zip(labels, plt.get_cmap("tab10").colors[2:]))
    for label in labels:
        for packing, style in (("single-image file", "s:"), ("batch container", "D-")):
            rows = [
                p
                for p in report["aeonnx"]
                if p["model"] == label and p["packing"] == packing and isinstance(p["precision"], int)
            ]  # entropy-coded, 4-8 bits
            axis.plot(
                [p["bytes_per_image"] for p in rows],
                [p["psnr"] for p in rows],
                style,
                markersize=4,
                linewidth=1,
                color=colours[label],
                label=f"{label.removeprefix('aeonnx ')}, 4-8 bits, {packing}",
            )
            chosen = [p for p in rows if p.get("default")]
            axis.plot(
                [p["bytes_per_image"] for p in chosen],
                [p["psnr"] for p in chosen],
                style[0],
                markersize=9,
                markerfacecolor="none",
                color=colours[label],
            )
    curve = sorted(
        (
            p
            for p in report["aeonnx"]
            if p["model"].startswith("aeonnx ae") and p.get("default") and p["packing"] == "batch container"
        ),
        key=lambda p: p["bytes_per_image"],
    )
    axis.plot(
        [p["bytes_per_image"] for p in curve],
        [p["psnr"] for p in curve],
        "k--",
        linewidth=1,
        label="aeonnx ae, latent 8/16/32/64, default bits (circled), batch",
    )
    axis.set_xscale("log")
    axis.set_xlabel("bytes per image (log scale)")
    axis.set_ylabel("PSNR (dB), mean over the 1,000 shared test digits")
    axis.set_title("Rate–distortion on MNIST test digits (28×28)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7, loc="upper left", ncol=1, framealpha=0.9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
