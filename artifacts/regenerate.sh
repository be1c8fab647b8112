#!/usr/bin/env bash
# Rebuild the shipped models from scratch: train the seed's two architectures with the
# defaults (seed 0) and the conv AE on the shared MNIST digits, export them through the parity
# gate (int8 copies through their quality gate), and replace artifacts/ with the result. Deterministic: the same data and
# library versions give byte-identical files (compare manifest.json; export/edge.py keeps .ort files, which
# onnxruntime may lay out in more than one byte order, in one chosen order). Not quite for the conv AE: tf2onnx
# names some of its graph's internal nodes, and picks which of two equal constants a Slice reads, differently
# from one export to the next (measured: two exports of the same run differ there, and only there); its
# weights, outputs and model id are the same, so its code files decode alike.
# The models replaced keep their decoding parts in artifacts/history/<model id>/, so that every code
# file a released model made keeps decoding (export/history.py); a rebuild of the same models keeps nothing.
# The shipped models' recipe is `aeonnx train`'s defaults (runtime/spec.py) on MNIST's 60,000 training
# digits: 5,000 of them held out to choose the best epoch on, never the test digits.
#   usage: artifacts/regenerate.sh [DATA]   (default ../shared/data/mnist-60k.npz)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/data/mnist-60k.npz}
python=${PYTHON:-python3}
aeonnx() { "$python" -m aeonnx.cli "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for model in ae vae; do
  aeonnx train "$model" --data "$data" --seed 0 --out "$work/runs/$model"
  aeonnx export "$model" --run "$work/runs/$model" --out "$work/models" --quantize int8 --edge
done
# conv: a convolutional AE (--arch conv), 4.7 dB above the dense AE at its bytes per digit (docs/benchmarks.md),
# shipped as `--model conv`; 30 epochs (~20 s each on 2 cores). No int8 copy: it loses 0.13 dB, over the gate.
aeonnx train ae --arch conv --epochs 30 --data "$data" --seed 0 --out "$work/runs/conv"
aeonnx export ae --run "$work/runs/conv" --name conv --out "$work/models" --edge
# rd: the rate-distortion conv AE (issue 33), 8 quality levels in one model (`compress --quality 1-8`) and the
# default of `aeonnx compress`; 20 epochs (~1.5-2.5 min each on 2 cores: its density is evaluated per level).
aeonnx train ae --rate-distortion --arch conv --latent-size 64 --epochs 20 --data "$data" --seed 0 --out "$work/runs/rd"
aeonnx export ae --run "$work/runs/rd" --name rd --out "$work/models" --edge

# The ONNX files and manifest ship with the package; the training record beside
# them (Keras parts, run.json, validation digits, pictures) is what the parity
# tests check the shipped files against. The full model.keras (optimizer state) stays out.
"$python" -m aeonnx.export.history artifacts --replaced-by "$work/models"
cp -r "$work"/models/. artifacts/  # ONNX, .ort and edge files, sidecars, golden vectors, manifest
for model in ae vae conv rd; do
  rm -rf "artifacts/training/$model" && mkdir -p "artifacts/training/$model"
  cp "$work/runs/$model"/{run.json,validation.npz,encoder.keras,*.png} "artifacts/training/$model/"
  cp "$work/runs/$model"/{decoder,generator}.keras "artifacts/training/$model/" 2>/dev/null || true
done
echo "artifacts/ regenerated from $data"
