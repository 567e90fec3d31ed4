"""The self-check: why a run's data cannot be trusted, as plain sentences (``[]``: it can).

Every run judges the site, whatever it fetched:

* **the listing**, when the run walked it (a feed-first night that read its section's feed walks
  no listing and is judged by the feed and the canaries; a feed that fails sends the run to the
  listing, which is then judged as below; a complete walk is due every
  ``CACI_LISTING_WALK_DAYS``): no listing page could be read (site down, a moved path), the
  first page answered an error or held no entries (a redesigned listing), or the walk found far
  fewer entries than the last run that passed (``CACI_LISTING_MIN_SHARE`` of them);
* **canaries**: a few stored items are fetched again each run (unconditionally) and re-read
  through the same record-building as a crawl; one that no longer yields a field its row has, or
  reads otherwise (title, authors, published date exactly; the body by word-level similarity
  below ``CACI_CANARY_MIN_SIMILARITY``, 0.9; staff rows: title, authors, a compatible date), or
  now holds page chrome (:mod:`caci_spider.quality`), means the item pages changed;
* **quality**: every item rejected because a field holds what a good row cannot
  (:func:`caci_spider.quality.problems`: page chrome in a body, a site's name as title, a site
  account as author) fails the run, one sentence per field with the count and the first URL;
* **vanished fields**: stored items extracted again (``mode=full``, ``mode=reparse``) whose rows
  have ``issue_date`` or ``tags`` but whose new extraction lacks them keep the stored values
  (:func:`caci_spider.storage.merge_keeping_known`); when such items are at least
  ``CACI_VANISHED_MAX_SHARE`` (0.2) of the refetched items whose rows have the field, and at
  least one, the run fails, naming the field and the first URL. The share is taken over every
  refetched item, unchanged pages included (a 304 re-reads the archived copy), so that a few
  edited pages in a full run pass and a template that drops the field everywhere fails;
* **coverage** of the fields over the items extracted, judged from ``CACI_COVERAGE_MIN_ITEMS``
  items (a nightly run with one new item says nothing about coverage: the canaries speak for it);
* **the end**: a run that did not finish (stopped, banned) and a first crawl that stored nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from caci_spider.quality import FieldDifference, QualityProblem, shorten

SUCCESSFUL_FINISH = ("finished",)


def finished_normally(reason: str) -> bool:
    return reason in SUCCESSFUL_FINISH or reason.startswith("closespider_")


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
    # What the JSON listing channel did (caci_spider.spiders.jsonchannel): read, or why not.
    json: str = ""

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


def coverage_of(stats: Mapping[str, Any], fields: Sequence[str], prefix: str) -> dict[str, float]:
    total = stats.get(f"{prefix}/items", 0)
    if not total:
        return {}
    return {name: round(stats.get(f"{prefix}/{name}", 0) / total, 4) for name in fields}


def coverage_problems(
    coverage: Mapping[str, float], minimums: Mapping[str, float], sample: int, min_sample: int
) -> list[str]:
    if sample < min_sample:
        return []
    return [
        f"coverage of {name} is {coverage[name]:.1%}, below the minimum {minimum:.0%}"
        for name, minimum in minimums.items()
        if name in coverage and coverage[name] < minimum
    ]


def listing_problems(
    walk: ListingWalk,
    previous: tuple[int, int] | None,
    min_share: float,
    finished: bool,
) -> list[str]:
    """``previous``: (run id, listing entries) of the last run that passed its self-check."""
    if not walk.first_url:
        return []  # the run ended before its walk began (see how it ended)
    if walk.pages == 0:
        if walk.first_failure:
            why = walk.first_failure
        elif walk.first_status is not None:
            why = f"answered HTTP {walk.first_status}"
        else:
            why = (
                "got no answer the crawl could use (a redirect to a page already fetched or "
                "off the configured hosts, or the run stopped first)"
            )
        return [
            f"no listing page could be read: the first one ({walk.first_url}) {why}; "
            "check the base URL setting and whether the site is up"
        ]
    if walk.first_entries == 0:
        return [
            f"the first listing page ({walk.first_url}) holds no entries: the listing's layout "
            "changed or the section moved"
        ]
    if finished and previous is not None and walk.entries < min_share * previous[1]:
        return [
            f"the listing holds {walk.entries} entries, below {min_share:.0%} of the "
            f"{previous[1]} of run {previous[0]} (the last that passed its self-check)"
        ]
    return []


def item_problems(fetches: ItemFetches) -> list[str]:
    """Every item page the run asked for failed: the item pages moved, fail, or are
    forbidden (robots.txt), even though the listing reads well."""
    if not fetches.requested or fetches.read:
        return []
    reasons = ", ".join(f"{reason} ×{count}" for reason, count in sorted(fetches.failures.items()))
    return [
        f"none of the {fetches.requested} item pages asked for could be read "
        f"({reasons or 'no answer'})"
    ]


def section_read_problems(fetches: ItemFetches, first_crawl: bool, stored: int) -> list[str]:
    """One section of a run of several (``publications``), judged as a run of its own spider
    is: every item page it asked for failed (its site down, forbidding them, robots.txt), or
    it stored nothing on its first crawl (its template unreadable). The other sections, read
    well, would otherwise carry the run."""
    problems = item_problems(fetches)
    if first_crawl and stored == 0 and not problems:
        problems.append("stored nothing on its first crawl")
    return problems


def canary_problems(results: Sequence[CanaryResult]) -> list[str]:
    problems = []
    for result in results:
        if not result.failed:
            continue
        findings = []
        if result.missing:
            findings.append(f"no longer yields {', '.join(result.missing)}")
        if result.differing:
            findings.append("reads differently: " + "; ".join(str(d) for d in result.differing))
        problems.append(
            f"canary {result.key} ({result.url}) {' and '.join(findings) or 'changed'}: "
            "the item pages' layout changed; its stored row was kept"
        )
    return problems


def quality_problems(rejects: QualityRejects) -> list[str]:
    """One sentence per field with items rejected for a quality problem: the count, the first
    item's problem and URL."""
    problems = []
    for name, count in rejects.counts.items():
        url, problem = rejects.first[name]
        items = "1 item was" if count == 1 else f"{count} items were"
        their = "its" if count == 1 else "their"
        problems.append(
            f"{items} rejected for the quality of {their} {name} (first: {url}: {problem}): the "
            "pages' template changed or extraction picks up page chrome; no stored row was "
            "replaced"
        )
    return problems


