"""Digits in ruled and framed documents (tests/real_documents.py): does the decompressed digit keep its class
as well as the same digit framed by hand, and is every loss warned about?

    python -m bench.real_documents [--per-kind 200] [--seed 0] [--data PATH]

Each document is read as `aeonnx compress` reads a file, coded at the shipped AE's default bits and
decoded; the test suite's classifier judges the decoded digit, and the hand-framed reference (the MNIST
digit the document was drawn from) through the same round trip. For each kind: the class kept, the
reference's, the gap, and the share of the losses that got a warning. Writes
bench/results/real_documents.json.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests import real_documents, real_inputs

from .common import DEFAULT_DATA, RESULTS, machine, table


def round_trip(model, digits: np.ndarray, concerns: list[str | None]):
    """(decoded digits, warnings) as compress stores the codes and warns about them."""
    from aeonnx.runtime.aez import codefile

    precision = model.binding.default_precision
    z = codefile.dequantize(codefile.quantize(model.encode(digits), precision, model.binding), precision, model.binding)
    return model.decode(z), model.assess(digits, z).noting(concerns).warnings


def read(document: real_documents.Document):
    """The document read as compress reads a file: (digit, what the localiser found instead, if anything)."""
    from aeonnx.runtime.pictures import images

    with Image.open(io.BytesIO(document.data)) as image:
        image.load()
        return images.framed(image)


def figures(made: list[real_documents.Document], model, classifier) -> dict[str, dict]:
    read_back = [read(document) for document in made]
    decoded, warnings = round_trip(model, np.stack([digit for digit, _ in read_back]), [c for _, c in read_back])
    by_hand, _ = round_trip(model, np.stack([document.reference for document in made]), [None] * len(made))
    labels = np.array([document.label for document in made])
    kept = classifier.predict(real_inputs.as_features(decoded)) == labels
    reference = classifier.predict(real_inputs.as_features(by_hand)) == labels
    warned = np.array([warning is not None for warning in warnings])
    kinds = np.array([document.kind for document in made])
    result = {}
    for kind in real_documents.KINDS:
        here = kinds == kind
        losses = here & ~kept
        result[kind] = {
            "count": int(here.sum()),
            "kept": float(kept[here].mean()),
            "by_hand": float(reference[here].mean()),
            "losses_warned": float(warned[losses].mean()) if losses.any() else 1.0,
            "warned": float(warned[here].mean()),
        }
    return result


def rows(result: dict) -> list[list[str]]:
    return [
        [
            kind,
            f"{f['kept']:.1%}",
            f"{f['by_hand']:.1%}",
            f"{100 * (f['kept'] - f['by_hand']):+.1f}",
            f"{f['losses_warned']:.0%}",
            f"{f['warned']:.0%}",
        ]
        for kind, f in result.items()
    ]


HEADERS = ["kind", "class kept", "framed by hand", "points", "losses warned", "all warned"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    from aeonnx.runtime import load

    with np.load(args.data) as archive:
        mnist = {key: archive[key] for key in archive.files}
    classifier = real_inputs.train_classifier(mnist["x_train"], mnist["y_train"])
    made = real_documents.documents(mnist["x_test"], mnist["y_test"], args.per_kind, args.seed)
    result = figures(made, load("ae", device="cpu"), classifier)
    print(table(rows(result), HEADERS))
    command = f"python -m bench.real_documents --per-kind {args.per_kind} --seed {args.seed}"
    measured = {"date": datetime.date.today().isoformat(), "command": command, "machine": machine()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "real_documents.json").write_text(json.dumps({"measured": measured, "kinds": result}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
