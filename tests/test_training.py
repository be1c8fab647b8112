"""Training: the loss goes down, one seed gives one history, and the run directory is complete."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from aeonnx.runtime import spec
from aeonnx.runtime.errors import AeonnxError
from aeonnx.train.fit import TrainConfig, learning_rate, train

from .helpers import unit_float

pytestmark = pytest.mark.slow


def quick_config(model, data, out, **overrides):
    settings = dict(model=model, data=str(data), out=str(out), epochs=3, batch_size=64, seed=7)
    settings.update(overrides)
    return TrainConfig(**settings)


def read_run(run_dir):
    return json.loads((run_dir / spec.RUN_CONFIG_FILE).read_text())


@pytest.mark.parametrize("model", spec.MODEL_NAMES)
def test_training_lowers_the_loss_and_writes_a_complete_run(model, small_mnist_path, tmp_path):
    run_dir = train(quick_config(model, small_mnist_path, tmp_path / "run"), verbose=0)
    record = read_run(run_dir)
    loss = record["history"]["val_loss"]
    assert loss[-1] < loss[0]
    model_spec = spec.get_model(model)
    expected = {spec.RUN_CONFIG_FILE, spec.RUN_MODEL_FILE, spec.RUN_VALIDATION_FILE, "reconstructions.png", "loss.png"}
    expected |= {model_spec.keras_file(part.name) for part in model_spec.parts}
    if model == "vae":
        expected |= {"latent.png", "manifold.png"}
        assert {"reconstruction", "kl", "total"} <= set(record["metrics"])
    assert expected <= {p.name for p in run_dir.iterdir()}
    assert {"bce", "mse", "psnr"} <= set(record["metrics"])
    assert len(record["data"]["sha256"]) == 64 and record["versions"]["keras"].startswith("3.")
    assert len(record["latent_stats"]["min"]) == model_spec.latent_size
    assert not [p for p in tmp_path.iterdir() if p.name != "run"]  # no staging folder left behind


@pytest.mark.parametrize("model", spec.MODEL_NAMES)
def test_same_seed_same_history(model, small_mnist_path, tmp_path):
    first = read_run(train(quick_config(model, small_mnist_path, tmp_path / "a", epochs=2), verbose=0))
    second = read_run(train(quick_config(model, small_mnist_path, tmp_path / "b", epochs=2), verbose=0))
    assert first["history"] == second["history"]
    other = read_run(train(quick_config(model, small_mnist_path, tmp_path / "c", epochs=2, seed=8), verbose=0))
    assert other["history"] != first["history"]


def test_adadelta_learns_at_its_default_rate(small_mnist_path, tmp_path):
    # Keras 3's own default (1e-3) leaves BCE at ~0.69; ours must not.
    # At a constant rate: the default schedule's warmup and decay would leave 3 epochs too little to judge.
    config = quick_config(
        "ae", small_mnist_path, tmp_path / "r", optimizer="adadelta", schedule="constant", warmup_epochs=0
    )
    record = read_run(train(config, verbose=0))
    assert record["config"]["learning_rate"] == 1.0
    assert record["history"]["val_loss"][-1] < 0.4  # far below the 0.69 of a model that does not learn


def test_existing_run_is_not_overwritten(small_mnist_path, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("mine")
    with pytest.raises(AeonnxError, match="already exists"):
        train(quick_config("ae", small_mnist_path, tmp_path / "run"), verbose=0)
    assert (tmp_path / "run" / "keep.txt").read_text() == "mine"


def test_saved_models_reload_and_agree(small_mnist_path, tmp_path):
    import keras

    run_dir = train(quick_config("vae", small_mnist_path, tmp_path / "run", epochs=1), verbose=0)
    full = keras.models.load_model(run_dir / spec.RUN_MODEL_FILE)
    encoder = keras.models.load_model(run_dir / "encoder.keras")
    generator = keras.models.load_model(run_dir / "generator.keras")
    x = unit_float(np.load(run_dir / spec.RUN_VALIDATION_FILE)["x"][:5])
    z_mean, _ = encoder(x)
    np.testing.assert_allclose(np.asarray(full(x)), np.asarray(generator(z_mean)), atol=1e-6)


def test_a_diverging_run_stops_with_a_clear_message(small_mnist_path, tmp_path):
    # The VAE's exp(z_log_var) overflows at this rate (the AE's clipped BCE only grows huge, never NaN).
    config = quick_config("vae", small_mnist_path, tmp_path / "run", optimizer="sgd", learning_rate=1e3)
    with pytest.raises(AeonnxError, match=r"loss became nan in epoch 1 \(diverged\); try a lower --learning-rate"):
        train(config, verbose=0)
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.iterdir())  # no checkpoint either: no epoch completed


def test_interrupted_training_keeps_its_last_completed_epoch(small_mnist_path, tmp_path, monkeypatch):
    import keras

    from aeonnx.runtime.errors import Interrupted
    from aeonnx.train import fit

    real_callbacks = fit._callbacks

    class CtrlCInEpochTwo(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 1 and batch == 3:
                raise KeyboardInterrupt

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    def with_ctrl_c():
        callbacks, last_epoch = real_callbacks()
        return [*callbacks, CtrlCInEpochTwo()], last_epoch

    monkeypatch.setattr(fit, "_callbacks", with_ctrl_c)
    out = tmp_path / "run"
    with pytest.raises(Interrupted, match="training interrupted; the model after epoch 1 is in"):
        train(quick_config("vae", small_mnist_path, out), verbose=0)
    assert not out.exists()
    checkpoint = fit.checkpoint_path(out)
    restored = keras.models.load_model(checkpoint)
    assert restored.encoder.output_shape[0] == (None, 2)
    assert np.isfinite(np.concatenate([w.ravel() for w in restored.get_weights()])).all()
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.name]  # no partial files beside it


def test_the_best_epoch_is_chosen_on_held_out_training_digits_never_the_test_digits(small_mnist_path, tmp_path):
    from aeonnx.train.fit import held_out

    run = train(quick_config("ae", small_mnist_path, tmp_path / "r", epochs=4, learning_rate=0.05), verbose=0)
    record = read_run(run)
    chosen, losses = record["validation"], record["history"]["val_loss"]
    train_digits = record["data"]["train_images"]
    assert chosen["held_out"] == record["config"]["validation_size"] == train_digits // 10
    assert chosen["trained_on"] + chosen["held_out"] == train_digits
    assert chosen["best_epoch"] == 1 + losses.index(min(losses)) and chosen["best_loss"] == min(losses)
    kept, apart = held_out(train_digits, chosen["held_out"])
    assert not set(kept) & set(apart) and len(set(kept) | set(apart)) == train_digits
    assert np.array_equal(held_out(train_digits, chosen["held_out"])[1], apart), "the same draw every time"
    # the weights kept are the best epoch's: their loss on the held-out digits is the best one
    import keras

    with np.load(small_mnist_path) as data:
        x = data["x_train"].reshape(-1, 784).astype("float32")[apart] / 255
    full = keras.saving.load_model(run / spec.RUN_MODEL_FILE)
    bce = float(keras.losses.binary_crossentropy(x, full.predict(x, verbose=0)).numpy().mean())
    assert abs(bce - min(losses)) < 1e-4


def test_cosine_schedule_and_no_held_out_digits(small_mnist_path, tmp_path):
    record = read_run(
        train(quick_config("ae", small_mnist_path, tmp_path / "r", schedule="cosine", validation_size=0), verbose=0)
    )
    assert record["config"]["schedule"] == "cosine"
    assert record["validation"] == {
        "held_out": 0,
        "trained_on": record["data"]["train_images"],
        "best_epoch": 3,
        "best_loss": None,
    }
    with pytest.raises(AeonnxError, match="unknown schedule 'linear'"):
        train(quick_config("ae", small_mnist_path, tmp_path / "s", schedule="linear"), verbose=0)
    with pytest.raises(AeonnxError, match="--validation-size must be"):
        train(quick_config("ae", small_mnist_path, tmp_path / "t", validation_size=10**6), verbose=0)


@pytest.mark.parametrize("schedule", spec.SCHEDULES)
def test_a_warmup_rises_from_0_then_follows_the_schedule(schedule):
    config = TrainConfig("ae", "r", epochs=10, batch_size=100, schedule=schedule, warmup_epochs=2).resolved(1100)
    rate = learning_rate(config, 1100)  # 1000 trained on, 10 steps an epoch: warmup for 20 of 100 steps
    assert float(rate(0)) == 0.0
    assert float(rate(10)) == pytest.approx(config.learning_rate / 2)
    assert float(rate(20)) == pytest.approx(config.learning_rate)
    at_end = float(rate(100))
    assert at_end == (pytest.approx(0.0, abs=1e-9) if schedule == "cosine" else pytest.approx(config.learning_rate))
    assert learning_rate(dataclasses.replace(config, warmup_epochs=0, schedule="constant"), 1100) == 0.001
    with pytest.raises(AeonnxError, match="--warmup-epochs must be from 0 to fewer than --epochs"):
        TrainConfig("ae", "r", epochs=2, warmup_epochs=2).resolved(1100)
    # The AE's default warmup (2 epochs) takes at most half of a short run.
    assert [TrainConfig("ae", "r", epochs=n).resolved(1100).warmup_epochs for n in (1, 3, 200)] == [0, 1, 2]
