"""``scrapy crawl staff_publications``: the institute's staff publications, de-duplicated.

Reads the "Staff Publications" sidebar of the Analyst's home page and walks every page of the
full listing on the institute's site (``SILKROAD_BASE_URL``), following each entry's item page
where the listing links one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Self

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from caci_spider.items import StaffPublication, utc_now
from caci_spider.pages.listing import K2ListingPage
from caci_spider.pages.staff import (
    StaffListingPage,
    combine_listing_and_item,
    parse_sidebar,
    parse_staff_item,
)
from caci_spider.records import normalise_staff_publication
from caci_spider.spiders.base import K2CategorySpider, failed_request
from caci_spider.urls import STAFF_CATEGORY, ItemRef, domain_of, item_ref


class StaffPublicationsSpider(K2CategorySpider):
    name = "staff_publications"
    category = STAFF_CATEGORY
    base_url_setting = "SILKROAD_BASE_URL"
    caci_base_url: str  # the Analyst's site, whose home page has the sidebar
    site_settings = ("CACI_BASE_URL", "SILKROAD_BASE_URL")
    export_name = "staff_publications.jsonl"
    export_table = "staff_publications"
    coverage_fields = ("title", "authors", "date", "venue", "url", "summary")
    # Sidebar and listing entries are messier than item pages: a lower bar for titles.
    coverage_minimums = {"title": 0.90}

    # What a staff item page itself gives (the rest of a row may come from the listing).
    canary_fields = ("title",)

    def known_items(self) -> set[str]:
        """Item pages already read, and rejected ones whose next attempt is not due:
        incremental runs fetch only new ones."""
        return self.store.database.known_staff_sources() | self.backed_off_urls()

    def reextract(self, response: TextResponse, row: dict[str, Any]) -> dict[str, Any]:
        ref = item_ref(row["url"], row["url"], self.base_url, self.category)
        if ref is None:
            return {}
        item = normalise_staff_publication(parse_staff_item(response.text, ref, utc_now()))
        return item.as_row()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.caci_base_url = crawler.settings["CACI_BASE_URL"].rstrip("/")
        spider.allowed_domains = sorted(
            {domain_of(spider.base_url), domain_of(spider.caci_base_url)}
        )
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(
            f"{self.caci_base_url}/", callback=self.parse_home, errback=self.fetch_failed
        )
        yield self.listing_request(0)
        for request in self.canary_requests():
            yield request

    def parse_home(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            yield self.reject(response.url, "home page is not a text page", status=response.status)
            return
        outcome = parse_sidebar(response.text, response.url, utc_now())
        if not outcome.publications and not outcome.rejects:
            self.logger.warning("No Staff Publications block found on %s", response.url)
        yield from outcome.publications
        for raw, reason in outcome.rejects:
            yield self.reject(response.url, reason, raw=raw)

    def follow_entries(
        self, response: TextResponse, listing: K2ListingPage
    ) -> tuple[int, list[Any]]:
        entries = StaffListingPage(listing).entries(utc_now())
        outputs: list[Any] = []
        for entry in entries:
            ref = item_ref(entry.url or "", response.url, self.base_url, self.category)
            if ref is None:
                outputs.append(entry)  # the validate stage rejects it if it has no title
            elif entry.title and not self.needs_fetch(ref.url):
                outputs.append(entry)  # incremental: its item page was read before
            elif ref.id not in self.requested_ids:
                self.requested_ids.add(ref.id)
                outputs.append(self.item_request(ref, entry.title, listing_entry=entry))
            else:
                outputs.append(entry)  # item already requested from another listing page
        return len(entries), outputs

    def extract_item(
        self,
        response: TextResponse,
        ref: ItemRef,
        listing_title: str | None = None,
        listing_entry: StaffPublication | None = None,
        **context: Any,
    ) -> Iterator[StaffPublication]:
        item = parse_staff_item(response.text, ref, utc_now())
        yield combine_listing_and_item(listing_entry, item)

    def fetch_failed(self, failure: Failure) -> Iterator[Any]:
        """A failed item page still leaves what its listing entry said."""
        yield from super().fetch_failed(failure)
        entry = failed_request(failure).cb_kwargs.get("listing_entry")
        if entry is not None:
            yield entry
