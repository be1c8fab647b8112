"""The documentation holds together: README.md is a front door of at most 200 lines, every relative link in it
and in the docs pages resolves (to a file, and to a heading when it names one), every page in docs/ is reachable
from README.md, and docs/benchmarks.md is what `python -m bench.report` writes from the results files."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from .helpers import REPO

PAGES = sorted(
    [
        REPO / "README.md",
        *(REPO / "docs").glob("*.md"),
        *(path for name in ("js", "web", "examples", "tests/data") if (path := REPO / name / "README.md").is_file()),
    ]
)
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target); the text may hold one level of brackets (a badge, an image in a link)
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^()\s<>]*(?:\([^()\s]*\)[^()\s<>]*)*)>?(?:\s+[\"'(][^)]*)?\)"
)
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, inline code removed: links and headings live only there."""
    lines, fence = [], None
    for line in text.splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
            fence = None
        elif fence is None:
            lines.append(INLINE_CODE.sub("", line))
    return lines


def links(text: str) -> list[str]:
    found = []
    for line in prose_lines(text):
        found += INLINE_LINK.findall(line)
        if match := REFERENCE.match(line):
            found.append(match.group(1))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading counts by its text
    text = re.sub(r"<[^>]+>", "", text).replace("`", "").strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return kept.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    raw = page.read_text(encoding="utf-8")
    # headings are read with inline code kept: `aeonnx verify` in a heading is part of its anchor
    lines, fence = [], None
    for line in raw.splitlines():
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1)[0] == fence[0]:
            fence = None
        elif fence is None:
            lines.append(line)
    for line in lines:
        if match := HEADING.match(line):
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    found |= set(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", raw))
    return found


def relative(target: str) -> bool:
    return not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) and not target.startswith("//")


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in links(page.read_text(encoding="utf-8")):
        if not target or not relative(target):
            continue
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        if not destination.exists():
            problems.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor.lower() not in anchors(destination):
            problems.append(f"{target}: no heading with anchor #{anchor} in {destination.relative_to(REPO)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_the_checker_sees_links_and_anchors():
    """The checker itself: the link forms it must find, what it must skip, GitHub's slugs."""
    text = (
        "See [a](docs/cli.md#the-options), ![b](pic.png 'title'), [c](<docs/y.md>), "
        "[d](https://example.com/x.md), [e](#here) and `[not](code.md)`.\n"
        "```\n[nor](fenced.md)\n```\n[ref]: docs/x.md\n"
    )
    expected = ["docs/cli.md#the-options", "pic.png", "docs/y.md", "https://example.com/x.md", "#here", "docs/x.md"]
    assert links(text) == expected
    assert "fenced.md" not in links(text) and "code.md" not in links(text)
    assert slug("Verifying the models anywhere: `aeonnx verify`") == "verifying-the-models-anywhere-aeonnx-verify"
    assert slug("Rate–distortion") == "ratedistortion"
    assert slug("In JavaScript: Node and the browser") == "in-javascript-node-and-the-browser"


def test_readme_is_a_front_door():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; the rest belongs in docs/"
    assert lines[0] == "# aeonnx"
    first_block = "\n".join(lines[lines.index("```bash") : lines.index("```", lines.index("```bash") + 1)])
    assert "aeonnx compress" in first_block and "bash tests/all.sh" in first_block


def test_every_docs_page_is_linked_from_the_readme():
    readme = REPO / "README.md"
    linked = {(readme.parent / t.partition("#")[0]).resolve() for t in links(readme.read_text()) if relative(t)}
    missing = [page.name for page in (REPO / "docs").glob("*.md") if page.resolve() not in linked]
    assert missing == []


def test_benchmarks_page_is_generated_from_the_results():
    from bench.report import PAGE, generated_page

    assert PAGE.read_text(encoding="utf-8") == generated_page(), (
        "docs/benchmarks.md is generated: run `python -m bench.report` instead of editing it"
    )
