"""`aeonnx train --augment`: each batch of training images moved a little (and colour pictures mirrored left
to right), a fresh draw every epoch; the model learns to give back the moved image itself."""

from __future__ import annotations

import numpy as np

SHIFT = 1 / 16  # of the height and width, either way: 2 pixels of 32, under 2 of 28
# Mirroring suits photographs (a scene mirrored is another plausible scene) but not grey writing, digits or
# documents, which read differently mirrored: it is done for colour pictures only.


def augmented(x: np.ndarray, config, flips: bool):
    """A tf.data pipeline of (moved images, the same) batches over `x` (float32 [N, H, W, C]), shuffled and
    moved with the run's seed. Dense models' flat digits are moved as 28x28 pictures."""
    import keras
    import tensorflow as tf

    if x.ndim == 2:  # the seed's dense models take MNIST's digits flat
        side = int(round(x.shape[1] ** 0.5))
        images = x.reshape(len(x), side, side, 1)
    else:
        images = x
    layers = [keras.layers.RandomTranslation(SHIFT, SHIFT, fill_mode="nearest", seed=config.seed)]
    if flips:
        layers.append(keras.layers.RandomFlip("horizontal", seed=config.seed))
    move = keras.Sequential(layers)
    pixels = tf.constant(images)

    def batch(indices):
        moved = move(tf.gather(pixels, indices), training=True)
        moved = tf.reshape(moved, (-1, *x.shape[1:]))
        return moved, moved

    order = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=config.seed, reshuffle_each_iteration=True)
    return order.batch(config.batch_size).map(batch).prefetch(tf.data.AUTOTUNE)
