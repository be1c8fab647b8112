"""Add to an existing run directory the records that newer versions of `aeonnx train` write.

For re-exporting a trained model without retraining it (artifacts/reexport.sh): training on a
busy machine is not bit-reproducible, and new weights would mean a new model id, so every code
file made with the old one would stop decoding.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aeonnx.runtime import quality, spec

from . import data as data_module
from . import fit


def complete_run(run_dir: Path, data: str | None) -> list[str]:
    """Measure what run.json lacks (the quality profile; format v2's latent priors and default bits) with
    the run's own models, as `aeonnx train` measures them; the names of the records added."""
    import keras

    from . import models  # also registers the VAE class for loading

    path = run_dir / spec.RUN_CONFIG_FILE
    record = json.loads(path.read_text())
    missing = [key for key in ("quality", "latent_coding") if key not in record]
    if not missing:
        return []
    dataset = data_module.load_dataset(data)
    if dataset.sha256 != record["data"]["sha256"]:
        raise SystemExit(f"{data}: not the data {run_dir} was trained on (sha256 differs)")
    model_spec = spec.get_model(record["model"])
    encoder, decoder = (
        keras.models.load_model(run_dir / model_spec.keras_file(p.name), compile=False) for p in model_spec.parts
    )
    x_train = dataset.train_inputs()
    if "quality" in missing:
        code = models.predict_codes(encoder, x_train)  # the VAE decodes z_mean, as training does
        record["quality"] = quality.measure(x_train, decoder.predict(code, batch_size=1024, verbose=0))
    if "latent_coding" in missing:
        record.update(fit.latent_coding(encoder, decoder, x_train, dataset.test_inputs(), record["latent_stats"]))
    path.write_text(json.dumps(record, indent=2) + "\n")
    return missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--data", help="the training data of the run (default: download MNIST with Keras)")
    arguments = parser.parse_args()
    added = complete_run(arguments.run_dir, arguments.data)
    print(f"{arguments.run_dir}: {'added ' + ', '.join(added) if added else 'already complete'}")


if __name__ == "__main__":
    main()
