"""Every run recorded in ``crawl_runs``, judged by the self-check (:mod:`caci_spider.selfcheck`).

A small extension rather than Spidermon: the checks are a few thresholds over what the spider
and the pipelines already keep, and a scheduler only needs an ERROR line and a non-zero exit
status (see :mod:`caci_spider.commands.crawl`); Spidermon would add a framework, its own
settings and reporting stack for that.

The run's counts are taken once, from the rows (:meth:`CaciDatabase.run_counts`), and written
alike to ``crawl_runs``, to Scrapy's stats and to the closing log line.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from caci_spider import settings as default_settings
from caci_spider.archive import FIRST_STORE_ERROR_STAT, STORE_ERRORS_STAT
from caci_spider.items import utc_now
from caci_spider.jobdir import leave_jobdir, prepare_jobdir
from caci_spider.middlewares import HOST_DOWN_STAT, PAGES_READ_STAT
from caci_spider.selfcheck import (
    ItemFetches,
    ListingWalk,
    QualityRejects,
    RefetchedFields,
    RepeatedParagraphs,
    SectionSource,
    archive_problems,
    canary_problems,
    coverage_of,
    coverage_problems,
    end_problems,
    export_problems,
    finished_normally,
    item_problems,
    listing_problems,
    quality_problems,
    repeated_problems,
    section_read_problems,
    vanished_problems,
    write_problems,
)
from caci_spider.storage import CaciDatabase
from caci_spider.store import DatabaseStore, store_of
from caci_spider.urls import is_loopback

logger = logging.getLogger(__name__)

SELF_CHECK_STAT = "caci/self_check"
# A run that stored fewer items than this also looks its edge paragraphs up in the stored rows.
_LOOKUP_BELOW_ITEMS = 20
COVERAGE_STAT = "caci/coverage"
# Per target (K2 category) of a spider: caci/coverage_by_section/<category>/<field>.
SECTION_COVERAGE_STAT = "caci/coverage_by_section"


class HeldBack(logging.Filter):
    """Holds a logger's records back instead of emitting them, to be emitted later."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        self.records.append(record)
        return False


