"""CI: the shipped models were trained on ../shared/data/mnist-60k.npz (artifacts/regenerate.sh). Its
fingerprint is the one their manifest names, and its 5,000 test digits give the AE's recorded BCE (target
<= 0.0925) on this runtime too. Needs only the base install (onnxruntime, no TensorFlow).

    python .ci/shipped_models_data.py [DATA]
"""

import json
import sys
from importlib.resources import files

import numpy as np

from aeonnx.provenance import fingerprint
from aeonnx.runtime import load, metrics

AE_TARGET_BCE = 0.0925


def main(data: str = "../shared/data/mnist-60k.npz") -> None:
    manifest = json.loads(files("aeonnx.artifacts").joinpath("manifest.json").read_text())["models"]
    with np.load(data) as d:
        sha = fingerprint(d["x_train"], d["y_train"], d["x_test"], d["y_test"])
        x = d["x_test"].reshape(len(d["x_test"]), -1).astype(np.float32) / 255
    assert all(entry["data_sha256"] == sha for entry in manifest.values()), f"{data} is not what they were trained on"
    ae = load("ae", device="cpu")
    bce = metrics.bce(x, ae.decode(ae.encode(x), as_float=True).reshape(len(x), -1))
    recorded = manifest["ae"]["metrics"]["bce"]
    print(f"the shipped AE on the {len(x)} test digits of {data}: BCE {bce:.5f} (recorded {recorded:.5f})")
    assert abs(bce - recorded) <= 1e-4 * bce and bce <= AE_TARGET_BCE


if __name__ == "__main__":
    main(*sys.argv[1:])
