"""What a good row cannot contain, and how two readings of a row compare (caci_spider.quality):
every rule on its own, real prose never flagged, every fixture oracle clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caci_spider.items import Publication, StaffPublication
from caci_spider.quality import (
    SECTION_NAMES,
    SITE_ACCOUNTS,
    SITE_NAMES,
    FieldDifference,
    QualityProblem,
    byline_account,
    chrome_paragraphs,
    differences,
    first_difference,
    is_page_chrome,
    is_placeholder_title,
    is_site_account,
    is_site_title,
    problems,
    vanished_fields,
    word_similarity,
)
from tests.conftest import FIXTURES, GOOD_FIELD_REPORTS

CHROME = [
    "Print",
    "print",
    "Email",
    "E-mail",
    "E-MAIL",
    "Tweet",
    "Share",
    "Font size",
    "Decrease font size",
    "Print this page",
    "back to top",
    "Back to Top ^",
    "Print | E-mail",
    "Print / Email",
    "Font size Print E-mail",
    "Read 1,234 times",
    "Read 3871 times",
    "Hits: 123",
    "Hits 4,672",
    "Read more…",
    "Read more...",
    "Read More",
    "Read more: Is Azerbaijan Turning Towards Russia?",
    "Last modified on Monday, 12 March 2014 10:00",
    "Last Updated: 28 March 2022",
    "Published in Field Reports",
    "Published in Analytical Articles",
    "Published: 28 March 2022",
    "Category: Field Reports",
    "Tagged under",
    "Tagged under Kyrgyzstan Almazbek Atambayev Sadyr Japarov",
    "Written by admin",
    "Written by Super User",
    "Details",
    "More in this category…",
    "More in this category:",
    "Related items",
    "Related items (by tag)",
    "Latest from Fariz Ismailzade",
    "Latest from Roger N. McDermott",
    "Previous article",
    "Next article",
    "Prev",
    "Next",
    "« Prev",
    "Next »",
    "« Previous Next »",
    "Visit also",
    "Staff Publications",
    "Newsletter",
    "  Print  ",
    "Please enable JavaScript to read this page.",
    "You need to enable JavaScript to run this app.",
    "JavaScript is disabled in your browser.",
    "Loading…",
]

PROSE = [
    "Print media in Azerbaijan remain under government pressure.",
    "The ministry will e-mail every registered voter before the election.",
    "Share prices in Baku fell by 12 percent.",
    "Published in 2004, the report argued that the pipeline would fail.",
    "Details of the agreement were not disclosed.",
    "Next year, the government plans to hold early elections.",
    "Latest from Moscow suggests that the deal is off.",
    "Written by a committee of experts, the report was published in Russian.",
    "Read more about the protocols in the next issue.",
    "Last modified on 12 March 2014, the law was amended once again.",
    "Related items were seized by the police.",
    "More in this category of crime, the police said.",
    "Category: the author did not say.",
    "Hits on the opposition's websites rose sharply.",
    "Newsletters of the opposition were banned in 2003.",
    "Tagged under the new law as extremist, the group was dissolved.",
    "Loading of the first tanker at Ceyhan began in June.",
    "Written by the victors",
    "Created by Moscow, sustained by Baku",
    "Published: Central Asia-Caucasus Institute, 2019",
    # Long paragraphs are text whatever they begin with.
    "Print " + "and broadcast media " * 30,
]


@pytest.mark.parametrize("paragraph", CHROME)
def test_page_chrome_is_recognised(paragraph: str) -> None:
    assert is_page_chrome(paragraph)


@pytest.mark.parametrize("paragraph", PROSE)
def test_prose_is_not_chrome(paragraph: str) -> None:
    assert not is_page_chrome(paragraph)


def test_chrome_is_looked_for_where_the_article_meets_the_template() -> None:
    middle = ["Text one.", "Text two.", "Text three.", "Facebook", "Details", "Text four."]
    body = "\n\n".join(["Print", *middle, "Text five.", "Text six.", "Next"])
    assert chrome_paragraphs(body) == ["Print", "Next"]


def test_only_whole_paragraphs_are_chrome() -> None:
    body = "Print\n\nThe text mentions Print and E-mail.\n\nMore in this category…"
    assert chrome_paragraphs(body) == ["Print", "More in this category…"]
    assert chrome_paragraphs("Print media is free. E-mail is not.") == []
    assert chrome_paragraphs(None) == chrome_paragraphs("") == []


@pytest.mark.parametrize(
    "title",
    [
        *SITE_NAMES,
        *SECTION_NAMES,
        "central asia-caucasus analyst",
        "THE CENTRAL ASIA-CAUCASUS ANALYST",
        "Field Reports - CACI Analyst",
        "Home | The Central Asia-Caucasus Analyst",
    ],
)
def test_a_site_or_section_name_is_not_a_title(title: str) -> None:
    assert is_site_title(title)


@pytest.mark.parametrize(
    "title",
    [
        "The Caucasus in an Age of Upheaval",
        "IS AZERBAIJAN TURNING TOWARDS RUSSIA?",
        "Home Rule for Nagorno-Karabakh",
        "Field Reports from the Ferghana Valley",
        "Silk Road Studies: A Retrospective",
        "",
        None,
    ],
)
def test_a_title_that_names_more_than_the_site_is_a_title(title: str | None) -> None:
    assert not is_site_title(title)


@pytest.mark.parametrize(
    ("title", "placeholder"),
    [("Loading…", True), ("Loading...", True), ("untitled", True), ("Loading Cargo", False)],
)
def test_a_placeholder_is_not_a_title(title: str, placeholder: bool) -> None:
    assert is_placeholder_title(title) is placeholder
    assert bool(problems({"title": title})) is placeholder
    if placeholder:
        assert str(problems({"title": title})[0]).startswith("title is a placeholder")


@pytest.mark.parametrize("name", [*SITE_ACCOUNTS, "ADMIN", "super user", "Webmaster"])
def test_a_site_account_is_not_an_author(name: str) -> None:
    assert is_site_account(name)


@pytest.mark.parametrize("name", ["Fariz Ismailzade", "S. Frederick Starr", "Adminov", "", None])
def test_a_person_is_an_author(name: str | None) -> None:
    assert not is_site_account(name)


@pytest.mark.parametrize(
    ("byline", "account"),
    [
        ("Written by admin", "admin"),
        ("By Super User", "Super User"),
        ("written by: Administrator", "Administrator"),
        ("By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)", None),
        ("By Dr. Robert M. Cutler", None),
        (None, None),
    ],
)
def test_a_byline_naming_a_site_account(byline: str | None, account: str | None) -> None:
    assert byline_account(byline) == account


def report_row(**fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": 8145,
        "title": "IS AZERBAIJAN TURNING TOWARDS RUSSIA?",
        "authors": ["Fariz Ismailzade"],
        "byline": "By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)",
        "body": "During his visit, Aliyev met Putin.\n\nThe talks went well.",
        "tags": ["Azerbaijan"],
    }
    row.update(fields)
    return row


def test_a_good_row_has_no_problem() -> None:
    assert problems(report_row()) == []


def test_every_problem_names_its_field_and_value() -> None:
    row = report_row(
        title="CACI Analyst",
        authors=["admin", "Fariz Ismailzade"],
        byline="Written by admin",
        body="Print\n\nE-mail\n\nDuring his visit, Aliyev met Putin.\n\nMore in this category…",
    )
    assert problems(row) == [
        QualityProblem("title", "CACI Analyst", "site name"),
        QualityProblem("authors", "admin", "site account"),
        QualityProblem("byline", "Written by admin", "byline account"),
        QualityProblem("body", "Print", "page chrome"),
        QualityProblem("body", "E-mail", "page chrome"),
        QualityProblem("body", "More in this category…", "page chrome"),
    ]
    assert [str(p) for p in problems(row)][:4] == [
        'title is a site or section name "CACI Analyst"',
        'authors is a site account "admin"',
        'byline names a site account "Written by admin"',
        'body holds page chrome "Print"',
    ]
    assert problems(row)[3].reason == 'quality: body holds page chrome "Print"'


def test_a_long_offending_value_is_shortened_in_the_message() -> None:
    (problem,) = problems(report_row(body="Tagged under " + "Kazakhstan " * 15))
    assert len(str(problem)) < 100 and str(problem).endswith('…"')


def test_items_are_read_like_rows() -> None:
    report = Publication(
        id=8145, site="cacianalyst", url="u", section=None, kind=None, title="Home", authors=[],
        published=None, issue_date=None, issue=None, byline=None, body="Share\n\nText.",
        author_bio=None, pdf_url=None, hits=None, modified=None,
        tags=[], word_count=0, content_hash="", fetched_at="",
    )  # fmt: skip
    assert [(p.field, p.value) for p in problems(report)] == [("title", "Home"), ("body", "Share")]
    staff = StaffPublication(
        title="Staff Publications", authors=["webmaster"], summary="A summary.\n\nRead more",
        sources=["s"], fetched_at="",
    )  # fmt: skip
    assert [(p.field, p.value) for p in problems(staff)] == [
        ("title", "Staff Publications"),
        ("authors", "webmaster"),
        ("summary", "Read more"),
    ]


def oracles() -> list[tuple[str, dict[str, Any]]]:
    """Every row of every fixture oracle that holds a text field: item pages, listing entries,
    the staff publications' expected rows."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if any(key in value for key in ("body", "summary", "title", "authors")):
                found.append((where, value))
            for key, inner in value.items():
                walk(inner, f"{where}.{key}")
        elif isinstance(value, list):
            for index, inner in enumerate(value):
                walk(inner, f"{where}[{index}]")

    for path in sorted(Path(FIXTURES).rglob("*.json")):
        walk(json.loads(path.read_text("utf-8")), str(path.relative_to(FIXTURES)))
    return found


