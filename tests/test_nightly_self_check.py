"""Nightly runs never go silent: every case runs against a database that holds an earlier crawl,
as every scheduled run after the first night does."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider.sites import SiteMismatch, check_sites
from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from tests.conftest import FIXTURES, GOOD_FIELD_REPORTS, ITEM_FIXTURES, REPO_ROOT, run_crawl

SEED = next(p for p in ITEM_FIXTURES if p.name.startswith("8145-"))


@pytest.fixture
def crawled(tmp_path):
    """A local site and a database that already holds a first crawl of it."""
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        run_crawl("field_reports", base_url, tmp_path)
        site.hits.clear()
        yield base_url, site, tmp_path


def last_run(out: Path) -> dict:
    db = sqlite_utils.Database(out / "caci.db")
    run = next(db["crawl_runs"].rows_where(order_by="id desc", limit=1))
    return {k: json.loads(v) if k in ("problems", "canaries") else v for k, v in run.items()}


def publications(out: Path) -> dict[int, dict]:
    db = sqlite_utils.Database(out / "caci.db")
    return {r["id"]: r for r in db["publications"].rows}


def new_item(tmp_path: Path, item_id: int, title: str) -> Path:
    directory = tmp_path / f"new-{item_id}"
    directory.mkdir()
    html = SEED.read_text("utf-8").replace("IS AZERBAIJAN TURNING TOWARDS RUSSIA?", title)
    html = html.replace("During his three-day visit", f"During visit number {item_id}")
    path = directory / f"{item_id}-new.html"
    path.write_text(html, "utf-8")
    return path


# -- a healthy site: an ordinary night exits 0 -------------------------------------------------
def test_a_night_with_nothing_new_or_one_new_item_passes(crawled, tmp_path) -> None:
    base_url, site, out = crawled
    run_crawl("field_reports", base_url, out, judge_coverage=True)
    run = last_run(out)
    assert (run["self_check"], run["items_new"], run["problems"]) == ("ok", 0, [])
    assert [c["outcome"] for c in run["canaries"]] == ["ok"]
    site.add_item(new_item(tmp_path, 13001, "ONE NEW REPORT"), position=3)
    run_crawl("field_reports", base_url, out, judge_coverage=True)
    run = last_run(out)
    assert (run["self_check"], run["items_new"]) == ("ok", 1)
    # The canary rotates: the second night checks another stored item than the first.
    db = sqlite_utils.Database(out / "caci.db")
    assert db["canary_checks"].count == 2


def test_every_stored_item_passes_its_canary_on_an_unchanged_site(crawled) -> None:
    base_url, _site, out = crawled
    run_crawl("field_reports", base_url, out, "-s", "CACI_CANARY_ITEMS=100", judge_coverage=True)
    run = last_run(out)
    assert len(run["canaries"]) == len(publications(out)) == GOOD_FIELD_REPORTS
    assert {c["outcome"] for c in run["canaries"]} == {"ok"}, run["canaries"]
    run_crawl("staff_publications", base_url, out)
    run_crawl("staff_publications", base_url, out, "-s", "CACI_CANARY_ITEMS=100")
    run = last_run(out)
    assert run["canaries"] and {c["outcome"] for c in run["canaries"]} == {"ok"}


# -- the site goes away or changes: the run fails loudly ----------------------------------------
# Site down, a moved listing, a redesigned listing: the nightly table of the fault matrix
# (tests/test_faults.py). The cases below check more than its exit status and message.
def test_a_listing_far_shorter_than_the_last_good_run_fails(crawled) -> None:
    base_url, site, out = crawled
    site.order = site.order[:8]  # 8 of 22 entries left
    # Judged on a night that walks the listing (weekly; a feed-first night does not look).
    result = run_crawl("field_reports", base_url, out, "-a", "walk=listing", expect_exit=1)
    assert "the listing holds 8 entries, below 80% of the 22 of run 1" in result.stderr
    # A lower bar lets an operator accept a site that really shrank.
    run_crawl(
        "field_reports", base_url, out, "-a", "walk=listing", "-s", "CACI_LISTING_MIN_SHARE=0.3"
    )


def test_redesigned_item_pages_with_few_new_items_fail_and_keep_the_stored_rows(
    crawled, tmp_path
) -> None:
    base_url, site, out = crawled
    before = publications(out)
    for item_id in (13001, 13002, 13003):
        site.add_item(new_item(tmp_path, item_id, f"NEW REPORT {item_id}"), position=2)
    site.broken_markup = True
    result = run_crawl("field_reports", base_url, out, expect_exit=1, judge_coverage=True)
    assert "Self-check failed for field_reports: canary" in result.stderr
    assert "no longer yields title, published" in result.stderr
    run = last_run(out)
    assert run["self_check"] == "failed"
    assert [c["outcome"] for c in run["canaries"]] == ["changed"]
    assert publications(out) == before  # the canary's page never overwrote its row


def test_a_crawl_of_another_site_into_a_database_is_refused_before_any_request(crawled) -> None:
    base_url, _site, out = crawled
    with serve(LocalK2Site(FIXTURES)) as (other_url, other_site):
        result = run_crawl("field_reports", other_url, out, expect_exit=2)
        assert other_site.hits == {}
    line = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(line) == 1 and base_url in line[0] and other_url in line[0]
    assert "CACI_DB_PATH" in line[0] and "Traceback" not in result.stderr


def test_host_variants_of_one_site_are_the_same_site(tmp_path) -> None:
    database = tmp_path / "caci.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE sites (setting TEXT PRIMARY KEY, base_url TEXT)")
        conn.execute("INSERT INTO sites VALUES ('CACI_BASE_URL', 'https://www.cacianalyst.org')")
    conn.close()
    for variant in (
        "http://cacianalyst.org",
        "https://cacianalyst.org.",
        "https://WWW.cacianalyst.org:443",
    ):
        check_sites(database, {"CACI_BASE_URL": variant})
    with pytest.raises(SiteMismatch, match="holds the data of https://www.cacianalyst.org"):
        check_sites(database, {"CACI_BASE_URL": "https://www.turkeyanalyst.org"})
    check_sites(database, {"SILKROAD_BASE_URL": "https://www.silkroadstudies.org"})  # unclaimed


# -- plain errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["-a", "mod=full"], "unknown spider argument -a mod=full: field_reports takes -a mode="),
        (["-a", "mode=fast"], "bad spider argument -a mode=fast: use one of incremental|full"),
        (["-s", "CACI_BAN_THRESHOLD=many"], "bad setting -s CACI_BAN_THRESHOLD=many: expected"),
        (["-s", "CACI_BASEURL=x"], "unknown setting CACI_BASEURL"),
        (["-s", "CACI_BASE_URL=cacianalyst.org"], "expected an http(s) URL"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(tmp_path, arguments, message) -> None:
    result = run_crawl("field_reports", "http://127.0.0.1:9", tmp_path, *arguments, expect_exit=2)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if "ERROR" in line]) == 1
    assert not (tmp_path / "caci.db").exists()


def test_an_unwritable_path_is_a_usage_error(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    result = run_crawl(
        "field_reports", "http://127.0.0.1:9", tmp_path, "-s",
        f"CACI_DB_PATH={blocker / 'caci.db'}", expect_exit=2,
    )  # fmt: skip
    assert f"cannot write to {blocker}" in result.stderr and "Traceback" not in result.stderr


def test_a_local_site_never_writes_to_the_production_database(tmp_path) -> None:
    command = [
        *crawl_command("field_reports", "http://127.0.0.1:9", tmp_path),
        "-s", "CACI_DB_PATH=exports/caci.db",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "is the production database" in result.stderr


def test_relative_paths_resolve_against_the_project_root(tmp_path) -> None:
    relative = f".test-paths-{os.getpid()}"
    with serve(LocalK2Site(FIXTURES)) as (base_url, _site):
        command = [
            *crawl_command("field_reports", base_url, tmp_path),
            "-s", f"CACI_DB_PATH={relative}/caci.db", "-s", f"CACI_EXPORT_DIR={relative}",
            "-s", "CACI_COVERAGE_MIN_ITEMS=1000000",
        ]  # fmt: skip
        try:
            result = subprocess.run(
                command, cwd=REPO_ROOT / "docs", capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, result.stderr[-3000:]
            assert (REPO_ROOT / relative / "caci.db").exists()
            assert (REPO_ROOT / relative / "field_reports.jsonl").exists()
            assert not (REPO_ROOT / "docs" / relative).exists()
            assert f"database {REPO_ROOT / relative / 'caci.db'}" in result.stderr
        finally:
            import shutil

            shutil.rmtree(REPO_ROOT / relative, ignore_errors=True)


# -- rejects back off ------------------------------------------------------------------------
def test_pages_that_fail_for_good_wait_and_full_mode_tries_them_all(crawled) -> None:
    base_url, site, out = crawled
    db = sqlite_utils.Database(out / "caci.db")
    missing = next(db["rejects"].rows_where("url LIKE '%/item/7999-%'"))
    assert (missing["attempts"], missing["next_attempt_at"] > missing["fetched_at"]) == (1, True)
    broken = next(db["rejects"].rows_where("url LIKE '%/item/7998-%'"))
    assert broken["next_attempt_at"] == broken["fetched_at"]  # a 500: tried the next night
    # 7998 is not in the feed: the listing walk (weekly, or asked for) tries it again.
    run_crawl("field_reports", base_url, out, "-a", "walk=listing")
    asked = {p.split("/item/")[1].split("-")[0] for p in site.hits if "/item/" in p}
    assert "7999" not in asked and "7998" in asked
    site.hits.clear()
    run_crawl("field_reports", base_url, out, "-a", "mode=full")
    assert any("/item/7999-" in p for p in site.hits)
    missing = next(db["rejects"].rows_where("url LIKE '%/item/7999-%'"))
    assert missing["attempts"] == 2


# -- one set of counts -----------------------------------------------------------------------
def test_stats_crawl_runs_log_and_feed_agree(tmp_path) -> None:
    with serve(LocalK2Site(FIXTURES)) as (base_url, _site):
        feed = tmp_path / "feed.jsonl"
        result = run_crawl("field_reports", base_url, tmp_path, "-O", str(feed))
        staff = run_crawl("staff_publications", base_url, tmp_path, "-O", str(tmp_path / "s.jl"))
    db = sqlite_utils.Database(tmp_path / "caci.db")
    runs = list(db["crawl_runs"].rows_where(order_by="id"))
    run = runs[0]
    counts = (run["items_new"], run["items_updated"], run["items_unchanged"])
    assert counts == (GOOD_FIELD_REPORTS, 0, 0) and run["items_duplicate"] == 1
    assert f"'caci/items/new': {run['items_new']}" in result.stderr
    assert f"'caci/duplicates': {run['items_duplicate']}" in result.stderr
    assert f"'caci/rejected': {run['items_rejected']}" in result.stderr
    assert re.search(
        rf"Run {run['id']} of field_reports: \d+ read, {GOOD_FIELD_REPORTS} new, 0 updated, "
        rf"0 unchanged, 0 checked, 0 not read, 1 duplicate, {run['items_rejected']} rejected; "
        "self-check ok",
        result.stderr,
    )
    fed = [json.loads(line) for line in feed.read_text("utf-8").splitlines()]
    stored = [json.loads(line) for line in (tmp_path / "field_reports.jsonl").open()]
    assert sorted(fed, key=lambda r: r["id"]) == stored  # not the duplicate, not the rejects
    # A staff row first seen in the sidebar and merged with its listing entry in the same
    # run is one new row, not an update.
    staff_run = runs[1]
    assert staff_run["items_updated"] == 0
    assert staff_run["items_new"] == db["staff_publications"].count
    assert f"'caci/items/new': {staff_run['items_new']}" in staff.stderr
    assert len((tmp_path / "s.jl").read_text().splitlines()) == staff_run["items_new"]


def test_an_interrupted_run_is_recorded_as_failed_and_a_killed_jobdir_is_not_resumed(
    tmp_path,
) -> None:
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        site.item_delay = 0.3
        jobdir = tmp_path / "job"
        command = crawl_command("field_reports", base_url, tmp_path) + [
            "-s", f"JOBDIR={jobdir}", "-s", "RETRY_TIMES=1",
        ]  # fmt: skip

        def stored() -> int:
            try:
                with sqlite3.connect(tmp_path / "caci.db") as conn:
                    return conn.execute("SELECT count(*) FROM publications").fetchone()[0]
            except sqlite3.OperationalError:
                return 0

        def start_and_wait_for_rows() -> subprocess.Popen:
            before = stored()
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                text=True,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and stored() < before + 2:
                time.sleep(0.2)
            return process

        process = start_and_wait_for_rows()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)
        assert process.returncode == 1
        run = last_run(tmp_path)
        assert run["self_check"] == "failed" and "did not finish (shutdown)" in run["problems"][0]

        # Resumed, then killed outright: Scrapy cannot save its state, so the JOBDIR is
        # marked as killed and the next run starts afresh instead of resuming it.
        process = start_and_wait_for_rows()
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        assert (jobdir / ".caci-running").exists()
        site.item_delay = 0
        result = run_crawl("field_reports", base_url, tmp_path, "-s", f"JOBDIR={jobdir}")
        assert "belongs to a run that was killed" in result.stderr
        assert len(publications(tmp_path)) == GOOD_FIELD_REPORTS


# -- the staff spider's sources, and runs resumed after a stop ----------------------------------
def test_staff_incremental_runs_fetch_only_new_item_pages_and_judge_the_sidebar(tmp_path) -> None:
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        run_crawl("staff_publications", base_url, tmp_path)
        first = {p for p in site.hits if "/joint-center-publications/item/" in p}
        site.hits.clear()
        run_crawl("staff_publications", base_url, tmp_path)
        again = {p for p in site.hits if "/joint-center-publications/item/" in p}
        run = last_run(tmp_path)
        (canary,) = run["canaries"]
        # Read pages are known (but one whose listing entry has no title: its title comes
        # from its page), the 404s wait for their next attempt; plus the canary.
        gone = {p for p in first if int(p.split("/item/")[1][:5]) not in site.staff_items}
        assert gone and not gone & again
        assert canary["url"].split(base_url)[1] in again and len(again) <= 2 < len(first)
        assert run["self_check"] == "ok"
        # A home page without the sidebar is one source gone: a failed run.
        site.home_page = lambda: "<html><body><p>Welcome</p></body></html>"  # type: ignore[method-assign]
        result = run_crawl("staff_publications", base_url, tmp_path, expect_exit=1)
    assert "has no Staff Publications block" in result.stderr


def test_a_run_resumed_after_sigterm_is_judged_on_the_whole_walk(tmp_path) -> None:
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        run_crawl("field_reports", base_url, tmp_path)  # a good first night
        site.item_delay = 0.4
        for position in range(3):
            site.add_item(new_item(tmp_path, 13101 + position, f"NEW {position}"), position)
        jobdir = tmp_path / "job"
        command = crawl_command("field_reports", base_url, tmp_path) + [
            "-s", f"JOBDIR={jobdir}", "-s", "RETRY_TIMES=1", "-s", "CACI_CANARY_ITEMS=0",
            "-a", "walk=listing",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(publications(tmp_path)) < 19:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        assert process.returncode == 1
        site.item_delay = 0
        result = run_crawl(
            "field_reports", base_url, tmp_path, "-s", f"JOBDIR={jobdir}", "-a", "walk=listing"
        )
    assert "Self-check failed" not in result.stderr
    run = last_run(tmp_path)
    assert run["self_check"] == "ok" and run["listing_entries"] == 25
    assert len(publications(tmp_path)) == 21


def test_a_full_run_that_reads_one_body_everywhere_keeps_every_row_and_fails(crawled) -> None:
    base_url, site, out = crawled
    before = publications(out)
    # One text on every page (not page chrome: a JavaScript notice would be a quality reject).
    text = b"<p>This article is open to subscribers of the new site.</p>"
    boilerplate = b'<div class="itemFullText">' + text + b"</div>"
    for item_id, item in site.items.items():
        page = item.path.read_bytes()
        page = re.sub(rb'<div class="itemIntroText">.*?</div>', b"", page, flags=re.DOTALL)
        site.change_item(
            item_id,
            re.sub(rb'<div class="itemFullText">.*?</div>', boilerplate, page, flags=re.DOTALL),
        )
    result = run_crawl("field_reports", base_url, out, "-a", "mode=full", expect_exit=1)
    assert "refetched items now read the same body as another stored item" in result.stderr
    after = publications(out)
    assert set(before) <= set(after)  # no stored row became a duplicate
    db = sqlite_utils.Database(out / "caci.db")
    assert db["duplicates"].count == 1  # the fixture site's own duplicate, from the first night


def test_a_canary_that_fails_once_is_retried_and_the_night_passes(crawled) -> None:
    from caci_spider.testworld.localsite.faults import Fault

    base_url, site, out = crawled
    for item_id in site.items:
        site.faults[item_id] = Fault("status", 500, times=1)
    run_crawl("field_reports", base_url, out, judge_coverage=True)
    run = last_run(out)
    assert (run["self_check"], [c["outcome"] for c in run["canaries"]]) == ("ok", ["ok"])
