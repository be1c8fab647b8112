#!/usr/bin/env bash
# Re-export the shipped models from their training record (artifacts/training/) without retraining:
# the same weights, so the same model ids, and every .aez file made with them still decodes.
# Use it when export or the metadata it writes changes; use regenerate.sh to retrain from scratch.
# Records that export needs and an older run.json lacks (the quality profile) are measured first
# with the run's own Keras models on its training digits, exactly as `aeonnx train` measures them.
#   usage: artifacts/reexport.sh [DATA]   (default ../shared/data/mnist-60k.npz, what they were trained on)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mnist-60k.npz}
python=${PYTHON:-python3}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for model in ae vae; do
  "$python" -m aeonnx.train.complete_run "artifacts/training/$model" --data "$data"
  "$python" -m aeonnx.cli export "$model" --run "artifacts/training/$model" --out "$work/models" --quantize int8 --edge
done
"$python" -m aeonnx.cli export ae --run artifacts/training/conv --name conv --out "$work/models" --edge  # no int8
cp -r "$work"/models/. artifacts/  # ONNX, .ort and edge files, sidecars, golden vectors, manifest
echo "artifacts/ re-exported from artifacts/training/"
