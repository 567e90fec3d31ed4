"""Item pipelines, in order: normalise → validate → de-duplicate → store.

Each stage is thin: the rules live in :mod:`caci_spider.records`, :mod:`caci_spider.quality` and
:mod:`caci_spider.storage`. Anything that cannot be stored ends in the ``rejects`` table with its
URL and reason, is counted in the crawl stats (``caci/rejected/…``) and logged once as a WARNING.
An item with a quality problem (page chrome in its body, a site's name as its title, a site
account as its author) is such a reject, and fails the run's self-check
(:func:`caci_spider.selfcheck.quality_problems`): a stored row is never replaced by a worse one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from caci_spider import citations, documents
from caci_spider.items import (
    DocumentLinks,
    NormalisedReport,
    Publication,
    PublicationPage,
    Reject,
    StaffPublication,
    is_empty,
    utc_now,
)
from caci_spider.ledger import RunLedger
from caci_spider.pages.sections import rules_for
from caci_spider.paths import export_dir
from caci_spider.quality import WATCHED_ON_REFETCH, edge_lines, problems, vanished_fields
from caci_spider.records import (
    collapse_body,
    normalise_publication,
    normalise_staff_publication,
    validation_problem,
)
from caci_spider.sources import Section, SiteProfile
from caci_spider.storage import (
    EXTRACTION_UPGRADE,
    PAGE_CHANGED,
    PUBLICATIONS,
    STAFF,
    STAFF_SITE,
    export_publications,
    export_table,
)
from caci_spider.store import DatabaseStore, ledger_of, store_of
from caci_spider.urls import ItemRef

logger = logging.getLogger(__name__)


class _CrawlerPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # Extensions are built before the engine and its pipelines.
        self.store: DatabaseStore = store_of(crawler)

    @property
    def ledger(self) -> RunLedger:
        """The run's ledger (caci_spider.ledger): what the pipelines note for the self-check."""
        return ledger_of(self.crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def spider_name(self) -> str:
        return self.crawler.spider.name if self.crawler.spider else ""

    def clash(self, report: Publication, other: int | None) -> DropItem:
        """A refetched stored item whose body is now another stored item's: its row is kept,
        the run's self-check fails (many items reading alike is a change of the pages)."""
        self.store.refetch_clashes.append(report.url)
        which = f"item {other}" if other is not None else "a higher stored item"
        return self.reject(
            report.url,
            f"refetched body equals {which}'s: stored row kept",
            report.fetched_at,
            site=report.site,
        )

    def reject(
        self,
        url: str,
        reason: str,
        fetched_at: str,
        raw: str | None = None,
        status: int | None = None,
        site: str | None = None,
    ) -> DropItem:
        """Record a reject (table, stats, one WARNING) and return the DropItem to raise;
        ``site``: the site of the publication the page is, if it is one."""
        self.store.record_reject(
            Reject(self.spider_name, url, reason, fetched_at, raw, status, site)
        )
        return DropItem(f"rejected {url}: {reason}", log_level="DEBUG")


class NormalisePipeline(_CrawlerPipeline):
    """Raw page fields → a contract row with clean text, parsed dates and names."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PublicationPage):
            normalised = NormalisedReport(item, normalise_publication(item))
            self.count_coverage(normalised.report)
            return normalised
        if isinstance(item, StaffPublication):
            publication = normalise_staff_publication(item)
            self.count_coverage(publication)
            return publication
        return item

    def count_coverage(self, record: Any) -> None:
        """Field coverage of everything extracted this run (rejects included), for the
        self-check: a redesign shows up as falling coverage before it shows up as data loss."""
        ledger = self.ledger
        fields = ledger.plan.coverage_fields
        stats = self.crawler.stats
        stats.inc_value("caci/coverage/items")
        for name in fields:
            if not is_empty(getattr(record, name, None)):
                stats.inc_value(f"caci/coverage/{name}")
        # Per section too (caci_spider.extensions judges each on its own minimums).
        target = ledger.target_of_url(getattr(record, "url", None) or "")
        if target is not None:
            prefix = f"caci/coverage_by_section/{target.key}"
            stats.inc_value(f"{prefix}/items")
            for name in target.policy.coverage_fields:
                if not is_empty(getattr(record, name, None)):
                    stats.inc_value(f"{prefix}/{name}")


class ValidatePipeline(_CrawlerPipeline):
    """Required fields present, the published date parseable and nothing a good row cannot
    contain (:func:`caci_spider.quality.problems`), else ``rejects``."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Reject):
            self.store.record_reject(item)
            raise DropItem(f"rejected {item.url}: {item.reason}", log_level="DEBUG")
        if isinstance(item, DocumentLinks):
            return item  # recorded with its publication's row (StorePipeline)
        if isinstance(item, NormalisedReport):
            page, report = item.page, item.report
            reason, raw = validation_problem(page, report)
            if reason:
                raise self.reject(page.url, reason, page.fetched_at, raw, site=page.site)
            self.check_quality(report, page.url, page.fetched_at, site=report.site)
            return report
        if isinstance(item, StaffPublication):
            if not item.title:
                raise self.reject(
                    item.sources[0] if item.sources else "",
                    "entry without a title",
                    item.fetched_at,
                    item.raw or None,
                )
            # The publication's own page when it was read, else the first page it was seen on.
            url = item.url if item.url in item.sources else item.sources[0] if item.sources else ""
            self.check_quality(item, url or "", item.fetched_at)
            return item
        # A spider bug must not pass silently as an item nobody stores.
        raise DropItem(f"unexpected item type {type(item).__name__}", log_level="ERROR")

    def check_quality(self, item: Any, url: str, fetched_at: str, site: str | None = None) -> None:
        """Reject an item with a quality problem: the first problem is the reason, all of them
        the raw text; the run's self-check counts it per field."""
        found = problems(item)
        if not found:
            return
        self.ledger.quality_rejects.note(url, found)
        for name in dict.fromkeys(problem.field for problem in found):
            self.crawler.stats.inc_value(f"caci/quality/{name}")
        raw = "; ".join(str(problem) for problem in found)
        raise self.reject(url, found[0].reason, fetched_at, raw, site=site)


class DeduplicatePipeline(_CrawlerPipeline):
    """Repeated paragraphs inside a text, then one publication per body across ids.

    Staff publications pass through: their observations are matched (normalised title +
    compatible date) and merged inside the store's transaction, where the stored row is read.
    """

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, Publication):
            return item
        report = collapse_body(item)
        try:
            return self._deduplicate(report)
        except sqlite3.Error as error:
            self.store.write_failed(report.url, error)
            raise DropItem(f"not stored: {error}", log_level="DEBUG") from error

    def _deduplicate(self, report: Publication) -> Publication:
        database = self.store.database
        canonical = database.duplicate_of(report)
        if canonical is not None and (
            database.publication(report.site, report.id) is not None
            or database.body_changed(report.site, canonical, self.store.run_id)
        ):
            # A stored item refetched with a lower stored item's body, or a new item whose body
            # a lower stored item changed to in this run: see store_report.
            raise self.clash(report, canonical)
        if canonical is not None:
            database.record_duplicate(report, canonical, self.store.run_id)
            logger.info(
                "Item %d of %s duplicates item %d: recorded in duplicates",
                report.id, report.site, canonical,
            )  # fmt: skip
            raise DropItem(f"item {report.id} duplicates item {canonical}", log_level="DEBUG")
        return report


