"""The pictures of a training run (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on training machines
import matplotlib.pyplot as plt
import numpy as np

from aeonnx.runtime import spec
from aeonnx.runtime.pictures.grids import manifold_axis, manifold_latents, tile

RECONSTRUCTIONS_FILE = "reconstructions.png"
LOSS_FILE = "loss.png"
LATENT_FILE = "latent.png"
MANIFOLD_FILE = "manifold.png"
MANIFOLD_SIZE, MANIFOLD_EXTENT = 12, 4.0


def save_run_pictures(folder: Path, model_spec: spec.ModelSpec, full, encoder, decoder, dataset, history) -> None:
    x_test = dataset.test_inputs()
    save_reconstructions(folder / RECONSTRUCTIONS_FILE, x_test[:10], full.predict(x_test[:10], verbose=0))
    save_loss_curves(folder / LOSS_FILE, history)
    if model_spec.variational and encoder.output[0].shape[-1] == 2:  # a plane to draw, and a prior to sample
        z_mean, _ = encoder.predict(x_test, batch_size=1024, verbose=0)
        save_latent_scatter(folder / LATENT_FILE, z_mean, dataset.y_test)
        grid = decoder.predict(manifold_latents(MANIFOLD_SIZE, MANIFOLD_EXTENT), verbose=0)
        save_manifold(folder / MANIFOLD_FILE, grid, MANIFOLD_SIZE, MANIFOLD_EXTENT)


def _digits(flat: np.ndarray) -> np.ndarray:
    return flat.reshape(-1, spec.IMAGE_SIDE, spec.IMAGE_SIDE)


def save_reconstructions(path: Path, originals: np.ndarray, reconstructions: np.ndarray) -> None:
    """Originals on the top row, their reconstructions below (the seed's see_images)."""
    count = len(originals)
    figure, axes = plt.subplots(2, count, figsize=(count * 1.2, 2.6))
    for column in range(count):
        for row, images in enumerate((originals, reconstructions)):
            axis = axes[row, column]
            axis.imshow(_digits(images)[column], cmap="gray", vmin=0, vmax=1)
            axis.set_axis_off()
    axes[0, 0].set_title("original", loc="left", fontsize=9)
    axes[1, 0].set_title("reconstruction", loc="left", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_loss_curves(path: Path, history: dict[str, list[float]]) -> None:
    names = [key for key in history if not key.startswith("val_")]
    figure, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = np.arange(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_latent_scatter(path: Path, z_mean: np.ndarray, labels: np.ndarray) -> None:
    figure, axis = plt.subplots(figsize=(7, 6))
    points = axis.scatter(z_mean[:, 0], z_mean[:, 1], c=labels, cmap="tab10", s=6, vmin=-0.5, vmax=9.5)
    figure.colorbar(points, ax=axis, ticks=range(10), label="digit")
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title("test digits in latent space (z_mean)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_manifold(path: Path, generated: np.ndarray, n: int, extent: float) -> None:
    side = spec.IMAGE_SIDE
    figure, axis = plt.subplots(figsize=(8, 8))
    axis.imshow(tile(_digits(generated), columns=n), cmap="Greys_r", vmin=0, vmax=1)
    centres = side // 2 + side * np.arange(n)
    labels = [f"{v:.1f}" for v in manifold_axis(n, extent)]
    axis.set_xticks(centres, labels, rotation=90)
    axis.set_yticks(centres, labels[::-1])
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title(f"generated digits over [-{extent:g}, {extent:g}]^2")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
