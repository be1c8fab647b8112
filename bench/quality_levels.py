"""The quality knob on held-out digits: a rate-distortion model's levels against the shipped models' bits,
image codecs and a PCA transform coder, with Bjøntegaard deltas (bench/bd_rate.py).

    python -m bench.run --only levels

Bytes per image: a share of one container of the 1,000 test digits (as `compress folder/` writes), and,
for aeonnx, the whole file `compress img.png` writes for one digit (mean of the first
rate_distortion.SINGLES). Codecs: one file per digit. PSNR: the mean of each digit's (runtime.metrics.psnr),
as every figure here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import features

from aeonnx.runtime import load, metrics
from aeonnx.runtime.aez import codefile
from aeonnx.runtime.manifest import read_manifest
from aeonnx.runtime.model import shipped_models_dir

from .bd_rate import bd_psnr, bd_rate
from .rate_distortion import compressed, pillow_codec

WEBP_QUALITIES = (0, 5, 10, 25, 50, 75, 90)
JPEG_QUALITIES = (5, 10, 20, 30, 50, 75, 90)
AVIF_QUALITIES = (0, 10, 25, 50, 75)
PCA_COMPONENTS = (8, 16, 24, 32, 48, 64, 96, 128, 192)
PCA_STEPS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0)  # quantiser steps, in eighths of the mean coefficient spread
PCA_FIT_DIGITS = 20_000


def aeonnx_curve(model, digits: np.ndarray, precisions) -> list[dict]:
    x = digits.reshape(len(digits), -1).astype(np.float32) / 255
    points = []
    for precision in precisions:
        container, decoded, single = compressed(model, digits, precision)
        points.append(
            {
                "setting": precision if isinstance(precision, str) else f"{precision} bits",
                "default": precision == model.binding.default_precision,
                "bytes_per_image": len(container) / len(digits),
                "single_file_bytes": single,
                "psnr": metrics.psnr(x, decoded),
            }
        )
    return points


def pca_curve(train: np.ndarray, digits: np.ndarray) -> list[dict]:
    """A transform coder without learning beyond PCA: k principal components, uniform quantisation, each
    component's symbols coded at their ideal length under its histogram on the training digits (no
    container, no header: a lower bound on what coding it would cost). The best PSNR for each rate."""
    fit = train[:PCA_FIT_DIGITS].reshape(-1, 784).astype(np.float64) / 255
    mean = fit.mean(axis=0)
    _, _, basis = np.linalg.svd(fit - mean, full_matrices=False)
    x = digits.reshape(-1, 784).astype(np.float64) / 255
    points = []
    for k in PCA_COMPONENTS:
        fit_coefficients, coefficients = (fit - mean) @ basis[:k].T, (x - mean) @ basis[:k].T
        spread = float(np.mean(np.std(fit_coefficients, axis=0))) / 8
        for step in PCA_STEPS:
            symbols_fit = np.round(fit_coefficients / (step * spread)).astype(np.int64)
            symbols = np.round(coefficients / (step * spread)).astype(np.int64)
            bits = _ideal_bits(symbols_fit, symbols)
            x_hat = np.clip(mean + (symbols * step * spread) @ basis[:k], 0, 1)
            points.append(
                {
                    "setting": f"k={k}, step {step}",
                    "bytes_per_image": float(np.mean(bits)) / 8,
                    "psnr": metrics.psnr(x.astype(np.float32), x_hat.astype(np.float32)),
                }
            )
    return _upper_hull(points)


def _ideal_bits(fit: np.ndarray, symbols: np.ndarray) -> np.ndarray:
    """Each row's bits under each column's add-half histogram of `fit` (unseen symbols: half a count)."""
    bits = np.zeros(len(symbols))
    for column in range(fit.shape[1]):
        values, counts = np.unique(fit[:, column], return_counts=True)
        probability = dict(zip(values.tolist(), (counts + 0.5) / (counts.sum() + 0.5 * (len(counts) + 1))))
        floor = 0.5 / (counts.sum() + 0.5 * (len(counts) + 1))
        bits -= np.log2([probability.get(s, floor) for s in symbols[:, column].tolist()])
    return bits


def _upper_hull(points: list[dict]) -> list[dict]:
    """The points no other beats on both bytes and PSNR, by bytes."""
    kept, best = [], -np.inf
    for point in sorted(points, key=lambda p: (p["bytes_per_image"], -p["psnr"])):
        if point["psnr"] > best:
            kept.append(point)
            best = point["psnr"]
    return kept


def codec_curves(digits: np.ndarray) -> dict:
    curves = {
        "WebP": [{"setting": f"q{q}", **pillow_codec(digits, "WEBP", quality=q)} for q in WEBP_QUALITIES],
        "JPEG": [{"setting": f"q{q}", **pillow_codec(digits, "JPEG", quality=q)} for q in JPEG_QUALITIES],
    }
    if features.check("avif"):
        curves["AVIF"] = [{"setting": f"q{q}", **pillow_codec(digits, "AVIF", quality=q)} for q in AVIF_QUALITIES]
    curves["PNG (lossless)"] = [{"setting": "optimize", **pillow_codec(digits, "PNG", optimize=True)}]
    return curves


def _has_levels(name: str, curve: list[dict]) -> bool:
    """An aeonnx model's quality levels (q1..q8), not a codec's quality settings (WebP's q0...)."""
    return name.startswith("aeonnx ") and curve[0]["setting"].startswith("q")


def _points(curve: list[dict], key: str = "bytes_per_image") -> list[tuple[float, float]]:
    return [(p[key], p["psnr"]) for p in curve]


def run_quality_levels(data: Path, train_data: Path) -> dict:
    with np.load(data) as archive:
        digits = archive["x_test"]
    with np.load(train_data) as archive:
        train = archive["x_train"]
    models = read_manifest(shipped_models_dir())["models"]
    curves = {}
    for name in models:
        model = load(name, device="cpu")
        if model.binding.quality_levels is not None:
            curves[f"aeonnx {name}"] = aeonnx_curve(
                model, digits, [f"q{q}" for q in model.binding.quality_levels.levels]
            )
        elif model.binding.priors is not None and name != "vae":
            curves[f"aeonnx {name}"] = aeonnx_curve(model, digits, codefile.BITS)
    curves.update(codec_curves(digits))
    curves["PCA + ideal coding"] = pca_curve(train, digits)
    return {"images": len(digits), "curves": curves, "deltas": deltas(curves)}


def deltas(curves: dict) -> list[dict]:
    """BD-rate and BD-PSNR of each learned-levels model against WebP, JPEG, the conv and dense AEs, PCA."""
    rows = []
    for test in [name for name, curve in curves.items() if _has_levels(name, curve)]:
        for anchor in ("WebP", "JPEG", "AVIF", "aeonnx conv", "aeonnx ae", "PCA + ideal coding"):
            if anchor not in curves:
                continue
            rows.append(
                {
                    "test": test,
                    "anchor": anchor,
                    "bd_rate_percent": bd_rate(_points(curves[test]), _points(curves[anchor])),
                    "bd_psnr_db": bd_psnr(_points(curves[test]), _points(curves[anchor])),
                }
            )
    return rows


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 6))
    styles = {"WebP": "o-", "JPEG": "v-", "AVIF": "^-", "PCA + ideal coding": "x--"}
    for name, curve in report["curves"].items():
        if name == "PNG (lossless)":
            axis.axvline(
                curve[0]["bytes_per_image"],
                color="grey",
                linestyle=":",
                label=f"PNG, lossless ({curve[0]['bytes_per_image']:.0f} B)",
            )
            continue
        levels = _has_levels(name, curve)
        style = "D-" if levels else ("s-" if name.startswith("aeonnx") else styles.get(name, "o-"))
        label = name.removeprefix("aeonnx ") + (", quality 1-8, 1,000 digits a file" if levels else "")
        label += ", 4-8 bits, 1,000 digits a file" if name.startswith("aeonnx") and not levels else ""
        line = axis.plot(*zip(*_points(curve)), style, markersize=5, linewidth=2 if levels else 1, label=label)[0]
        if name.startswith("aeonnx"):
            axis.plot(
                *zip(*_points(curve, "single_file_bytes")),
                ":",
                color=line.get_color(),
                linewidth=1,
                label=f"{name.removeprefix('aeonnx ')}, one digit a file (aeonnx compress img.png)",
            )
            chosen = [p for p in curve if p.get("default")]
            axis.plot(*zip(*_points(chosen)), "o", markersize=12, markerfacecolor="none", color=line.get_color())
    axis.set_xscale("log")
    axis.set_xlabel("bytes per digit (log scale)")
    axis.set_ylabel("PSNR (dB), mean over 1,000 held-out test digits")
    axis.set_title("The quality knob: learned rate-distortion levels against bits and image codecs (default circled)")
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7, loc="upper left", framealpha=0.9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
