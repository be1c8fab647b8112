"""How often the decompressed digit keeps its class, on the rendered real inputs (tests/real_inputs.py).

    python -m bench.real_inputs [--count 999] [--data PATH] [--framing locate fit center] [--enlarged 300]

Compresses and decompresses each input with the shipped AE (uint8 codes), the way `aeonnx compress`
reads files, classifies the decoded digit with the test suite's classifier, and prints the kept-class
rate per category and overall, beside the same classifier on decoded clean MNIST test digits; then the
same per side for scikit-learn's 8x8 digits enlarged as small white-on-black scans (issue 34).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from tests import real_inputs

from .common import DEFAULT_DATA, table


def decoded_through_compress(paths: list[Path], framing: str, model) -> tuple[np.ndarray, float]:
    """Each file read as `compress` reads it, coded to uint8 and decoded; and the mean read time per file."""
    from aeonnx.runtime.pictures import images

    started = time.perf_counter()
    digits = np.stack([_read(images, path, framing) for path in paths])
    seconds = (time.perf_counter() - started) / len(paths)
    names, decoded, _ = model.decompress(model.compress(digits, "uint8"))
    return decoded, seconds


def _read(images, path: Path, framing: str) -> np.ndarray:
    try:
        return images.read_image(path, framing=framing)[0]
    except TypeError:  # the runtime before localisation: center=True/False
        return images.read_image(path, center=framing == "center")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=999)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--framing", nargs="+", default=["locate", "fit", "center"])
    parser.add_argument("--enlarged", type=int, default=300, help="8x8 scans enlarged to 28-100 px; 0: none")
    args = parser.parse_args()
    from aeonnx.runtime import load

    with np.load(args.data) as archive:
        mnist = {key: archive[key] for key in archive.files}
    classifier = real_inputs.train_classifier(mnist["x_train"], mnist["y_train"])
    model = load("ae", device="cpu")
    clean = classifier.predict(real_inputs.as_features(mnist["x_test"])) == mnist["y_test"]
    decoded_clean = model.decompress(model.compress(mnist["x_test"], "uint8"))[1]
    reference = classifier.predict(real_inputs.as_features(decoded_clean)) == mnist["y_test"]
    print(f"classifier on clean test digits: {clean.mean():.1%}; on their decoded copies: {reference.mean():.1%}")
    made = real_inputs.real_inputs(mnist["x_test"], mnist["y_test"], args.count, args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = real_inputs.write(made, Path(folder))
        for framing in args.framing:
            decoded, seconds = decoded_through_compress(paths, framing, model)
            rates = real_inputs.kept_rates(classifier, decoded, made)
            rows.append(
                [
                    framing,
                    *(f"{rates[c]:.1%}" for c in (*real_inputs.CATEGORIES, "overall")),
                    f"{seconds * 1000:.1f} ms",
                ]
            )
    print(table(rows, ["framing", *real_inputs.CATEGORIES, "overall", "read per file"]))
    print(f"({len(made)} inputs, seed {args.seed}, {len(made) // 3} per category)")
    if args.enlarged:
        enlarged_scans(classifier, model, args.framing, args.enlarged, args.seed)


def enlarged_scans(classifier, model, framings: list[str], count: int, seed: int) -> None:
    """The kept-class rate per side for scikit-learn's 8x8 digits enlarged to 28-100 px (tests/real_inputs.py)."""
    from sklearn.datasets import load_digits

    other = load_digits()
    made = real_inputs.enlarged_crops(other.images, other.target, count, seed)
    sides = np.array([item.category for item in made])
    labels = np.array([item.label for item in made])
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        paths = real_inputs.write(made, Path(folder))
        for framing in framings:
            decoded, _ = decoded_through_compress(paths, framing, model)
            kept = classifier.predict(real_inputs.as_features(decoded)) == labels
            per_side = [f"{kept[sides == side].mean():.1%}" for side in dict.fromkeys(sides)]
            rows.append([framing, *per_side, f"{kept.mean():.1%}"])
    print(table(rows, ["framing", *dict.fromkeys(sides), "overall"]))
    print(f"({len(made)} 8x8 scans enlarged, seed {seed}, {len(made) // len(real_inputs.ENLARGED_SIDES)} per side)")


if __name__ == "__main__":
    main()
