"""The two architectures, built from the contract: a dense AE and a VAE.

Encoder and decoder/generator are separate Keras models; the full model is
made of them, so all three share one set of trained weights.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from aeonnx.runtime import spec


def build_ae(latent_size: int = spec.AE.latent_size) -> tuple[keras.Model, keras.Model, keras.Model]:
    """784 -> Dense(latent, relu) -> Dense(784, sigmoid). Returns (autoencoder, encoder, decoder)."""
    x = keras.Input(shape=(spec.INPUT_SIZE,), name=spec.X)
    z = keras.layers.Dense(latent_size, activation="relu", name=spec.Z)(x)
    encoder = keras.Model(x, z, name=spec.AE.encoder.name)

    z_in = keras.Input(shape=(latent_size,), name=spec.Z)
    x_hat = keras.layers.Dense(spec.INPUT_SIZE, activation="sigmoid", name=spec.X_HAT)(z_in)
    decoder = keras.Model(z_in, x_hat, name=spec.AE.decoder.name)

    autoencoder = keras.Model(x, decoder(encoder(x)), name=spec.AE.name)
    return autoencoder, encoder, decoder


def build_vae_encoder(latent_size: int, hidden_size: int) -> keras.Model:
    """784 -> Dense(hidden, relu) -> (z_mean, z_log_var). No sampling: noise stays outside the graph."""
    x = keras.Input(shape=(spec.INPUT_SIZE,), name=spec.X)
    h = keras.layers.Dense(hidden_size, activation="relu", name="hidden")(x)
    z_mean = keras.layers.Dense(latent_size, name=spec.Z_MEAN)(h)
    z_log_var = keras.layers.Dense(latent_size, name=spec.Z_LOG_VAR)(h)
    return keras.Model(x, [z_mean, z_log_var], name=spec.VAE.encoder.name)


def build_vae_generator(latent_size: int, hidden_size: int) -> keras.Model:
    """z -> Dense(hidden, relu) -> Dense(784, sigmoid)."""
    z = keras.Input(shape=(latent_size,), name=spec.Z)
    h = keras.layers.Dense(hidden_size, activation="relu", name="hidden")(z)
    x_hat = keras.layers.Dense(spec.INPUT_SIZE, activation="sigmoid", name=spec.X_HAT)(h)
    return keras.Model(z, x_hat, name=spec.VAE.decoder.name)


def vae_loss_terms(x, x_hat, z_mean, z_log_var):
    """Per-example (reconstruction, KL): 784 * mean BCE, and -0.5 * sum(1 + log_var - mean^2 - exp(log_var))."""
    reconstruction = spec.INPUT_SIZE * keras.losses.binary_crossentropy(x, x_hat)
    kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
    return reconstruction, kl


# Registered as "aeonnx>VAE", the name the class had when the shipped checkpoints were saved:
# a .keras file finds its class by that name, so old and new files load alike.
@keras.saving.register_keras_serializable(package="aeonnx", name="VAE")
class VariationalAutoencoder(keras.Model):
    """Variational autoencoder with its own train and test steps.

    `call` reconstructs from z_mean (deterministic, as the runtime does); the
    training objective samples z = z_mean + exp(0.5 * z_log_var) * eps, with eps
    drawn from a seeded generator so one seed gives one loss curve.
    """

    def __init__(self, encoder: keras.Model, generator: keras.Model, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.generator = generator
        self.seed = seed
        self.noise = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    @property
    def metrics(self):
        return [self.reconstruction_tracker, self.kl_tracker]

    def call(self, x, training=False):
        z_mean, _ = self.encoder(x, training=training)
        return self.generator(z_mean, training=training)

    def _loss_terms(self, x, training):
        z_mean, z_log_var = self.encoder(x, training=training)
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.noise)
        z = z_mean + ops.exp(0.5 * z_log_var) * epsilon
        x_hat = self.generator(z, training=training)
        reconstruction, kl = vae_loss_terms(x, x_hat, z_mean, z_log_var)
        return ops.mean(reconstruction), ops.mean(kl)

    def _track(self, reconstruction, kl):
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        reconstruction, kl = self.reconstruction_tracker.result(), self.kl_tracker.result()
        # The total is derived, not accumulated: a third running mean of (reconstruction + kl)
        # came out a few ulp apart between identical runs, while these two never did.
        return {"loss": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            reconstruction, kl = self._loss_terms(x, training=True)
            total = reconstruction + kl
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._track(reconstruction, kl)

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self._track(*self._loss_terms(x, training=False))

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        generator = keras.saving.deserialize_keras_object(config.pop("generator"))
        return cls(encoder, generator, **config)


def build_vae(latent_size: int = spec.VAE.latent_size, hidden_size: int = spec.VAE.hidden_size, seed=None):
    """Returns (vae, encoder, generator)."""
    encoder = build_vae_encoder(latent_size, hidden_size)
    generator = build_vae_generator(latent_size, hidden_size)
    vae = VariationalAutoencoder(encoder, generator, seed=seed, name=spec.VAE.name)
    vae.build((None, spec.INPUT_SIZE))
    return vae, encoder, generator


def build(model_name: str, latent_size: int | None = None, hidden_size: int | None = None, seed=None):
    """(full model, encoder, decoder/generator) for a model named in the contract."""
    model_spec = spec.get_model(model_name)
    latent_size = latent_size or model_spec.latent_size
    if model_spec.variational:
        return build_vae(latent_size, hidden_size or model_spec.hidden_size, seed=seed)
    if hidden_size:
        raise ValueError("the dense AE has no hidden layer; --hidden-size applies to the VAE")
    return build_ae(latent_size)


def predict_codes(encoder: keras.Model, x, batch_size: int = 1024):
    """The codes the decoder is fed: z, or z_mean when the encoder gives (z_mean, z_log_var)."""
    codes = encoder.predict(x, batch_size=batch_size, verbose=0)
    return codes[0] if isinstance(codes, (list, tuple)) else codes
