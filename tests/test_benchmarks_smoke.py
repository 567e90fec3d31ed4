"""Smoke test of the benchmarks (``python -m benchmarks.run --quick``), so that they cannot rot.

Runs the whole benchmark at a tiny N and checks that the report has every section and that
the numbers are sane. Nothing here asserts a time: speed is what the report is for. The run
compares with trafilatura when it can be imported (the ``bench`` extra) and is told to skip the
comparison otherwise; a comparison that was not skipped and cannot run stops the benchmark.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ is not an installed package: importable from the repository root only.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import accuracy, measure, report, run, scenarios  # noqa: E402
from caci_spider.settings import CACI_CANARY_ITEMS  # noqa: E402

SECTIONS = (
    "## Targets",
    "## 1. Generated site",
    "## 2. Throughput: full crawl vs bare Scrapy",
    "## 3. CPU time per item",
    "## 4. Peak memory",
    "## 5. Requests per run",
    "## 6. Extraction accuracy and speed on the fixtures",
)


def trafilatura_importable() -> bool:
    try:
        accuracy.trafilatura_module()
    except accuracy.TrafilaturaMissing:
        return False
    return True


HAS_TRAFILATURA = trafilatura_importable()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("bench")
    out, raw = directory / "benchmarks.md", directory / "benchmarks.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.run", "--quick", "--rounds", "2",
            "--out", str(out), "--json", str(raw), "--workdir", str(directory / "work"),
            *([] if HAS_TRAFILATURA else ["--skip-trafilatura"]),
        ],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    return out.read_text("utf-8"), json.loads(raw.read_text("utf-8"))


def test_report_has_every_section(quick_run: tuple[str, dict[str, Any]]) -> None:
    report, results = quick_run
    for heading in SECTIONS:
        assert heading in report
    assert "python -m benchmarks.run --quick" in report
    assert results["machine"]["cores"] and results["machine"]["scrapy"] in report
    assert not results["generation_problems"]


def test_crawls_request_what_they_should(quick_run: tuple[str, dict[str, Any]]) -> None:
    _report, results = quick_run
    (size,) = results["sizes"]
    n = size["n"]
    crawls = size["crawls"]
    listing_pages = math.ceil(n / 4)
    assert size["listing_pages"] == listing_pages
    full, bare = crawls["full"], crawls["bare"]
    assert (full["listing"], full["items"]) == (listing_pages, n)
    # The baseline requested exactly the pages the full crawl did.
    assert (bare["listing"], bare["items"]) == (full["listing"], full["items"])
    assert crawls["no-archive"]["items"] == n
    # Every incremental run re-reads its canaries (stored items) to check the layout.
    # An unchanged night reads the feed and the canary; the weekly walk every listing page.
    assert (crawls["rerun"]["feed"], crawls["rerun"]["listing"]) == (1, 0)
    assert crawls["rerun"]["items"] == CACI_CANARY_ITEMS
    assert crawls["rerun-walk"]["listing"] == listing_pages
    assert crawls["rerun-walk"]["items"] == CACI_CANARY_ITEMS
    for name in ("added", "added-walk"):
        assert crawls[name]["items"] == scenarios.NEW_ITEMS + CACI_CANARY_ITEMS
    assert crawls["added"]["listing"] == 0
    assert size["full_items_new"] == n
    assert size["stored"] == {
        **size["stored"],
        "publications": n + 2 * scenarios.NEW_ITEMS,
        "duplicates": 0,
        "rejects": 0,
    }


def test_numbers_are_sane(quick_run: tuple[str, dict[str, Any]]) -> None:
    _report, results = quick_run
    (size,) = results["sizes"]
    for name in ("full", "bare", "no-archive", "rerun", "added"):
        crawl = size["crawls"][name]
        assert crawl["pages_per_s"] > 0
        assert crawl["cpu_s"] > 0
        assert crawl["max_rss_mb"] > 0
    assert size["crawls"]["full"]["pages_per_s"] / size["crawls"]["bare"]["pages_per_s"] > 0
    for name in ("full", "bare", "no-archive"):  # two rounds each, the median one reported
        crawl = size["crawls"][name]
        assert len(crawl["rounds_pages_per_s"]) == 2
        assert crawl["pages_per_s"] in crawl["rounds_pages_per_s"]
    cpu = size["cpu"]
    assert cpu["items"] == size["n"]
    assert cpu["outcomes"] == {"new": size["n"]}
    for stage in ("extraction", "normalisation", "storage", "total"):
        assert 0 < cpu["cpu"][stage]["median"] <= cpu["cpu"][stage]["p95"]
    rows = results["accuracy"]["rows"]
    assert len(rows) == 19
    for row in rows:
        assert 0 <= row["ours_similarity"] <= 1 and 0 <= row["ours_f1"] <= 1
        assert row["ours_ms"] > 0


def test_trafilatura_column(quick_run: tuple[str, dict[str, Any]]) -> None:
    report, results = quick_run
    if HAS_TRAFILATURA:
        assert results["accuracy"]["trafilatura"]
        for row in results["accuracy"]["rows"]:
            assert 0 <= row["traf_similarity"] <= 1 and 0 <= row["traf_f1"] <= 1
            assert row["traf_ms"] > 0
        assert "trafilatura similarity" in report
    else:
        assert results["accuracy"]["trafilatura"] is None
        assert "**trafilatura**: skipped (`--skip-trafilatura`)" in report


def test_report_with_trafilatura_skipped(quick_run: tuple[str, dict[str, Any]]) -> None:
    """Skipped on purpose, only trafilatura's column goes: the rest of the report is written."""
    _report, results = quick_run
    skipped = accuracy.bench_accuracy(repeats=1, trafilatura=None)
    assert skipped["trafilatura"] is None
    assert all("traf_similarity" not in row for row in skipped["rows"])
    text = report.render({**results, "accuracy": skipped})
    for heading in SECTIONS:
        assert heading in text
    assert "| skipped |" in text
    assert "trafilatura skipped (`--skip-trafilatura`) | n/a" in text


