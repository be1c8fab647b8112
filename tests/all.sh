#!/usr/bin/env bash
# Every test, Python and JavaScript, on a fresh machine: what README's test command and CI run.
# Installs what the tests need: Debian's Fashion-MNIST and Chromium (apt-get, as root or with sudo),
# a .venv with the [train,test,ray] extras installed editable (tests run the source you edit), the npm
# packages of js/ and web/ from their lockfiles. Then ruff, pytest (which fails on any skip but the stated
# root-only ones, tests/conftest.py), node's tests and the browser's.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {  # package, then the file that shows it is there
  if [ ! -e "$2" ]; then
    [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
    as_root apt-get install -y -qq "$1" >/dev/null
  fi
}

echo "== test data and browser: Fashion-MNIST (pictures that are not digits), Chromium (the web page's test)"
apt_install dataset-fashion-mnist /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
apt_install chromium /usr/bin/chromium

echo "== Python: training, export, runtime, command line, formats, engines (pytest)"
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[train,test,ray]"

echo "== ruff: lint and format (configured in pyproject.toml)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

.venv/bin/python -m pytest

echo "== JavaScript (js/: Node's runner with onnxruntime-node; its CUDA download skipped, the CPU binding is enough)"
(cd js && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund && AEONNX_PYTHON="$PWD/../.venv/bin/python" npm test)

echo "== The web page in Chromium (web/: playwright-core drives Debian's chromium; nothing may load from beyond 127.0.0.1)"
(cd web && npm ci --no-audit --no-fund && AEONNX_PYTHON="$PWD/../.venv/bin/python" npm test)
