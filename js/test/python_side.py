"""The Python side of the cross-language tests (js/test/cross-language.test.js runs it with aeonnx's Python).

    python python_side.py write DIR   # real digits -> .aez files made by aeonnx (v2), and what aeonnx decodes from them
    python python_side.py read DIR    # every *.aez in DIR (JavaScript's, v1 or v2) -> what aeonnx reads and decodes
    python python_side.py normalize DIR  # drawings (drawings.json + raw pixels) -> aeonnx's grey levels and digits
    python python_side.py assess DIR  # real and odd digits -> each model's assess, metrics and quality judgements
    python python_side.py entropy DIR  # seeded random frequency tables and symbols -> Python's tables and codes
    python python_side.py yours DIR   # conv autoencoders of a user's own (32x32 grey, colour), exported, and
                                      # their .aez files and what aeonnx decodes from them (needs [train])

Everything goes through files in DIR as raw bytes (uint8 pixels, little-endian codes) and one JSON index,
so the JavaScript test needs no .npy reader. Models: the repository's artifacts/ folder, as the JS side uses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from aeonnx.runtime import conventions, metrics, model
from aeonnx.runtime.aez import codefile
from aeonnx.runtime.manifest import complete_from
from aeonnx.runtime.pictures import images

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "artifacts"
MNIST = REPO / "tests" / "data" / "mnist-10k.npz"
PRECISIONS = codefile.PRECISIONS


def digits() -> np.ndarray:
    """The 1,000 real MNIST test digits that ship with the repository (tests/data)."""
    with np.load(MNIST) as archive:
        return archive["x_test"]


def write(folder: Path) -> None:
    """Files made by aeonnx's writer (format version 2): each model at every precision it stores and at
    its default ("auto"), as a container (names, original sizes) and as a single file (no names)."""
    x = digits()
    (folder / "digits.u8").write_bytes(x.tobytes())
    index = {"count": len(x), "files": []}
    names = [f"test/{i:05d}" for i in range(len(x))]
    sizes = tuple((28 + i % 5, 2**32 - 1 - i) for i in range(len(x)))  # up to the top of 32 bits
    for name in ("ae", "vae", "conv"):  # every shipped model
        loaded = model.load(name, MODELS)
        (folder / f"{name}.z.f32").write_bytes(loaded.encode(x).astype("<f4").tobytes())
        for precision in (*PRECISIONS, "auto"):
            index["files"].append(_write_one(folder, loaded, f"{name}-{precision}", x, precision, names, sizes))
            index["files"].append(
                _write_one(folder, loaded, f"{name}-{precision}-single", x[:1], precision, None, None)
            )
    (folder / "index.json").write_text(json.dumps(index))


def _write_one(folder: Path, loaded, stem: str, x, precision, names, sizes) -> dict:
    data = loaded.compress(x, precision, names=names, original_sizes=sizes)
    (folder / f"{stem}.aez").write_bytes(data)
    decoded = loaded.decompress(data)
    (folder / f"{stem}.pixels.u8").write_bytes(decoded.images.tobytes())
    read = codefile.from_bytes(data)
    return {
        "stem": stem,
        "model": loaded.name,
        "model_id": loaded.model_id,
        "precision": read.precision,
        "asked": precision,
        "names": list(read.names),
        "named": read.named,
        "original_sizes": [list(s) for s in read.original_sizes] if read.original_sizes else None,
    }


def read(folder: Path) -> None:
    """For each JS-made file (either version): what aeonnx reads (names, sizes, its stored values as
    bytes: floats, or the symbols decoded with the model's priors) and its decoded pixels, or its error."""
    loaded = {name: model.load(name, MODELS) for name in ("ae", "vae", "rd")}
    report = {}
    for path in sorted(folder.glob("*.aez")):
        data = path.read_bytes()
        try:
            code_file = complete_from(codefile.from_bytes(data), MODELS)  # a short frame: named by its model
        except codefile.CodeFileError as e:
            report[path.stem] = {"error": str(e)}
            continue
        report[path.stem] = {
            "model": code_file.model,
            "model_id": code_file.model_id,
            "version": code_file.version,
            "precision": code_file.precision,
            "names": list(code_file.names),
            "named": code_file.named,
            "original_sizes": [list(s) for s in code_file.original_sizes]
            if code_file.original_sizes is not None
            else None,
        }
        if code_file.model not in loaded:
            continue
        try:
            values = codefile.stored_values(code_file, loaded[code_file.model].binding)
            decoded = loaded[code_file.model].decompress(data)
        except codefile.CodeFileError as e:
            report[path.stem]["decode_error"] = str(e)
            continue
        (folder / f"{path.stem}.py-codes.bin").write_bytes(np.ascontiguousarray(values).tobytes())
        (folder / f"{path.stem}.py-pixels.u8").write_bytes(decoded.images.tobytes())
    (folder / "read.json").write_text(json.dumps(report))


def normalize(folder: Path) -> None:
    """Drawings (drawings.json: stem, width, height, kind) -> what aeonnx makes of each: its grey levels
    (to_gray) and its MNIST-framed 28x28 digit (preprocess with the centre-of-mass framing)."""
    from PIL import Image

    for drawing in json.loads((folder / "drawings.json").read_text()):
        stem, size = drawing["stem"], (drawing["width"], drawing["height"])
        raw = (folder / f"{stem}.{drawing['kind']}").read_bytes()
        if drawing["kind"] == "rgba":
            image = Image.frombytes("RGBA", size, raw)
        else:
            image = Image.fromarray(np.frombuffer(raw, "<f4").reshape(size[1], size[0]).copy(), mode="F")
        (folder / f"{stem}.py-gray.f32").write_bytes(images.to_gray(image).astype("<f4").tobytes())
        (folder / f"{stem}.py-digit.u8").write_bytes(_framed(image).tobytes())


def _framed(image) -> np.ndarray:
    """images.preprocess with MNIST's framing, under its name in this version of aeonnx."""
    try:
        return images.preprocess(image, center=True)
    except TypeError:
        return images.preprocess(image, framing="center")


def assess(folder: Path) -> None:
    """What aeonnx's quality check says of 40 real digits and 8 odd ones (blank, white, noise...): each
    model's assess on float32 latents and on stored uint8 codes; metrics on the same x and x_hat (x_hat
    written, so JavaScript computes them from identical floats); and judge() on figures at its edges."""
    x = np.concatenate([digits()[:40], _odd_digits(digits()[:2])])
    (folder / "assess-digits.u8").write_bytes(x.tobytes())
    report = {"count": len(x)}
    for name in ("ae", "vae"):
        loaded = model.load(name, MODELS)
        stored = codefile.dequantize(codefile.quantize(loaded.encode(x), 8, loaded.binding), 8, loaded.binding)
        x_hat = loaded.decode(stored, as_float=True)
        (folder / f"{name}.x_hat.f32").write_bytes(x_hat.astype("<f4").tobytes())
        encoded, from_file = loaded.assess(x), loaded.assess(x, stored)
        x_float = conventions.as_model_input(x)
        report[name] = {
            "psnr": encoded.psnr.tolist(),
            "warnings": encoded.warnings,
            "stored_psnr": from_file.psnr.tolist(),
            "stored_warnings": from_file.warnings,
            "metrics_psnr": metrics.psnr_per_image(x_float, x_hat).tolist(),
            "ink": metrics.ink(x_float).tolist(),
            "judged": _judged(loaded.quality_profile),
        }
    (folder / "assess.json").write_text(json.dumps(report))


def _odd_digits(real: np.ndarray) -> np.ndarray:
    """Pictures that are not digits the models know: blank, white, a dot, a bar, noise, inverted, faint."""
    odd = np.zeros((8, 28, 28), np.uint8)
    odd[1] = 255
    odd[2, 13:16, 13:16] = 255
    odd[3, 12:16, 2:26] = 255
    odd[4] = np.random.default_rng(0).integers(0, 256, (28, 28))
    odd[5] = 255 - real[0]
    odd[6] = real[1] // 8
    odd[7, 4:24, 4:24] = 255
    odd[7, 8:20, 8:20] = 0
    return odd


def _judged(profile) -> list:
    """judge() on figures at its edges: the floors themselves, just under, quarters, ties in the last digit."""
    floor, low = profile.psnr_floor, profile.ink_low
    figures = [
        (floor, low),
        (np.nextafter(floor, 0), low),
        (floor, np.nextafter(low, 0)),
        (14.25, 0.5),
        (14.35, 0.5),
        (9.75, 0.5),
        (8.05, 0.5),
        (30.0, low / 2),
        (30.0, np.nextafter(low / 2, 0)),
        (30.0, 0.0125),
        (30.0, 0.0),
        (0.0, 0.0),
        (-3.25, 0.5),
        (120.0, 1.0),
    ]
    return [[float(p), float(i), profile.judge(float(p), float(i))] for p, i in figures]


def entropy_cases(folder: Path) -> None:
    """Seeded random priors (every B, precisions 8-16, sparse skewed counts, sometimes none) and symbols
    (mostly likely ones, some rare) -> Python's frequencies and codes, for the JavaScript coder to match."""
    from aeonnx.runtime.aez import entropy

    cases = []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        bits = int(rng.integers(entropy.MIN_BITS, entropy.MAX_BITS + 1))
        precision = int(rng.integers(max(bits, entropy.MIN_PRECISION), entropy.MAX_PRECISION + 1))
        latent = int(rng.integers(1, 7))
        counts = (rng.pareto(1.0, (latent, 1 << bits)) * 50).astype(np.int64) * (rng.random((latent, 1 << bits)) < 0.6)
        if seed % 10 == 0:
            counts[:] = 0
        table = entropy.FrequencyTable.from_histograms(counts, precision)
        p = table.frequencies / table.frequencies.sum(axis=1, keepdims=True)
        likely = np.stack([rng.choice(1 << bits, 80, p=row) for row in p], axis=1)
        symbols = np.where(rng.random((80, latent)) < 0.1, rng.integers(0, 1 << bits, (80, latent)), likely)
        payload, lengths = entropy.encode(symbols.astype(np.uint8), table)
        cases.append(
            {
                "bits": bits,
                "precision": precision,
                "counts": counts.tolist(),
                "frequencies": table.frequencies.tolist(),
                "symbols": symbols.ravel().tolist(),
                "payload": payload.hex(),
                "lengths": lengths.tolist(),
            }
        )
    (folder / "entropy.json").write_text(json.dumps(cases))


def yours(folder: Path) -> None:
    """Two Keras conv autoencoders written as a user writes them (32x32 grey and colour), briefly
    trained, exported with `export_keras_pair` into DIR/models; per model a code file of 40 images at its
    default bits and the pixels aeonnx decodes from it."""
    import keras
    from keras import layers

    from aeonnx.export.your_model import export_keras_pair

    keras.utils.set_random_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    index = {}
    for name, (side, channels) in {"grey32": (32, 1), "colour32": (32, 3)}.items():
        pad = (side - 28) // 2
        x = np.pad(digits()[:600], ((0, 0), (pad, side - 28 - pad), (pad, side - 28 - pad)))
        x = np.repeat(x[..., None], channels, axis=3) if channels == 3 else x[..., None]
        if channels == 3:  # ink and paper of their own colour per image
            tint = np.random.default_rng(0).integers(0, 256, (len(x), 1, 1, 3))
            x = np.rint(x / 255 * tint + (1 - x / 255) * (255 - tint)).astype(np.uint8)
        image = keras.Input((side, side, channels))
        h = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(image)
        encoder = keras.Model(image, layers.Dense(16)(layers.Flatten()(h)))
        code = keras.Input((16,))
        g = layers.Reshape((side // 2, side // 2, 8))(layers.Dense(side * side * 2, activation="relu")(code))
        decoder = keras.Model(code, layers.Conv2DTranspose(channels, 3, 2, "same", activation="sigmoid")(g))
        autoencoder = keras.Model(image, decoder(encoder(image)))
        autoencoder.compile("adam", "binary_crossentropy")
        pixels = x[:500].astype("float32") / 255
        autoencoder.fit(pixels, pixels, epochs=2, verbose=0)
        export_keras_pair(encoder, decoder, x[:500], folder / "models", name)
        loaded = model.load(name, folder / "models", device="cpu")
        data = loaded.compress(x[500:540])
        (folder / f"{name}.aez").write_bytes(data)
        (folder / f"{name}.pixels.u8").write_bytes(loaded.decompress(data).images.tobytes())
        index[name] = {"count": 40, "image_shape": list(loaded.image_shape), "model_id": loaded.model_id}
    index["trained"] = trained_conv_ae(folder, x)
    index["windows"] = float_windows(folder)
    index["tanh28"] = tanh_digits(folder)
    index["rd"] = rate_distortion(folder)
    index["yourrd"] = your_rate_distortion(folder)
    (folder / "index.json").write_text(json.dumps(index))


def float_windows(folder: Path) -> dict:
    """Issue 31: a Conv1D autoencoder of z-scored (64, 1) windows, exported with --floats: its code file of 40
    windows, the floats Python decodes from it, the windows, and Python's reconstruction errors of them."""
    import keras
    from keras import layers

    from aeonnx.export.your_model import export_keras_autoencoder

    rng = np.random.default_rng(3)
    phase = rng.uniform(0, 2 * np.pi, (640, 1))
    windows = (np.sin(np.linspace(0, 4 * np.pi, 64)[None] + phase) + rng.normal(0, 0.1, (640, 64)))[..., None]
    windows = ((windows - windows.mean()) / windows.std()).astype(np.float32)
    autoencoder = keras.Sequential(
        [keras.Input((64, 1)), layers.Conv1D(8, 5, strides=2, padding="same", activation="relu"),
         layers.Conv1D(4, 5, strides=2, padding="same"), layers.Conv1DTranspose(8, 5, strides=2, padding="same",
         activation="relu"), layers.Conv1DTranspose(1, 5, strides=2, padding="same")]
    )  # fmt: skip
    autoencoder.compile("adam", "mse")
    autoencoder.fit(windows[:600], windows[:600], epochs=3, verbose=0)
    export_keras_autoencoder(autoencoder, windows[:600], folder / "models", "windows", floats=True)
    loaded = model.load("windows", folder / "models", device="cpu")
    data = loaded.compress(windows[600:])
    (folder / "windows.aez").write_bytes(data)
    (folder / "windows.f32").write_bytes(loaded.decompress(data).images.astype("<f4").tobytes())
    (folder / "windows.inputs.f32").write_bytes(windows[600:].astype("<f4").tobytes())
    scored = loaded.score(windows[600:], "mae")
    return {"count": 40, "input_shape": [64, 1], "model_id": loaded.model_id, "mae": scored.errors.tolist(),
            "threshold": scored.threshold, "anomalous": scored.anomalous.tolist()}  # fmt: skip


def tanh_digits(folder: Path) -> dict:
    """Issue 31: a dense autoencoder of digits in [-1, 1] (tanh), exported with --value-range -1,1: its code
    file of 40 digits and the pixels Python decodes from it, and the digits themselves."""
    import keras
    from keras import layers

    from aeonnx.export.your_model import export_keras_pair

    x = digits()[:540]
    encoder = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(16)])
    decoder = keras.Sequential([keras.Input((16,)), layers.Dense(784, activation="tanh"), layers.Reshape((28, 28))])
    autoencoder = keras.Sequential([keras.Input((28, 28)), encoder, decoder])
    autoencoder.compile("adam", "mse")
    signed = x[:500].astype("float32") / 127.5 - 1
    autoencoder.fit(signed, signed, epochs=3, verbose=0)
    export_keras_pair(encoder, decoder, x[:500], folder / "models", "tanh28", value_range=(-1, 1))
    loaded = model.load("tanh28", folder / "models", device="cpu")
    data = loaded.compress(x[500:])
    (folder / "tanh28.aez").write_bytes(data)
    (folder / "tanh28.pixels.u8").write_bytes(loaded.decompress(data).images.tobytes())
    (folder / "tanh28.inputs.u8").write_bytes(x[500:].tobytes())
    return {"count": 40, "image_shape": list(loaded.image_shape), "model_id": loaded.model_id}


def trained_conv_ae(folder: Path, x: np.ndarray) -> dict:
    """`aeonnx train ae --arch conv --size 20x24` on colour images, exported under the shipped AE's name into
    DIR/trained: a reader must take its shape from the manifest, not from the name."""
    from aeonnx.export.exporter import export_model
    from aeonnx.train.fit import TrainConfig, train

    np.savez(folder / "colour.npz", x=x)
    config = TrainConfig("ae", str(folder / "run"), str(folder / "colour.npz"), epochs=1, arch="conv", size="20x24")
    export_model("ae", train(config, verbose=0), folder / "trained")
    loaded = model.load("ae", folder / "trained", device="cpu")
    data = loaded.compress(np.load(folder / "run" / "validation.npz")["x"][:40])
    (folder / "trained.aez").write_bytes(data)
    (folder / "trained.pixels.u8").write_bytes(loaded.decompress(data).images.tobytes())
    return {"count": 40, "image_shape": list(loaded.image_shape), "model_id": loaded.model_id}


def rate_distortion(folder: Path) -> dict:
    """Issue 33: `aeonnx train ae --rate-distortion --arch conv`, briefly, exported as "rd" into DIR/rd; per
    quality level a file of 40 held-out digits (no names), the pixels Python decodes from it, the digits."""
    from aeonnx.export.exporter import export_model
    from aeonnx.train.fit import TrainConfig, train

    np.savez(folder / "digits.npz", x=digits()[:600])
    config = TrainConfig("ae", str(folder / "rd-run"), str(folder / "digits.npz"), epochs=1, arch="conv",
                         latent_size=16, rate_distortion=True)  # fmt: skip
    export_model("ae", train(config, verbose=0), folder / "rd", name="rd")
    return files_at_every_level(model.load("rd", folder / "rd", device="cpu"), folder, "rd")


def files_at_every_level(loaded, folder: Path, stem: str) -> dict:
    """40 held-out digits (STEM.digits.u8) coded at each of the model's quality levels (STEM-qN.aez) and the
    pixels Python decodes from each file (STEM-qN.pixels.u8); what the JS test needs to know of them."""
    held_out = digits()[600:640]
    (folder / f"{stem}.digits.u8").write_bytes(held_out.tobytes())
    for quality in loaded.binding.quality_levels.levels:
        data = loaded.compress(held_out, quality=quality)
        (folder / f"{stem}-q{quality}.aez").write_bytes(data)
        (folder / f"{stem}-q{quality}.pixels.u8").write_bytes(loaded.decompress(data).images.tobytes())
    return {"count": len(held_out), "model_id": loaded.model_id, "levels": len(loaded.binding.quality_levels.levels)}


def your_rate_distortion(folder: Path) -> dict:
    """Issue 33: a Keras conv autoencoder of your own with an EntropyBottleneck on its 7 x 7 x 4 feature map (two
    levels, tables stored once for its 49 positions), exported into DIR/yourrd as "fm"; per level a file of 40
    held-out digits and the pixels Python decodes from it."""
    import keras
    from keras import layers

    from aeonnx.export.your_model import export_keras_autoencoder
    from aeonnx.train.entropy_bottleneck import EntropyBottleneck

    keras.utils.set_random_seed(0)
    autoencoder = keras.Sequential(
        [keras.Input((28, 28, 1)), layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
         layers.Conv2D(4, 3, strides=2, padding="same"), EntropyBottleneck(4, rate_weight=(1e-3, 1e-4)),
         layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu"),
         layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid")]
    )  # fmt: skip
    autoencoder.compile("adam", "mse")
    x = digits()[:600, :, :, None]
    autoencoder.fit(x / 255, x / 255, epochs=2, verbose=0)
    export_keras_autoencoder(autoencoder, x, folder / "yourrd", "fm")
    return files_at_every_level(model.load("fm", folder / "yourrd", device="cpu"), folder, "fm")


if __name__ == "__main__":
    command, folder = sys.argv[1], Path(sys.argv[2])
    commands = {"write": write, "read": read, "normalize": normalize, "assess": assess, "entropy": entropy_cases}
    {**commands, "yours": yours}[command](folder)
