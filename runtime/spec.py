"""The contract that train, export and runtime agree on.

Standard library only: the runtime imports it on every start, and training and
export build their models and files from it. Change a value here and every
stage follows; bump CONTRACT_VERSION when a change breaks files already made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

CONTRACT_VERSION = "1"

IMAGE_SIDE = 28
INPUT_SIZE = IMAGE_SIDE * IMAGE_SIDE  # 784: images travel flattened, row-major

# ONNX tensor names. The batch axis is dynamic and carries this name.
BATCH_AXIS = "batch"
X = "x"  # float32 [batch, 784], pixels in [0, 1], white digit on black
Z = "z"  # float32 [batch, latent]
Z_MEAN = "z_mean"
Z_LOG_VAR = "z_log_var"
X_HAT = "x_hat"  # float32 [batch, 784], in [0, 1]

PREPROCESSING = {
    "image": f"{IMAGE_SIDE}x{IMAGE_SIDE} grayscale",
    "polarity": "white digit on black background",
    "scale": "pixel / 255 (float32 in [0, 1])",
    "layout": f"row-major, flattened to {INPUT_SIZE}",
}


# What a model's input values are. "pixels": pictures, whose 0..255 are read into the model's value range
# (0 -> LO, 255 -> HI; [0, 1] unless export was told --value-range) and its outputs written back from its output
# range. "floats": arrays of any values, taken and given as they are (signals, tables, z-scored data).
VALUE_KINDS = ("pixels", "floats")
UNIT_RANGE = (0.0, 1.0)


def your_preprocessing(
    input_shape: tuple[int, ...],
    reading: str = "resize",
    values: str = "pixels",
    value_range: tuple[float, float] = UNIT_RANGE,
) -> dict[str, str]:
    """What a model of your own takes: its values (pixel / 255, or mapped to its range, or floats as they are),
    its layout, and how a picture becomes it (PICTURE_READINGS)."""
    if values == "floats":
        return {"values": f"float32 arrays of {list(input_shape)}, as the model was trained on them (no scaling)"}
    scale, how = _pixel_scale(value_range), {"pictures": f"{reading}: {PICTURE_READINGS[reading]}"}
    if len(input_shape) == 1:
        return {"image": f"{input_shape[0]} values", "scale": scale, "layout": "flat", **how}
    height, width, channels = (*input_shape, 1)[:3]  # (H, W): grey, without a channel axis
    colours = {1: "grayscale", 3: "RGB"}.get(channels, f"{channels} channels")
    return {"image": f"{height}x{width} {colours}", "scale": scale, "layout": "[height, width, channels]", **how}


def _pixel_scale(value_range: tuple[float, float]) -> str:
    low, high = value_range
    if (low, high) == UNIT_RANGE:
        return "pixel / 255 (float32 in [0, 1])"
    return f"{low:g} + pixel * {high - low:g} / 255 (float32 in [{low:g}, {high:g}])"


# Model variants: the exported float32 graph, and its dynamically quantised int8 copy. An int8
# copy is judged by reconstruction quality, not elementwise parity (int8 is not meant to match).
VARIANTS = ("float32", "int8")
INT8_MAX_PSNR_DROP = 0.1  # dB, encoder and decoder both int8, on the run's validation digits

# How a code file stores latents, by name (runtime/codefile.py; docs/FORMAT.md): the floats uncoded;
# "uint8" is entropy-coded at 8 bits (format 1's name for it); "auto" at the model's default bits. Kept
# here, stdlib only, so that the command line offers them without importing numpy on every start.
FLOAT_PRECISIONS = ("float32", "float16")
NAMED_PRECISIONS = ("auto", *FLOAT_PRECISIONS, "uint8")

# Limits a reader of code files keeps unless told more (docs/SECURITY.md): a code can be a byte or none, so a
# small file can declare millions of codes, whose names and pictures would take gigabytes. Kept here, stdlib
# only, for the command line's --max-codes and --max-files.
MAX_CODES_PER_FILE = 1_000_000  # codes a file may declare, checked from its header
MAX_FILES_PER_RUN = 100_000  # codes decompress decodes (a picture each) in one run
SKIPPED_SHOWN = 10  # inputs a command could not read, said a line each; then one line with how many more

# Where models run: cpu; cuda (fails unless CUDA really runs); auto (CUDA when it works, else CPU).
# The one list: providers.py checks it, the CLI offers it (kept here so `--help` loads no onnxruntime).
DEVICES = ("auto", "cpu", "cuda")

# ONNX opset: tf2onnx 1.17 converts up to 18; 17 is what the shipped files use.
DEFAULT_OPSET = 17
MAX_OPSET = 18

# Parity gate: |onnx - keras| <= atol + rtol * |keras|, elementwise. Measured:
# max abs diff 1.5e-5 on the AE encoder (outputs reach ~50), <= 1.5e-6 elsewhere.
PARITY_ATOL = 1e-5
PARITY_RTOL = 1e-5


@dataclass(frozen=True)
class Part:
    name: str  # "encoder", "decoder" or "generator"
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    latent_size: int  # default; a trained model records its own in its metadata
    hidden_size: int | None  # default width of the hidden Dense layers; None: no hidden layer
    encoder: Part
    decoder: Part  # the decoder (AE) or generator (VAE): z -> x_hat
    # Training defaults (`aeonnx train`; run.json records what was used): docs/training-and-export.md has
    # the measurements behind them, on all of MNIST's training digits.
    epochs: int
    batch_size: int
    schedule: str = "constant"  # the learning rate over the epochs: constant, or cosine decay to 0 (SCHEDULES)
    warmup_epochs: int = 0  # first epochs over which the learning rate rises linearly from 0
    input_shape: tuple[int, ...] = (INPUT_SIZE,)  # one image as the encoder takes it: flat, or (H, W, C)
    kind: str = ""  # the contract it follows: "ae" or "vae" (a model of your own: the shipped one's parts)
    preprocessing: str = "locate"  # how compress makes a picture its input: PICTURE_READINGS
    values: str = "pixels"  # VALUE_KINDS: pictures, or float arrays taken as they are
    value_range: tuple[float, float] = UNIT_RANGE  # pixels: what 0 and 255 are to the encoder
    output_range: tuple[float, float] | None = None  # pixels: what 0 and 255 are to the decoder, if not value_range

    @property
    def pixel_ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(the encoder's, the decoder's) values of pixels 0 and 255."""
        return self.value_range, self.output_range or self.value_range

    @property
    def conventions(self) -> dict:
        """How its values differ from pixel / 255, as its manifest entry records it: {} for pixels in [0, 1]."""
        if self.values == "floats":
            return {"values": "floats"}
        found = {"value_range": list(self.value_range)} if self.value_range != UNIT_RANGE else {}
        if self.output_range not in (None, self.value_range):
            found["output_range"] = list(self.output_range)
        return found

    @property
    def yours(self) -> bool:
        """A model of your own, not the seed's shape and reading: your Keras pair (`aeonnx export --encoder
        --decoder`) or a run of another name, architecture, image size or colour (`aeonnx train --arch conv`,
        `--data FOLDER`). Its files and manifest entry say its kind and image shape; its code files the shape."""
        shipped = MODELS.get(self.name)
        mine = (self.input_shape, self.preprocessing, self.conventions)
        return shipped is None or mine != (shipped.input_shape, shipped.preprocessing, {})

    @property
    def variational(self) -> bool:
        """A VAE: its encoder gives (z_mean, z_log_var), it trains on its own loss (reconstruction + KL),
        and its decoder is a generator that turns draws from N(0, I) into digits."""
        return Z_LOG_VAR in self.encoder.outputs

    @property
    def parts(self) -> tuple[Part, Part]:
        return (self.encoder, self.decoder)

    def part(self, part_name: str) -> Part:
        for part in self.parts:
            if part.name == part_name:
                return part
        raise KeyError(f"model {self.name!r} has no part {part_name!r}")

    def onnx_file(self, part_name: str, variant: str = "float32") -> str:
        suffix = "" if variant == "float32" else f".{variant}"
        return f"{self.name}_{self.part(part_name).name}{suffix}.onnx"

    def keras_file(self, part_name: str) -> str:
        return f"{self.part(part_name).name}.keras"