def test_report_with_a_trafilatura_column(quick_run: tuple[str, dict[str, Any]]) -> None:
    """The comparison's column and target, whether or not trafilatura is installed here: a
    stand-in that returns the page's text unparsed scores below our extraction everywhere."""
    _report, results = quick_run
    stand_in = SimpleNamespace(__version__="0.0-stand-in", extract=lambda html, **options: html)
    compared = accuracy.bench_accuracy(repeats=1, trafilatura=stand_in)
    assert compared["trafilatura"] == "0.0-stand-in"
    for row in compared["rows"]:
        assert 0 <= row["traf_similarity"] < row["ours_similarity"]
    text = report.render({**results, "accuracy": compared})
    assert "**trafilatura** 0.0-stand-in = `trafilatura.extract(html, " in text
    assert "| fixture | ours similarity | trafilatura similarity |" in text
    assert "| **mean** |" in text
    assert "| higher on 19, equal on 0, lower on 0 of 19 | met |" in text


def test_a_comparison_that_cannot_run_stops_the_benchmark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked for (the default) and not importable: one line, exit 2, before anything runs."""
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # import trafilatura → ImportError
    out = tmp_path / "benchmarks.md"
    with pytest.raises(SystemExit) as stopped:
        run.main(["--quick", "--out", str(out), "--workdir", str(tmp_path / "work")])
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("benchmarks.run: the trafilatura comparison cannot run:")
    assert "pip install -e '.[bench]'" in line and "--skip-trafilatura" in line
    assert not out.exists() and not (tmp_path / "work").exists()


def test_the_median_round_is_the_middle_one_by_elapsed_time() -> None:
    def crawl(elapsed: float) -> measure.Crawl:
        process = measure.ProcessRun([], 0, elapsed, elapsed, 1.0, "")
        stats = {"elapsed_time_seconds": elapsed}
        return measure.Crawl("full", process, stats, 1, 1, 0, {})

    rounds = [crawl(9.0), crawl(3.0), crawl(5.0)]
    assert measure.median_round(rounds).elapsed == 5.0
    assert measure.median_round(rounds[:2]).elapsed == 3.0  # even count: the lower middle