def test_every_fixture_oracle_is_clean() -> None:
    rows = oracles()
    assert sum("body" in row for _where, row in rows) >= GOOD_FIELD_REPORTS
    assert sum(bool(row.get("summary")) for _where, row in rows) >= 10
    dirty = {where: [str(p) for p in problems(row)] for where, row in rows if problems(row)}
    assert dirty == {}


# -- a refetch that lost fields ------------------------------------------------------------------
def test_vanished_fields_are_those_the_stored_row_has_and_the_new_one_lacks() -> None:
    stored = report_row(issue_date="2004-02-11", tags=["Azerbaijan"])
    fresh = report_row(issue_date=None, tags=[])
    assert vanished_fields(stored, fresh, ("issue_date", "tags")) == ["issue_date", "tags"]
    assert vanished_fields(report_row(tags=[]), fresh, ("tags",)) == []  # never had them
    assert vanished_fields(stored, stored, ("issue_date", "tags")) == []


# -- two readings of one row ---------------------------------------------------------------------
BODY = " ".join(f"word{n}" for n in range(300))


def test_word_similarity() -> None:
    assert word_similarity(BODY, BODY) == 1.0
    assert word_similarity(BODY, BODY.replace("word150", "typo150")) > 0.99
    half = " ".join(BODY.split()[:150])
    assert 0.6 < word_similarity(BODY, half) < 0.7
    assert word_similarity("", "") == 1.0 and word_similarity("a b", "") == 0.0


