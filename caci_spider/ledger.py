"""The run ledger: everything one run learns, in one typed place (:class:`RunLedger`).

Owned by the store extension (:class:`caci_spider.store.DatabaseStore`), which owns the run
itself (its ``crawl_runs`` row, its rejects), and reached with
:func:`caci_spider.store.ledger_of`: the spider and its channels note what they fetch and
decide, the pipelines and the store what they keep and refuse, and the run recorder judges it
(:mod:`caci_spider.selfcheck`). Nothing of the run rides on the spider.

What a stopped run must not lose (its requested items, listing walks, feed decisions, tallies)
is put into Scrapy's ``spider.state`` in one place, :meth:`RunLedger.keep_in`, under the keys
:data:`RESUMED` names: Scrapy saves it in the ``JOBDIR`` and a resumed run reads it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import Spider

from caci_spider.items import Reject
from caci_spider.quality import FieldDifference, QualityProblem
from caci_spider.targets import Target, site_of

if TYPE_CHECKING:
    from caci_spider.sources import Section, SiteProfile


@dataclass
class ListingWalk:
    """What one run's walk of a section's listing saw (kept in the job state, so that a
    resumed run goes on counting where the stopped one left off)."""

    first_url: str = ""
    first_status: int | None = None  # HTTP status of the first listing page, if it answered
    first_failure: str = ""  # why the first listing page could not be read
    first_entries: int | None = None
    pages: int = 0  # listing pages read live (not served from the archive)
    keys: set[str] = field(default_factory=set)  # distinct entries on them

    @property
    def entries(self) -> int:
        return len(self.keys)


@dataclass
class SectionSource:
    """How one run learnt a section's items: from its feed or by walking its listing, and why
    (``crawl_runs.sources``; kept in the job state, as :class:`ListingWalk`)."""

    section: str
    source: str = ""  # "feed" or "listing"
    reason: str = ""
    feed_url: str = ""
    feed_items: int | None = None  # items the feed listed (when it could be read)
    feed_new: int | None = None  # of them, ids not stored yet
    # What the JSON listing channel did (caci_spider.channels.jsonlisting): read, or why not.
    json: str = ""

    def use_listing(self, reason: str) -> None:
        """The section's listing is walked, for ``reason``."""
        self.source, self.reason = "listing", reason

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"source": self.source, "reason": self.reason}
        if self.json:
            record["json"] = self.json
        if self.feed_url:
            record.update(feed=self.feed_url, feed_items=self.feed_items, feed_new=self.feed_new)
        return record


@dataclass
class ItemFetches:
    """Item pages (canaries included) the run asked for, and how many it could read."""

    requested: int = 0
    read: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # reason → count
    # Of the failures, pages the site gave nothing for: no connection, dropped because their
    # host did not answer, forbidden by robots.txt, or served from the archive instead.
    not_read: int = 0

    def failed(self, reason: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1

    def unreadable(self, reason: str) -> None:
        """A page counted as read that held nothing to read (its text rendered by script)."""
        self.read -= 1
        self.failed(reason)


@dataclass
class CanaryResult:
    key: str
    url: str
    outcome: str  # "ok", "changed", or "fetch failed: …"
    missing: list[str] = field(default_factory=list)  # fields its row has, its page no longer
    # Fields its page gives otherwise than its row (stored and new values, shortened).
    differing: list[FieldDifference] = field(default_factory=list)
    # The site of its row (caci_spider.sources): an id alone names no item, two sites can share
    # it (12997 is an item of both Analysts).
    site: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == "changed"

    def as_record(self) -> dict[str, Any]:
        """As ``crawl_runs.canaries`` keeps it."""
        return {
            "site": self.site,
            "key": self.key,
            "url": self.url,
            "outcome": self.outcome,
            "missing": self.missing,
            "differing": [difference.as_dict() for difference in self.differing],
        }


@dataclass
class QualityRejects:
    """Items the run rejected for a quality problem (:mod:`caci_spider.quality`), per field: how
    many, and the first one's URL and problem (kept in the job state, as :class:`ListingWalk`)."""

    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, tuple[str, str]] = field(default_factory=dict)  # field → (URL, problem)

    def note(self, url: str, problems: Iterable[QualityProblem]) -> None:
        """One rejected item: each field with a problem counts once (its first problem)."""
        first_of: dict[str, QualityProblem] = {}
        for problem in problems:
            first_of.setdefault(problem.field, problem)
        for name, problem in first_of.items():
            self.counts[name] = self.counts.get(name, 0) + 1
            self.first.setdefault(name, (url, str(problem)))


