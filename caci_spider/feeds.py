"""Scrapy's feed exports (``-O``/``-o``, ``FEEDS``) receive exactly the rows the run stored.

During a crawl an item can still change its fate after the pipelines passed it on: a report
stored first is demoted when a lower id with the same body arrives later, and a staff
publication is several observations (sidebar, listing, item page) merged into one row. Scrapy's
own ``FeedExporter`` writes each item as it is scraped, so ``scrapy crawl field_reports -O
x.json`` would hold the demoted duplicate and every staff observation. This subclass only notes
which rows each item landed in, and at the close of the spider writes those rows as the
database holds them (contract keys, in the order the run first stored them). Everything else,
feed URIs, formats, storages, batches, is Scrapy's.
"""

from __future__ import annotations

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.extensions.feedexport import FeedExporter

from caci_spider.store import store_of


class StoredRowsFeedExporter(FeedExporter):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoredRowsFeedExporter:
        exporter = cls(crawler)
        crawler.signals.connect(exporter.open_spider, signals.spider_opened)
        crawler.signals.connect(exporter.close_spider, signals.spider_closed)
        return exporter

    async def close_spider(self, spider: Spider) -> None:
        store = store_of(self.crawler)
        table = store.ledger.plan.export_table
        if table:
            database = store.database
            keys = database.run_keys(table, store.run_id)
            for row in database.stored_rows(table, keys):
                self.item_scraped(row, spider)
        await super().close_spider(spider)
