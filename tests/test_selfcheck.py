"""The self-check's rules (caci_spider.selfcheck), each on its own, without a crawl."""

from __future__ import annotations

import pytest

from caci_spider.quality import FieldDifference, QualityProblem
from caci_spider.selfcheck import (
    CanaryResult,
    ListingWalk,
    QualityRejects,
    RefetchedFields,
    canary_problems,
    coverage_of,
    coverage_problems,
    end_problems,
    finished_normally,
    listing_problems,
    quality_problems,
    vanished_problems,
)

FIRST = "https://www.cacianalyst.org/publications/field-reports.html?start=0"


@pytest.mark.parametrize(
    ("reason", "normal"),
    [
        ("finished", True),
        ("closespider_itemcount", True),
        ("closespider_timeout", True),
        ("shutdown", False),
        ("banned", False),
        ("archive_unavailable", False),
        ("", False),
    ],
)
def test_finished_normally(reason: str, normal: bool) -> None:
    assert finished_normally(reason) is normal


def walk(entries: int = 0, **fields: object) -> ListingWalk:
    values: dict = {"first_url": FIRST, "first_status": 200, "first_entries": 4}
    values.update(fields)
    listing_walk = ListingWalk(**values)
    listing_walk.keys.update(str(7000 + n) for n in range(entries))
    return listing_walk


def test_an_unanswered_first_listing_page_names_its_url() -> None:
    (problem,) = listing_problems(walk(pages=0, first_status=None), None, 0.8, finished=True)
    assert problem.startswith(f"no listing page could be read: the first one ({FIRST}) ")
    assert problem.endswith("; check the base URL setting and whether the site is up")


def test_a_walk_that_never_began_is_judged_by_how_the_run_ended() -> None:
    assert listing_problems(ListingWalk(), (3, 18), 0.8, finished=False) == []


def test_the_same_entry_on_two_pages_counts_once() -> None:
    listing_walk = walk(pages=2)
    listing_walk.keys.update(["7315", "8145", "7315"])
    assert listing_walk.entries == 2


def test_an_error_status_on_the_first_listing_page() -> None:
    (problem,) = listing_problems(walk(pages=0, first_status=503), None, 0.8, finished=True)
    assert f"the first one ({FIRST}) answered HTTP 503;" in problem


def test_a_failure_reason_wins_over_the_status() -> None:
    failure = "served from the archive because the site did not answer (TimeoutError)"
    (problem,) = listing_problems(
        walk(pages=0, first_status=200, first_failure=failure), None, 0.8, finished=True
    )
    assert f"({FIRST}) {failure};" in problem


def test_a_first_listing_page_without_entries() -> None:
    (problem,) = listing_problems(walk(pages=1, first_entries=0), (3, 18), 0.8, finished=True)
    assert problem.startswith(f"the first listing page ({FIRST}) holds no entries")


@pytest.mark.parametrize(
    ("entries", "previous", "finished", "failed"),
    [
        (14, (3, 18), True, True),  # 14 < 0.8 × 18 = 14.4
        (15, (3, 18), True, False),
        (14, None, True, False),  # nothing to compare with
        (14, (3, 18), False, False),  # a stopped run read only part of the listing
    ],
)
def test_a_listing_far_shorter_than_the_last_passing_run(
    entries: int, previous: tuple[int, int] | None, finished: bool, failed: bool
) -> None:
    problems = listing_problems(walk(pages=5, entries=entries), previous, 0.8, finished)
    if failed:
        assert problems == [
            f"the listing holds {entries} entries, below 80% of the 18 of run 3 "
            "(the last that passed its self-check)"
        ]
    else:
        assert problems == []


def test_canaries_fail_only_when_changed() -> None:
    results = [
        CanaryResult("7315", "https://x/7315.html", "ok"),
        CanaryResult("8145", "https://x/8145.html", "changed", ["title", "hits"]),
        CanaryResult("9612", "https://x/9612.html", "fetch failed: HTTP 503"),
    ]
    assert [r.failed for r in results] == [False, True, False]
    assert canary_problems(results) == [
        "canary 8145 (https://x/8145.html) no longer yields title, hits: the item pages' layout "
        "changed; its stored row was kept"
    ]


def test_a_canarys_record_names_its_site_with_its_key() -> None:
    url = "https://www.turkeyanalyst.org/publications/turkey-analyst-articles/item/12997-a.html"
    record = CanaryResult("12997", url, "ok", site="turkeyanalyst").as_record()
    assert (record["site"], record["key"], record["url"]) == ("turkeyanalyst", "12997", url)


def test_a_canary_that_reads_differently_names_the_fields_with_both_values() -> None:
    title = FieldDifference("title", "IS AZERBAIJAN TURNING TOWARDS RUSSIA?", "CACI Analyst")
    body = FieldDifference("body", "During his visit", "Print", "page chrome")
    results = [
        CanaryResult("8145", "https://x/8145.html", "changed", [], [title, body]),
        CanaryResult("7315", "https://x/7315.html", "changed", ["issue_date"], [title]),
    ]
    assert canary_problems(results) == [
        'canary 8145 (https://x/8145.html) reads differently: title "IS AZERBAIJAN TURNING '
        'TOWARDS RUSSIA?" → "CACI Analyst"; body (page chrome) "During his visit" → "Print": '
        "the item pages' layout changed; its stored row was kept",
        "canary 7315 (https://x/7315.html) no longer yields issue_date and reads differently: "
        'title "IS AZERBAIJAN TURNING TOWARDS RUSSIA?" → "CACI Analyst": the item pages\' '
        "layout changed; its stored row was kept",
    ]
    assert results[0].as_record()["differing"][1] == {
        "field": "body",
        "stored": "During his visit",
        "new": "Print",
        "why": "page chrome",
    }


