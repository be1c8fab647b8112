"""The runtime's import path stays light: no TensorFlow, Keras, tf2onnx, onnx or matplotlib, for any runtime command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "keras", "tf2onnx", "matplotlib", "onnx")
EXAMPLE = "examples/digit-2.png"

PROBE = """
import json, sys
from typer.testing import CliRunner
from aeonnx.cli import app
result = CliRunner().invoke(app, {args!r})
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})
print(json.dumps({{"exit_code": result.exit_code, "output": result.output[-300:], "heavy": heavy}}))
"""


def run_probe(args, cwd):
    code = PROBE.format(args=args, heavy=set(HEAVY))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    from .helpers import REPO

    folder = tmp_path_factory.mktemp("light")
    (folder / "digit.png").write_bytes((REPO / EXAMPLE).read_bytes())
    return folder


COMMANDS = [
    ["--help"],
    ["--version"],
    ["compress", "digit.png", "-o", "digit.aez"],
    ["decompress", "digit.aez", "-o", "back.png"],
    ["encode", "digit.png"],
    ["sample", "-n", "4", "--seed", "1", "-o", "samples.png"],
    ["manifold", "--n", "4", "-o", "manifold.png"],
    ["info"],
    ["info", "digit.aez"],
    ["inspect", "digit.png", "-o", "inspect.png"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:1]) + ("-file" if a[1:] == ["digit.aez"] else ""))
def test_runtime_commands_import_nothing_heavy(args, workdir):
    report = run_probe(args, workdir)
    assert report["exit_code"] == 0, report["output"]
    assert report["heavy"] == []


def test_console_script_help_imports_nothing_heavy():
    code = (
        "import sys, runpy; sys.argv = ['aeonnx', '--help']\n"
        "try:\n    runpy.run_module('aeonnx.cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout


def imported_modules(path) -> set[str]:
    """Every module a source file imports, relative imports resolved against its package."""
    import ast

    package = "aeonnx." + path.parent.name
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package if node.level == 1 else "aeonnx" if node.level == 2 else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_the_runtime_imports_neither_train_nor_export_nor_the_command_line():
    """runtime/ is the inference library: the pipeline's other stages and the CLI build on it, never the reverse."""
    from .helpers import REPO

    forbidden = ("aeonnx.train", "aeonnx.export", "aeonnx.cli", *HEAVY)
    for source in sorted((REPO / "runtime").glob("*.py")):
        bad = sorted(
            m for m in imported_modules(source) if m.startswith(forbidden) and m.split(".")[0] != "onnxruntime"
        )
        assert bad == [], f"{source.name} imports {bad}"


def test_the_import_check_sees_relative_and_absolute_imports(tmp_path):
    folder = tmp_path / "runtime"
    folder.mkdir()
    (folder / "bad.py").write_text("from ..train import fit\nimport aeonnx.export.exporter\nfrom . import spec\n")
    assert {"aeonnx.train.fit", "aeonnx.export.exporter", "aeonnx.runtime.spec"} <= imported_modules(folder / "bad.py")
