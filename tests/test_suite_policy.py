"""The suite's own rules: a skip without a stated reason fails the run; aeonnx must be this checkout's."""

from __future__ import annotations

import shutil
import subprocess
import sys

from .helpers import REPO

PROBES = """
import pytest

def test_runs():
    pass

def test_skipped_for_a_stated_reason():
    pytest.skip("root writes into read-only folders")
"""


def run_pytest(*args, cwd=REPO) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, args)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_a_stated_skip_passes_and_any_other_skip_fails_the_run(tmp_path):
    (tmp_path / "test_probe.py").write_text(PROBES)
    allowed = run_pytest("-p", "tests.conftest", tmp_path / "test_probe.py")
    assert allowed.returncode == 0, allowed.stdout
    (tmp_path / "test_probe.py").write_text(PROBES + '\ndef test_data_missing():\n    pytest.skip("no data")\n')
    refused = run_pytest("-p", "tests.conftest", tmp_path / "test_probe.py")
    assert refused.returncode == 1, refused.stdout
    assert "SKIP NOT ALLOWED" in refused.stdout and "test_data_missing: " in refused.stdout


def test_the_suite_stops_when_aeonnx_is_another_checkouts(tmp_path):
    """A copy of the tests beside no aeonnx of its own: the installed aeonnx (this checkout) is not its."""
    shutil.copytree(
        REPO / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("data", "fixtures", "__pycache__")
    )
    (tmp_path / "pyproject.toml").write_text("")
    result = run_pytest(
        "tests/test_suite_policy.py::test_a_stated_skip_passes_and_any_other_skip_fails_the_run", cwd=tmp_path
    )
    assert result.returncode == 2, result.stdout
    assert "not from this checkout" in result.stdout + result.stderr
