"""The base of every spider of ``publications`` rows: the section spiders and
``scrapy crawl publications`` (:mod:`caci_spider.spiders.publications`).

A section spider (``field_reports``, ``analytical_articles``, ``feature_articles``,
``news_digest``, ``turkey_analyst``, ``silk_road_papers``, ``srs_news``, ``srs_events``) crawls
one (site, section) pair of :mod:`caci_spider.sources`; ``publications`` crawls all of them,
each section with its own feed-first decision, listing walk, canaries and coverage minimums
(its section spider's policy), each site at its own base URL and with its own politeness
(Scrapy's download slots are per host).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import TextResponse

from caci_spider import documents
from caci_spider.channels.documents import Documents
from caci_spider.items import DocumentLinks, FieldReportPage, utc_now
from caci_spider.pages.item import item_page
from caci_spider.records import collapse_body, normalise_field_report
from caci_spider.sources import Section, SiteProfile, section_of
from caci_spider.spiders.base import K2CategorySpider
from caci_spider.urls import ItemRef


class K2PublicationsSpider(K2CategorySpider):
    """Rows of ``publications`` (the field-report contract, every section, every site): every
    field of a row comes from its item page, so that a section's feed is all a night needs."""

    export_table = "publications"
    source_site: SiteProfile
    source_section: Section
    export_name: str = ""
    feed_first = True
    coverage_fields: tuple[str, ...] = (
        "title",
        "authors",
        "published",
        "issue_date",
        "body",
        "hits",
    )
    # A stored publication whose page no longer yields one of these has changed layout.
    # (tags too: incremental nights refetch no stored item but the canary, so a template that
    # loses only the tags is seen here or nowhere)
    canary_fields: tuple[str, ...] = (
        "title", "authors", "published", "issue_date", "body", "hits", "tags",
    )  # fmt: skip
    # ... and these must read as its row has them (a body by word-level similarity).
    canary_compared: dict[str, str] = {
        "title": "exact",
        "authors": "exact",
        "published": "exact",
        "body": "words",
    }
    # Rows whose PDFs (``pdf_url``) are fetched write exports/documents.jsonl too.
    links_documents = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A section spider names itself; its site and section (caci_spider.sources) give the
        rest: category, base-URL setting, export file, coverage minimums."""
        name = cls.__dict__.get("name")
        if name and "crawled_sections" not in cls.__dict__:
            with contextlib.suppress(KeyError):  # an aggregate (publications) is no section
                profile, section = section_of(name)
                cls.source_site, cls.source_section = profile, section
                cls.crawled_sections = ((profile, section),)
                cls.category = section.category
                cls.base_url_setting = profile.base_url_setting
                cls.export_name = section.export_name
                cls.coverage_minimums = dict(section.coverage_minimums)
        super().__init_subclass__(**kwargs)

    def known_items(self) -> set[tuple[str, int]]:
        """``(site, id)`` of the ids stored or duplicates on each crawled site, and of the
        rejected items whose next attempt is not due."""
        known: set[tuple[str, int]] = set()
        waiting = self.backed_off_urls()
        for site in dict.fromkeys(target.site for target in self.targets):
            known.update((site, item_id) for item_id in self.store.database.known_report_ids(site))
        for target in self.targets:
            for url in waiting:
                ref = target.ref(url, url)
                if ref is not None:
                    known.add(self.item_key(ref))
        return known

    def reextract(self, response: TextResponse, row: dict[str, Any]) -> dict[str, Any]:
        ref = ItemRef(row["id"], row["url"], row["site"])
        page = item_page(response.text, ref, utc_now()).extract()
        # As the pipelines build a row (normalise, then collapse the body), minus validation: a
        # field the page lost must show as missing, not as a reject.
        return collapse_body(normalise_field_report(page)).as_row()

    def extract_item(
        self,
        response: TextResponse,
        ref: ItemRef,
        listing_title: str | None = None,
        **context: Any,
    ) -> Iterator[FieldReportPage | DocumentLinks | scrapy.Request]:
        page = item_page(response.text, ref, utc_now()).extract()
        if not page.title and listing_title:
            page.title = listing_title  # legacy items with an empty itemTitle (e.g. 7315)
        yield page
        pdf_url = getattr(page, "pdf_url", None)
        if pdf_url:
            # Linked to the row once stored, fetched (once, on the allowed hosts) after the pages.
            yield from self.channel(Documents).document_requests([pdf_url])
        if page.chapter_urls and page.id is not None:
            # A book's chapters: linked once its row is stored, each fetched once.
            links = [(url, documents.ROLE_CHAPTER) for url in page.chapter_urls]
            yield DocumentLinks(page.site, page.id, links, page.fetched_at)
            yield from self.channel(Documents).document_requests(page.chapter_urls)
