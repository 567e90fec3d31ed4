"""The self-check's rules (caci_spider.selfcheck.RULES), each judged alone over a ledger built
by hand: no crawler, no database."""

from __future__ import annotations

from caci_spider.ledger import (
    CanaryResult,
    ItemFetches,
    ListingWalk,
    RunLedger,
    RunPlan,
)
from caci_spider.quality import QualityProblem
from caci_spider.selfcheck import (
    RULES,
    RunReview,
    SectionReview,
    Thresholds,
    canary_rule,
    coverage_rule,
    end_rule,
    item_rule,
    problems_of,
    quality_rule,
    read_rule,
    source_rule,
    vanished_rule,
    walk_rule,
)

URL = "https://www.cacianalyst.org/publications/field-reports/item/7315-x.html"


def test_a_clean_ledger_passes_every_rule() -> None:
    review = RunReview(RunLedger(), stored=3)
    assert [rule(review) for rule in RULES] == [[] for _ in RULES]
    assert problems_of(review) == []


def test_the_end_rule_says_a_stopped_run_and_an_empty_first_crawl() -> None:
    assert end_rule(RunReview(RunLedger(), reason="shutdown", stored=1)) == [
        "the run did not finish (shutdown)"
    ]
    assert end_rule(RunReview(RunLedger(), first_crawl=True)) == ["stored nothing on a first crawl"]


def test_the_walk_rule_reads_the_ledger_walk_of_a_spider_without_targets() -> None:
    ledger = RunLedger()
    walk = ledger.listing_walk()
    walk.first_url, walk.first_status = "https://example.org/listing.html", 503
    (problem,) = walk_rule(RunReview(ledger))
    assert problem.startswith("no listing page could be read: the first one")
    assert "answered HTTP 503" in problem


def test_the_walk_rule_names_each_section_of_several() -> None:
    walk = ListingWalk(first_url="https://example.org/a.html", pages=2, keys={"1", "2"})
    walk.first_entries = 2
    section = SectionReview(label="Field Reports (cacianalyst): ", several=True, walk=walk)
    section.previous = (7, 40)
    (problem,) = walk_rule(RunReview(RunLedger(), sections={"field-reports": section}))
    assert problem == (
        "Field Reports (cacianalyst): the listing holds 2 entries, below 50% of the 40 of run 7 "
        "(the last that passed its self-check)"
    )


def test_the_canary_rule_says_a_changed_canary() -> None:
    ledger = RunLedger()
    ledger.canary_results.append(CanaryResult("7315", URL, "changed", ["tags"]))
    ledger.canary_results.append(CanaryResult("7316", URL, "ok"))
    (problem,) = canary_rule(RunReview(ledger))
    assert problem.startswith(f"canary 7315 ({URL}) no longer yields tags")


def test_the_quality_rule_counts_per_field() -> None:
    ledger = RunLedger()
    ledger.quality_rejects.note(URL, [QualityProblem("body", "Print", "page chrome")])
    (problem,) = quality_rule(RunReview(ledger))
    assert problem.startswith("1 item was rejected for the quality of its body (first: ")


def test_the_vanished_rule_judges_the_share_of_refetched_items() -> None:
    ledger = RunLedger()
    ledger.refetched_fields.note(URL, ["tags"], ["tags"])
    ledger.refetched_fields.note(URL + "?2", ["tags"], [])
    review = RunReview(ledger, thresholds=Thresholds(vanished_max_share=0.5))
    assert vanished_rule(review)[0].startswith("1 of 2 refetched items whose rows have tags")
    assert vanished_rule(RunReview(ledger, thresholds=Thresholds(vanished_max_share=0.6))) == []


def test_the_item_rule_fails_when_no_item_page_could_be_read() -> None:
    ledger = RunLedger(item_fetches=ItemFetches(requested=2, failures={"HTTP 503": 2}))
    assert item_rule(RunReview(ledger)) == [
        "none of the 2 item pages asked for could be read (HTTP 503 ×2)"
    ]


def test_the_source_rule_repeats_what_the_channels_noted() -> None:
    ledger = RunLedger(source_problems=["the home page (x) answered HTTP 500: no sidebar"])
    assert source_rule(RunReview(ledger)) == ["the home page (x) answered HTTP 500: no sidebar"]


def test_the_coverage_rule_judges_each_section_on_its_own_minimums() -> None:
    section = SectionReview(coverage={"tags": 0.5}, minimums={"tags": 0.9}, sample=12)
    review = RunReview(RunLedger(), sections={"field-reports": section})
    assert coverage_rule(review) == ["coverage of tags is 50.0%, below the minimum 90%"]
    section.sample = 3  # below CACI_COVERAGE_MIN_ITEMS: the canaries speak for it
    assert coverage_rule(review) == []


def test_the_coverage_rule_of_a_spider_without_targets_reads_its_plan() -> None:
    ledger = RunLedger()
    ledger.adopt(RunPlan(coverage_minimums={"title": 0.99}))
    review = RunReview(ledger, coverage={"title": 0.5}, coverage_sample=20)
    assert coverage_rule(review) == ["coverage of title is 50.0%, below the minimum 99%"]


def test_the_read_rule_judges_only_sections_of_a_run_of_several() -> None:
    fetches = ItemFetches(requested=1, failures={"HTTP 404": 1})
    alone = SectionReview(fetches=fetches)
    assert read_rule(RunReview(RunLedger(), sections={"a": alone})) == []
    several = SectionReview(label="News (x): ", several=True, fetches=fetches)
    assert read_rule(RunReview(RunLedger(), sections={"a": several})) == [
        "News (x): none of the 1 item pages asked for could be read (HTTP 404 ×1)"
    ]
