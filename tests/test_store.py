"""The database's owner (caci_spider.store.DatabaseStore), found through the crawler as the
other components find it: ``crawler.get_extension``."""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path

import pytest
from scrapy import Spider

from caci_spider.contract import derive
from caci_spider.items import Reject
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.store import DatabaseStore, store_of
from tests.unit_crawler import component_crawler

ITEMS = "https://www.cacianalyst.org/publications/field-reports/item"
REJECTED = f"{ITEMS}/7999-a.html"


def store_for(tmp_path: Path, **settings: object) -> tuple[DatabaseStore, Spider]:
    crawler = component_crawler(tmp_path, FieldReportsSpider, **settings)
    spider = crawler._create_spider()
    crawler.spider = spider
    store = crawler.get_extension(DatabaseStore)
    assert store is not None
    return store, spider


def test_the_lock_is_held_from_the_start_and_the_database_opened_on_first_use(
    tmp_path: Path,
) -> None:
    store, _spider = store_for(tmp_path)
    assert store_of(store.crawler) is store
    assert store.path == tmp_path / "caci.db"
    with (tmp_path / "caci.db.lock").open("ab") as other, pytest.raises(BlockingIOError):
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert not store.path.exists()
    assert store.database.count("publications") == 0
    assert store.path.exists()


def test_opening_the_spider_starts_its_run(tmp_path: Path) -> None:
    store, spider = store_for(tmp_path)
    store.spider_opened(spider)
    assert store.run_id == 1 and store.first_crawl
    (run,) = store.database.rows("crawl_runs")
    assert (run["spider"], run["mode"], run["finished_at"]) == (
        "field_reports",
        "incremental",
        None,
    )


def test_a_database_with_rows_is_not_a_first_crawl(tmp_path: Path) -> None:
    store, spider = store_for(tmp_path)
    row = {"id": 7315, "site": "cacianalyst", "url": f"{ITEMS}/7315-a.html", "title": "t"}
    # As storage stores it: with its derived columns (the section's category from the URL).
    store.database.db.table("publications").insert(row | derive("publications", row))
    store.spider_opened(spider)
    assert not store.first_crawl


def test_rows_of_other_sections_or_sites_do_not_make_a_sections_crawl_a_later_one(
    tmp_path: Path,
) -> None:
    store, spider = store_for(tmp_path)
    analytical = ITEMS.replace("field-reports", "analytical-articles")
    table = store.database.db.table("publications")
    for row in (
        {"id": 1, "site": "cacianalyst", "url": f"{analytical}/1-a.html"},
        {"id": 2, "site": "turkeyanalyst", "url": f"{ITEMS}/2-a.html"},
    ):
        table.insert(row | derive("publications", row))
    store.spider_opened(spider)
    assert store.first_crawl


def test_a_spider_without_a_table_gets_no_run(tmp_path: Path) -> None:
    crawler = component_crawler(tmp_path)  # Scrapy's default spider: no export_table
    store = store_of(crawler)
    store.spider_opened(crawler._create_spider())
    assert store.run_id is None and store._database is None


def test_the_database_is_closed_when_the_engine_stops(tmp_path: Path) -> None:
    store, _spider = store_for(tmp_path)
    first = store.database
    store.engine_stopped()
    assert store._database is None
    assert store.database is not first  # opened again if anything still needs it
    store.engine_stopped()
    store.engine_stopped()  # twice is harmless


def test_each_reject_is_stored_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store, _spider = store_for(tmp_path, CACI_REJECT_BACKOFF_MAX_DAYS=3)
    for _ in range(3):
        store.record_reject(
            Reject("field_reports", REJECTED, "HTTP 404", "2026-11-27T17:49:47Z", status=404)
        )
    (row,) = store.database.rows("rejects", order_by="url")
    assert (row["url"], row["reason"], row["status"], row["attempts"]) == (
        REJECTED,
        "HTTP 404",
        404,
        3,
    )
    assert row["next_attempt_at"] == "2026-11-30T17:49:47Z"  # 4 days, capped at the setting's 3
    stats = store.crawler.stats
    assert stats.get_value("caci/rejected") == 3
    assert stats.get_value("caci/rejected/HTTP 404") == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [f"Rejected {REJECTED}: HTTP 404"] * 3


def test_a_crawler_without_the_store_says_which_extension_is_missing(tmp_path: Path) -> None:
    crawler = component_crawler(
        tmp_path,
        EXTENSIONS={"caci_spider.store.DatabaseStore": None},
    )
    with pytest.raises(RuntimeError, match="caci_spider.store.DatabaseStore is not enabled"):
        store_of(crawler)
