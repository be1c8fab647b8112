"""An encoder written as a keras.Model subclass, and a Lambda layer of a named function, as teams write them:
neither registered with Keras, so a .keras file made of them loads only where this code is handed to Keras
(`aeonnx export --custom-objects tests/team_models/subclassed.py`, or the module tests.team_models.subclassed)."""

import keras
from keras import layers, ops


class ConvEncoder(keras.Model):
    """Conv2D, then a Dense code: its call() is its graph, which Keras does not record."""

    def __init__(self, latent_dim=16, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = latent_dim
        self.conv = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")
        self.flatten = layers.Flatten()
        self.code = layers.Dense(latent_dim)

    def call(self, x):
        return self.code(self.flatten(self.conv(x)))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim}


def sampling(args):
    """z = mean + sigma * noise: the reparameterisation of keras.io's older VAE, as a Lambda layer's function."""
    z_mean, z_log_var = args
    return z_mean + ops.exp(0.5 * z_log_var) * keras.random.normal(ops.shape(z_mean))
