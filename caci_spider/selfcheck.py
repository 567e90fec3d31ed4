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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from caci_spider.ledger import (
    CanaryResult,
    ItemFetches,
    ListingWalk,
    QualityRejects,
    RefetchedFields,
    RepeatedParagraphs,
    RunLedger,
    SectionSource,
)
from caci_spider.quality import shorten

__all__ = [  # the ledger's records, named here as the rules read them
    "CanaryResult",
    "ItemFetches",
    "ListingWalk",
    "QualityRejects",
    "RefetchedFields",
    "RepeatedParagraphs",
    "SectionSource",
]

SUCCESSFUL_FINISH = ("finished",)


def finished_normally(reason: str) -> bool:
    return reason in SUCCESSFUL_FINISH or reason.startswith("closespider_")


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


# -- the rules: each reads the run's review (its ledger and what the recorder looked up) --------
@dataclass(frozen=True)
class Thresholds:
    """The self-check's settings (``CACI_COVERAGE_MIN_ITEMS``, ``CACI_LISTING_MIN_SHARE``,
    ``CACI_VANISHED_MAX_SHARE``, ``CACI_REPEATED_PARAGRAPH_ITEMS``)."""

    min_items: int = 10
    min_share: float = 0.5
    vanished_max_share: float = 0.2
    repeated_min_items: int = 0


@dataclass
class SectionReview:
    """One crawled section (a target) of the run, as its rules read it."""

    label: str = ""  # "<section> (<site>): " when the run crawls several sections
    several: bool = False
    walk: ListingWalk = field(default_factory=ListingWalk)
    previous: tuple[int, int] | None = None  # (run, entries) of its last walk that passed
    coverage: dict[str, float] = field(default_factory=dict)
    minimums: dict[str, float] = field(default_factory=dict)
    sample: int = 0  # items its coverage is taken over
    fetches: ItemFetches = field(default_factory=ItemFetches)
    first_crawl: bool = False
    stored: int = 0


@dataclass
class RunReview:
    """What the rules judge: the run's ledger, how the run ended and what the recorder looked
    up in the database and the stats for it."""

    ledger: RunLedger
    reason: str = "finished"
    thresholds: Thresholds = field(default_factory=Thresholds)
    stored: int = 0  # rows new, updated or unchanged (read live)
    first_crawl: bool = False
    write_errors: Sequence[str] = ()
    refetch_clashes: Sequence[str] = ()
    database: object = "the database"
    export_errors: Sequence[str] = ()
    archive_failures: int = 0
    first_archive_failure: str = ""
    # The run's edge paragraphs with the stored rows that hold them too (None: the ledger's).
    repeated: RepeatedParagraphs | None = None
    sections: dict[str, SectionReview] = field(default_factory=dict)
    # A spider without targets: its one walk's previous, its coverage over everything.
    previous_walk: tuple[int, int] | None = None
    coverage: dict[str, float] = field(default_factory=dict)
    coverage_sample: int = 0


def section_walk_rule(section: SectionReview, review: RunReview) -> list[str]:
    """The section's listing walk against its own last walk that passed."""
    found = listing_problems(
        section.walk,
        section.previous,
        review.thresholds.min_share,
        finished=finished_normally(review.reason),
    )
    return [section.label + problem for problem in found]


def section_coverage_rule(section: SectionReview, review: RunReview) -> list[str]:
    """The section's coverage against its own ``coverage_minimums``."""
    found = coverage_problems(
        section.coverage,
        section.minimums,
        sample=section.sample,
        min_sample=review.thresholds.min_items,
    )
    return [section.label + problem for problem in found]


def section_read_rule(section: SectionReview, review: RunReview) -> list[str]:
    """A section of a run of several read nothing (one section: the run's own item and end
    rules say it)."""
    if not section.several:
        return []
    found = section_read_problems(
        section.fetches, first_crawl=section.first_crawl, stored=section.stored
    )
    return [section.label + problem for problem in found]


def end_rule(review: RunReview) -> list[str]:
    return end_problems(review.reason, review.first_crawl, review.stored)


def walk_rule(review: RunReview) -> list[str]:
    if not review.sections:  # a spider without targets: its one walk
        return listing_problems(
            review.ledger.listing_walk(),
            review.previous_walk,
            review.thresholds.min_share,
            finished=finished_normally(review.reason),
        )
    return [p for section in review.sections.values() for p in section_walk_rule(section, review)]


def canary_rule(review: RunReview) -> list[str]:
    return canary_problems(review.ledger.canary_results)


def quality_rule(review: RunReview) -> list[str]:
    return quality_problems(review.ledger.quality_rejects)


def repeated_rule(review: RunReview) -> list[str]:
    repeated = review.repeated if review.repeated is not None else review.ledger.repeated_paragraphs
    return repeated_problems(repeated, review.thresholds.repeated_min_items)


def vanished_rule(review: RunReview) -> list[str]:
    return vanished_problems(review.ledger.refetched_fields, review.thresholds.vanished_max_share)


def item_rule(review: RunReview) -> list[str]:
    return item_problems(review.ledger.item_fetches)


def source_rule(review: RunReview) -> list[str]:
    return list(review.ledger.source_problems)


def write_rule(review: RunReview) -> list[str]:
    return write_problems(review.write_errors, review.refetch_clashes, review.database)


def export_rule(review: RunReview) -> list[str]:
    return export_problems(review.export_errors)


def archive_rule(review: RunReview) -> list[str]:
    return archive_problems(review.archive_failures, review.first_archive_failure)


def coverage_rule(review: RunReview) -> list[str]:
    if not review.sections:  # a spider without targets: coverage over everything it extracted
        return coverage_problems(
            review.coverage,
            dict(review.ledger.plan.coverage_minimums),
            sample=review.coverage_sample,
            min_sample=review.thresholds.min_items,
        )
    return [
        p for section in review.sections.values() for p in section_coverage_rule(section, review)
    ]


def read_rule(review: RunReview) -> list[str]:
    return [p for section in review.sections.values() for p in section_read_rule(section, review)]


# Every rule of the self-check, in the order its sentences are said.
RULES: tuple[Callable[[RunReview], list[str]], ...] = (
    end_rule,
    walk_rule,
    canary_rule,
    quality_rule,
    repeated_rule,
    vanished_rule,
    item_rule,
    source_rule,
    write_rule,
    export_rule,
    archive_rule,
    coverage_rule,
    read_rule,
)


def problems_of(review: RunReview) -> list[str]:
    """Every rule's sentences: why the run's data cannot be trusted (``[]``: it can)."""
    return [problem for rule in RULES for problem in rule(review)]
