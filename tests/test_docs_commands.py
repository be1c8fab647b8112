"""Issue 34: every command in README.md and docs/ runs as pasted, in order, in a fresh copy of the repository:
the shell blocks of the pages below, one after the other in one folder, as a newcomer follows them. The data a
command names is in the repository or made by an earlier command. A few commands cannot run inside a test
(installs, the test suite itself, a server, CUDA): they are listed in NOT_RUN with the reason, and a command
that is in neither the pages nor NOT_RUN fails the test, so a new one cannot slip past it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import REPO

# The order a newcomer reads them: the front door, then the pages it sends them to.
PAGES = (
    "README.md",
    "docs/training-and-export.md",
    "docs/your-own-images.md",
    "docs/your-own-model.md",
    "docs/cli.md",
    "docs/deploying.md",
    "docs/scaling.md",
    "docs/javascript.md",
    "docs/contributing.md",
)
NOT_RUN = {
    "python3 -m venv .venv && .venv/bin/pip install . &&": "README's first command: .ci/run runs it on a fresh machine",
    "bash tests/all.sh": "the whole test suite, this test included; CI runs it",
    "python3 -m venv .venv && .venv/bin/pip install -e": "an install; .ci/run makes the environment these tests run in",
    ".venv/bin/python -m pytest": "the test suite itself",
    "cd web && npm ci --omit=dev && npm start": "a server, running until stopped; web/test drives the page in Chromium",
    "aeonnx verify models/ --device cuda": "needs a GPU and onnxruntime-gpu (FACTS: no GPU here)",
}
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell)\n(.*?)^```", re.S | re.M)
TIMEOUT_S = 900  # the longest command trains a model for a few minutes on 2 cores


def commands(text: str) -> list[str]:
    """The commands of a page's shell blocks: continuation lines joined, comment lines dropped."""
    found = []
    for block in SHELL_BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append(line.strip())
    return found


def skipped_because(command: str) -> str | None:
    return next((why for prefix, why in NOT_RUN.items() if command.startswith(prefix)), None)


def fresh_copy(into: Path) -> Path:
    """The repository's files as a clone of the working tree has them (tracked, and new ones not ignored), with
    the environment these tests run in as its .venv (what README's first command would make)."""
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    listed = subprocess.run(listing, cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    (into / ".venv").symlink_to(Path(sys.prefix))
    return into


def test_every_page_with_commands_is_followed():
    with_commands = {
        str(page.relative_to(REPO))
        for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]
        if commands(page.read_text())
    }
    assert with_commands == set(PAGES), "add the page to PAGES, in the order a reader meets it"


def test_the_reader_sees_commands_and_their_continuations():
    text = "```bash\n# a comment\naeonnx a \\\n    --b c   # note\n```\n```python\nprint()\n```\n"
    assert commands(text) == ["aeonnx a      --b c   # note"]


@pytest.mark.slow
def test_every_documented_command_runs_as_pasted(tmp_path):
    folder = fresh_copy(tmp_path / "clone")
    env = {**os.environ, "PATH": f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    failed, ran = [], 0
    for page in PAGES:
        for command in commands((REPO / page).read_text()):
            if skipped_because(command):
                continue
            done = subprocess.run(
                ["bash", "-c", command], cwd=folder, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
            )
            ran += 1
            if done.returncode != 0 or "Traceback" in done.stderr:
                said = (done.stdout + done.stderr).strip()[-400:]
                failed.append(f"{page}: {command}\n    -> exit {done.returncode}: {said}")
    assert not failed, f"{len(failed)} of {ran} commands failed:\n" + "\n".join(failed)


def test_what_is_not_run_is_still_documented():
    everything = [command for page in PAGES for command in commands((REPO / page).read_text())]
    for prefix in NOT_RUN:
        assert any(command.startswith(prefix) for command in everything), f"NOT_RUN lists {prefix!r}: no page has it"
