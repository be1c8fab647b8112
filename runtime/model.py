"""A loaded autoencoder: its ONNX sessions, what its metadata says, and the operations on it.

Load once with `load()`, then reuse: each part's session is made on first use
and kept. Sessions are safe to share across threads (onnxruntime's `run` is),
and nothing here changes after loading, so one Autoencoder can serve many threads.
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import conventions, metrics, providers, quality, scores, spec
from .aez import codefile, entropy
from .aez import levels as quality_levels
from .conventions import as_float_input, as_model_input
from .errors import DataError, ModelError
from .files import read_bytes
from .manifest import complete_from
from .models_folder import (  # which model a command runs; here too, where callers import them from
    checked_folder,
    shipped_model_names,
    shipped_models_dir,
    spec_in_folder,
)
from .pictures import grids, shapes

# Images per onnxruntime call when an API caller passes a whole array: 26 MB of float32 input at most.
# Larger than inputs.CHUNK so that compress's chunks always go through in one call.
CHUNK = 8192
ASSESS_CHUNK = 1024  # images per round-trip check: its float copies stay near 10 MB whatever the batch


class Assessment(NamedTuple):
    psnr: np.ndarray  # float64 [N]: each image's round-trip PSNR in dB
    warnings: list[str | None]  # why each image is unlike the digits the model knows, or None
    ink: np.ndarray | None = None  # float64 [N]: each image's mean pixel value in [0, 1]

    def noting(self, concerns: list[str | None] | None) -> Assessment:
        """With what reading found instead of a digit (only rulings, a block) as the warning, where it did."""
        if not concerns:
            return self
        return self._replace(warnings=[concern or said for concern, said in zip(concerns, self.warnings)])


class Decompressed(NamedTuple):
    names: tuple[str, ...]
    images: np.ndarray  # uint8 [N, 28, 28], or float32 in [0, 1] with as_float=True
    original_sizes: tuple[tuple[int, int], ...] | None


def _is_model_id(text: str) -> bool:
    return len(text) == spec.MODEL_ID_LENGTH and all(c in "0123456789abcdef" for c in text)


def load(
    model: str = "ae",
    models_dir: str | Path | None = None,
    device: str = "auto",
    threads: int | None = None,
    variant: str = "float32",
    part: str | None = None,
) -> Autoencoder:
    """The named model from `models_dir` (default: the shipped models) on `device` (auto, cpu, cuda).

    variant "int8" loads the dynamically quantised copies (same model id, smaller files).
    `part` ("encoder", the default, or "decoder" / "generator") is opened now: the model's identity
    (id, latent size and range) comes from its metadata, and any error names it. Give the part you
    will use first: sampling and decoding never need the encoder's file. The other part is opened on
    first use and must come from the same training.
    """
    if device not in spec.DEVICES:  # before any file is read
        raise ModelError(f"unknown device {device!r}; choose one of: {', '.join(spec.DEVICES)}")
    if variant not in spec.VARIANTS:
        raise ModelError(f"unknown model variant {variant!r}; choose one of: {', '.join(spec.VARIANTS)}")
    models_dir = checked_folder(models_dir)
    model_spec = spec_in_folder(model, models_dir)
    if part not in (None, "encoder", "decoder", model_spec.decoder.name):
        raise ModelError(f"unknown part {part!r}; choose encoder or {model_spec.decoder.name}")
    first = model_spec.encoder if part in (None, "encoder") else model_spec.decoder
    return Autoencoder(model_spec, models_dir or shipped_models_dir(), device, threads, variant, first)


class Autoencoder:
    def __init__(
        self,
        model_spec: spec.ModelSpec,
        models_dir,
        device: str,
        threads: int | None,
        variant: str = "float32",
        first_part: spec.Part | None = None,
    ):
        self.spec, self.models_dir, self.device, self.threads = model_spec, models_dir, device, threads
        self.variant = variant
        self._sessions: dict[str, object] = {}
        self._history: dict[str, Autoencoder | None] = {}  # released models that decode old code files
        self._lock = threading.Lock()
        self.provider: str | None = None  # the execution provider really in use, once a session exists
        # Identity is read eagerly, from the part used first, so errors come up front and name that part.
        self._identity_part = first_part or model_spec.encoder
        self.metadata = self._part_metadata(self._identity_part)

    # --- identity, read from the ONNX metadata -------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def image_shape(self) -> tuple[int, ...]:
        """One image as this model reads and writes it: (28, 28) for the shipped models; (H, W) or (H, W, C)."""
        return spec.image_of(self.spec.input_shape)

    @property
    def locates_digits(self) -> bool:
        """Does compress find and frame a digit in each picture for it (the shipped models, and a model of
        your own exported with --preprocessing locate), or resize the picture to its input (spec.PICTURE_READINGS)?"""
        return self.spec.preprocessing == "locate"

    @property
    def picture_shape(self) -> tuple[int, ...] | None:
        """What compress resizes each picture to for this model: its image shape; None where it locates digits; a
        model of float values: the shape of each of its arrays."""
        if not self.gives_pictures:
            return self.spec.input_shape
        return None if self.locates_digits else self.image_shape

    @property
    def reading(self) -> dict:
        """How compress, encode and score read inputs for this model (pictures.inputs.chunks' options): pictures
        resized to its image (`shape`, `crop`) or digits located; arrays of numbers for a model of float values."""
        return {"shape": self.picture_shape, "crop": self.crops_pictures, "numbers": not self.gives_pictures}

    @property
    def crops_pictures(self) -> bool:
        """Is a picture cropped to the model's aspect ratio before it is resized (--preprocessing crop)?"""
        return self.spec.preprocessing == "crop"

    @property
    def model_id(self) -> str:
        return self.metadata[spec.META_MODEL_ID]

    @property
    def latent_size(self) -> int:
        return int(self.metadata[spec.META_LATENT_SIZE])

    @property
    def metrics(self) -> dict:
        return json.loads(self.metadata.get(spec.META_METRICS, "{}"))

    @functools.cached_property
    def binding(self) -> codefile.Binding:
        """What ties code files to this model: name, id, and the latent range quantisation uses."""
        stats = json.loads(self.metadata[spec.META_LATENT_STATS])
        priors = self.metadata.get(spec.META_LATENT_PRIORS)
        coding = json.loads(self.metadata.get(spec.META_LATENT_CODING, "{}"))
        levels = self.metadata.get(spec.META_QUALITY_LEVELS)
        return codefile.Binding(
            self.name,
            self.model_id,
            np.asarray(stats["min"], np.float32),
            np.asarray(stats["max"], np.float32),
            entropy.Priors.from_metadata(priors, self.latent_size) if priors else None,
            coding.get("default_bits"),
            self.spec.input_shape if self.spec.yours else None,  # a model of your own: code files record it
            quality_levels.QualityLevels.from_metadata(levels, self.latent_size) if levels else None,
        )

    @property
    def quality_profile(self) -> quality.QualityProfile | None:
        """What nearly all its training digits reach; None for a model exported without it."""
        return quality.profile_from_metadata(self.metadata)

    def _path(self, part: spec.Part):
        return self.models_dir / self.spec.onnx_file(part.name, self.variant)

    def _part_bytes(self, part: spec.Part) -> bytes:
        path = self._path(part)
        if not path.exists():  # a missing part is named by what it is, and how to make it
            hint = "; export one with --quantize int8" if self.variant == "int8" else ""
            raise ModelError(f"{self.models_dir}: no {path.name} (the {self.name} {part.name}){hint}")
        return read_bytes(path, "an ONNX model", ModelError)

    def _part_metadata(self, part: spec.Part) -> dict[str, str]:
        session = self._session(part)
        return session.get_modelmeta().custom_metadata_map

    def _session(self, part: spec.Part):
        session = self._sessions.get(part.name)  # the common case takes no lock
        if session is not None:
            return session
        with self._lock:
            if part.name not in self._sessions:
                self._sessions[part.name] = self._open(part)
            return self._sessions[part.name]

    def _open(self, part: spec.Part):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        session, provider = providers.create_session(
            self._part_bytes(part), self.device, options, source=str(self._path(part))
        )
        self.provider = provider
        self._check_contract(part, session)
        return session

    def _check_contract(self, part: spec.Part, session) -> None:
        where = self._path(part)
        meta = session.get_modelmeta().custom_metadata_map
        expected = {
            spec.META_MODEL: self.name,
            spec.META_PART: part.name,
            spec.META_CONTRACT_VERSION: spec.CONTRACT_VERSION,
            spec.META_VARIANT: self.variant,
        }
        for key, value in expected.items():
            if meta.get(key, "float32" if key == spec.META_VARIANT else None) != value:
                raise ModelError(
                    f"{where}: metadata {key} is {meta.get(key)!r}, expected {value!r}; "
                    "was it exported by this version of aeonnx?"
                )
        inputs = [i.name for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        if inputs != list(part.inputs) or outputs != list(part.outputs):
            raise ModelError(
                f"{where}: tensors {inputs} -> {outputs} do not match the contract "
                f"{list(part.inputs)} -> {list(part.outputs)}"
            )
        if part is self._identity_part:
            return
        if meta.get(spec.META_MODEL_ID) != self.model_id:
            raise ModelError(
                f"{where}: model id {meta.get(spec.META_MODEL_ID)} differs from the "
                f"{self._identity_part.name}'s {self.model_id}; "
                "the two parts come from different trainings"
            )
        latent = session.get_inputs()[0] if part is self.spec.decoder else session.get_outputs()[0]
        if latent.shape[1] != self.latent_size:
            raise ModelError(f"{where}: latent width {latent.shape[1]} differs from the latent size {self.latent_size}")

    # --- the operations ------------------------------------------------------------------------
    def encode_outputs(self, images) -> dict[str, np.ndarray]:
        """Every encoder output by its contract name: {'z'} for the AE, {'z_mean', 'z_log_var'} for the VAE."""
        x = self.model_input(images)
        session = self._session(self.spec.encoder)
        names = list(self.spec.encoder.outputs)
        if 0 < len(x) <= CHUNK:  # one call: no list to build, no copy to concatenate
            return dict(zip(names, session.run(names, {spec.X: x})))
        chunks = [session.run(names, {spec.X: x[i : i + CHUNK]}) for i in range(0, len(x), CHUNK)]
        if not chunks:
            return {name: np.zeros((0, self.latent_size), np.float32) for name in names}
        return {name: np.concatenate([c[k] for c in chunks]) for k, name in enumerate(names)}

    def encode(self, images) -> np.ndarray:
        """Latent codes, float32 [N, latent]: z (AE) or z_mean (VAE)."""
        x = self.model_input(images)
        session = self._sessions.get(self.spec.encoder.name) or self._session(self.spec.encoder)
        code = self.spec.encoder.outputs[:1]  # only z / z_mean is asked for: the fast path of compress
        if 0 < len(x) <= CHUNK:
            return session.run(code, {spec.X: x})[0]
        return self.encode_outputs(x)[code[0]]

    def model_input(self, values) -> np.ndarray:
        """What the encoder takes, float32 [N, *input_shape]: pictures' uint8 pixels read into the model's values
        (runtime/conventions.py), floats as given, in its own values; a model of float values: numbers as given."""
        if self.spec.values == "floats":
            return as_float_input(values, self.spec.input_shape)
        return as_model_input(values, self.spec.input_shape, self.spec.value_range)

    @property
    def known_inputs(self) -> str:
        """What it was trained on, as its warnings say it after "unlike the" (inputs_known_to)."""
        return self.inputs_known_to("this model")

    def inputs_known_to(self, model: str) -> str:
        """What it was trained on, after "unlike the": the digits `model` ("this model", "the model") knows, for a
        digit model; the pictures (float arrays: inputs) a model of your own was trained on, by its name."""
        if self.of_digits:
            return f"digits {model} knows"
        return f"{'pictures' if self.gives_pictures else 'inputs'} {self.name} was trained on"

    @property
    def of_digits(self) -> bool:
        """Was it trained on digits? The seed's models and the others shipped (rd, conv) frame digits as MNIST did;
        a model of your own is of its own pictures, whatever they show, even where it locates digits."""
        return self.locates_digits and (not self.spec.yours or self.name in shipped_model_names())

    @property
    def gives_pictures(self) -> bool:
        """Does it read and write pictures (pixels), or float arrays as they are (--floats)?"""
        return self.spec.values == "pixels"

    def decode(self, latents, as_float: bool = False) -> np.ndarray:
        """Images from codes: uint8 [N, 28, 28], or float32 in the model's own values ([0, 1] unless exported
        with --value-range) with as_float=True; a model of float values: float32 [N, *input_shape] always."""
        z = np.asarray(latents, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_size:
            raise DataError(f"latents must have shape (N, {self.latent_size}), got {z.shape}")
        session = self._sessions.get(self.spec.decoder.name) or self._session(self.spec.decoder)
        if 0 < len(z) <= CHUNK:
            (x_hat,) = session.run([spec.X_HAT], {spec.Z: z})
        else:
            outputs = [session.run([spec.X_HAT], {spec.Z: z[i : i + CHUNK]})[0] for i in range(0, len(z), CHUNK)]
            x_hat = np.concatenate(outputs) if outputs else np.zeros((0, *self.spec.input_shape), np.float32)
        if not self.gives_pictures:
            return x_hat.reshape(-1, *self.spec.input_shape)
        images = x_hat.reshape(-1, *self.image_shape)
        return images if as_float else conventions.to_pixels(images, self.spec.pixel_ranges[1])

    def compress(
        self, images, precision: str | int | None = None, names=None, original_sizes=None, quality: int | None = None
    ) -> bytes:
        """Images -> the bytes of one .aez file (docs/FORMAT.md). precision: "float32", "float16", or bits
        4-8 (entropy-coded; "uint8" is 8); quality: 1-8, a rate-distortion model's level (higher: more
        bytes, a better picture); neither: the model's default. Without names the file stores none, and
        its codes are named 00000, 00001, ..."""
        precision = codefile.resolve_precision(precision, self.binding, quality=quality)
        return codefile.pack(self.encode(images), precision, self.binding, names, original_sizes)

    def decompress(
        self, data: bytes, as_float: bool = False, max_decoded: int = spec.MAX_FILES_PER_RUN
    ) -> Decompressed:
        """The bytes of an .aez file -> its names and images, decoded by the model that made it: this one,
        or a release of it kept in the models folder's history; refuses codes made by another model, and a
        file of more than `max_decoded` codes (their images are held at once) before decoding any."""
        code_file = codefile.from_bytes(data)
        if len(code_file) > max_decoded:
            limit = f"over the limit of {max_decoded:,} decoded in one call (raise it with max_decoded)"
            raise DataError(f"{len(code_file):,} codes, {limit}")
        model = self.for_code(code_file)
        z = codefile.latents(code_file, model.binding)
        return Decompressed(code_file.names, model.decode(z, as_float=as_float), code_file.original_sizes)

    def for_code(self, code_file: codefile.CodeFile) -> Autoencoder:
        """The model that decodes `code_file`: this one when it made it, else the release of this model
        that did, from the models folder's history (HISTORY_DIR/<model id>/, its decoding part alone).
        This one when no release made it either: decoding then refuses the file in one line."""
        if code_file.short:  # known by its id's first bytes: this model, or the one release of it they name
            code_file = self._completed(code_file)
        if code_file.model != self.name or code_file.model_id == self.model_id:
            return self
        if not _is_model_id(code_file.model_id):
            return self  # the id names a folder: nothing but 16 hex digits is looked up
        with self._lock:
            if code_file.model_id not in self._history:
                self._history[code_file.model_id] = self._release(code_file.model_id)
        return self._history[code_file.model_id] or self

    def _completed(self, code_file: codefile.CodeFile) -> codefile.CodeFile:
        if self.model_id.startswith(code_file.model_id):
            return code_file
        return complete_from(code_file, self.models_dir, only=self.name)

    def _release(self, model_id: str) -> Autoencoder | None:
        folder = self.models_dir / spec.HISTORY_DIR / model_id
        if not folder.is_dir():
            return None
        release = Autoencoder(self.spec, folder, self.device, self.threads, self.variant, self.spec.decoder)
        if release.model_id != model_id:
            raise ModelError(f"{folder}: holds model {release.model_id}, not {model_id}")
        return release

    def assess(self, images, z: np.ndarray | None = None) -> Assessment:
        """Each input's round trip through latents `z` (as stored in a file; None: encoded here, in float32):
        a picture's PSNR and ink, judged against the model's quality profile; a float array's reconstruction
        error, judged against the model's anomaly threshold (runtime/scores.py). Warnings for those unlike
        what the model was trained on."""
        images = np.asarray(images)
        z = self.encode(images) if z is None else z
        if not self.gives_pictures:
            return self._assess_floats(images, z)
        psnr, ink, shape = np.empty(len(z)), np.empty(len(z)), []
        value_range, output_range = self.spec.pixel_ranges
        for start in range(0, len(z), ASSESS_CHUNK):
            window = slice(start, start + ASSESS_CHUNK)
            x = conventions.to_unit(self.model_input(images[window]), value_range)
            x_hat = conventions.to_unit(self.decode(z[window], as_float=True), output_range)
            psnr[window] = metrics.psnr_per_image(x, x_hat)
            ink[window] = metrics.ink(x)
            shape += shapes.concerns(x) if self.locates_digits else [None] * len(x)  # bars, boxes: digits only
        profile = self.quality_profile
        seen = "digits" if self.of_digits else "pictures"
        judged = [profile.judge(p, i, seen) if profile else None for p, i in zip(psnr.tolist(), ink.tolist())]
        return Assessment(psnr, [looks or verdict for looks, verdict in zip(shape, judged)], ink)

    def _assess_floats(self, values: np.ndarray, z: np.ndarray) -> Assessment:
        """A model of float values: no PSNR or ink; a warning above its anomaly threshold (mse)."""
        errors = self._errors(self.model_input(values), "mse", z)
        threshold, where = scores.recorded_threshold(self.metadata, "mse")
        warnings = [
            f"reconstruction error {error:.4g} (mse), above {where} ({threshold:.4g})"
            if threshold is not None and error > threshold
            else None
            for error in errors.tolist()
        ]
        return Assessment(np.full(len(z), np.nan), warnings, np.full(len(z), np.nan))  # every engine carries them

    def score(self, inputs, metric: str = "mse", threshold: float | None = None) -> scores.Scores:
        """Each input's reconstruction error (float codes, in the model's own values: what Keras'
        `np.mean((x_hat - x) ** 2)` gives; `metric` mse or mae), and which lie above `threshold` (default:
        the one export learnt from its data, spec.ANOMALY_PERCENTILE)."""
        if metric not in scores.METRICS:
            raise DataError(f"unknown metric {metric!r}; choose one of: {', '.join(scores.METRICS)}")
        errors = self._errors(self.model_input(inputs), metric)
        if threshold is not None:
            return scores.Scores(errors, metric, float(threshold), "given")
        return scores.Scores(errors, metric, *scores.recorded_threshold(self.metadata, metric))

    def _errors(self, x: np.ndarray, metric: str, z: np.ndarray | None = None) -> np.ndarray:
        """Each input's reconstruction error through codes `z` (None: float codes encoded here), in the
        decoder's values: the input as the decoder gives it (the same, unless --output-range differs)."""
        errors = np.empty(len(x))
        for start in range(0, len(x), ASSESS_CHUNK):
            window = slice(start, start + ASSESS_CHUNK)
            codes = self.encode(x[window]) if z is None else z[window]
            x_hat = self.decode(codes, as_float=True).reshape(len(codes), *x.shape[1:])
            target = conventions.rescaled(x[window], *self.spec.pixel_ranges) if self.gives_pictures else x[window]
            errors[window] = scores.reconstruction_errors(target, x_hat, metric)
        return errors

    def sample(self, n: int = 16, seed: int | None = None, as_float: bool = False) -> np.ndarray:
        """n new digits from z ~ N(0, I); the same seed gives the same images."""
        return self.decode(self.sample_latents(n, seed), as_float=as_float)

    def sample_latents(self, n: int = 16, seed: int | None = None) -> np.ndarray:
        """The n latent points z ~ N(0, I) that `sample(n, seed)` decodes, float32 [n, latent]."""
        self._require_generator("sample")
        if n < 0:
            raise DataError("the number of samples must be at least 0")
        return np.random.default_rng(seed).standard_normal((n, self.latent_size), dtype=np.float32)

    def manifold(self, n: int = 12, extent: float = 4.0) -> np.ndarray:
        """An (n*H, n*W) uint8 grid (with its channels) of the images generated over [-extent, extent]^2 (2-D
        latent only): (n*28, n*28) for the shipped VAE."""
        self.require_manifold()
        if n < 1 or not 0 < extent < float(np.finfo(np.float32).max):  # NaN fails both comparisons
            raise DataError("the manifold needs n >= 1 and a positive, finite range")
        digits = self.decode(grids.manifold_latents(n, extent))
        return grids.tile(digits, columns=n)

    def require_manifold(self) -> None:
        """Refuse, before any work, a model whose latent space cannot be drawn as a plane."""
        self._require_generator("the manifold")
        if self.latent_size != 2:
            raise DataError(f"the manifold needs a 2-D latent; {self.name}'s latent size is {self.latent_size}")

    def _require_generator(self, what: str) -> None:
        if self.spec.decoder.name != "generator":
            raise DataError(f"{what} needs a VAE; {self.name} has no generator: use --model vae, or a VAE of your own")
