"""The models `aeonnx train` builds, from the contract: the seed's dense AE and VAE (here), and their
convolutional counterparts (conv.py), for any image shape.

Encoder and decoder/generator are separate Keras models; the full model is
made of them, so all three share one set of trained weights.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf
from keras import ops

from aeonnx.runtime import spec

ARCHITECTURES = ("dense", "conv")


def build_ae(
    latent_size: int = spec.AE.latent_size, input_shape: tuple[int, ...] = (spec.INPUT_SIZE,)
) -> tuple[keras.Model, keras.Model, keras.Model]:
    """784 -> Dense(latent, relu) -> Dense(784, sigmoid) (images of another shape: flattened, and shaped back
    at the end). Returns (autoencoder, encoder, decoder)."""
    encoder, decoder = ae_parts(latent_size, input_shape)
    return autoencoder_of(encoder, decoder), encoder, decoder


def ae_parts(latent_size: int, input_shape: tuple[int, ...]) -> tuple[keras.Model, keras.Model]:
    x = keras.Input(shape=input_shape, name=spec.X)
    z = keras.layers.Dense(latent_size, activation="relu", name=spec.Z)(_flat(x))
    encoder = keras.Model(x, z, name=spec.AE.encoder.name)

    z_in = keras.Input(shape=(latent_size,), name=spec.Z)
    x_hat = _dense_image(z_in, input_shape)
    return encoder, keras.Model(z_in, x_hat, name=spec.AE.decoder.name)


def _flat(x):
    return keras.layers.Flatten(name="flat")(x) if len(x.shape) > 2 else x


def _dense_image(h, input_shape: tuple[int, ...]):
    """The last Dense layer, sigmoid pixels, in the image's shape (the seed's 784 as they are)."""
    if len(input_shape) == 1:
        return keras.layers.Dense(input_shape[0], activation="sigmoid", name=spec.X_HAT)(h)
    pixels = keras.layers.Dense(math.prod(input_shape), activation="sigmoid", name="pixels")(h)
    return keras.layers.Reshape(input_shape, name=spec.X_HAT)(pixels)


def autoencoder_of(encoder: keras.Model, decoder: keras.Model) -> keras.Model:
    """The full AE: the two parts called in turn, so that it trains their weights."""
    x = keras.Input(shape=encoder.input_shape[1:], name=spec.X)
    return keras.Model(x, decoder(encoder(x)), name=spec.AE.name)


def build_vae_encoder(
    latent_size: int, hidden_size: int, input_shape: tuple[int, ...] = (spec.INPUT_SIZE,)
) -> keras.Model:
    """784 -> Dense(hidden, relu) -> (z_mean, z_log_var). No sampling: noise stays outside the graph."""
    x = keras.Input(shape=input_shape, name=spec.X)
    h = keras.layers.Dense(hidden_size, activation="relu", name="hidden")(_flat(x))
    z_mean = keras.layers.Dense(latent_size, name=spec.Z_MEAN)(h)
    z_log_var = keras.layers.Dense(latent_size, name=spec.Z_LOG_VAR)(h)
    return keras.Model(x, [z_mean, z_log_var], name=spec.VAE.encoder.name)


def build_vae_generator(
    latent_size: int, hidden_size: int, input_shape: tuple[int, ...] = (spec.INPUT_SIZE,)
) -> keras.Model:
    """z -> Dense(hidden, relu) -> Dense(784, sigmoid)."""
    z = keras.Input(shape=(latent_size,), name=spec.Z)
    h = keras.layers.Dense(hidden_size, activation="relu", name="hidden")(z)
    x_hat = _dense_image(h, input_shape)
    return keras.Model(z, x_hat, name=spec.VAE.decoder.name)


def vae_loss_terms(x, x_hat, z_mean, z_log_var):
    """Per-example (reconstruction, KL): pixels * mean BCE (784 * for the seed's digits), and
    -0.5 * sum(1 + log_var - mean^2 - exp(log_var)). Images of (H, W, C) are compared flat."""
    if len(x.shape) > 2:
        pixels = math.prod(x.shape[1:])
        x, x_hat = ops.reshape(x, (-1, pixels)), ops.reshape(x_hat, (-1, pixels))
    reconstruction = x.shape[-1] * keras.losses.binary_crossentropy(x, x_hat)
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


def build_vae(
    latent_size: int = spec.VAE.latent_size,
    hidden_size: int = spec.VAE.hidden_size,
    seed=None,
    input_shape: tuple[int, ...] = (spec.INPUT_SIZE,),
):
    """Returns (vae, encoder, generator)."""
    encoder = build_vae_encoder(latent_size, hidden_size, input_shape)
    generator = build_vae_generator(latent_size, hidden_size, input_shape)
    return vae_of(encoder, generator, seed), encoder, generator


def vae_of(encoder: keras.Model, generator: keras.Model, seed=None) -> VariationalAutoencoder:
    vae = VariationalAutoencoder(encoder, generator, seed=seed, name=spec.VAE.name)
    vae.build((None, *encoder.input_shape[1:]))
    return vae


def build(
    model_name: str,
    latent_size: int | None = None,
    hidden_size: int | None = None,
    seed=None,
    arch: str = "dense",
    image_shape: tuple[int, ...] = (spec.IMAGE_SIDE, spec.IMAGE_SIDE),
    rate_distortion: bool = False,
):
    """(full model, encoder, decoder/generator) for a model named in the contract, of an architecture
    (ARCHITECTURES) for images of `image_shape` ((H, W) grey or (H, W, C)); `rate_distortion`: an AE
    with quality levels (rate_distortion.py)."""
    model_spec = spec.get_model(model_name)
    latent_size = latent_size or model_spec.latent_size
    shape = input_shape(arch, image_shape)
    if arch == "conv":
        from .conv import build_parts

        encoder, decoder = build_parts(model_spec.variational, shape, latent_size, clipped=rate_distortion)
    elif model_spec.variational:
        hidden_size = hidden_size or model_spec.hidden_size
        encoder = build_vae_encoder(latent_size, hidden_size, shape)
        decoder = build_vae_generator(latent_size, hidden_size, shape)
    elif hidden_size:
        raise ValueError("the dense AE has no hidden layer; --hidden-size applies to the VAE")
    else:
        encoder, decoder = ae_parts(latent_size, shape)
    return _joined(model_spec, encoder, decoder, seed, rate_distortion), encoder, decoder


def _joined(model_spec: spec.ModelSpec, encoder, decoder, seed, rate_distortion: bool) -> keras.Model:
    """The full model that trains both parts' weights."""
    if rate_distortion:
        from .rate_distortion import rate_distortion_of

        return rate_distortion_of(encoder, decoder, seed)
    if model_spec.variational:
        return vae_of(encoder, decoder, seed)
    return autoencoder_of(encoder, decoder)


def input_shape(arch: str, image_shape: tuple[int, ...]) -> tuple[int, ...]:
    """What the encoder takes: the seed's dense models MNIST's digits flat (784); any other image
    (H, W, C), channels last, grey with C = 1 (a dense model flattens it inside)."""
    if arch == "dense" and tuple(image_shape) == (spec.IMAGE_SIDE, spec.IMAGE_SIDE):
        return (spec.INPUT_SIZE,)
    return tuple(image_shape) if len(image_shape) == 3 else (*image_shape, 1)


def predict_codes(encoder: keras.Model, x, batch_size: int = 1024):
    """The codes the decoder is fed: z, or z_mean when the encoder gives (z_mean, z_log_var)."""
    codes = encoder.predict(x, batch_size=batch_size, verbose=0)
    return codes[0] if isinstance(codes, (list, tuple)) else codes