def test_first_difference_shows_where_two_texts_part() -> None:
    assert first_difference("a b c d", "a b x d") == ("c", "x")
    assert first_difference("a b c d", "a b") == ("c d", "")
    assert first_difference("a b", "Print a b") == ("", "Print")
    assert first_difference("a b", "a b") == ("", "")


COMPARED = {"title": "exact", "authors": "exact", "published": "exact", "body": "words"}


def test_the_same_reading_differs_in_nothing() -> None:
    row = report_row(published="2004-02-11", body=BODY)
    assert differences(row, dict(row), COMPARED, 0.9) == []


def test_a_corrected_typo_passes_and_a_halved_body_does_not() -> None:
    row = report_row(body=BODY)
    typo = report_row(body=BODY.replace("word150", "word-150"))
    assert differences(row, typo, COMPARED, 0.9) == []
    halved = report_row(body=" ".join(BODY.split()[:150]))
    (difference,) = differences(row, halved, COMPARED, 0.9)
    assert (difference.field, difference.new) == ("body", "")
    assert difference.stored.startswith("word150 word151")
    assert difference.why == "word similarity 0.666, below 0.9"


def test_exact_fields_differ_by_value() -> None:
    row = report_row(published="2004-02-11")
    fresh = report_row(published="2004-02-12", title="Is Azerbaijan Turning Towards Russia?")
    assert [(d.field, d.stored, d.new) for d in differences(row, fresh, COMPARED, 0.9)] == [
        ("title", "IS AZERBAIJAN TURNING TOWARDS RUSSIA?", "Is Azerbaijan Turning Towards Russia?"),
        ("published", "2004-02-11", "2004-02-12"),
    ]


