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
from caci_spider.items import DocumentLinks, PublicationPage, utc_now
from caci_spider.pages.item import item_page
from caci_spider.records import collapse_body, normalise_publication
from caci_spider.sources import (
    CANARY_COMPARED,
    CANARY_FIELDS,
    COVERAGE_FIELDS,
    Section,
    SiteProfile,
    profile_of,
    section_of,
)
from caci_spider.spiders.base import K2CategorySpider
from caci_spider.urls import ItemRef


def bind_section(cls: type[K2CategorySpider], profile: SiteProfile, section: Section) -> None:
    """Make ``cls`` the spider of one (site, section) pair: category, base-URL setting, export
    file, coverage minimums and the section's spider policy (coverage and canary fields, feed
    first or why not, document links), all from the Section (caci_spider.sources)."""
    cls.source_site, cls.source_section = profile, section  # type: ignore[attr-defined]
    cls.crawled_sections = ((profile, section),)
    cls.category = section.category
    cls.base_url_setting = profile.base_url_setting
    cls.export_name = section.export_name  # type: ignore[attr-defined]
    cls.coverage_minimums = dict(section.coverage_minimums)
    cls.coverage_fields = section.coverage_fields
    cls.canary_fields = section.canary_fields
    cls.canary_compared = dict(section.canary_compared)
    cls.links_documents = section.links_documents  # type: ignore[attr-defined]
    cls.feed_first = section.feed_first
    cls.listing_only_reason = section.listing_only_reason


class K2PublicationsSpider(K2CategorySpider):
    """Rows of ``publications`` (the field-report contract, every section, every site): every
    field of a row comes from its item page, so that a section's feed is all a night needs."""

    export_table = "publications"
    source_site: SiteProfile
    source_section: Section
    export_name: str = ""
    # A publications section's policy unless its Section says otherwise (caci_spider.sources);
    # a section spider's are its Section's (bind_section).
    feed_first = True
    coverage_fields: tuple[str, ...] = COVERAGE_FIELDS
    canary_fields: tuple[str, ...] = CANARY_FIELDS
    canary_compared: dict[str, str] = dict(CANARY_COMPARED)
    links_documents = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A section spider (caci_spider.spiders.generated) is bound to its site and section:
        the given ``source_section``, or the section of sources.py its name crawls."""
        name = cls.__dict__.get("name")
        if name and "crawled_sections" not in cls.__dict__:
            if "source_section" in cls.__dict__:
                bind_section(cls, cls.__dict__["source_site"], cls.__dict__["source_section"])
            else:
                with contextlib.suppress(KeyError):  # an aggregate (publications) is no section
                    bind_section(cls, *section_of(name))
        super().__init_subclass__(**kwargs)

    def site_profile(self, site: str) -> SiteProfile:
        """The profile of the crawled site keyed ``site`` (a test profile's too): its item pages
        are read with its boilerplate and names."""
        found = next((target.profile for target in self.targets if target.site == site), None)
        return found if found is not None else profile_of(site)

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
        page = item_page(response.text, ref, utc_now(), self.site_profile(ref.site)).extract()
        # As the pipelines build a row (normalise, then collapse the body), minus validation: a
        # field the page lost must show as missing, not as a reject.
        return collapse_body(normalise_publication(page)).as_row()

    def extract_item(
        self,
        response: TextResponse,
        ref: ItemRef,
        listing_title: str | None = None,
        **context: Any,
    ) -> Iterator[PublicationPage | DocumentLinks | scrapy.Request]:
        page = item_page(response.text, ref, utc_now(), self.site_profile(ref.site)).extract()
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