@dataclass
class RepeatedParagraphs:
    """Short paragraphs at the edges of stored items' bodies (:func:`caci_spider.quality.
    edge_lines`) and the items that hold them: this run's, and stored rows found to hold them
    (job state). The same paragraph at the edge of many items is page chrome."""

    holders: dict[str, list[str]] = field(default_factory=dict)  # paragraph → item URLs
    items: int = 0  # items noted

    def note(self, url: str, lines: Iterable[str]) -> None:
        self.items += 1
        for line in lines:
            self.add(line, [url])

    def add(self, line: str, urls: Iterable[str]) -> None:
        known = self.holders.setdefault(line, [])
        known.extend(url for url in urls if url not in known)

    def repeated(self, min_items: int) -> list[tuple[str, list[str]]]:
        return [(line, urls) for line, urls in self.holders.items() if len(urls) >= min_items]


@dataclass
class RefetchedFields:
    """Stored items the run extracted again, per watched field
    (:data:`caci_spider.quality.WATCHED_ON_REFETCH`): how many had the field in their stored row,
    how many of those the new extraction lacked it in, and the first URL that did (job state)."""

    had: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    first_lost: dict[str, str] = field(default_factory=dict)

    def note(self, url: str, had: Iterable[str], lost: Iterable[str]) -> None:
        for name in had:
            self.had[name] = self.had.get(name, 0) + 1
        for name in lost:
            self.lost[name] = self.lost.get(name, 0) + 1
            self.first_lost.setdefault(name, url)


@dataclass(frozen=True)
class RunPlan:
    """What the spider declares about its run (class facts and ``-a`` arguments), read once
    when the run opens (:meth:`of`): the table it fills, its exports, its sections and their
    targets, the fields whose coverage is judged."""

    name: str = ""
    mode: str = ""
    export_table: str = ""
    export_name: str | None = None
    aggregate_export: str | None = None
    links_documents: bool = False
    coverage_fields: tuple[str, ...] = ()
    coverage_minimums: dict[str, float] = field(default_factory=dict)
    site_settings: tuple[str, ...] = ()
    crawled_sections: tuple[tuple[SiteProfile, Section], ...] = ()
    targets: tuple[Target, ...] = ()

    @classmethod
    def of(cls, spider: Spider) -> RunPlan:
        """The plan ``spider`` declares; a spider of no table (Scrapy's default) declares none.
        The one place a spider's declared facts are read."""
        facts = {name: getattr(spider, name) for name in _FACTS if hasattr(spider, name)}
        return cls(
            name=spider.name or "",
            mode=str(facts.get("mode", "")),
            export_table=str(facts.get("export_table", "")),
            export_name=facts.get("export_name") or None,
            aggregate_export=facts.get("aggregate_export"),
            links_documents=bool(facts.get("links_documents", False)),
            coverage_fields=tuple(facts.get("coverage_fields", ())),
            coverage_minimums=dict(facts.get("coverage_minimums", {})),
            site_settings=tuple(facts.get("site_settings", ())),
            crawled_sections=tuple(facts.get("crawled_sections", ())),
            targets=tuple(facts.get("targets", ())),
        )

    def site_of(self, url: str) -> str | None:
        """The key of the crawled site ``url`` is on, if any (caci_spider.targets)."""
        return site_of(url, list(self.targets))


_FACTS = (
    "mode",
    "export_table",
    "export_name",
    "aggregate_export",
    "links_documents",
    "coverage_fields",
    "coverage_minimums",
    "site_settings",
    "crawled_sections",
    "targets",
)

# The ledger's fields a stopped run leaves in ``spider.state`` (state key → field).
RESUMED = {
    "requested_keys": "requested_keys",
    "listing_walks": "listing_walks",
    "section_sources": "sources",
    "item_fetches": "item_fetches",
    "section_fetches": "section_fetches",
    "section_rows_at_start": "section_rows_at_start",
    "quality_rejects": "quality_rejects",
    "repeated_paragraphs": "repeated_paragraphs",
    "refetched_fields": "refetched_fields",
}


