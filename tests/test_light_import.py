"""The runtime's import path stays light: no TensorFlow, Keras, tf2onnx or matplotlib."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("tensorflow", "keras", "tf2onnx", "matplotlib", "onnx")

PROBE = """
import json, sys
from typer.testing import CliRunner
import aeonnx.runtime
from aeonnx.runtime.cli import app
result = CliRunner().invoke(app, {args!r})
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(json.dumps({{"exit_code": result.exit_code, "heavy": heavy}}))
"""


def run_probe(args):
    code = PROBE.format(args=args, heavy=set(HEAVY))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_nothing_heavy():
    report = run_probe(["--help"])
    assert report == {"exit_code": 0, "heavy": []}


def test_console_script_help_imports_nothing_heavy():
    code = (
        "import sys, runpy; sys.argv = ['aeonnx', '--help']\n"
        "try:\n    runpy.run_module('aeonnx.runtime.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout
