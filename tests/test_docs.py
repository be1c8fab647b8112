"""The docs hold together: every relative link resolves, the README stays a front door, and the benchmark
page is what the results files make."""

from __future__ import annotations

import re
import subprocess
import sys

from .helpers import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))] + [
    REPO / folder / "README.md" for folder in ("js", "web", "examples", "tests/data")
]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def relative_links(page):
    """(target path, anchor or None) of each link that is not a URL."""
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue
        path, _, anchor = target.partition("#")
        yield path, anchor or None


def anchors(page) -> set[str]:
    """GitHub's anchors for the headings of a markdown page."""
    found = set()
    for line in page.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for path, anchor in relative_links(page):
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.relative_to(REPO)}: {path}")
            elif anchor and target.suffix == ".md" and anchor not in anchors(target):
                broken.append(f"{page.relative_to(REPO)}: {path}#{anchor} (no such heading)")
    assert not broken, broken


def test_the_checker_sees_links_and_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A title, with words\n[x](other.md#a-title-with-words) ![y](pic.png) [z](https://example.org)\n")
    assert list(relative_links(page)) == [("other.md", "a-title-with-words"), ("pic.png", None)]
    assert anchors(page) == {"a-title-with-words"}


def test_the_readme_is_a_front_door():
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 200, len(lines)
    assert lines[0] == "# aeonnx" and lines[2] == "```bash"


def test_the_benchmark_page_is_what_the_results_make():
    check = subprocess.run([sys.executable, "-m", "bench.report", "--check"], cwd=REPO, capture_output=True)
    assert check.returncode == 0, "docs/benchmarks.md differs from bench/results: run python -m bench.report"
