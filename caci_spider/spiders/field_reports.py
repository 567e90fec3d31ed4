"""``scrapy crawl field_reports``: every field report of the Central Asia-Caucasus Analyst."""

from __future__ import annotations

from collections.abc import Iterator

from scrapy.http import TextResponse

from caci_spider.items import FieldReportPage, utc_now
from caci_spider.pages.item import K2ItemPage
from caci_spider.pipelines import database_for
from caci_spider.spiders.base import K2CategorySpider
from caci_spider.urls import ItemRef


class FieldReportsSpider(K2CategorySpider):
    name = "field_reports"
    category = "field-reports"
    export_name = "field_reports.jsonl"
    export_table = "publications"
    coverage_fields = ("title", "authors", "published", "issue_date", "body", "hits")
    # Below these shares of items with the field, the run fails its self-check.
    coverage_minimums = {"title": 0.95, "body": 0.95, "published": 0.95, "authors": 0.90}

    def known_items(self) -> set[int]:
        return database_for(self.crawler).known_report_ids()

    def extract_item(
        self, response: TextResponse, ref: ItemRef, listing_title: str | None = None
    ) -> Iterator[FieldReportPage]:
        page = K2ItemPage(response.text, ref, utc_now()).extract()
        if not page.title and listing_title:
            page.title = listing_title  # legacy items with an empty itemTitle (e.g. 7315)
        yield page
