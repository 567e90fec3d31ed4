"""An export that cannot be written fails the run, and never replaces the previous file.

Real runs of the local site: ``scrapy crawl`` and ``python -m caci_spider.nightly`` with a
directory standing where export files must go, and the nightly with its export directory on a
real full filesystem (caci_spider.testworld.localsite.fullfs: a tiny tmpfs in a mount namespace of
the run's own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider.records import open_database
from caci_spider.spiders.publications import PublicationsSpider
from caci_spider.storage import STAFF, export_publications, export_table
from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from caci_spider.testworld.localsite.fullfs import run_on_full_disk
from tests.conftest import FIXTURES, REPO_ROOT

SECTION_FILES = [section.export_name for _profile, section in PublicationsSpider.crawled_sections]
AGGREGATE = "publications.jsonl"
DOCUMENTS = "documents.jsonl"
STAFF_FILE = "staff_publications.jsonl"
EVERY_EXPORT = [*SECTION_FILES, AGGREGATE, DOCUMENTS, STAFF_FILE]
ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
NIGHTLY = "caci_spider.nightly"


@pytest.fixture
def site():
    with serve(LocalK2Site(FIXTURES)) as (base_url, local_site):
        yield base_url, local_site


def fresh_exports(database_path: Path, directory: Path) -> dict[str, str]:
    """Every export file as the database's rows make it now, written into ``directory``."""
    directory.mkdir()
    database = open_database(database_path)
    try:
        for profile, section in PublicationsSpider.crawled_sections:
            export_publications(
                database, directory / section.export_name, profile.key, section.category
            )
        export_publications(database, directory / AGGREGATE)
        export_table(database, "documents", directory / DOCUMENTS)
        export_table(database, STAFF, directory / STAFF_FILE)
    finally:
        database.close()
    return {name: (directory / name).read_text("utf-8") for name in EVERY_EXPORT}


def caci_errors(log: str) -> list[str]:
    """The crawler's own ERROR lines (Scrapy's retry middleware logs the fixture site's
    always-failing item at ERROR on every run)."""
    return [line for line in log.splitlines() if "[caci_spider" in line and " ERROR: " in line]


def last_runs(database_path: Path) -> dict[str, dict]:
    """The last crawl_runs row of each spider."""
    rows = sqlite_utils.Database(database_path)["crawl_runs"].rows_where(order_by="id")
    return {row["spider"]: {**row, "problems": json.loads(row["problems"])} for row in rows}


def temporary_files(directory: Path) -> list[str]:
    """write_jsonl_atomic's temporary files (``.<name>.<random>``) left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def nightly_command(log_dir: Path, settings: list[str]) -> list[str]:
    return [
        sys.executable, "-m", NIGHTLY, "--log-dir", str(log_dir), *settings,
        "-s", "RETRY_TIMES=1", "-s", "CACI_COVERAGE_MIN_ITEMS=1000000",
    ]  # fmt: skip


def crawl_settings(base_url: str, local_site: LocalK2Site, out: Path) -> list[str]:
    """The -s options of a crawl of the local site into ``out`` (crawl_command's, without
    ``python -m scrapy crawl <spider>``)."""
    command = crawl_command("publications", base_url, out, local_site.base_urls)
    return command[command.index("-s") :]


def nightly_lines(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    """The nightly's printed lines, pairwise: (which crawl failed, its first ERROR)."""
    lines = result.stderr.splitlines()
    assert result.stdout == "" and len(lines) % 2 == 0, result.stderr
    return list(zip(lines[::2], lines[1::2], strict=True))


