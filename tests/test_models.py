"""The architectures: shapes, parameter counts, and the VAE loss against the formula in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from aeonnx.runtime import spec
from aeonnx.train import models

from .helpers import unit_float


def test_ae_shapes_and_parameter_counts():
    autoencoder, encoder, decoder = models.build("ae")
    assert encoder.input_shape == (None, 784) and encoder.output_shape == (None, 32)
    assert decoder.input_shape == (None, 32) and decoder.output_shape == (None, 784)
    assert encoder.count_params() == 784 * 32 + 32
    assert decoder.count_params() == 32 * 784 + 784
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params()  # shared weights


def test_vae_shapes_and_parameter_counts():
    vae, encoder, generator = models.build("vae")
    assert [tuple(o.shape) for o in encoder.outputs] == [(None, 2), (None, 2)]
    assert generator.input_shape == (None, 2) and generator.output_shape == (None, 784)
    assert encoder.count_params() == (784 * 512 + 512) + 2 * (512 * 2 + 2)
    assert generator.count_params() == (2 * 512 + 512) + (512 * 784 + 784)
    assert vae.count_params() == encoder.count_params() + generator.count_params()
    assert vae(np.zeros((3, 784), np.float32)).shape == (3, 784)


def test_sizes_are_options():
    _, encoder, decoder = models.build("ae", latent_size=8)
    assert encoder.output_shape == (None, 8) and decoder.input_shape == (None, 8)
    _, encoder, generator = models.build("vae", latent_size=4, hidden_size=64)
    assert encoder.count_params() == (784 * 64 + 64) + 2 * (64 * 4 + 4)


def test_tensor_names_come_from_the_contract():
    for name in spec.MODEL_NAMES:
        _, encoder, decoder = models.build(name)
        model_spec = spec.get_model(name)
        assert [t.name for t in encoder.inputs] == list(model_spec.encoder.inputs)
        assert [t.name for t in decoder.inputs] == list(model_spec.decoder.inputs)
        assert encoder.name == model_spec.encoder.name and decoder.name == model_spec.decoder.name


def numpy_vae_loss(x, x_hat, z_mean, z_log_var, eps=1e-7):
    p = np.clip(x_hat.astype(np.float64), eps, 1 - eps)
    bce = -np.mean(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)
    kl = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=-1)
    return 784 * bce, kl


def test_vae_loss_matches_the_formula(mnist):
    rng = np.random.default_rng(0)
    x = unit_float(mnist["x_test"][:16])
    x_hat = rng.uniform(0.01, 0.99, size=(16, 784)).astype(np.float32)
    z_mean = rng.normal(size=(16, 2)).astype(np.float32)
    z_log_var = rng.normal(scale=0.5, size=(16, 2)).astype(np.float32)
    reconstruction, kl = models.vae_loss_terms(x, x_hat, z_mean, z_log_var)
    expected_reconstruction, expected_kl = numpy_vae_loss(x, x_hat, z_mean, z_log_var)
    np.testing.assert_allclose(np.asarray(reconstruction), expected_reconstruction, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(kl), expected_kl, rtol=1e-5, atol=1e-6)


def test_unknown_model_is_rejected():
    with pytest.raises(KeyError, match="choose one of: ae, vae"):
        models.build("gan")


def test_vae_class_keeps_the_name_its_saved_files_cite():
    # Run directories and checkpoints saved before the class was renamed cite "aeonnx>VAE".
    import keras

    assert keras.saving.get_registered_name(models.VariationalAutoencoder) == "aeonnx>VAE"
    assert keras.saving.get_registered_object("aeonnx>VAE") is models.VariationalAutoencoder
