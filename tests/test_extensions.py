"""The run's record and verdict, the JOBDIR marks and the contact warning
(caci_spider.extensions), driven through their signal handlers without an engine."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request

from caci_spider.archive import SqliteArchiveStorage
from caci_spider.extensions import ContactWarning, CrawlRunRecorder, JobDirMarks
from caci_spider.items import Publication
from caci_spider.jobdir import FINISHED_MARK, RUNNING_MARK, VERSION_MARK
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.spiders.staff_publications import StaffPublicationsSpider
from caci_spider.store import store_of
from tests.reports import field_report
from tests.unit_crawler import CACI, build_spider, component_crawler

FIRST = f"{CACI}/publications/field-reports.html?start=0"


def report(item_id: int, body: str) -> Publication:
    return field_report(
        item_id, body, url=f"{CACI}/publications/field-reports/item/{item_id}-a.html",
        title=f"Report {item_id}", hits=4672, fetched_at="2026-11-27T17:49:47Z",
        word_count=len(body.split()), content_hash=f"hash-of-{body}",
    )  # fmt: skip


def opened(tmp_path: Path, **settings: object) -> tuple[FieldReportsSpider, CrawlRunRecorder]:
    spider = build_spider(FieldReportsSpider, tmp_path, settings)
    store_of(spider.crawler).spider_opened(spider)
    recorder = spider.crawler.get_extension(CrawlRunRecorder)
    assert recorder is not None
    return spider, recorder


def walked(spider: FieldReportsSpider, pages: int, *ids: int) -> None:
    spider.ledger.listing_walk().first_url = FIRST
    spider.ledger.listing_walk().first_status = 200
    spider.ledger.listing_walk().first_entries = len(ids[:4])
    spider.ledger.listing_walk().pages = pages
    spider.ledger.listing_walk().keys.update(str(item_id) for item_id in ids)


def test_a_good_run_is_recorded_and_claims_its_site(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spider, recorder = opened(tmp_path)
    store = store_of(spider.crawler)
    store.database.store_report(report(8145, "one"), spider.name, store.run_id)
    store.database.store_report(report(7315, "two"), spider.name, store.run_id)
    stats = spider.crawler.stats
    stats.set_value("downloader/request_count", 4)
    stats.set_value("downloader/response_status_count/200", 3)
    stats.set_value("downloader/response_status_count/404", 1)
    stats.set_value("caci/rejected", 1)
    for name, count in {"items": 2, "title": 2, "body": 2, "hits": 1}.items():
        stats.set_value(f"caci/coverage/{name}", count)
    walked(spider, 1, 8145, 7315)

    with caplog.at_level(logging.INFO, logger="caci_spider.extensions"):
        recorder.spider_closed(spider, "finished")

    (run,) = store.database.rows("crawl_runs")
    assert {key: run[key] for key in run if key not in ("started_at", "finished_at")} == {
        "id": 1,
        "spider": "field_reports",
        "mode": "incremental",
        "finish_reason": "finished",
        "requests": 4,
        "responses_by_status": {"200": 3, "404": 1},
        "items_new": 2,
        "items_updated": 0,
        "items_unchanged": 0,
        "items_rejected": 1,
        "items_duplicate": 0,
        "coverage": {
            "title": 1.0,
            "authors": 0.0,
            "published": 0.0,
            "issue_date": 0.0,
            "body": 1.0,
            "hits": 0.5,
        },  # two items are too few to judge (CACI_COVERAGE_MIN_ITEMS)
        "self_check": "ok",
        "problems": [],
        "listing_pages": 1,
        "listing_entries": 2,
        "canaries": [],
        "sources": {"field-reports": {"source": "", "reason": ""}},  # the run was never started
        "sections": {
            "field-reports": {
                "site": "cacianalyst",
                "spider": "field_reports",
                "source": "",
                "new": 2,
                "updated": 0,
                "unchanged": 0,
                "checked": 0,
                "not_read": 0,
                "rejected": 0,  # counted as the store records them (none did here)
                "listing_pages": 1,
                "listing_entries": 2,
                "canaries": {"ok": 0, "changed": 0, "fetch_failed": 0},
                "coverage_items": 0,
                "coverage": {},
                "coverage_problems": [],
                "read_problems": [],
            }
        },
    }
    assert run["finished_at"] >= run["started_at"]
    assert stats.get_value("caci/items/new") == 2 and stats.get_value("caci/self_check") == "ok"
    assert (
        "Run 1 of field_reports: 0 read, 2 new, 0 updated, 0 unchanged, 0 checked, 0 not read, "
        "0 duplicate, 1 rejected; self-check ok"
    ) in caplog.messages
    assert [(r["setting"], r["base_url"]) for r in store.database.rows("sites", "setting")] == [
        ("CACI_BASE_URL", CACI)
    ]


def test_a_first_crawl_of_an_unreadable_site_fails_and_claims_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spider, recorder = opened(tmp_path)
    spider.ledger.listing_walk().first_url = FIRST
    spider.ledger.listing_walk().first_status = 503
    recorder.spider_closed(spider, "finished")
    (run,) = store_of(spider.crawler).database.rows("crawl_runs")
    assert run["self_check"] == "failed"
    assert run["problems"] == [
        "stored nothing on a first crawl",
        f"no listing page could be read: the first one ({FIRST}) answered HTTP 503; "
        "check the base URL setting and whether the site is up",
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"Self-check failed for field_reports: {p}" for p in run["problems"]]
    assert spider.crawler.stats.get_value("caci/self_check") == "failed"
    assert list(store_of(spider.crawler).database.rows("sites", "setting")) == []


def test_a_listing_shorter_than_the_last_passing_run_fails(tmp_path: Path) -> None:
    store = store_of(component_crawler(tmp_path, FieldReportsSpider))
    earlier = store.database.start_run("field_reports", "full", "2026-11-26T00:00:00Z")
    store.database.finish_run(earlier, {"self_check": "ok", "listing_entries": 20})
    store.database.store_report(report(8145, "one"), "field_reports", earlier)
    store.engine_stopped()

    spider, recorder = opened(tmp_path)
    walked(spider, 3, *range(7000, 7010))
    recorder.spider_closed(spider, "finished")
    run = list(store_of(spider.crawler).database.rows("crawl_runs"))[-1]
    assert run["problems"] == [
        f"the listing holds 10 entries, below 80% of the 20 of run {earlier} "
        "(the last that passed its self-check)"
    ]


def test_a_stopped_run_is_recorded_as_not_finished(tmp_path: Path) -> None:
    spider, recorder = opened(tmp_path, CACI_LISTING_MIN_SHARE=0.5)
    walked(spider, 1, 7315)
    recorder.spider_closed(spider, "shutdown")
    (run,) = store_of(spider.crawler).database.rows("crawl_runs")
    assert run["finish_reason"] == "shutdown"
    assert "the run did not finish (shutdown)" in run["problems"]


def test_no_run_no_record(tmp_path: Path) -> None:
    spider = build_spider(FieldReportsSpider, tmp_path)
    recorder = spider.crawler.get_extension(CrawlRunRecorder)
    assert recorder is not None
    recorder.spider_closed(spider, "archive_unavailable")  # the store never started a run
    assert list(store_of(spider.crawler).database.rows("crawl_runs")) == []
    assert spider.crawler.stats.get_value("caci/self_check") is None


@pytest.mark.parametrize(("reason", "marks"), [("finished", [FINISHED_MARK]), ("shutdown", [])])
def test_jobdir_marks(tmp_path: Path, reason: str, marks: list[str]) -> None:
    jobdir = tmp_path / "jobs" / "field_reports"
    crawler = component_crawler(tmp_path, FieldReportsSpider, JOBDIR=str(jobdir))
    # Marked when built, with the version of its resume state.
    assert sorted(p.name for p in jobdir.iterdir()) == [RUNNING_MARK, VERSION_MARK]
    extension = crawler.get_extension(JobDirMarks)
    assert extension is not None
    extension.spider_closed(crawler._create_spider(), reason)
    assert sorted(p.name for p in jobdir.iterdir()) == sorted([*marks, VERSION_MARK])


def test_without_a_jobdir_the_marks_do_nothing(tmp_path: Path) -> None:
    crawler = component_crawler(tmp_path / "run", FieldReportsSpider)
    extension = crawler.get_extension(JobDirMarks)
    assert extension is not None and extension.jobdir is None
    extension.spider_closed(crawler._create_spider(), "finished")


PLACEHOLDER_WARNING = "USER_AGENT still carries the placeholder contact"


@pytest.mark.parametrize(
    ("spidercls", "settings", "warned"),
    [
        (FieldReportsSpider, {}, True),
        (FieldReportsSpider, {"USER_AGENT": "caci_spider/0.1 (+https://ops.example.net)"}, False),
        (FieldReportsSpider, {"CACI_BASE_URL": "http://127.0.0.1:8088"}, False),
        (StaffPublicationsSpider, {"CACI_BASE_URL": "http://127.0.0.1:8088"}, True),
        (
            StaffPublicationsSpider,
            {"CACI_BASE_URL": "http://127.0.0.1:8088", "SILKROAD_BASE_URL": "http://localhost:9"},
            False,
        ),
    ],
)
def test_the_placeholder_contact_is_warned_about_on_a_live_site(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    spidercls: type,
    settings: dict[str, str],
    warned: bool,
) -> None:
    crawler = component_crawler(tmp_path, spidercls, **settings)
    extension = crawler.get_extension(ContactWarning)
    assert extension is not None
    with caplog.at_level(logging.WARNING):
        extension.spider_opened(crawler._create_spider())
    assert any(PLACEHOLDER_WARNING in message for message in caplog.messages) is warned


def test_quality_rejects_vanished_fields_and_differing_canaries_fail_the_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from caci_spider.quality import FieldDifference, QualityProblem
    from caci_spider.selfcheck import CanaryResult

    spider, recorder = opened(tmp_path)
    walked(spider, 1, 8145, 7315)
    url = f"{CACI}/publications/field-reports/item/8145-a.html"
    spider.ledger.quality_rejects.note(url, [QualityProblem("body", "Print", "page chrome")])
    spider.ledger.refetched_fields.note(url, ["tags"], ["tags"])
    difference = FieldDifference("title", "OLD TITLE", "CACI Analyst")
    spider.ledger.canary_results.append(CanaryResult("7315", url, "changed", [], [difference]))
    with caplog.at_level(logging.INFO, logger="caci_spider.extensions"):
        recorder.spider_closed(spider, "finished")
    (run,) = store_of(spider.crawler).database.rows("crawl_runs")
    assert run["self_check"] == "failed"
    assert [problem.split(" (")[0] for problem in run["problems"]] == [
        "stored nothing on a first crawl",
        "canary 7315",
        "1 item was rejected for the quality of its body",
        "1 of 1 refetched items whose rows have tags no longer yield it",
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f'(first: {url}: body holds page chrome "Print")' in errors[2]
    assert run["canaries"][0]["differing"] == [difference.as_dict()]


def test_the_vanished_share_is_a_setting(tmp_path: Path) -> None:
    spider, recorder = opened(tmp_path, CACI_VANISHED_MAX_SHARE=0.5)
    walked(spider, 1, 8145)
    for n in range(3):
        spider.ledger.refetched_fields.note(
            f"{CACI}/{n}.html", ["issue_date"], ["issue_date"] if n == 0 else []
        )
    recorder.spider_closed(spider, "finished")  # 1 of 3 lost it: below 50 %
    (run,) = store_of(spider.crawler).database.rows("crawl_runs")
    assert run["problems"] == ["stored nothing on a first crawl"]


def test_failed_writes_to_the_archive_and_the_database_fail_the_run_in_one_line_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spider, recorder = opened(tmp_path)
    store = store_of(spider.crawler)
    store.database.store_report(report(8145, "one"), spider.name, store.run_id)
    walked(spider, 1, 8145)
    # A page the archive cannot store: another program holds its file.
    monkeypatch.setattr(SqliteArchiveStorage, "BUSY_TIMEOUT_S", 0.05)
    archive = SqliteArchiveStorage(spider.crawler.settings)
    archive.open_spider(spider)
    blocker = sqlite3.connect(archive.path_for(spider.name), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    url = f"{CACI}/publications/field-reports/item/8145-a.html"
    with caplog.at_level(logging.INFO):
        archive.store_response(spider, Request(url), HtmlResponse(url, body=b"<html></html>"))
        blocker.execute("ROLLBACK")
        archive.close_spider(spider)
        # A row the database refused.
        store.write_failed(url, sqlite3.OperationalError("database or disk is full"))
        recorder.spider_closed(spider, "finished")
    (run,) = store.database.rows("crawl_runs")
    assert run["self_check"] == "failed"
    assert run["problems"] == [
        f"1 writes to {store.path} failed (first: {url}: database or disk is full)",
        f"1 page could not be stored in the page archive (first: {archive.path}: {url}: "
        "database is locked); the pages were still read and their rows stored",
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"Self-check failed for field_reports: {p}" for p in run["problems"]]
