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
    """Reconstructions and loss curves; for a VAE with a 2-D code, its plane and what it generates over it.
    Any image size, grey or colour (dataset.image_shape)."""
    shape = tuple(encoder.input_shape[1:])
    x_test = dataset.test_inputs(shape)
    shown = _spread(len(x_test), dataset.y_test, dataset.classes)
    originals = pictures(x_test[shown], dataset.image_shape)
    rebuilt = pictures(full.predict(x_test[shown], verbose=0), dataset.image_shape)
    save_reconstructions(folder / RECONSTRUCTIONS_FILE, originals, rebuilt)
    save_loss_curves(folder / LOSS_FILE, history)
    if model_spec.variational and encoder.output[0].shape[-1] == 2:  # a plane to draw, and a prior to sample
        z_mean, _ = encoder.predict(x_test, batch_size=1024, verbose=0)
        save_latent_scatter(folder / LATENT_FILE, z_mean, dataset.y_test, dataset.classes)
        grid = decoder.predict(manifold_latents(MANIFOLD_SIZE, MANIFOLD_EXTENT), verbose=0)
        save_manifold(folder / MANIFOLD_FILE, pictures(grid, dataset.image_shape), MANIFOLD_SIZE, MANIFOLD_EXTENT)


def _spread(count: int, labels: np.ndarray, classes: tuple[str, ...], shown: int = 10) -> np.ndarray:
    """The first ten held-out images, as the seed showed MNIST's; for a folder with class subfolders, the
    first of each class in turn, so that every class is seen."""
    if len(classes) < 2:
        return np.arange(min(shown, count))
    members = [np.flatnonzero(labels == label) for label in range(len(classes))]
    order = [group[i] for i in range(max(map(len, members))) for group in members if i < len(group)]
    return np.array(order[:shown])


def pictures(images: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Model inputs or outputs (flat or (H, W, C)) as pictures to draw: (N, H, W) grey or (N, H, W, 3)."""
    return images.reshape(-1, *image_shape)


def _draw(axis, picture: np.ndarray) -> None:
    if picture.ndim == 3:  # colour
        axis.imshow(np.clip(picture, 0, 1))
    else:
        axis.imshow(picture, cmap="gray", vmin=0, vmax=1)


def save_reconstructions(path: Path, originals: np.ndarray, reconstructions: np.ndarray) -> None:
    """Originals on the top row, their reconstructions below (the seed's see_images)."""
    count = len(originals)
    figure, axes = plt.subplots(2, count, figsize=(count * 1.2, 2.6), squeeze=False)
    for column in range(count):
        for row, images in enumerate((originals, reconstructions)):
            axis = axes[row, column]
            _draw(axis, images[column])
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


def save_latent_scatter(path: Path, z_mean: np.ndarray, labels: np.ndarray, classes: tuple[str, ...] = ()) -> None:
    """The held-out images' codes, coloured by label: MNIST's digits, or a folder's class subfolders."""
    figure, axis = plt.subplots(figsize=(7, 6))
    count = max(int(labels.max(initial=0)) + 1, len(classes), 10)
    colours = "tab10" if count <= 10 else "tab20"
    points = axis.scatter(z_mean[:, 0], z_mean[:, 1], c=labels, cmap=colours, s=6, vmin=-0.5, vmax=count - 0.5)
    bar = figure.colorbar(points, ax=axis, ticks=range(count if classes else 10), label="class" if classes else "digit")
    if classes:
        bar.set_ticklabels(list(classes) + [""] * (count - len(classes)))
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    axis.set_title(f"{'held-out images' if classes else 'test digits'} in latent space (z_mean)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def save_manifold(path: Path, generated: np.ndarray, n: int, extent: float) -> None:
    """What the generator makes over an n x n grid of the plane (generated: (n*n, H, W[, 3]) pictures)."""
    height, width = generated.shape[1:3]
    figure, axis = plt.subplots(figsize=(8, 8 * height / width))
    grid = tile(generated, columns=n)
    if grid.ndim == 3:
        axis.imshow(np.clip(grid, 0, 1))
    else:
        axis.imshow(grid, cmap="Greys_r", vmin=0, vmax=1)
    labels = [f"{v:.1f}" for v in manifold_axis(n, extent)]
    axis.set_xticks(width // 2 + width * np.arange(n), labels, rotation=90)
    axis.set_yticks(height // 2 + height * np.arange(n), labels[::-1])
    axis.set_xlabel("z[0]")
    axis.set_ylabel("z[1]")
    what = "digits" if generated.shape[1:] == (spec.IMAGE_SIDE, spec.IMAGE_SIDE) else "images"
    axis.set_title(f"generated {what} over [-{extent:g}, {extent:g}]^2")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