@dataclass
class RunLedger:
    """Everything a run learns, by whoever learns it (see the module's docstring)."""

    plan: RunPlan = field(default_factory=RunPlan)
    planned: bool = False
    # -- resumed with the run (RESUMED) ----------------------------------------------------------
    # (site, id) of the items requested in this run (a resumed run skips them).
    requested_keys: set[tuple[str, int]] = field(default_factory=set)
    # Each target's listing walk and source (feed, listing or JSON, and why), by target key.
    listing_walks: dict[str, ListingWalk] = field(default_factory=dict)
    sources: dict[str, SectionSource] = field(default_factory=dict)
    # Item pages the run asked for and read, and each target's (a run of several sections
    # judges each on its own: caci_spider.selfcheck.item_problems).
    item_fetches: ItemFetches = field(default_factory=ItemFetches)
    section_fetches: dict[str, ItemFetches] = field(default_factory=dict)
    # Each target's stored rows when the run began: a section with none is on its first crawl.
    section_rows_at_start: dict[str, int] = field(default_factory=dict)
    # Noted by the pipelines: quality rejects, edge paragraphs of stored bodies, stored items
    # extracted again and the watched fields they lost.
    quality_rejects: QualityRejects = field(default_factory=QualityRejects)
    repeated_paragraphs: RepeatedParagraphs = field(default_factory=RepeatedParagraphs)
    refetched_fields: RefetchedFields = field(default_factory=RefetchedFields)
    # -- this process only -----------------------------------------------------------------------
    canary_results: list[CanaryResult] = field(default_factory=list)
    # Rejects recorded this run, per target key (crawl_runs.sections).
    rejects_by_target: dict[str, int] = field(default_factory=dict)
    # (site, item id) → URL requested, no answer yet.
    unanswered: dict[tuple[str, int], str] = field(default_factory=dict)
    # Pages this run got from the page archive because the site failed: what was taken from
    # them was not read live (the counts say "not read", not "unchanged").
    archived_pages: set[str] = field(default_factory=set)
    # Pages the site served this run: their earlier rejects are resolved at close unless this
    # run rejected them again.
    pages_read_live: set[str] = field(default_factory=set)
    # (table, site, key) of the rows stored from a page read live (the store pipeline).
    live_rows: set[tuple[str, str, str]] = field(default_factory=set)
    # (site, id) of the rows the extraction upgrade reads again from their archived pages.
    upgrading: set[tuple[str, int]] = field(default_factory=set)
    # Sources other than the listing that failed (a home page's sidebar, a JSON cross-check).
    source_problems: list[str] = field(default_factory=list)

    def adopt(self, plan: RunPlan) -> None:
        self.plan, self.planned = plan, True
        self._cover_targets()

    def keep_in(self, state: dict[str, Any]) -> None:
        """Share the resumed fields with Scrapy's ``spider.state`` (saved in the ``JOBDIR``):
        what a stopped run left there is taken back, the rest is put there."""
        for key, name in RESUMED.items():
            if key in state:
                setattr(self, name, state[key])
            else:
                state[key] = getattr(self, name)
        self._cover_targets()

    def _cover_targets(self) -> None:
        for target in self.plan.targets:
            self.listing_walks.setdefault(target.key, ListingWalk())
            self.sources.setdefault(target.key, SectionSource(target.category))

    # -- targets -------------------------------------------------------------------------------
    @property
    def first_key(self) -> str:
        """The first target's key (the only one of a section spider); ``""``: no targets."""
        return self.plan.targets[0].key if self.plan.targets else ""

    def target_of_url(self, url: str) -> Target | None:
        """The target whose site and section ``url`` is a page of (``None``: none of them; a
        spider with one target owns every URL it meets)."""
        targets = self.plan.targets
        if len(targets) == 1:
            return targets[0]
        return next((target for target in targets if target.owns(url)), None)

    def key_of_url(self, url: str) -> str:
        target = self.target_of_url(url)
        return target.key if target is not None else ""

    def listing_walk(self, key: str | None = None) -> ListingWalk:
        """A target's listing walk (``None``: the first target's)."""
        return self.listing_walks.setdefault(self.first_key if key is None else key, ListingWalk())

    def source(self, key: str | None = None) -> SectionSource:
        """A target's source (``None``: the first target's)."""
        key = self.first_key if key is None else key
        return self.sources.setdefault(key, SectionSource(key))

    def fetch_tallies(self, key: str | None) -> tuple[ItemFetches, ItemFetches]:
        """The run's tally of item pages and its target's (``key``; ``None``: the first)."""
        key = self.first_key if key is None else key
        return (self.item_fetches, self.section_fetches.setdefault(key, ItemFetches()))

    # -- notes ---------------------------------------------------------------------------------
    def note_reject(self, reject: Reject) -> None:
        """A reject recorded by the store: counted per target."""
        key = self.key_of_url(reject.url)
        self.rejects_by_target[key] = self.rejects_by_target.get(key, 0) + 1

    def note_page(self, urls: Iterable[str], fallback: str, status: int) -> None:
        """A page answered: from the archive (``fallback``: why), or read live."""
        if fallback:
            self.archived_pages.update(urls)
        elif status == 200:
            self.pages_read_live.update(urls)

    def read_live(self, urls: Iterable[str]) -> bool:
        """Whether any of the pages ``urls`` (an item's sources) was read live this run."""
        return any(url in self.pages_read_live or url not in self.archived_pages for url in urls)

    def note_stored(self, table: str, site: str, key: str, sources: Iterable[str]) -> None:
        """A row stored: it counts as unchanged only when a page it was taken from was read
        live, not served from the page archive because the site failed."""
        if self.read_live(sources):
            self.live_rows.add((table, site, key))

    def canaries_by_target(self) -> dict[str, list[CanaryResult]]:
        by_target: dict[str, list[CanaryResult]] = {}
        for canary in self.canary_results:
            by_target.setdefault(self.key_of_url(canary.url), []).append(canary)
        return by_target
