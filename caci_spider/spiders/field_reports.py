"""``scrapy crawl field_reports``: every field report of the Central Asia-Caucasus Analyst."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import TextResponse

from caci_spider.items import FieldReportPage, utc_now
from caci_spider.pages.item import item_page
from caci_spider.records import collapse_body, normalise_field_report
from caci_spider.sources import section_of
from caci_spider.spiders.base import K2CategorySpider
from caci_spider.urls import ItemRef, item_ref


class FieldReportsSpider(K2CategorySpider):
    name = "field_reports"
    # Its site and section (caci_spider.sources): category, export file, coverage minimums.
    source_site, source_section = section_of(name)
    category = source_section.category
    base_url_setting = source_site.base_url_setting
    export_name = source_section.export_name
    export_table = "publications"
    # Every field of a row comes from the item page: the feed's ids are all a night needs.
    feed_first = True
    coverage_fields = ("title", "authors", "published", "issue_date", "body", "hits")
    # Below these shares of items with the field, the run fails its self-check.
    coverage_minimums = dict(source_section.coverage_minimums)

    # A stored field report whose page no longer yields one of these has changed layout.
    # (tags too: incremental nights refetch no stored item but the canary, so a template that
    # loses only the tags is seen here or nowhere)
    canary_fields = ("title", "authors", "published", "issue_date", "body", "hits", "tags")
    # ... and these must read as its row has them (a body by word-level similarity).
    canary_compared = {"title": "exact", "authors": "exact", "published": "exact", "body": "words"}

    def known_items(self) -> set[int]:
        """Stored ids, duplicates, and rejected ids whose next attempt is not due."""
        waiting = {
            ref.id
            for url in self.backed_off_urls()
            if (ref := item_ref(url, url, self.base_url, self.category)) is not None
        }
        return self.store.database.known_report_ids(self.source_site.key) | waiting

    def reextract(self, response: TextResponse, row: dict[str, Any]) -> dict[str, Any]:
        page = item_page(response.text, ItemRef(row["id"], row["url"]), utc_now()).extract()
        # As the pipelines build a row (normalise, then collapse the body), minus validation: a
        # field the page lost must show as missing, not as a reject.
        return collapse_body(normalise_field_report(page)).as_row()

    def extract_item(
        self,
        response: TextResponse,
        ref: ItemRef,
        listing_title: str | None = None,
        **context: Any,
    ) -> Iterator[FieldReportPage]:
        page = item_page(response.text, ref, utc_now()).extract()
        if not page.title and listing_title:
            page.title = listing_title  # legacy items with an empty itemTitle (e.g. 7315)
        yield page