AE = ModelSpec(
    name="ae",
    latent_size=32,
    hidden_size=None,
    encoder=Part("encoder", inputs=(X,), outputs=(Z,)),
    decoder=Part("decoder", inputs=(Z,), outputs=(X_HAT,)),
    epochs=200,
    batch_size=128,
    schedule="cosine",
    warmup_epochs=2,  # without it a seed can lose a ReLU code unit in its first epochs for good
    kind="ae",
)
VAE = ModelSpec(
    name="vae",
    latent_size=2,
    hidden_size=512,
    encoder=Part("encoder", inputs=(X,), outputs=(Z_MEAN, Z_LOG_VAR)),
    decoder=Part("generator", inputs=(Z,), outputs=(X_HAT,)),
    epochs=60,
    batch_size=128,
    schedule="cosine",
    kind="vae",
)
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (AE, VAE)}
# How compress makes a picture a model's input. The shipped models locate the digit and frame it as MNIST
# framed its digits; a model of your own is resized to (the default), or cropped to its aspect ratio and
# then resized, or, when it takes 28x28 grey digits, may keep the digit localisation.
PICTURE_READINGS = {
    "locate": "the digit located and framed as MNIST framed its digits (28x28 grey models)",
    "resize": "the whole picture resized to the input's size",
    "crop": "the picture's centre cropped to the input's aspect ratio, then resized",
}
KINDS = tuple(MODELS)  # what a model of your own can be: an autoencoder, or a VAE (mean, log-variance, generator)
MODEL_NAME_PATTERN = r"[a-z][a-z0-9_-]{0,31}"  # a model's name: in file names and code files
MODEL_NAMES = tuple(MODELS)
# Every (model name, part name) pair: the ONNX files a complete models folder holds.
MODEL_PARTS = tuple((spec.name, part.name) for spec in MODELS.values() for part in spec.parts)