class StorePipeline(_CrawlerPipeline):
    """Upsert into ``publications``; at close, export the JSON Lines file atomically."""

    def process_item(self, item: Any) -> Any:
        try:
            return self._store(item)
        except sqlite3.Error as error:
            self.store.write_failed(getattr(item, "url", None) or "", error)
            raise DropItem(f"not stored: {error}", log_level="DEBUG") from error

    def _store(self, item: Any) -> Any:
        database = self.store.database
        run_id = self.store.run_id
        if isinstance(item, Publication):
            stored = database.publication(item.site, item.id)
            # A row read again from its archived page by newer page rules (the extraction
            # upgrade: caci_spider.channels.upgrade), once.
            upgrading = self.ledger.upgrading
            upgrade = (item.site, item.id) in upgrading
            reason = EXTRACTION_UPGRADE if upgrade else PAGE_CHANGED
            outcome = database.store_report(item, self.spider_name, run_id, reason)
            if upgrade and outcome in ("updated", "unchanged"):
                upgrading.discard((item.site, item.id))
                self.crawler.stats.inc_value("caci/upgrade/rederived")
                if outcome == "updated":
                    self.crawler.stats.inc_value("caci/upgrade/changed")
            if stored is not None and outcome in ("updated", "unchanged"):
                self.note_refetch(item, stored)
            if outcome == "clash":
                raise self.clash(item, None)
            if outcome == "kept":
                raise self.reject(
                    item.url,
                    "refetch is a truncated copy: stored row kept",
                    item.fetched_at,
                    site=item.site,
                )
            if item.pdf_url:
                # Its PDF (a feature article's, a paper's): linked as a staff row's download
                # links are; a paper's PDF is the publication itself.
                paper = rules_for(ItemRef(item.id, item.url, item.site)).paper
                database.link_document(
                    item.pdf_url, PUBLICATIONS, item.site, str(item.id),
                    documents.ROLE_PAPER if paper else documents.ROLE_DOWNLOAD, item.fetched_at,
                )  # fmt: skip
            self.ledger.repeated_paragraphs.note(item.url, edge_lines(item.body))
        elif isinstance(item, StaffPublication):
            outcome = database.store_staff(item, run_id)
            self.link_documents(item)
        elif isinstance(item, DocumentLinks):
            # Only for a stored row: a rejected or duplicate page links nothing.
            if database.publication(item.site, item.id) is not None:
                for url, role in item.links:
                    database.link_document(
                        url, PUBLICATIONS, item.site, str(item.id), role, item.fetched_at
                    )
            return item
        else:
            return item
        # A row counts as unchanged only when a page it was taken from was read live, not
        # served from the page archive because the site failed.
        sources = [item.url] if isinstance(item, Publication) else list(item.sources)
        site = item.site if isinstance(item, Publication) else STAFF_SITE
        table = PUBLICATIONS if isinstance(item, Publication) else STAFF
        self.ledger.note_stored(table, site, str(item.id), sources)
        # Counted per row, once, by the run recorder (caci_spider.extensions).
        logger.debug("%s %s: %s", type(item).__name__, getattr(item, "id", ""), outcome)
        return item

    def link_documents(self, item: StaffPublication) -> None:
        """The documents a stored staff row links (caci_spider.documents): its own url when it
        is a PDF, and the download links of its item page. The row itself gains nothing."""
        links = [(url, documents.ROLE_DOWNLOAD) for url in item.documents]
        if documents.is_pdf_url(item.url):
            links.insert(0, (item.url or "", documents.ROLE_URL))
        for url, role in links:
            self.store.database.link_document(
                url, STAFF, STAFF_SITE, item.id, role, item.fetched_at
            )

    def note_refetch(self, report: Publication, stored: dict[str, Any]) -> None:
        """A stored item extracted again: the watched fields its row has and the new extraction
        lacks (their stored values stay: storage.merge_keeping_known), for the self-check."""
        tally = self.ledger.refetched_fields
        had = [name for name in WATCHED_ON_REFETCH if not is_empty(stored.get(name))]
        lost = vanished_fields(stored, report, had)
        tally.note(report.url, had, lost)
        if lost:
            logger.info(
                "Item %d no longer yields %s: its stored values were kept", report.id,
                ", ".join(lost),
            )  # fmt: skip

    def close_spider(self) -> None:
        """Write the spider's exports: for a spider of publications, each crawled section's
        file (that site's rows of that category, by id) and the aggregate when it has one
        (every row, by site then id); for any other, its table's file.

        Each file is written whole or not at all (storage.write_jsonl_atomic); one that cannot
        be written keeps its previous file, fails the run's self-check (DatabaseStore
        .export_failed) and does not keep the others from being written."""
        plan = self.ledger.plan
        # One work, one identity: staff rows that are papers, linked after either was stored.
        # A refused write fails the run like any other and keeps the exports from being skipped.
        try:
            linked = self.store.database.link_staff_papers(utc_now())
            self.crawler.stats.set_value("caci/staff_papers", linked)
        except sqlite3.Error as error:
            self.store.write_failed("the staff_papers links", error)
        directory = export_dir(self.crawler.settings)
        if plan.export_table:
            self.export_citations(directory)
        if plan.crawled_sections and plan.export_table == PUBLICATIONS:
            self.export_publications(plan.crawled_sections, plan.aggregate_export)
        else:
            export_name = plan.export_name
            if not export_name:
                return
            table = plan.export_table
            count = self.export(
                directory / export_name, partial(export_table, self.store.database, table)
            )
            if count is not None:
                self.crawler.stats.set_value("caci/exported", count)
        if plan.links_documents:
            self.export(
                directory / documents.EXPORT_NAME,
                partial(export_table, self.store.database, documents.DOCUMENTS),
                "documents",
            )

    def export(self, path: Path, write: Callable[[Path], int], what: str = "rows") -> int | None:
        """``write(path)``, logged; the row count, or None when the file could not be written
        (recorded: its previous file stays and the run fails)."""
        try:
            count = write(path)
        except (OSError, sqlite3.Error) as error:
            self.store.export_failed(path, error)
            return None
        logger.info("Exported %d %s to %s", count, what, path)
        return count

    def export_citations(self, directory: Path) -> None:
        """``citations.json``, ``.ris`` and ``.bib`` (:mod:`caci_spider.citations`): every
        publication and staff publication of the database, whichever spider ran; each file
        written, or failed, like the other exports."""
        try:
            items = citations.records(self.store.database.db.conn)
        except sqlite3.Error as error:
            self.store.export_failed(directory / citations.EXPORT_NAMES["csljson"], error)
            return
        # One file's text at a time (made inside its write), not all three held at once.
        for name, text_of in citations.EXPORT_TEXTS.items():
            write = partial(citations.write_items, text_of=text_of, items=items)
            self.export(directory / name, write, "citations")

    def export_publications(
        self, sections: tuple[tuple[SiteProfile, Section], ...], aggregate: str | None
    ) -> None:
        """Each ``(site, section)``'s export, then ``aggregate`` (every publication) if set;
        ``caci/exported`` counts the rows of the sections' files written."""
        directory = export_dir(self.crawler.settings)
        database = self.store.database
        exported = 0
        for profile, section in sections:
            count = self.export(
                directory / section.export_name,
                partial(export_publications, database, site=profile.key, category=section.category),
            )
            if count is not None:
                self.crawler.stats.set_value(f"caci/exported/{section.spider}", count)
                exported += count
        self.crawler.stats.set_value("caci/exported", exported)
        if aggregate:
            self.export(directory / aggregate, partial(export_publications, database))