def test_a_directory_where_exports_go_fails_the_crawl_and_the_nightly(site, tmp_path) -> None:
    base_url, local_site = site
    out = tmp_path / "out"
    out.mkdir()
    # A section's file, the aggregate and the documents of `scrapy crawl publications`.
    blocked = [SECTION_FILES[0], AGGREGATE, DOCUMENTS]
    for name in blocked:
        (out / name / "kept").mkdir(parents=True)
    command = crawl_command("publications", base_url, out, local_site.base_urls)
    result = subprocess.run(
        [*command, "-s", "RETRY_TIMES=1", "-s", "CACI_COVERAGE_MIN_ITEMS=1000000"],
        cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-4000:]
    assert "Traceback" not in result.stderr
    (error,) = caci_errors(result.stderr)
    assert "Self-check failed for publications: could not write 3 exports: " in error
    for name in blocked:
        assert f"{out / name} ([Errno 21] Is a directory)" in error
        assert (out / name / "kept").is_dir()  # what stood there stays
    run = last_runs(out / "caci.db")["publications"]
    assert run["self_check"] == "failed" and run["items_new"] > 0
    assert [p for p in run["problems"] if "could not write" in p] == [error.split(": ", 2)[2]]
    # One failed export keeps no other from being written, whole.
    expected = fresh_exports(out / "caci.db", tmp_path / "expected-1")
    for name in SECTION_FILES[1:]:
        assert (out / name).read_text("utf-8") == expected[name], name
    assert temporary_files(out) == []

    # The nightly, both spiders: the first crawl's blocks cleared, others in the way.
    for name in blocked:
        (out / name / "kept").rmdir()
        (out / name).rmdir()
    blocked = [SECTION_FILES[-1], STAFF_FILE]
    for name in blocked:
        (out / name).unlink(missing_ok=True)
        (out / name).mkdir()
    logs = tmp_path / "logs"
    settings = crawl_settings(base_url, local_site, out)
    result = subprocess.run(
        nightly_command(logs, settings), cwd=REPO_ROOT, env=ENV, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    printed = nightly_lines(result)
    assert [spider_line.split(" failed (exit 1), see ")[0] for spider_line, _ in printed] == [
        f"{NIGHTLY}: publications",
        f"{NIGHTLY}: staff_publications",
    ]
    for (_spider_line, cause), spider, name in zip(
        printed, ("publications", "staff_publications"), blocked, strict=True
    ):
        assert cause.startswith(
            f"{NIGHTLY}:   ERROR: Self-check failed for {spider}: could not write the export "
            f"{out / name} ([Errno 21] Is a directory): its previous file was kept"
        ), cause
    for spider, log in (("publications", "publications-"), ("staff_publications", "staff_")):
        (log_file,) = logs.glob(f"{log}*.log")
        assert len(caci_errors(log_file.read_text("utf-8"))) == 1, spider
    runs = last_runs(out / "caci.db")
    assert {spider: runs[spider]["self_check"] for spider in runs} == {
        "publications": "failed",
        "staff_publications": "failed",
    }
    # The files the first crawl could not write are written now: every row was in the
    # database (none lost), and the documents of both spiders are in one file.
    expected = fresh_exports(out / "caci.db", tmp_path / "expected-2")
    for name in [*SECTION_FILES[:-1], AGGREGATE, DOCUMENTS]:
        assert (out / name).read_text("utf-8") == expected[name], name
    aggregate = [json.loads(line) for line in expected[AGGREGATE].splitlines()]
    assert len(aggregate) == sqlite_utils.Database(out / "caci.db")["publications"].count > 0
    assert expected[STAFF_FILE] and expected[SECTION_FILES[-1]]  # rows, in the database
    assert temporary_files(out) == []


PREVIOUS = '{"previous": "a complete earlier export"}\n'


def test_a_full_disk_fails_the_nightly_and_keeps_every_previous_export(site, tmp_path) -> None:
    """The export directory on a full filesystem: every export is its previous file or the
    complete new one, never a part; the run fails; the database holds every row."""
    base_url, local_site = site
    out = tmp_path / "out"
    exports = out / "exports"
    exports.mkdir(parents=True)
    seed = tmp_path / "previous"
    seed.mkdir()
    for name in EVERY_EXPORT:
        (seed / name).write_text(PREVIOUS, "utf-8")
    snapshot = tmp_path / "after"  # the full filesystem as the run left it
    settings = [*crawl_settings(base_url, local_site, out), "-s", f"CACI_EXPORT_DIR={exports}"]
    result = run_on_full_disk(
        nightly_command(tmp_path / "logs", settings), exports, snapshot, seed,
        cwd=REPO_ROOT, env=ENV,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert not any(exports.iterdir())  # the mount was the run's alone
    printed = nightly_lines(result)
    assert [cause.split(": could not write ")[0] for _line, cause in printed] == [
        f"{NIGHTLY}:   ERROR: Self-check failed for publications",
        f"{NIGHTLY}:   ERROR: Self-check failed for staff_publications",
    ]
    assert all("([Errno 28] No space left on device)" in cause for _line, cause in printed)
    runs = last_runs(out / "caci.db")
    for spider in ("publications", "staff_publications"):
        run = runs[spider]
        assert run["self_check"] == "failed" and run["items_new"] > 0
        assert any("No space left on device" in problem for problem in run["problems"])
    expected = fresh_exports(out / "caci.db", tmp_path / "expected")
    for name in EVERY_EXPORT:
        found = (snapshot / name).read_text("utf-8")
        assert found in (PREVIOUS, expected[name]), name
    for name in (AGGREGATE, SECTION_FILES[0], STAFF_FILE):  # each larger than the free space
        assert (snapshot / name).read_text("utf-8") == PREVIOUS != expected[name]
        assert str(exports / name) in " ".join(cause for _line, cause in printed)
    assert temporary_files(snapshot) == []


def test_a_page_archive_that_fills_up_fails_the_crawl_and_loses_no_row(site, tmp_path) -> None:
    """The page archive on a disk that fills up during the crawl: every page still reaches
    its row; the run fails in one ERROR line naming the archive and the error."""
    base_url, local_site = site
    clean, full = tmp_path / "clean", tmp_path / "full"
    for out in (clean, full):
        (out / "httpcache").mkdir(parents=True)
    options = ["-s", "RETRY_TIMES=1", "-s", "CACI_COVERAGE_MIN_ITEMS=1000000"]
    subprocess.run(
        [*crawl_command("field_reports", base_url, clean, local_site.base_urls), *options],
        cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    result = run_on_full_disk(
        [*crawl_command("field_reports", base_url, full, local_site.base_urls), *options],
        full / "httpcache", tmp_path / "after", free="96K", cwd=REPO_ROOT, env=ENV,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-4000:]
    (error,) = caci_errors(result.stderr)
    archive = full / "httpcache" / "field_reports.sqlite"
    assert "pages could not be stored in the page archive (first: " in error
    assert f"{archive}: " in error and "database or disk is full" in error
    run = last_runs(full / "caci.db")["field_reports"]
    assert run["self_check"] == "failed" and run["problems"] == [error.split(": ", 2)[2]]

    def stored(out: Path) -> list[dict]:
        rows = sqlite_utils.Database(out / "caci.db")["publications"].rows_where(order_by="id")
        return [{k: v for k, v in row.items() if k != "fetched_at"} for row in rows]

    assert stored(full) == stored(clean) != []