SCHEDULES = ("constant", "cosine")
FEWEST_STEPS_PER_EPOCH = 32  # a small data set's default batch shrinks to give an epoch this many steps
SMALLEST_BATCH = 8  # ... down to this batch size
# Digits carved from the training digits (a fixed draw) to choose the best epoch on, never the test digits:
# its weights are the run's. 0 keeps the last epoch's (a data set too small to spare them).
VALIDATION_DIGITS = 5000
VALIDATION_SHARE_MOST = 0.1  # at most this share of the training digits is held out
VALIDATION_SPLIT_SEED = 0  # the same draw for every seed, so that runs compare

# Optimizers `aeonnx train` offers, with the learning rate each defaults to. Keras 3's Adadelta
# defaults to 0.001, at which the seed's setup does not learn at all (BCE stays 0.692 for 50
# epochs); 1.0 is the rate of the original Adadelta paper and of Keras 2.
LEARNING_RATES = {"adam": 1e-3, "adadelta": 1.0, "rmsprop": 1e-3, "sgd": 0.1, "nadam": 1e-3}


def your_model(
    name: str,
    kind: str,
    latent_size: int,
    input_shape: tuple[int, ...],
    preprocessing: str = "resize",
    conventions: dict | None = None,
) -> ModelSpec:
    """The spec of a model of your own (`aeonnx export --encoder --decoder`): the parts and tensor names of
    the shipped model of its kind, under its own name, with its own input shape, latent size, reading and
    value conventions (ModelSpec.conventions: values, value_range, output_range)."""
    conventions = conventions or {}
    ranges = {key: tuple(conventions[key]) for key in ("value_range", "output_range") if key in conventions}
    return replace(
        MODELS[kind],
        name=name,
        latent_size=latent_size,
        input_shape=tuple(input_shape),
        preprocessing=preprocessing,
        values=conventions.get("values", "pixels"),
        **ranges,
    )


