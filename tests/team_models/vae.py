"""A convolutional VAE written as keras.io's "Variational AutoEncoder" example writes it (Keras 3): a custom
`Sampling` layer, not registered with Keras; a `keras.Model` subclass with its own `train_step`; the training
at the top level of the script. As a team runs it, briefly: 512 of the repository's MNIST digits, one epoch,
and the two parts saved where the first argument says.

    python tests/team_models/vae.py OUT_DIR
"""

import sys
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

latent_dim = 2
HERE = Path(__file__).resolve().parent


class Sampling(layers.Layer):
    """Draws z from N(z_mean, exp(z_log_var)), with a seed of its own."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        noise = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * noise


class VAE(keras.Model):
    """Trains the encoder and the decoder on reconstruction + KL, in a train_step of its own."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.total = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.total]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            bce = ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            kl = -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)
            loss = ops.mean(bce + kl)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total.update_state(loss)
        return {"loss": self.total.result()}


image = keras.Input(shape=(28, 28, 1))
h = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(image)
h = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(h)
h = layers.Dense(16, activation="relu")(layers.Flatten()(h))
z_mean = layers.Dense(latent_dim, name="z_mean")(h)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
encoder = keras.Model(image, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])], name="encoder")

code = keras.Input(shape=(latent_dim,))
g = layers.Reshape((7, 7, 64))(layers.Dense(7 * 7 * 64, activation="relu")(code))
g = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(g)
g = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(g)
decoder = keras.Model(code, layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(g), name="decoder")

with np.load(HERE.parent / "data" / "mnist-10k.npz") as mnist:
    digits = mnist["x_train"][:512, :, :, None].astype("float32") / 255
keras.utils.set_random_seed(0)
vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam())
vae.fit(digits, epochs=1, batch_size=64, verbose=0)
out = Path(sys.argv[1])
encoder.save(out / "vae_encoder.keras")
decoder.save(out / "vae_decoder.keras")
