#!/usr/bin/env bash
# Make the shipped models' int8 copies again (export/quantize.py), and those of the model history, when
# the quantisation method changes: from the float32 files as they are (same bytes, same model ids) and the
# validation digits of their training records; no TensorFlow needed. Every code file keeps its model id.
#   usage: artifacts/requantize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
"${PYTHON:-python3}" -m aeonnx.export.requantize artifacts ae=artifacts/training/ae vae=artifacts/training/vae