def image_of(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One image's shape as pictures and arrays hold it, for an encoder's input shape: (28, 28) for the shipped
    models' 784, (H, W) for (H, W, 1) or (H, W), (H, W, C) for colour."""
    if len(input_shape) == 2:
        return tuple(input_shape)
    if len(input_shape) == 3:
        return input_shape[:2] if input_shape[2] == 1 else input_shape
    side = int(round(input_shape[0] ** 0.5))
    return (side, side) if side * side == input_shape[0] else input_shape


def model_in_manifest(name: str, entry: dict) -> ModelSpec:
    """The spec of a model a manifest lists: a model of your own by its entry's kind, input shape and latent
    size (whatever its name: a conv `ae` too); a shipped model's exports by their name."""
    if "kind" not in entry:
        return get_model(name)
    kind, shape, latent, reading = (entry.get(k) for k in ("kind", "input_shape", "latent_size", "preprocessing"))
    reading = reading or "resize"
    if kind not in KINDS or reading not in PICTURE_READINGS or not isinstance(latent, int) or latent < 1:
        raise KeyError(
            f"model {name!r}: its manifest entry is not one aeonnx writes (kind, latent size, preprocessing)"
        )
    if not isinstance(shape, list) or not 1 <= len(shape) <= 3 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise KeyError(f"model {name!r}: its manifest entry has no valid input_shape")
    return your_model(name, kind, latent, tuple(shape), reading, _conventions_of(name, entry))


def _conventions_of(name: str, entry: dict) -> dict:
    """An entry's values and ranges (ModelSpec.conventions), checked: finite, low below high."""
    conventions = {key: entry[key] for key in ("values", "value_range", "output_range") if key in entry}
    if conventions.get("values", "pixels") not in VALUE_KINDS:
        raise KeyError(f"model {name!r}: its manifest entry's values are not one of {', '.join(VALUE_KINDS)}")
    for key in ("value_range", "output_range"):
        if key in conventions and not is_value_range(conventions[key]):
            raise KeyError(f"model {name!r}: its manifest entry's {key} is not [low, high]")
    return conventions


def is_value_range(value) -> bool:
    """[low, high]: two finite numbers, low below high."""
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return False
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < float("inf") for v in value):
        return False
    return value[0] < value[1]


def get_model(name: str) -> ModelSpec:
    """The spec of a named model; unknown names are rejected loudly."""
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; choose one of: {', '.join(MODEL_NAMES)}") from None


def default_help(field: str) -> str:
    """A training option's default for help text, from the specs: 'Default: 100 for ae, 60 for vae.',
    'Default: 128.' where every model agrees; models without the setting (None) are left out."""
    values = {name: getattr(model, field) for name, model in MODELS.items() if getattr(model, field) is not None}
    if len(set(values.values())) == 1 and len(values) == len(MODELS):
        return f"Default: {next(iter(values.values()))}."
    return "Default: " + ", ".join(f"{value} for {name}" for name, value in values.items()) + "."


# Files in a training run directory (besides one `<part>.keras` per part).
RUN_CONFIG_FILE = "run.json"
RUN_MODEL_FILE = "model.keras"  # the full trained model
RUN_VALIDATION_FILE = "validation.npz"  # x: uint8 validation digits, y: labels; for the parity gate

# Files in an exported models directory (besides one `<model>_<part>.onnx` per part).
MANIFEST_FILE = "manifest.json"
# Every released model's decoding part (decoder or generator, float32 and int8, sidecars, golden vectors,
# its own manifest) stays in the models folder under HISTORY_DIR/<model id>/, so that a code file made by
# any release still decodes to the same pixels after the models are retrained.
HISTORY_DIR = "history"
HISTORY_INDEX = (
    "index.json"  # HISTORY_DIR/HISTORY_INDEX: {"releases": {model id: model name}}, which a URL reader cannot list
)
MODEL_ID_LENGTH = 16  # hex digits of a model id (the first of its weights' sha256)

# Golden vectors: beside each model file, ONNX's backend-test layout (`<stem>/test_data_set_0/input_0.pb`,
# `output_0.pb`, ... as TensorProtos): real validation digits (decoders: their encoder's codes) and the
# outputs onnxruntime gave at export. `aeonnx verify` re-runs them on any runtime and device, within
# GOLDEN_ATOL + GOLDEN_RTOL * |golden|: ten times the parity tolerance, as another CPU, execution provider
# or onnxruntime version may sum in another order; a changed weight moves outputs far more.
GOLDEN_BATCH = 8
GOLDEN_DATA_SET = "test_data_set_0"
GOLDEN_ATOL = 1e-4
GOLDEN_RTOL = 1e-4


def golden_dir(onnx_file: str) -> str:
    """`ae_encoder.onnx` -> `ae_encoder`: the folder of its golden vectors."""
    return onnx_file.removesuffix(".onnx")


def sidecar_file(onnx_file: str) -> str:
    """`ae_encoder.onnx` -> `ae_encoder.json`: its metadata_props mirrored for runtimes that cannot read them."""
    return onnx_file.removesuffix(".onnx") + ".json"


