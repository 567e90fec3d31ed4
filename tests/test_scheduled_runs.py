"""Scheduled-run behaviour against a fresh local site per test: incremental, full, reparse,
self-check, resume, politeness, locking."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from tests.conftest import FIXTURES, GOOD_FIELD_REPORTS, ITEM_FIXTURES, REPO_ROOT, run_crawl

SEED = next(p for p in ITEM_FIXTURES if p.name.startswith("8145-"))


@pytest.fixture
def site():
    with serve(LocalK2Site(FIXTURES)) as (base_url, local_site):
        yield base_url, local_site


def item_hits(local_site: LocalK2Site) -> int:
    return sum(n for path, n in local_site.hits.items() if "/item/" in path)


def rows(out: Path, table: str = "publications") -> list[dict]:
    db = sqlite_utils.Database(out / "caci.db")
    return [
        {k: v for k, v in r.items() if k != "fetched_at"}
        for r in db[table].rows_where(order_by="id")
    ]


def test_unchanged_site_rerun_fetches_no_item_page(site, tmp_path) -> None:
    base_url, local_site = site
    run_crawl("field_reports", base_url, tmp_path)
    assert item_hits(local_site) > 0
    local_site.hits.clear()
    # The listing walk (weekly, or asked for); a feed-first night: tests/test_feed_first.py.
    run_crawl("field_reports", base_url, tmp_path, "-a", "walk=listing")
    refetched = {p.split("/item/")[1].split("-")[0] for p in local_site.hits if "/item/" in p}
    # Pages that never became a row and failed for the moment (7998 answers 500) are tried
    # again; those that failed for good (7999: 404, 9877: no body) wait a day. Plus one
    # canary: the stored item checked longest ago.
    db = sqlite_utils.Database(tmp_path / "caci.db")
    (canary,) = [row["item_key"] for row in db["canary_checks"].rows]
    assert refetched == {"7998", canary}
    assert local_site.hits["/publications/field-reports.html"] >= 5  # every listing page


def test_an_added_item_is_picked_up(site, tmp_path) -> None:
    base_url, local_site = site
    run_crawl("field_reports", base_url, tmp_path)
    new_dir = tmp_path / "new"
    new_dir.mkdir()
    html = SEED.read_text("utf-8").replace("IS AZERBAIJAN TURNING TOWARDS RUSSIA?", "A NEW REPORT")
    html = html.replace("During his three-day visit", "During her four-day visit")
    (new_dir / "13001-a-new-report.html").write_text(html, "utf-8")
    local_site.add_item(new_dir / "13001-a-new-report.html", position=5)
    local_site.hits.clear()
    result = run_crawl("field_reports", base_url, tmp_path)
    assert any("/item/13001-" in p for p in local_site.hits)
    assert "A NEW REPORT" in [r["title"] for r in rows(tmp_path)]
    db = sqlite_utils.Database(tmp_path / "caci.db")
    run = list(db["crawl_runs"].rows_where(order_by="id desc", limit=1))[0]
    assert run["items_new"] == 1 and run["mode"] == "incremental"
    changed = db["item_runs"].get(("publications", "cacianalyst", "13001"))
    assert changed["run_id"] == run["id"] and changed["change"] == "new"
    assert "caci/items/new': 1" in result.stderr


def test_full_mode_updates_a_changed_item_and_keeps_its_previous_version(site, tmp_path) -> None:
    base_url, local_site = site
    run_crawl("field_reports", base_url, tmp_path)
    before = {r["id"]: r for r in rows(tmp_path)}
    changed = SEED.read_bytes().replace(b"Local analysts believe", b"Most local analysts believe")
    local_site.change_item(8145, changed)
    local_site.hits.clear()
    run_crawl("field_reports", base_url, tmp_path, "-a", "mode=full")
    after = {r["id"]: r for r in rows(tmp_path)}
    assert "Most local analysts believe" in after[8145]["body"]
    assert {k for k in after if after[k] != before[k]} == {8145}
    db = sqlite_utils.Database(tmp_path / "caci.db")
    versions = list(db["publication_versions"].rows)
    assert [(v["id"], v["content_hash"], v["body"]) for v in versions] == [
        (8145, before[8145]["content_hash"], before[8145]["body"])
    ]
    run = list(db["crawl_runs"].rows_where(order_by="id desc", limit=1))[0]
    assert (run["items_updated"], run["mode"]) == (1, "full")
    # Unchanged pages were revalidated with conditional requests and answered 304.
    assert json.loads(run["responses_by_status"]).get("304", 0) >= 15


def test_broken_markup_fails_the_run_with_the_coverage_error(site, tmp_path) -> None:
    base_url, local_site = site
    local_site.broken_markup = True
    result = run_crawl("field_reports", base_url, tmp_path, expect_exit=1, judge_coverage=True)
    # Titles still come from the listing; the date lines are gone.
    assert "Self-check failed for field_reports: coverage of published is 5.0%" in result.stderr
    db = sqlite_utils.Database(tmp_path / "caci.db")
    run = list(db["crawl_runs"].rows)[0]
    assert run["self_check"] == "failed"
    assert json.loads(run["coverage"])["published"] == 0.05


def test_reparse_with_the_server_stopped_rebuilds_identical_rows(tmp_path) -> None:
    with serve(LocalK2Site(FIXTURES)) as (base_url, _site):
        run_crawl("field_reports", base_url, tmp_path)
        run_crawl("staff_publications", base_url, tmp_path)
    before = rows(tmp_path), rows(tmp_path, "staff_publications")
    db_path = tmp_path / "caci.db"
    with sqlite3.connect(db_path) as conn:  # as if after a selector fix: rebuild from scratch
        conn.execute("DELETE FROM publications")
        conn.execute("DELETE FROM staff_publications")
    # The server is gone: any network access would fail and be recorded.
    result = run_crawl("field_reports", base_url, tmp_path, "-a", "mode=reparse")
    run_crawl("staff_publications", base_url, tmp_path, "-a", "mode=reparse")
    assert (rows(tmp_path), rows(tmp_path, "staff_publications")) == before
    assert "downloader/request_count" not in result.stderr  # not one request left the process
    run = list(sqlite_utils.Database(db_path)["crawl_runs"].rows_where(order_by="id desc"))[1]
    assert (run["mode"], run["requests"], run["items_new"]) == ("reparse", 0, GOOD_FIELD_REPORTS)


def test_a_killed_run_resumes_without_duplicates_or_losses(site, tmp_path) -> None:
    base_url, local_site = site
    local_site.item_delay = 0.2
    jobdir = tmp_path / "job"
    command = crawl_command("field_reports", base_url, tmp_path) + [
        "-s", f"JOBDIR={jobdir}", "-s", "RETRY_TIMES=1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    db_path = tmp_path / "caci.db"
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and stored < 4:
        time.sleep(0.2)
        if db_path.exists():
            try:
                with sqlite3.connect(db_path) as conn:
                    stored = conn.execute("SELECT count(*) FROM publications").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
    process.send_signal(signal.SIGTERM)  # what systemd sends to stop a service
    _out, err = process.communicate(timeout=60)
    interrupted = len(rows(tmp_path))
    assert 0 < interrupted < GOOD_FIELD_REPORTS, err[-3000:]
    assert "(shutdown)" in err
    local_site.item_delay = 0
    run_crawl("field_reports", base_url, tmp_path, "-s", f"JOBDIR={jobdir}")
    final = rows(tmp_path)
    assert len(final) == len({r["id"] for r in final}) == GOOD_FIELD_REPORTS
    fetched = {p: n for p, n in local_site.hits.items() if "/item/" in p and "799" not in p}
    assert len(fetched) == 20
    # The finished job is spent: the next night's run with the same JOBDIR walks the site
    # again instead of finding every page already requested.
    local_site.hits.clear()
    run_crawl("field_reports", base_url, tmp_path, "-s", f"JOBDIR={jobdir}", "-a", "walk=listing")
    assert local_site.hits["/publications/field-reports.html"] >= 5


def test_retry_after_is_honoured(site, tmp_path) -> None:
    base_url, local_site = site
    listing = "/publications/field-reports.html"
    local_site.throttled[listing] = (1, 2)  # the first listing request answers 429, wait 2 s
    run_crawl("field_reports", base_url, tmp_path)
    times = [t for t, path, _status in local_site.log if path == listing]
    statuses = [s for _t, path, s in local_site.log if path == listing]
    assert statuses[0] == 429 and statuses[1] == 200
    # Twisted's timers may fire a few milliseconds early against the server's monotonic clock.
    assert times[1] - times[0] >= 2.0 - 0.05
    assert len(rows(tmp_path)) == GOOD_FIELD_REPORTS


def test_a_banned_run_stops_and_exits_non_zero(site, tmp_path) -> None:
    base_url, local_site = site
    local_site.forbidden = True
    result = run_crawl(
        "field_reports", base_url, tmp_path, "-s", "CACI_BAN_THRESHOLD=3", expect_exit=1
    )
    assert "'finish_reason': 'banned'" in result.stderr
    assert "3 HTTP 403/429 answers in the last" in result.stderr
    refused = sum(n for path, n in local_site.hits.items() if "/item/" in path)
    assert refused <= 5  # stops right away instead of asking for all 20 items


def test_a_first_crawl_that_stores_nothing_fails(site, tmp_path) -> None:
    base_url, local_site = site
    local_site.forbidden = True
    result = run_crawl(
        "field_reports", base_url, tmp_path, "-s", "CACI_BAN_THRESHOLD=1000", expect_exit=1
    )
    assert "stored nothing on a first crawl" in result.stderr


def test_two_runs_never_share_a_database(site, tmp_path) -> None:
    import fcntl

    base_url, _local_site = site
    with (tmp_path / "caci.db.lock").open("wb") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_crawl("field_reports", base_url, tmp_path, expect_exit=75)
    assert "another crawl holds" in result.stderr and "skipping this run" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "field_reports.jsonl").exists()


def test_without_pagination_links_the_walk_steps_to_the_first_empty_page(site, tmp_path) -> None:
    base_url, local_site = site
    local_site.pagination = False
    # The HTML walk alone (the JSON channel would probe <listing>.html?format=json too).
    run_crawl("field_reports", base_url, tmp_path, "-s", "CACI_JSON_LISTINGS=False")
    assert len(rows(tmp_path)) == GOOD_FIELD_REPORTS
    pages = (len(local_site.order) + 3) // 4
    assert local_site.hits["/publications/field-reports.html"] == pages + 1  # + the empty one


def test_a_site_that_ignores_start_does_not_loop(site, tmp_path) -> None:
    base_url, local_site = site
    local_site.pagination = False
    original = local_site.listing_page
    local_site.listing_page = lambda start: original(0)  # every offset serves page one
    run_crawl("field_reports", base_url, tmp_path, "-s", "CACI_JSON_LISTINGS=False")
    assert local_site.hits["/publications/field-reports.html"] == 2


def test_robots_txt_is_obeyed(site, tmp_path) -> None:
    base_url, local_site = site
    local_site.robots_txt = "User-agent: *\nDisallow: /publications/field-reports/item/8145-\n"
    # One good page fewer puts the fixture site (one broken page in 20) under the body minimum.
    result = run_crawl("field_reports", base_url, tmp_path)
    assert not any("/item/8145-" in path for path in local_site.hits)
    assert 8145 not in {r["id"] for r in rows(tmp_path)}
    db = sqlite_utils.Database(tmp_path / "caci.db")
    assert not [r for r in db["rejects"].rows if "/item/8145-" in r["url"]]  # not a failure
    assert "'robotstxt/forbidden': 1" in result.stderr


def test_a_crawl_without_its_page_archive_stops_and_exits_non_zero(site, tmp_path) -> None:
    base_url, local_site = site
    (tmp_path / "httpcache" / "field_reports.sqlite").mkdir(parents=True)  # cannot be opened
    result = run_crawl("field_reports", base_url, tmp_path, expect_exit=1)
    assert "'finish_reason': 'archive_unavailable'" in result.stderr
    assert "cannot serve this crawl" in result.stderr
    assert local_site.hits == {}  # not even robots.txt
    assert rows(tmp_path) == []


def test_reparse_without_an_archive_stops_and_exits_non_zero(tmp_path) -> None:
    result = run_crawl(
        "field_reports", "http://127.0.0.1:9", tmp_path, "-a", "mode=reparse", expect_exit=1
    )
    assert "'finish_reason': 'archive_unavailable'" in result.stderr
    assert not (tmp_path / "httpcache" / "field_reports.sqlite").exists()


def test_a_damaged_page_archive_is_set_aside_and_the_crawl_goes_on(site, tmp_path) -> None:
    base_url, _local_site = site
    run_crawl("field_reports", base_url, tmp_path)
    archive = tmp_path / "httpcache" / "field_reports.sqlite"
    stored = rows(tmp_path)
    archive.write_bytes(b"not a database, " * 512)
    for companion in ("-wal", "-shm"):
        Path(f"{archive}{companion}").unlink(missing_ok=True)
    result = run_crawl("field_reports", base_url, tmp_path, "-a", "mode=full")
    assert "is damaged" in result.stderr
    assert [p.name for p in archive.parent.glob("field_reports.sqlite.damaged-*")]
    pages = sqlite3.connect(archive).execute("SELECT count(*) FROM pages").fetchone()[0]
    assert pages >= len(stored)  # every item page archived again
    assert rows(tmp_path) == stored


def test_reparse_records_an_unreadable_archived_page_as_a_reject(site, tmp_path) -> None:
    base_url, _local_site = site
    run_crawl("field_reports", base_url, tmp_path)
    archive = sqlite3.connect(tmp_path / "httpcache" / "field_reports.sqlite")
    (url,) = archive.execute("SELECT url FROM pages WHERE url LIKE '%/item/8145-%'").fetchone()
    with archive:
        archive.execute("UPDATE pages SET body = x'00' WHERE url = ?", (url,))
    archive.close()
    run_crawl("field_reports", base_url, tmp_path, "-a", "mode=reparse")
    rejects = sqlite_utils.Database(tmp_path / "caci.db")["rejects"].rows_where("url = ?", [url])
    assert [r["reason"] for r in rejects] == ["archived copy unreadable"]
