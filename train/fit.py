"""The training job behind `aeonnx train`: data -> model -> fit -> a run directory.

A run directory holds the Keras models (full, encoder, decoder/generator),
run.json (config, versions, data fingerprint, history, metrics, latent
statistics), a sample of validation digits for the export's parity gate, and
the pictures. It is written beside its final path and renamed into place, so
an interrupted run leaves nothing half-written under that name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aeonnx import provenance
from aeonnx.runtime import metrics, quality, spec
from aeonnx.runtime.aez import entropy
from aeonnx.runtime.errors import AeonnxError, Interrupted, signal_number
from aeonnx.runtime.files import check_folder_target, staged_directory

from . import data as data_module
from . import models

VALIDATION_SAMPLE_SIZE = 256  # digits kept in the run for the export's parity gate
LATENT_CODING_TOLERANCE_DB = 0.1  # the default bits stay this close to float32 codes' PSNR


@dataclass(frozen=True)
class TrainConfig:
    model: str
    out: str
    data: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    optimizer: str = "adam"
    learning_rate: float | None = None
    seed: int = 0
    latent_size: int | None = None
    hidden_size: int | None = None
    schedule: str | None = None  # the learning rate over the epochs (spec.SCHEDULES)
    validation_size: int | None = None  # training digits held out to choose the best epoch on
    warmup_epochs: int | None = None  # the learning rate rises linearly from 0 over these first epochs
    arch: str | None = None  # models.ARCHITECTURES; default dense for 28x28 grey digits, conv for other images
    size: str | None = None  # "HxW": the images resized (centre cropped to the aspect ratio) on load
    channels: int | None = None  # 1 (grey) or 3 (colour): the images converted on load
    val_fraction: float | None = None  # the share held out of data without a test split (data.DEFAULT_HELD_OUT)
    augment: bool = False  # random small shifts (and left-right flips of colour pictures) of the training images
    rate_distortion: bool = False  # an AE with quality levels (rate_distortion.py): its own loss, rate and tables

    def resolved(self, train_digits: int | None = None, image_shape: tuple[int, ...] | None = None) -> TrainConfig:
        """The config with every default filled in, as recorded in run.json (the architecture once the
        images' shape is known)."""
        model_spec = spec.get_model(self.model)
        self._check_choices(model_spec)
        arch = self.arch or (None if image_shape is None else default_arch(image_shape))
        validation_size = _given(self.validation_size, default_validation(train_digits))
        # An epoch's steps are counted on the images trained on: those held out are not in its batches.
        trained_on = None if train_digits is None else train_digits - max(validation_size or 0, 0)
        resolved = dataclasses.replace(
            self,
            arch=arch,
            epochs=_given(self.epochs, model_spec.epochs),
            batch_size=_given(self.batch_size, default_batch_size(model_spec, trained_on)),
            learning_rate=_given(self.learning_rate, spec.LEARNING_RATES[self.optimizer]),
            latent_size=_given(self.latent_size, model_spec.latent_size),
            hidden_size=None if arch == "conv" else _given(self.hidden_size, model_spec.hidden_size),
            schedule=_given(self.schedule, model_spec.schedule),
            validation_size=validation_size,
        )
        # The default warmup takes at most half of a short run (--epochs 3: 1); one asked for is checked below.
        default_warmup = min(model_spec.warmup_epochs, max(resolved.epochs, 0) // 2)
        resolved = dataclasses.replace(resolved, warmup_epochs=_given(self.warmup_epochs, default_warmup))
        resolved._check_values(train_digits)
        return resolved

    def _check_choices(self, model_spec: spec.ModelSpec) -> None:
        """The named choices (architecture, optimizer, schedule) exist and fit the model."""
        if self.arch is not None and self.arch not in models.ARCHITECTURES:
            raise AeonnxError(f"unknown --arch {self.arch!r}; choose one of: {', '.join(models.ARCHITECTURES)}")
        if self.arch == "conv" and self.hidden_size is not None:
            raise AeonnxError("--hidden-size is the dense models' hidden width; the conv models have none")
        if self.optimizer not in spec.LEARNING_RATES:
            raise AeonnxError(f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(spec.LEARNING_RATES)}")
        if self.schedule is not None and self.schedule not in spec.SCHEDULES:
            raise AeonnxError(f"unknown schedule {self.schedule!r}; choose one of: {', '.join(spec.SCHEDULES)}")
        if model_spec.hidden_size is None and self.hidden_size is not None:
            raise AeonnxError(f"the {self.model} has no hidden layer; --hidden-size applies to the vae")
        if self.rate_distortion and model_spec.variational:
            raise AeonnxError("--rate-distortion trains an ae: its codes are quantised, not sampled")

    def _check_values(self, train_digits: int | None) -> None:
        """The numbers, defaults filled in, are in range."""
        for name in ("epochs", "batch_size", "latent_size", "hidden_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise AeonnxError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 <= self.warmup_epochs < self.epochs:
            raise AeonnxError("--warmup-epochs must be from 0 to fewer than --epochs")
        if self.learning_rate <= 0:
            raise AeonnxError("--learning-rate must be positive")
        if self.validation_size is not None and (
            self.validation_size < 0 or (train_digits and self.validation_size >= train_digits)
        ):
            raise AeonnxError(f"--validation-size must be from 0 to fewer than the {train_digits} training digits")


def default_batch_size(model_spec: spec.ModelSpec, train_images: int | None) -> int:
    """The spec's batch size (MNIST's), made smaller for a small folder so that an epoch still takes
    spec.FEWEST_STEPS_PER_EPOCH steps: 600 pictures at 128 a batch learned next to nothing in 5 epochs
    (PSNR 10.7 dB, the mean image's 10.5), at 16 a batch 17.5 dB."""
    if train_images is None:
        return model_spec.batch_size
    return max(spec.SMALLEST_BATCH, min(model_spec.batch_size, train_images // spec.FEWEST_STEPS_PER_EPOCH))


def default_arch(image_shape: tuple[int, ...]) -> str:
    """The seed's dense models for MNIST's 28x28 grey digits; convolutional ones for any other images."""
    return "dense" if tuple(image_shape) == (spec.IMAGE_SIDE, spec.IMAGE_SIDE) else "conv"


def conversion(config: TrainConfig) -> data_module.Conversion:
    size = data_module.parse_size(config.size) if config.size else None
    return data_module.Conversion(size=size, channels=config.channels, held_out=config.val_fraction)


def default_validation(train_digits: int | None) -> int | None:
    """How many training digits are held out by default: spec.VALIDATION_DIGITS, at most a tenth."""
    if train_digits is None:
        return None
    return min(spec.VALIDATION_DIGITS, int(spec.VALIDATION_SHARE_MOST * train_digits))


def held_out(train_digits: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(the training digits trained on, the ones held out to choose the best epoch), as indices: a fixed
    draw (spec.VALIDATION_SPLIT_SEED), the same for every seed, so that runs compare."""
    order = np.random.default_rng(spec.VALIDATION_SPLIT_SEED).permutation(train_digits)
    return np.sort(order[count:]), np.sort(order[:count])


def train(config: TrainConfig, force: bool = False, verbose: int | str = "auto") -> Path:
    """Train one model and write its run directory; returns its path."""
    config.resolved()  # bad options are refused before the data is read
    model_spec = spec.get_model(config.model)
    out = Path(config.out)
    check_folder_target(out, force, marker=spec.RUN_CONFIG_FILE)
    dataset = data_module.load_dataset(config.data, conversion(config))
    config = config.resolved(len(dataset.x_train), dataset.image_shape)
    shape = models.input_shape(config.arch, dataset.image_shape)

    _seed_everything(config.seed)
    keras_models = models.build(
        config.model,
        config.latent_size,
        config.hidden_size,
        config.seed,
        config.arch,
        dataset.image_shape,
        config.rate_distortion,
    )
    full, encoder, _ = keras_models
    _compile(full, model_spec, config, len(dataset.x_train))
    fitted = _fit(full, model_spec, config, dataset, shape, checkpoint_path(out), verbose)
    record = _run_record(config, dataset, shape, fitted, full, encoder, keras_models[2])
    _write_run(out, force, model_spec, keras_models, dataset, record)
    return out


def _fit(full, model_spec: spec.ModelSpec, config: TrainConfig, dataset, shape, checkpoint: Path, verbose) -> dict:
    """Keras' fit on the training digits less those held out, keeping the weights of the epoch whose loss on
    the held-out digits was lowest; its history and timings. The test digits are never looked at here.
    Ctrl-C or a diverging loss keep the last good epoch at `checkpoint`."""
    x = dataset.train_inputs(shape)
    trained_on, kept_apart = held_out(len(x), config.validation_size)
    # Without held-out digits the curve is drawn on the test digits, and the last epoch is kept.
    validation = x[kept_apart] if len(kept_apart) else dataset.test_inputs(shape)
    callbacks, last_epoch = _callbacks()
    best = _best_epoch_callback() if len(kept_apart) else None
    training = _training_data(x[trained_on], model_spec, config, flips=len(dataset.image_shape) == 3)
    started = time.perf_counter()
    try:
        history = full.fit(
            **training,
            epochs=config.epochs,
            validation_data=_pairs(validation, model_spec, config),
            verbose=verbose,
            callbacks=callbacks + ([best] if best else []),
        )
    except KeyboardInterrupt as e:
        kept = f"the model after epoch {last_epoch.epoch} is in {checkpoint}" if last_epoch.save(checkpoint) else None
        raise Interrupted(f"training interrupted; {kept or 'no epoch had completed'}", signal_number(e)) from None
    train_seconds = time.perf_counter() - started
    _require_finite(history.history, last_epoch, checkpoint)
    return {
        "train_seconds": round(train_seconds, 2),
        "epoch_seconds": [round(t, 4) for t in last_epoch.seconds],  # the first includes graph tracing
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
        "validation": {
            "held_out": len(kept_apart),
            "trained_on": len(trained_on),
            "best_epoch": best.epoch if best else len(last_epoch.seconds),
            "best_loss": best.loss if best else None,
        },
    }


def _given(value, default):
    """A value given, or the default where none is (0 is a value to check, not a request for the default)."""
    return default if value is None else value


def _pairs(x: np.ndarray, model_spec: spec.ModelSpec, config: TrainConfig) -> tuple:
    """The AE learns x -> x with Keras' loss; the VAE's and the RD model's own train_step need x alone."""
    return (x,) if model_spec.variational or config.rate_distortion else (x, x)


def _training_data(x: np.ndarray, model_spec: spec.ModelSpec, config: TrainConfig, flips: bool) -> dict:
    """fit()'s arguments for the training inputs: shuffled batches, or the augmenting pipeline."""
    if config.augment:
        from .augment import augmented

        # The pipeline shuffles and batches itself (Keras warns if asked to shuffle it again).
        return {"x": augmented(x, config, flips=flips), "shuffle": False}
    return dict(zip(("x", "y"), _pairs(x, model_spec, config)), batch_size=config.batch_size, shuffle=True)


def _steps_per_epoch(config: TrainConfig, train_digits: int) -> int:
    return -(-(train_digits - config.validation_size) // config.batch_size)


def _run_record(config: TrainConfig, dataset, shape, fitted: dict, full, encoder, decoder) -> dict:
    """run.json: what was trained on what, with which libraries; the fit; the final measurements."""
    x_train, x_test = dataset.train_inputs(shape), dataset.test_inputs(shape)
    stats = latent_stats(encoder, x_train)
    # The default bits are a choice too: made on the held-out digits, never the test digits (which a run
    # with none held out, --validation-size 0, stands in for, as its loss curve does).
    _, kept_apart = held_out(len(x_train), config.validation_size)
    x_choose = x_train[kept_apart] if len(kept_apart) else x_test
    levels = _rate_distortion_record(full, x_choose) if config.rate_distortion else {}  # sets the level shown
    return {
        "model": config.model,
        "contract_version": spec.CONTRACT_VERSION,
        "config": dataclasses.asdict(config),
        "data": {
            "source": dataset.source,
            "sha256": dataset.sha256,
            "train_images": len(dataset.x_train),
            "test_images": len(dataset.x_test),
            **_data_record(dataset),
        },
        **_shape_record(dataset, shape),
        "versions": provenance.library_versions(),
        **fitted,
        "metrics": evaluate(full, config, x_test),
        "latent_stats": stats,
        # What nearly all training digits reach: the runtime warns about inputs below it.
        "quality": quality.measure(x_train, reconstructions(full, config, x_train, lowest=True)),
        **latent_coding(encoder, decoder, x_train, x_choose, stats),
        **levels,
    }


def _rate_distortion_record(full, x_choose: np.ndarray) -> dict:
    from .rate_distortion import run_record

    return run_record(full, x_choose)


def reconstructions(full, config: TrainConfig, x: np.ndarray, lowest: bool = False) -> np.ndarray:
    """The model's reconstructions of `x`; a rate-distortion model's at its default level, or with `lowest`
    at its lowest (the quality profile's: no level then warns of a usual digit)."""
    if not config.rate_distortion:
        return full.predict(x, batch_size=1024, verbose=0)
    from .rate_distortion import reconstruct

    return reconstruct(full, x, 0 if lowest else full.shown_level)[0]


def _data_record(dataset) -> dict:
    """What a run on images of your own records of them; nothing for MNIST's layout at its own size, whose
    records (and the exported files' metadata) stay as they were."""
    if dataset.image_shape == (spec.IMAGE_SIDE, spec.IMAGE_SIDE) and dataset.reading == "locate":
        return {}
    record = {"image_shape": list(dataset.image_shape), "test_split": dataset.test_split}
    if dataset.converted:
        record["converted"] = dataset.converted
    if dataset.classes:
        record["classes"] = list(dataset.classes)
    if dataset.skipped:
        record["skipped_files"] = dataset.skipped
    return record


def _shape_record(dataset, shape: tuple[int, ...]) -> dict:
    """The encoder's input shape and how compress reads a picture for it, when they are not the seed's."""
    if shape == (spec.INPUT_SIZE,) and dataset.reading == "locate":
        return {}
    return {"input_shape": list(shape), "picture_reading": dataset.reading}


def _write_run(out: Path, force: bool, model_spec: spec.ModelSpec, keras_models, dataset, record: dict) -> None:
    """The run directory, staged beside `out` and renamed into place."""
    from . import plots

    full, encoder, decoder = keras_models
    with staged_directory(out, force, marker=spec.RUN_CONFIG_FILE) as staging:
        full.save(staging / spec.RUN_MODEL_FILE)
        encoder.save(staging / model_spec.keras_file(model_spec.encoder.name))
        decoder.save(staging / model_spec.keras_file(model_spec.decoder.name))
        keep = np.arange(min(VALIDATION_SAMPLE_SIZE, len(dataset.x_test)))
        np.savez_compressed(staging / spec.RUN_VALIDATION_FILE, x=dataset.x_test[keep], y=dataset.y_test[keep])
        (staging / spec.RUN_CONFIG_FILE).write_text(json.dumps(record, indent=2) + "\n")
        plots.save_run_pictures(staging, model_spec, full, encoder, decoder, dataset, record["history"])


def _seed_everything(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)  # python, numpy and TensorFlow generators
    tf.config.experimental.enable_op_determinism()


def _compile(full, model_spec: spec.ModelSpec, config: TrainConfig, train_digits: int) -> None:
    import keras

    rate = learning_rate(config, train_digits)
    optimizer = keras.optimizers.get({"class_name": config.optimizer, "config": {"learning_rate": rate}})
    if model_spec.variational or config.rate_distortion:
        full.compile(optimizer=optimizer)  # its train_step computes its own loss
    else:
        full.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["mse"])


def learning_rate(config: TrainConfig, train_digits: int):
    """The resolved config's learning rate: a number, or a Keras schedule over the optimizer's steps.
    Cosine: from the given rate down to 0 after the warmup; constant with a warmup: alpha=1 holds the rate.
    A warmup keeps the first steps' large updates from silencing ReLU units of the AE's code for good
    (measured on mnist-60k: without it, seed 0's AE lost one of its 32 within 3 epochs and ended at BCE
    0.0935; with 2 epochs of warmup it kept all 32 and reached 0.0922)."""
    import keras

    steps_per_epoch = _steps_per_epoch(config, train_digits)
    warmup = config.warmup_epochs * steps_per_epoch
    if config.schedule != "cosine" and not warmup:
        return config.learning_rate
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else config.learning_rate,
        decay_steps=config.epochs * steps_per_epoch - warmup,
        alpha=0.0 if config.schedule == "cosine" else 1.0,
        warmup_target=config.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def checkpoint_path(out: Path) -> Path:
    """Where an interrupted or diverged run leaves its last good epoch: beside the run directory."""
    return out.with_name(out.name + ".checkpoint.keras")


def _callbacks():
    import keras

    class LastGoodEpoch(keras.callbacks.Callback):
        """The weights after the last epoch with a finite loss, kept in memory (a copy of a few MB) and
        written only when needed: saving a file every epoch cost ~15% of the AE's training time."""

        def __init__(self):
            super().__init__()
            self.weights, self.epoch, self.seconds = None, 0, []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)
            if np.isfinite((logs or {}).get("loss", 0.0)):
                self.weights, self.epoch = self.model.get_weights(), epoch + 1

        def save(self, path: Path) -> bool:
            """Write that epoch's model to `path` atomically; False when no epoch completed."""
            if self.weights is None:
                return False
            self.model.set_weights(self.weights)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial.keras")
            self.model.save(partial)
            os.replace(partial, path)
            return True

    last_epoch = LastGoodEpoch()
    return [keras.callbacks.TerminateOnNaN(), last_epoch], last_epoch


def _best_epoch_callback():
    import keras

    class BestEpoch(keras.callbacks.Callback):
        """Keeps the weights of the epoch with the lowest loss on the held-out digits, and puts them back
        when training ends (in memory: a copy of a few MB)."""

        def __init__(self):
            super().__init__()
            self.weights, self.epoch, self.loss = None, 0, float("inf")

        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("val_loss", float("nan"))
            if np.isfinite(loss) and loss < self.loss:
                self.weights, self.epoch, self.loss = self.model.get_weights(), epoch + 1, float(loss)

        def on_train_end(self, logs=None):
            if self.weights is not None:
                self.model.set_weights(self.weights)

    return BestEpoch()


def _require_finite(history: dict[str, list[float]], last_epoch, checkpoint: Path) -> None:
    for epoch, loss in enumerate(history.get("loss", []), start=1):
        if not np.isfinite(loss):
            kept = (
                f"the model after epoch {last_epoch.epoch} is in {checkpoint}"
                if last_epoch.save(checkpoint)
                else "nothing was written"
            )
            raise AeonnxError(
                f"training stopped: the loss became {loss} in epoch {epoch} (diverged); "
                f"try a lower --learning-rate; {kept}"
            )


def evaluate(full, config: TrainConfig, x_test: np.ndarray) -> dict[str, float]:
    """Final validation metrics: BCE, MSE and PSNR of the deterministic reconstruction (a rate-distortion
    model's at its default level); VAE loss terms too."""
    result = metrics.reconstruction_metrics(x_test, reconstructions(full, config, x_test))
    if spec.get_model(config.model).variational:
        losses = full.evaluate(x_test, batch_size=config.batch_size, verbose=0, return_dict=True)
        result.update(reconstruction=losses["reconstruction"], kl=losses["kl"], total=losses["loss"])
    return {key: float(value) for key, value in result.items()}


def latent_stats(encoder, x_train: np.ndarray) -> dict[str, list[float]]:
    """Per-dimension statistics of the code over the training set (z for the AE, z_mean for the VAE)."""
    codes = np.asarray(models.predict_codes(encoder, x_train), dtype=np.float64)
    return {
        "min": codes.min(axis=0).tolist(),
        "max": codes.max(axis=0).tolist(),
        "mean": codes.mean(axis=0).tolist(),
        "std": codes.std(axis=0).tolist(),
    }


def latent_coding(encoder, decoder, x_train: np.ndarray, x_choose: np.ndarray, stats: dict) -> dict:
    """Format v2's entropy coding of this model's codes (runtime/entropy.py): the priors, from the training
    digits' codes over their range; and the default bits, the fewest whose round trip of `x_choose` (the
    held-out digits) stays within 0.1 dB PSNR of float32 codes."""
    z_min, z_max = (np.asarray(stats[key], np.float32) for key in ("min", "max"))
    priors = entropy.priors_from_codes(models.predict_codes(encoder, x_train), z_min, z_max)
    z_choose = np.asarray(models.predict_codes(encoder, x_choose), np.float32)

    def psnr_of(z: np.ndarray) -> float:
        return metrics.psnr(x_choose, decoder.predict(z, batch_size=1024, verbose=0))

    psnr_float = psnr_of(z_choose)
    psnr_by_bits = {
        bits: psnr_of(entropy.dequantize(entropy.quantize(z_choose, bits, z_min, z_max), bits, z_min, z_max))
        for bits in priors.bits
    }
    coding = {
        "default_bits": entropy.fewest_bits_within(psnr_by_bits, psnr_float, LATENT_CODING_TOLERANCE_DB),
        "tolerance_db": LATENT_CODING_TOLERANCE_DB,
        "psnr_float32": psnr_float,
        "psnr_by_bits": {str(bits): value for bits, value in psnr_by_bits.items()},
    }
    return {"latent_coding": coding, "latent_priors": priors.to_metadata()}


def print_summary(run_dir: Path) -> None:
    record = json.loads((run_dir / spec.RUN_CONFIG_FILE).read_text())
    figures = ", ".join(f"{k} {v:.4g}" for k, v in record["metrics"].items())
    chosen = record.get("validation", {})
    images = "images" if "image_shape" in record["data"] else "digits"  # pictures of your own, or MNIST's
    best = (
        f", epoch {chosen['best_epoch']} kept (best on {chosen['held_out']} held-out training {images})"
        if chosen.get("held_out")
        else ""
    )
    tested = "held-out images" if "test_split" in record["data"] else "test digits"
    print(f"wrote {run_dir} ({record['train_seconds']:.1f} s of training{best}); {tested}: {figures}", file=sys.stderr)