# Keys of each ONNX file's metadata_props. Values are strings; JSON where structured.
META_PREFIX = "aeonnx."
META_CONTRACT_VERSION = META_PREFIX + "contract_version"
META_MODEL = META_PREFIX + "model"  # "ae" | "vae"
META_PART = META_PREFIX + "part"  # "encoder" | "decoder" | "generator"
META_MODEL_ID = META_PREFIX + "model_id"  # hash shared by both parts of one trained model
META_INPUT_SHAPE = META_PREFIX + "input_shape"  # JSON, e.g. [null, 784]
META_LATENT_SIZE = META_PREFIX + "latent_size"
META_PREPROCESSING = META_PREFIX + "preprocessing"  # JSON, PREPROCESSING (a model of your own: your_preprocessing)
META_KIND = META_PREFIX + "kind"  # a model of your own: "ae" | "vae", the contract its parts follow
META_IMAGE_SHAPE = META_PREFIX + "image_shape"  # a model of your own: JSON, one image as its encoder takes it
META_VALUES = META_PREFIX + "values"  # a model of your own, where not pixel / 255: JSON, ModelSpec.conventions
META_LATENT_STATS = META_PREFIX + "latent_stats"  # JSON: per-dimension min/max/mean/std over training set
META_DATA_SHA256 = META_PREFIX + "data_sha256"
META_TRAIN_CONFIG = META_PREFIX + "train_config"  # JSON
META_METRICS = META_PREFIX + "metrics"  # JSON: final validation metrics
META_VERSIONS = META_PREFIX + "versions"  # JSON: library versions at training and export
META_PARITY = META_PREFIX + "parity"  # JSON: atol, rtol, max_abs_diff, batch sizes checked
META_VARIANT = META_PREFIX + "variant"  # "float32" | "int8"
META_QUANTIZATION = META_PREFIX + "quantization"  # JSON, int8 only: method, PSNR float32/int8/drop
META_QUALITY = META_PREFIX + "quality"  # JSON: how well the training digits survive the round trip (QUALITY_*)
META_LATENT_PRIORS = META_PREFIX + "latent_priors"  # JSON: entropy.Priors.to_metadata(), format v2 codes
META_LATENT_CODING = META_PREFIX + "latent_coding"  # JSON: default_bits, psnr_by_bits, psnr_float32
META_QUALITY_LEVELS = META_PREFIX + "quality_levels"  # JSON: a rate-distortion model's levels (aez/levels.py)
QUALITY_LEVELS = 8  # a rate-distortion model's levels, compress --quality 1..8 (train/rate_distortion.py trains them)
# The model compress, encode, inspect and score use unless --model says another: the shipped rate-distortion
# model (quality levels; artifacts/regenerate.sh), which beats the dense AE at every rate (docs/benchmarks.md).
DEFAULT_MODEL = "rd"
META_ANOMALY = META_PREFIX + "anomaly"  # JSON: scores.threshold_record() of the export data

# `aeonnx score`: an input is an anomaly above this percentile of the export data's reconstruction errors. The
# data is normal data, so about 0.5% of it lies above by construction, a little more of new normal data.
ANOMALY_PERCENTILE = 99.5
SCORE_METRICS = ("mse", "mae")  # mean squared, mean absolute error over each input's values (runtime/scores.py)

# What "a digit this model knows" means. Training measures, over its training digits, each digit's
# round-trip PSNR and its ink (mean pixel value) and records these percentiles; the runtime warns
# about an input whose PSNR or ink falls below the QUALITY_PERCENTILE-th percentile (no ink: a blank
# page, which the AE reconstructs well). 0.1 and not 1: on the shared test digits the 1st percentile would warn on 1.6%
# of clean digits (the 0.1th: 0.5%), and a warning that fires on good digits stops being read.
# Issue 21: that floor still warned on 0.2% of the training digits themselves and 0.34% of the test digits
# (24 of 90 warnings on 20,000 training digits were "very little ink" on ordinary thin 1s). The warning now
# fires a tail step further down, QUALITY_TAIL_STEPS x (p0.5 - p0.1) below p0.1, and on ink below
# QUALITY_INK_SHARE of the p0.1 ink: chosen on the 55,000 training digits of mnist-60k (0.018% warned, through
# 6-bit codes as compress stores them); its 5,000 test digits then warn on 0.0%. docs/pictures.md has the table.
QUALITY_PERCENTILES = (0.1, 0.5, 1.0, 5.0, 50.0)
QUALITY_PERCENTILE = 0.1
QUALITY_TAIL_PERCENTILE = 0.5
QUALITY_TAIL_STEPS = 1.0
QUALITY_INK_SHARE = 0.5