def test_quality_rejects_are_one_sentence_per_field_with_the_count_and_first_url() -> None:
    rejects = QualityRejects()
    chrome = QualityProblem("body", "Print", "page chrome")
    rejects.note("https://x/1.html", [chrome, QualityProblem("body", "E-mail", "page chrome")])
    rejects.note("https://x/2.html", [QualityProblem("body", "Share", "page chrome")])
    rejects.note("https://x/2.html", [QualityProblem("title", "Home", "site name")])
    assert rejects.counts == {"body": 2, "title": 1}
    assert quality_problems(rejects) == [
        "2 items were rejected for the quality of their body (first: https://x/1.html: body "
        'holds page chrome "Print"): the pages\' template changed or extraction picks up page '
        "chrome; no stored row was replaced",
        "1 item was rejected for the quality of its title (first: https://x/2.html: title is "
        'a site or section name "Home"): the pages\' template changed or extraction picks up '
        "page chrome; no stored row was replaced",
    ]
    assert quality_problems(QualityRejects()) == []


@pytest.mark.parametrize(
    ("had", "lost", "failed"),
    [
        (5, 1, True),  # 20 %: the share reached
        (15, 3, True),  # 20 % again (no rounding error)
        (6, 1, False),  # 16.7 %
        (1, 1, True),
        (10, 0, False),
    ],
)
def test_vanished_fields_fail_from_their_share_of_refetched_items(
    had: int, lost: int, failed: bool
) -> None:
    refetched = RefetchedFields()
    for n in range(had):
        refetched.note(f"https://x/{n}.html", ["tags"], ["tags"] if n < lost else [])
    problems = vanished_problems(refetched, 0.2)
    if failed:
        assert problems == [
            f"{lost} of {had} refetched items whose rows have tags no longer yield it (first: "
            "https://x/0.html), at least 20%: the item pages' layout changed; the stored values "
            "were kept"
        ]
    else:
        assert problems == []


def test_vanished_fields_are_judged_per_field() -> None:
    refetched = RefetchedFields()
    refetched.note("https://x/1.html", ["issue_date", "tags"], ["tags"])
    for n in range(2, 10):
        refetched.note(f"https://x/{n}.html", ["issue_date"], [])
    (problem,) = vanished_problems(refetched, 0.2)
    assert problem.startswith("1 of 1 refetched items whose rows have tags no longer yield it")
    assert vanished_problems(RefetchedFields(), 0.2) == []


def test_coverage_is_the_share_of_items_with_each_field() -> None:
    stats = {"p/items": 3, "p/title": 3, "p/body": 2}
    assert coverage_of(stats, ("title", "body", "hits"), "p") == {
        "title": 1.0,
        "body": 0.6667,
        "hits": 0.0,
    }
    assert coverage_of({}, ("title",), "p") == {}


def test_coverage_is_judged_only_from_enough_items() -> None:
    coverage = {"title": 0.5, "body": 0.96, "hits": 0.0}
    minimums = {"title": 0.95, "body": 0.95, "authors": 0.9}
    assert coverage_problems(coverage, minimums, sample=9, min_sample=10) == []
    # authors is not in the coverage (not a coverage field): no verdict on it
    assert coverage_problems(coverage, minimums, sample=10, min_sample=10) == [
        "coverage of title is 50.0%, below the minimum 95%"
    ]


@pytest.mark.parametrize(
    ("reason", "first_crawl", "stored", "expected"),
    [
        ("finished", False, 0, []),
        ("finished", True, 1, []),
        ("finished", True, 0, ["stored nothing on a first crawl"]),
        ("banned", False, 5, ["the site refused the crawl (banned)"]),
        ("shutdown", False, 5, ["the run did not finish (shutdown)"]),
        (
            "shutdown",
            True,
            0,
            ["the run did not finish (shutdown)", "stored nothing on a first crawl"],
        ),
    ],
)
def test_end_problems(reason: str, first_crawl: bool, stored: int, expected: list[str]) -> None:
    assert end_problems(reason, first_crawl, stored) == expected


def test_a_paragraph_at_the_edge_of_enough_items_is_repeated_chrome() -> None:
    from caci_spider.selfcheck import RepeatedParagraphs, repeated_problems

    repeated = RepeatedParagraphs()
    repeated.note("u1", ["Bookmark and Share", "Own line one"])
    repeated.note("u2", ["Bookmark and Share"])
    assert repeated_problems(repeated, 3) == []
    repeated.add("Bookmark and Share", ["u3", "u2"])  # stored rows found to hold it
    (problem,) = repeated_problems(repeated, 3)
    assert problem.startswith("3 items' bodies begin or end with the same paragraph \"Bookmark")
    assert "(first: u1, u2)" in problem
    assert repeated_problems(repeated, 0) == []  # 0: never judged


@pytest.mark.parametrize(
    ("requested", "read", "first_crawl", "stored", "fails"),
    [
        (0, 0, False, 0, False),  # nothing asked of the section tonight
        (5, 0, True, 0, True),  # every item page forbidden, down or refused by robots.txt
        (1, 0, False, 0, True),  # its only canary could not be fetched
        (2, 2, False, 0, False),  # one broken new page (read, then rejected), the canary read
        (4, 4, True, 0, True),  # first crawl: every page read, none gave a row (unreadable)
        (5, 5, True, 5, False),
    ],
)
def test_a_section_judged_as_a_run_of_its_own(
    requested: int, read: int, first_crawl: bool, stored: int, fails: bool
) -> None:
    from caci_spider.selfcheck import ItemFetches, section_read_problems

    fetches = ItemFetches(requested=requested, read=read)
    assert bool(section_read_problems(fetches, first_crawl, stored)) is fails