def test_a_field_the_fresh_reading_lacks_is_not_a_difference() -> None:
    assert differences(report_row(), report_row(title="", authors=[]), COMPARED, 0.9) == []


def test_fresh_page_chrome_is_a_difference_even_when_the_body_reads_alike() -> None:
    row = report_row(body=BODY)
    fresh = report_row(body="Print\n\nE-mail\n\n" + BODY)
    found = differences(row, fresh, COMPARED, 0.9)
    assert [(d.field, d.new, d.why) for d in found] == [
        ("body", "Print", "page chrome"),
        ("body", "E-mail", "page chrome"),
    ]
    assert str(found[0]).startswith('body (page chrome) "word0 word1')
    assert found[0].as_dict()["new"] == "Print"


def test_staff_comparisons_by_key_and_compatible_date() -> None:
    compared = {"title": "key", "authors": "keys", "date": "date"}
    row = {"title": "Türkiye’s Return", "authors": ["S. Frederick Starr"], "date": "2024-10"}
    same = {"title": "TÜRKIYE'S RETURN", "authors": ["S. Frederick  Starr"], "date": "2024-10-07"}
    assert differences(row, same, compared, 0.9) == []
    other = {"title": "Another Title", "authors": ["Svante E. Cornell"], "date": "2023"}
    assert [d.field for d in differences(row, other, compared, 0.9)] == [
        "title",
        "authors",
        "date",
    ]


def test_a_difference_reads_as_one_clause() -> None:
    difference = FieldDifference("title", "OLD", "CACI Analyst")
    assert str(difference) == 'title "OLD" → "CACI Analyst"'


def test_edge_lines_are_the_short_paragraphs_at_either_end() -> None:
    from caci_spider.quality import edge_lines

    body = "\n\n".join(["Share", "Long. " * 40, "a", "b", "c", "d", "Long. " * 40, "End line"])
    assert edge_lines(body) == ["Share", "a", "d", "End line"]
    assert edge_lines(None) == []


def test_a_canary_body_that_gained_a_short_paragraph_at_its_edge_differs() -> None:
    stored = {"body": "First paragraph of the text.\n\nSecond paragraph of the text."}
    fresh = {"body": "Follow us on Telegram\n\n" + stored["body"]}
    (difference,) = differences(stored, fresh, {"body": "words"}, 0.5)
    assert (difference.why, difference.new) == (
        "a new short paragraph at its edge",
        "Follow us on Telegram",
    )


def test_a_news_items_date_line_is_no_edge_line() -> None:
    """Every digest's first and last items open with a day and month ("10 April"): the same
    line at the edge of many digests is the calendar, not page chrome."""
    from caci_spider.quality import edge_lines

    body = "\n\n".join(
        ["HEADLINE ONE", "10 April", "Text of the first item.", "HEADLINE TWO", "13 April",
         "Text of the second item.", "HEADLINE THREE", "April 14th", "Third.", "Bookmark and Share"]
    )  # fmt: skip
    assert edge_lines(body) == ["HEADLINE ONE", "Bookmark and Share"]


@pytest.mark.parametrize(
    ("line", "is_date"),
    [("10 April", True), ("April 10th", True), ("Thursday, 23 April 2009", True),
     ("April 10, 2009.", True), ("10 Aprils", False), ("April in Paris", False),
     ("HEADLINE", False)],
)  # fmt: skip
def test_date_lines(line: str, is_date: bool) -> None:
    from caci_spider.dates import is_date_line

    assert is_date_line(line) is is_date
