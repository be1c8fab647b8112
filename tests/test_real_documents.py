"""The ruled and framed documents (tests/real_documents.py) build the same every time, as files a person
could have scanned; what the localiser makes of them is measured by `python -m bench.real_documents`."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from . import real_documents


def test_every_kind_builds_the_same_every_time(mnist):
    first = real_documents.documents(mnist["x_test"][:10], mnist["y_test"][:10], 3, seed=5)
    again = real_documents.documents(mnist["x_test"][:10], mnist["y_test"][:10], 3, seed=5)
    assert [d.data for d in first] == [d.data for d in again]
    assert [d.kind for d in first] == [kind for kind in real_documents.KINDS for _ in range(3)]
    for document in first:
        with Image.open(io.BytesIO(document.data)) as image:
            size = image.size
        assert size == (28, 28) if document.kind == "other28" else min(size) >= 40, (document.kind, size)
        assert any(np.array_equal(document.reference, digit) for digit in mnist["x_test"][:10])
