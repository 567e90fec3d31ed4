"""``scrapy crawl staff_publications``: the institute's staff publications, de-duplicated.

Reads the "Staff Publications" sidebar of the Analyst's home page and walks every page of the
full listing on the institute's site (``SILKROAD_BASE_URL``), following each entry's item page
where the listing links one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Self

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from caci_spider import documents
from caci_spider.channels.documents import Documents
from caci_spider.failures import failed_request, failure_name, http_status
from caci_spider.items import Reject, StaffPublication, utc_now
from caci_spider.middlewares import HostDidNotAnswer
from caci_spider.pages.listing import K2ListingPage
from caci_spider.pages.staff import StaffItemPage, StaffListingPage, parse_sidebar
from caci_spider.records import normalise_staff_publication
from caci_spider.sources import BY_KEY, section_of
from caci_spider.spiders.base import K2CategorySpider
from caci_spider.spiders.sections import bind_section
from caci_spider.staff.precedence import merge_observations
from caci_spider.urls import ItemRef, domain_of

NO_ARTICLE_TEXT = "item page holds no article text (its template changed, or a script renders it)"


class StaffPublicationsSpider(K2CategorySpider):
    name = "staff_publications"
    # Its site, section and policy (caci_spider.sources): category, export file, coverage
    # minimums, coverage and canary fields, listing only (and why), document links.
    source_site, source_section = section_of(name)
    # The site whose home page has the sidebar (the Analyst's), and its base URL.
    sidebar_site = BY_KEY[source_section.home_sidebar_site]
    caci_base_url: str
    site_settings = (sidebar_site.base_url_setting, source_site.base_url_setting)
    export_name: str
    export_table = "staff_publications"
    links_documents: bool

    def known_items(self) -> set[str]:
        """Item pages already read, and rejected ones whose next attempt is not due:
        incremental runs fetch only new ones."""
        return self.store.database.known_staff_sources() | self.backed_off_urls()

    def reextract(self, response: TextResponse, row: dict[str, Any]) -> dict[str, Any]:
        ref = self.target().ref(row["url"], row["url"])
        if ref is None:
            return {}
        page = StaffItemPage(response.text, ref)
        if not page.has_text():
            return {}  # every field the row has is missing: the canary fails
        return normalise_staff_publication(page.observation(ref.url, utc_now())).as_row()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.caci_base_url = crawler.settings[cls.sidebar_site.base_url_setting].rstrip("/")
        spider.allowed_domains = sorted(
            {domain_of(spider.base_url), domain_of(spider.caci_base_url)}
        )
        return spider

    def initial_requests(self) -> list[scrapy.Request]:
        home = scrapy.Request(
            f"{self.caci_base_url}/", callback=self.parse_home, errback=self.home_failed
        )
        return [home, *super().initial_requests()]

    def home_failed(self, failure: Failure) -> Iterator[Any]:
        """The sidebar is one of the two sources: losing it fails the self-check."""
        if failure.check(HostDidNotAnswer):
            return  # said once for the host, not once per page
        code = http_status(failure)
        why = f"answered HTTP {code}" if code is not None else failure_name(failure)
        self.ledger.source_problems.append(
            f"the home page ({failed_request(failure).url}) {why}: no Staff Publications sidebar"
        )
        yield from self.fetch_failed(failure)

    def parse_home(self, response: Response) -> Iterator[Any]:
        fallback = self.fallback_of(response)
        if fallback:
            self.ledger.source_problems.append(f"the home page ({response.url}) {fallback}")
        if not isinstance(response, TextResponse):
            yield self.reject(response.url, "home page is not a text page", status=response.status)
            return
        outcome = parse_sidebar(response.text, response.url, utc_now())
        if not outcome.publications and not outcome.rejects:
            self.ledger.source_problems.append(
                f"the home page ({response.url}) has no Staff Publications block: its layout "
                "changed or the sidebar moved"
            )
        yield from outcome.publications
        # A sidebar entry that links the paper itself: its url is the document.
        yield from self.channel(Documents).document_requests(
            [p.url for p in outcome.publications if p.url and documents.is_pdf_url(p.url)]
        )
        for raw, reason in outcome.rejects:
            yield self.reject(response.url, reason, raw=raw)

    def follow_entries(
        self, response: TextResponse, listing: K2ListingPage, key: str | None = None
    ) -> tuple[list[str], list[Any]]:
        target = self.target(key)
        entries = StaffListingPage(listing).observations(utc_now())
        outputs: list[Any] = []
        keys: list[str] = []
        for entry in entries:
            ref = target.ref(entry.url or "", response.url)
            keys.append(str(ref.id) if ref else entry.title or entry.raw)
            if ref is None:
                outputs.append(entry)  # the validate stage rejects it if it has no title
            elif entry.title and not self.needs_fetch(ref.url):
                outputs.append(entry)  # incremental: its item page was read before
            elif self.item_key(ref) not in self.ledger.requested_keys:
                self.ledger.requested_keys.add(self.item_key(ref))
                outputs.append(self.item_request(ref, entry.title, listing_entry=entry))
            else:
                outputs.append(entry)  # item already requested from another listing page
        return keys, outputs

    def extract_item(
        self,
        response: TextResponse,
        ref: ItemRef,
        listing_title: str | None = None,
        listing_entry: StaffPublication | None = None,
        **context: Any,
    ) -> Iterator[StaffPublication | Reject | scrapy.Request]:
        page = StaffItemPage(response.text, ref)
        if not page.has_text():
            # Read, but nothing to read: judged as a failed fetch (the run fails when no item
            # page could be read), and the listing entry stands alone, as for a failed fetch.
            self.ledger.item_fetches.unreadable(NO_ARTICLE_TEXT)
            yield self.reject(ref.url, NO_ARTICLE_TEXT, status=response.status)
            if listing_entry is not None:
                yield listing_entry
            return
        # The listing's values come first; the item page fills what the listing lacks.
        merged = merge_observations(listing_entry, page.observation(ref.url, utc_now()))
        # Its download links: linked to the row once stored, fetched (once) after the pages.
        merged.documents = documents.download_links(response.body, response.url)
        yield merged
        yield from self.channel(Documents).document_requests(merged.documents)

    def fetch_failed(self, failure: Failure) -> Iterator[Any]:
        """A failed item page still leaves what its listing entry said."""
        yield from super().fetch_failed(failure)
        entry = failed_request(failure).cb_kwargs.get("listing_entry")
        if entry is not None:
            yield entry


bind_section(StaffPublicationsSpider, *section_of(StaffPublicationsSpider.name))