class CrawlRunRecorder:
    """Fills the run's ``crawl_runs`` row (started by :class:`DatabaseStore`) and fails the
    self-check when the site changed.

    The verdict (the self-check's ERROR lines and the run line) is judged when the spider
    closes but logged when the engine stops, after Scrapy's stats dump and "Spider closed": the
    last lines a person or a scheduler reads are the run's verdict."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.verdict = HeldBack()
        self.engine_running = False
        settings = crawler.settings
        self.min_items = settings.getint("CACI_COVERAGE_MIN_ITEMS")
        self.min_share = settings.getfloat("CACI_LISTING_MIN_SHARE")
        self.vanished_max_share = settings.getfloat("CACI_VANISHED_MAX_SHARE")
        self.repeated_min_items = settings.getint("CACI_REPEATED_PARAGRAPH_ITEMS")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.engine_started, signal=signals.engine_started)
        crawler.signals.connect(recorder.engine_stopped, signal=signals.engine_stopped)
        return recorder

    def spider_closed(self, spider: Spider, reason: str) -> None:
        store = store_of(self.crawler)
        if store.run_id is None:
            return
        # Without a running engine (a unit test) there is nothing to wait for: log it at once.
        if self.engine_running:
            logger.addFilter(self.verdict)
        try:
            self.judge(spider, reason, store)
        except Exception:
            # The verdict must not be lost with the recorder: the exit status says failed.
            self.crawler.stats.set_value(SELF_CHECK_STAT, "failed")
            logger.exception("Self-check failed for %s: the run could not be judged", spider.name)
        finally:
            logger.removeFilter(self.verdict)

    def engine_started(self) -> None:
        self.engine_running = True

    def engine_stopped(self) -> None:
        records, self.verdict.records = self.verdict.records, []
        for record in records:
            logger.handle(record)

    def repeated_paragraphs(self, spider: Spider, store: DatabaseStore) -> RepeatedParagraphs:
        """This run's edge paragraphs, with the stored rows that hold them too when the run
        stored few items (a full crawl sees the repetition among its own items; a night with
        one new item only against the stored rows)."""
        repeated: RepeatedParagraphs = getattr(spider, "repeated_paragraphs", RepeatedParagraphs())
        if self.repeated_min_items <= 0 or repeated.items >= _LOOKUP_BELOW_ITEMS:
            return repeated
        for line, urls in list(repeated.holders.items()):
            if len(urls) < self.repeated_min_items:
                repeated.add(
                    line, store.database.publications_holding(line, self.repeated_min_items)
                )
        return repeated

    def judge_sections(
        self,
        spider: Spider,
        reason: str,
        database: CaciDatabase,
        run_id: int,
        values: dict[str, Any],
    ) -> dict[str, dict[str, Any]]:
        """Each target's (site, section) record of the run (``crawl_runs.sections``, by K2
        category): items new/updated/unchanged/rejected, its listing walk and source, its
        canaries, its coverage and the problems judged on that section alone (its listing walk
        against its own last walk; its coverage against its section's ``coverage_minimums``).
        A spider with several targets names the section in each problem."""
        targets: list[Any] = list(getattr(spider, "targets", []) or [])
        if not targets:
            return {}
        several = len(targets) > 1
        walks: dict[str, ListingWalk] = dict(getattr(spider, "listing_walks", {}))
        sources: dict[str, SectionSource] = dict(getattr(spider, "sources", {}))
        rejects: dict[str, int] = dict(getattr(spider, "rejects_by_target", {}))
        counts = self.section_counts(spider, database, run_id)
        fetches: dict[str, ItemFetches] = dict(getattr(spider, "section_fetches", {}))
        rows_at_start: dict[str, int] = dict(getattr(spider, "section_rows_at_start", {}))
        canaries: dict[str, list[Any]] = {}
        for canary in getattr(spider, "canary_results", []):
            owner = spider.target_of_url(canary.url)  # type: ignore[attr-defined]
            canaries.setdefault(owner.key if owner else "", []).append(canary)
        records: dict[str, dict[str, Any]] = {}
        for target in targets:
            key = target.key
            label = f"{target.section.name} ({target.site}): " if several else ""
            walk = walks.get(key, ListingWalk())
            previous = (
                database.previous_section_entries(spider.name, key, run_id)
                if several
                else database.previous_listing_entries(spider.name, run_id)
            )
            walk_problems = [
                label + problem
                for problem in listing_problems(
                    walk, previous, self.min_share, finished=finished_normally(reason)
                )
            ]
            prefix = f"{SECTION_COVERAGE_STAT}/{key}"
            coverage = coverage_of(values, tuple(target.policy.coverage_fields), prefix)
            sample = values.get(f"{prefix}/items", 0)
            cover_problems = [
                label + problem
                for problem in coverage_problems(
                    coverage,
                    dict(target.section.coverage_minimums),
                    sample=sample,
                    min_sample=self.min_items,
                )
            ]
            results = canaries.get(key, [])
            source = sources.get(key)
            tally = counts.get(key, {"new": 0, "updated": 0, "unchanged": 0})
            section_fetches = fetches.get(key, ItemFetches())
            read_problems = (
                [label + problem for problem in section_read_problems(
                    fetches.get(key, ItemFetches()),
                    first_crawl=rows_at_start.get(key) == 0,
                    stored=sum(tally.values()),
                )]
                if several
                else []  # one section: the run's own item and end problems say it
            )  # fmt: skip
            records[key] = {
                "site": target.site,
                "spider": target.section.spider,
                "source": source.source if source is not None else "",
                **counts.get(key, {"new": 0, "updated": 0, "unchanged": 0}),
                "checked": sum(1 for c in results if c.outcome == "ok"),
                "not_read": getattr(section_fetches, "not_read", 0),
                "rejected": rejects.get(key, 0),
                "listing_pages": walk.pages,
                "listing_entries": walk.entries,
                "canaries": {
                    "ok": sum(1 for c in results if c.outcome == "ok"),
                    "changed": sum(1 for c in results if c.failed),
                    "fetch_failed": sum(1 for c in results if c.outcome.startswith("fetch")),
                },
                "coverage_items": sample,
                "coverage": coverage,
                "coverage_problems": cover_problems,
                "walk_problems": walk_problems,
                "read_problems": read_problems,
            }
        return records

    @staticmethod
    def section_counts(
        spider: Spider, database: CaciDatabase, run_id: int
    ) -> dict[str, dict[str, int]]:
        """new/updated/unchanged rows of the run per target, by each stored row's URL (an
        unchanged row taken only from the page archive's copies is not counted: not read)."""
        table = getattr(spider, "export_table", "")
        live: set[tuple[str, str, str]] = getattr(spider, "live_rows", set())
        counts: dict[str, dict[str, int]] = {}
        for (run, name, site, key), outcome in list(database.run_outcomes.items()):
            if run != run_id or name != table:
                continue
            if outcome == "unchanged" and (name, site, key) not in live:
                continue
            row = next(database.stored_rows(table, [(site, key)]), None)
            owner = spider.target_of_url(row.get("url") or "") if row else None  # type: ignore[attr-defined]
            tally = counts.setdefault(
                owner.key if owner else "", {"new": 0, "updated": 0, "unchanged": 0}
            )
            tally[outcome] += 1
        return counts

    def hosts_down(self) -> dict[str, str]:
        """Each host that did not answer this run (caci_spider.middlewares), with its cause."""
        prefix = f"{HOST_DOWN_STAT}/"
        return {
            key.removeprefix(prefix): str(cause)
            for key, cause in sorted(self.crawler.stats.get_stats().items())
            if key.startswith(prefix)
        }

    @staticmethod
    def without_consequences(
        spider: Spider,
        reason: str,
        problems: list[str],
        down: dict[str, str],
        store: DatabaseStore,
    ) -> tuple[list[str], list[str]]:
        """(the problems, the hosts' own sentences among them): a sentence per host that did
        not answer, naming the sections it serves, first, and the problems it explains left
        out: its sections' listing, item pages and coverage and, when no host of the spider
        answered, every problem of what the run read (it read nothing)."""
        targets = list(getattr(spider, "targets", []) or [])
        host_of = {t.key: urlsplit(t.base_url).netloc.lower() for t in targets}
        silent = [t for t in targets if host_of[t.key] in down]
        labels = tuple(f"{t.section.name} ({t.site}): " for t in silent)
        sentences = []
        for host, cause in down.items():
            sections = ", ".join(
                f"{t.section.name} ({t.site})" for t in silent if host_of[t.key] == host
            )
            sentences.append(
                f"{host} did not answer ({cause}): nothing was read from it"
                + (f" for {sections}" if sections else "")
            )
        hosts = {
            urlsplit(str(spider.crawler.settings.get(name) or "")).netloc.lower()
            for name in getattr(spider, "site_settings", ())
        }
        if hosts and hosts <= set(down):
            kept = [
                *end_problems(reason, first_crawl=False, stored=0),
                *write_problems(store.write_errors, store.refetch_clashes),
            ]
        else:
            kept = [p for p in problems if not (labels and p.startswith(labels))]
        return [*sentences, *kept], sentences

    def judge(self, spider: Spider, reason: str, store: DatabaseStore) -> None:
        stats = self.crawler.stats
        database = store.database
        run_id = store.run_id
        assert run_id is not None  # spider_closed judges only a started run
        counts = database.run_counts(run_id)
        live: set[tuple[str, str, str]] = getattr(spider, "live_rows", set())
        counts["unchanged"] = sum(
            1
            for (run, name, site, key), outcome in database.run_outcomes.items()
            if run == run_id and outcome == "unchanged" and (name, site, key) in live
        )
        fetches: ItemFetches = getattr(spider, "item_fetches", ItemFetches())
        canaries = list(getattr(spider, "canary_results", []))
        counts["checked"] = sum(1 for canary in canaries if canary.outcome == "ok")
        counts["not_read"] = getattr(fetches, "not_read", 0)
        counts["read"] = stats.get_value(PAGES_READ_STAT, 0)
        rejected = stats.get_value("caci/rejected", 0)
        for outcome in ("new", "updated", "unchanged", "checked", "not_read"):
            stats.set_value(f"caci/items/{outcome}", counts[outcome])
        stats.set_value("caci/duplicates", counts["duplicate"])
        down = self.hosts_down()

        values = stats.get_stats()
        fields = tuple(getattr(spider, "coverage_fields", ()))
        coverage = coverage_of(values, fields, COVERAGE_STAT)
        walk: ListingWalk = getattr(spider, "listing_walk", ListingWalk())
        sources: dict[str, SectionSource] = dict(getattr(spider, "sources", {}))
        sections = self.judge_sections(spider, reason, database, run_id, values)
        walk_problems = [
            problem for section in sections.values() for problem in section["walk_problems"]
        ]
        if not sections:  # a spider without targets: its one walk
            walk_problems = listing_problems(
                walk,
                database.previous_listing_entries(spider.name, run_id),
                self.min_share,
                finished=finished_normally(reason),
            )
        stored = counts["new"] + counts["updated"] + counts["unchanged"]
        problems = [
            *end_problems(reason, store.first_crawl, stored),
            *walk_problems,
            *canary_problems(canaries),
            *quality_problems(getattr(spider, "quality_rejects", QualityRejects())),
            *repeated_problems(self.repeated_paragraphs(spider, store), self.repeated_min_items),
            *vanished_problems(
                getattr(spider, "refetched_fields", RefetchedFields()), self.vanished_max_share
            ),
            *item_problems(getattr(spider, "item_fetches", ItemFetches())),
            *getattr(spider, "source_problems", []),
            *write_problems(store.write_errors, store.refetch_clashes, store.path),
            *export_problems(store.export_errors),
            *archive_problems(
                values.get(STORE_ERRORS_STAT, 0), values.get(FIRST_STORE_ERROR_STAT, "")
            ),
            *(problem for section in sections.values() for problem in section["coverage_problems"]),
            *(problem for section in sections.values() for problem in section["read_problems"]),
        ]
        if not sections:  # a spider without targets: coverage over everything it extracted
            problems += coverage_problems(
                coverage,
                dict(getattr(spider, "coverage_minimums", {})),
                sample=values.get(f"{COVERAGE_STAT}/items", 0),
                min_sample=self.min_items,
            )
        said: list[str] = []  # a host that did not answer was said at once, in one line
        if down:
            problems, said = self.without_consequences(spider, reason, problems, down, store)
        for problem in problems:
            if problem not in said:
                logger.error("Self-check failed for %s: %s", spider.name, problem)
        verdict = "failed" if problems else "ok"
        stats.set_value(SELF_CHECK_STAT, verdict)
        logger.info(
            "Run %d of %s: %d read, %d new, %d updated, %d unchanged, %d checked, %d not read, "
            "%d duplicate, %d rejected%s; self-check %s",
            run_id, spider.name, counts["read"], counts["new"], counts["updated"],
            counts["unchanged"], counts["checked"], counts["not_read"], counts["duplicate"],
            rejected, upgrade_summary(values), verdict,
        )  # fmt: skip
        prefix = "downloader/response_status_count/"
        run: dict[str, Any] = {
            "finished_at": utc_now(),
            "finish_reason": reason,
            "requests": values.get("downloader/request_count", 0),
            "responses_by_status": {
                key.removeprefix(prefix): value
                for key, value in sorted(values.items())
                if key.startswith(prefix)
            },
            "items_new": counts["new"],
            "items_updated": counts["updated"],
            "items_unchanged": counts["unchanged"],
            "items_rejected": rejected,
            "items_duplicate": counts["duplicate"],
            "coverage": coverage,
            "self_check": verdict,
            "problems": problems,
            "listing_pages": sum(section["listing_pages"] for section in sections.values())
            if sections
            else walk.pages,
            "listing_entries": sum(section["listing_entries"] for section in sections.values())
            if sections
            else walk.entries,
            "canaries": [canary.as_record() for canary in canaries],
            "sources": {name: source.as_record() for name, source in sources.items()},
            "sections": {
                key: {name: value for name, value in section.items() if name != "walk_problems"}
                for key, section in sections.items()
            }
            or None,
        }
        try:
            if database.count(getattr(spider, "export_table", "")):
                database.record_sites(
                    {
                        name: self.crawler.settings[name]
                        for name in getattr(spider, "site_settings", ())
                    },
                    utc_now(),
                )
            database.finish_run(run_id, run)
            walks: dict[str, ListingWalk] = dict(getattr(spider, "listing_walks", {}))
            for key, source in sources.items():
                section_walk = walks.get(key, walk)
                section_problems = sections[key]["walk_problems"] if key in sections else []
                if (
                    finished_normally(reason)
                    and source.source in ("listing", "json")
                    and section_walk.pages
                    and not section_problems
                ):
                    # A complete walk: the next feed-first nights count their days from it.
                    database.record_listing_walk(
                        spider.name, key, run_id, utc_now(), section_walk.entries
                    )
        except sqlite3.Error as error:
            store.write_failed(f"crawl_runs row {run_id}", error)
            stats.set_value(SELF_CHECK_STAT, "failed")
            logger.error(
                "Self-check failed for %s: the run could not be recorded in %s (%s)",
                spider.name, store.path, error,
            )  # fmt: skip


def upgrade_summary(values: dict[str, Any]) -> str:
    """The run line's account of the extraction upgrade (``""``: none this run): rows read
    again from their archived pages, how many of them changed, and how many wait for their
    next fetch (no archived page)."""
    rederived = values.get("caci/upgrade/rederived", 0)
    waiting = values.get("caci/upgrade/not_archived", 0)
    if not rederived and not waiting:
        return ""
    summary = (
        f"; extraction upgrade: {rederived} re-derived, "
        f"{values.get('caci/upgrade/changed', 0)} changed"
    )
    return summary + (f", {waiting} not archived (re-derived when fetched)" if waiting else "")


class JobDirMarks:
    """Marks a ``JOBDIR`` as in use, spent or resumable (:mod:`caci_spider.jobdir`).

    Built with the crawler's extensions, after the spider and before Scrapy's scheduler and
    ``SpiderState`` open the ``JOBDIR``: a killed or spent one is cleared in time.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.jobdir: str | None = crawler.settings.get("JOBDIR")
        prepare_jobdir(self.jobdir)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobDirMarks:
        marks = cls(crawler)
        crawler.signals.connect(marks.spider_closed, signal=signals.spider_closed)
        return marks

    def spider_closed(self, spider: Spider, reason: str) -> None:
        leave_jobdir(self.jobdir, finished=reason == "finished")


class ContactWarning:
    """Warns while ``USER_AGENT`` still carries the placeholder contact on a live site."""

    # The contact URL of settings.py's USER_AGENT, which every operator must replace.
    PLACEHOLDER = default_settings.USER_AGENT.partition("(+")[2].rstrip(")")

    def __init__(self, crawler: Crawler) -> None:
        self.user_agent: str = crawler.settings.get("USER_AGENT", "")
        self.site_urls = [
            crawler.settings.get(name, "")
            for name in getattr(crawler.spidercls, "site_settings", ())
        ]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactWarning:
        warning = cls(crawler)
        crawler.signals.connect(warning.spider_opened, signal=signals.spider_opened)
        return warning

    def spider_opened(self, spider: Spider) -> None:
        live = [url for url in self.site_urls if url and not is_loopback(url)]
        if self.PLACEHOLDER in self.user_agent and live:
            spider.logger.warning(
                "USER_AGENT still carries the placeholder contact; set -s USER_AGENT to one "
                "that names you, so that the site's operators can reach you"
            )
