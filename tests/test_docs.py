"""The documentation: a short README that points into an MkDocs site, and the site itself built
with ``mkdocs build --strict`` (every link and anchor resolves, every page is in the nav)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
README_MAX_LINES = 150


def nav_files(nav: list) -> list[str]:
    """Every page file of an MkDocs nav, in order."""
    files = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        files += nav_files(value) if isinstance(value, list) else [value]
    return files


def fenced_blocks(text: str, language: str = "sh") -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def test_the_site_builds_strictly_with_every_section(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text("utf-8"))
    assert config["theme"]["name"] == "material"
    sections = [next(iter(entry)) for entry in config["nav"]]
    for section in ("Getting started", "Running and scheduling", "The data", "Operations",
                    "Performance", "Contributing", "Sites"):  # fmt: skip
        assert section in sections
    pages = nav_files(config["nav"])
    for page in ("scheduling.md", "data.md", "loading.md", "datasette.md", "operations.md",
                 "reliability.md", "benchmarks.md", "benchmarks-pdf.md", "contributing.md",
                 "site-notes.md", "local-site.md"):  # fmt: skip
        assert page in pages
        assert (tmp_path / page.removesuffix(".md") / "index.html").is_file()


def test_the_readme_is_short_and_points_into_the_docs() -> None:
    text = README.read_text("utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    links = re.findall(r"\]\((docs/[^)#]+)", text)
    assert links
    for link in links:
        assert (REPO_ROOT / link).is_file(), link
    config = yaml.safe_load((REPO_ROOT / "mkdocs.yml").read_text("utf-8"))
    linked = {Path(link).name for link in links}
    assert set(nav_files(config["nav"])) - {"benchmarks.md", "benchmarks-pdf.md"} <= linked


def test_nothing_is_only_in_the_readme() -> None:
    """Every command the README shows stands in a documentation page too."""
    docs = " ".join(" ".join(page.read_text("utf-8").split()) for page in DOCS.glob("*.md"))
    for block in fenced_blocks(README.read_text("utf-8")):
        for line in block.splitlines():
            command = " ".join(line.split("  #", 1)[0].split())
            assert command in docs, command
