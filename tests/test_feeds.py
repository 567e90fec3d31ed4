"""Scrapy's feed exports get the rows the run stored (caci_spider.feeds), driven through the
exporter's own signal handlers, without an engine: ``close_spider`` runs on an asyncio loop."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from scrapy import signals

from caci_spider.feeds import StoredRowsFeedExporter
from caci_spider.items import CONTRACT_KEYS, Publication
from caci_spider.spiders.generated import FieldReportsSpider
from caci_spider.store import store_of
from tests.reports import field_report
from tests.unit_crawler import CACI, build_spider


def report(item_id: int, body: str, title: str = "Georgia Prepares") -> Publication:
    return field_report(
        item_id, body, url=f"{CACI}/publications/field-reports/item/{item_id}-a.html",
        title=title, authors=["A. Writer"], published="2014-06-18", issue_date="2014-06-18",
        byline=None, hits=None, fetched_at="2026-11-27T17:49:47Z",
        word_count=len(body.split()), content_hash=f"hash-of-{body}",
    )  # fmt: skip


def test_the_feed_holds_the_rows_the_run_stored_as_stored(tmp_path: Path) -> None:
    out = tmp_path / "feed" / "out.jsonl"
    spider = build_spider(
        FieldReportsSpider, tmp_path, {"FEEDS": {str(out): {"format": "jsonlines"}}}
    )
    crawler = spider.crawler
    exporter = crawler.get_extension(StoredRowsFeedExporter)
    assert exporter is not None
    store = store_of(crawler)
    database = store.database
    database.store_report(report(9000, "stored by an earlier run"), spider.name, None)
    store.spider_opened(spider)
    exporter.open_spider(spider)
    database.store_report(report(12871, "same body", "later import"), spider.name, store.run_id)
    database.store_report(report(8145, "another body"), spider.name, store.run_id)
    # A lower id with the same body arrives later: 12871 becomes its duplicate.
    database.store_report(report(12834, "same body"), spider.name, store.run_id)
    database.store_report(report(8145, "another body", "Retitled"), spider.name, store.run_id)
    # Scrapy's own exporter writes every scraped item; this one writes rows, not items.
    crawler.signals.send_catch_log(signals.item_scraped, item={"id": 1}, spider=spider)

    asyncio.run(exporter.close_spider(spider))

    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(row["id"], row["title"]) for row in rows] == [
        (8145, "Retitled"),
        (12834, "Georgia Prepares"),
    ]
    assert all(tuple(row) == CONTRACT_KEYS for row in rows)
    assert crawler.stats.get_value("feedexport/success_count/FileFeedStorage") == 1


def test_without_feeds_the_exporter_is_not_built(tmp_path: Path) -> None:
    spider = build_spider(FieldReportsSpider, tmp_path)
    assert spider.crawler.get_extension(StoredRowsFeedExporter) is None