def repeated_problems(repeated: RepeatedParagraphs, min_items: int) -> list[str]:
    """Paragraphs at the edge of at least ``min_items`` items' bodies (0: never judged)."""
    if min_items <= 0:
        return []
    return [
        f'{len(urls)} items\' bodies begin or end with the same paragraph "{shorten(line)}" '
        f"(first: {', '.join(urls[:2])}): page chrome the extraction does not know; the "
        "template changed (rebuild the rows with -a mode=reparse once extraction reads it)"
        for line, urls in repeated.repeated(min_items)
    ]


def vanished_problems(refetched: RefetchedFields, max_share: float) -> list[str]:
    """Fields that at least ``max_share`` of the refetched items whose rows have them (and at
    least one) no longer yield."""
    problems = []
    for name, had in refetched.had.items():
        lost = refetched.lost.get(name, 0)
        if lost >= 1 and lost / had >= max_share - 1e-9:
            problems.append(
                f"{lost} of {had} refetched items whose rows have {name} no longer yield it "
                f"(first: {refetched.first_lost[name]}), at least {max_share:.0%}: the item "
                "pages' layout changed; the stored values were kept"
            )
    return problems


def write_problems(
    errors: Sequence[str], clashes: Sequence[str] = (), database: object = "the database"
) -> list[str]:
    problems = []
    if errors:
        problems.append(f"{len(errors)} writes to {database} failed (first: {errors[0]})")
    if clashes:
        problems.append(
            f"{len(clashes)} refetched items now read the same body as another stored item "
            f"(first: {clashes[0]}): the item pages changed; their stored rows were kept"
        )
    return problems


def export_problems(failed: Sequence[str]) -> list[str]:
    """The exports the run could not write (``path (error)`` each), in one sentence."""
    if not failed:
        return []
    if len(failed) == 1:
        return [
            f"could not write the export {failed[0]}: its previous file was kept and its rows "
            "are in the database; free space or clear the path, and the next run writes it"
        ]
    return [
        f"could not write {len(failed)} exports: {'; '.join(failed)}: their previous files were "
        "kept and their rows are in the database; free space or clear the paths, and the next "
        "run writes them"
    ]


def archive_problems(failed: int, first: str) -> list[str]:
    """Pages the page archive could not store (``first``: the archive, page and error)."""
    if not failed:
        return []
    return [
        f"{failed} {'page' if failed == 1 else 'pages'} could not be stored in the page archive "
        f"(first: {first}); the pages were still read and their rows stored"
    ]


def end_problems(reason: str, first_crawl: bool, stored: int) -> list[str]:
    problems = []
    if reason == "banned":
        problems.append("the site refused the crawl (banned)")
    elif not finished_normally(reason):
        problems.append(f"the run did not finish ({reason})")
    if first_crawl and stored == 0:
        problems.append("stored nothing on a first crawl")
    return problems
