"""Staff publications: the sidebar, header lines, and a listing entry meeting its item page.

The listing and item fixtures against their oracles: tests/pages/test_fixtures.py.
"""

from __future__ import annotations

import pytest

from caci_spider.pages.staff import StaffItemPage, StaffListingPage, parse_sidebar
from caci_spider.staff.lines import read_entry_lines
from caci_spider.staff.precedence import merge_observations
from caci_spider.testworld.fixtures import FIXTURES_ROOT, SILKROAD_BASE_URL, find_fixture
from caci_spider.urls import ItemRef

SEED = find_fixture("item", "8145-").html


@pytest.mark.parametrize(
    "page_path", [SEED, FIXTURES_ROOT / "site_chrome.html"], ids=["seed", "chrome"]
)
def test_sidebar_of_the_seed_entries(page_path) -> None:
    outcome = parse_sidebar(page_path.read_bytes(), "https://www.cacianalyst.org/", "t")
    assert outcome.rejects == []
    by_title = {p.title: p for p in outcome.publications}
    assert len(by_title) == 7  # 8 lines, one of which is an image alt only
    paper = by_title["Greater Central Asia as A Component of U.S. Global Strategy"]
    assert (paper.kind, paper.authors, paper.venue, paper.date) == (
        "Silk Road Paper",
        ["S. Frederick Starr"],
        None,
        "2024-10",
    )
    analysis = by_title["Rising Stakes in Tbilisi as Elections Approach"]
    assert (analysis.kind, analysis.venue, analysis.date) == (
        "Analysis",
        "Civil Georgia",
        "2024-09-07",
    )
    book = by_title["The Changing Geopolitics of Central Asia and the Caucasus"]
    assert book.roles == {"Svante E. Cornell": "editor"} and book.date == "2023"
    assert (
        "Stepping up to the “Agency Challenge”: Central Asian Diplomacy in a Time of Troubles"
        in by_title
    )
    for publication in outcome.publications:
        for value in (publication.title, publication.venue, *publication.authors):
            assert "cover" not in (value or "") and "Screen Shot" not in (value or "")


def test_sidebar_tolerates_list_items_and_br_separated_entries() -> None:
    as_list = (
        "<div><h4>Staff Publications</h4><ul><li><b>Analysis</b> Laura Linderman, "
        '"Rising Stakes in Tbilisi as Elections Approach," Civil Georgia, September 7, 2024.</li>'
        "<li>Read more</li></ul><h4>Newsletter</h4><p>Book Not An Entry, 2020.</p></div>"
    )
    outcome = parse_sidebar(as_list, "https://www.cacianalyst.org/", "t")
    assert [p.title for p in outcome.publications] == [
        "Rising Stakes in Tbilisi as Elections Approach"
    ]
    assert [raw for raw, _reason in outcome.rejects] == ["Read more"]
    with_breaks = (
        "<div class='custom'><strong>Staff Publications</strong><br/><br/>"
        "Silk Road Paper S. Frederick Starr, U.S. Policy in Central Asia through Central Asian "
        'Eyes, May 2023.<br/><br/>Analysis Mamuka Tsereteli, "U.S. Black Sea Strategy: The '
        'Georgian Connection", CEPA, February 9, 2024.</div>'
    )
    titles = [p.title for p in parse_sidebar(with_breaks, "https://x/", "t").publications]
    assert titles == [
        "U.S. Policy in Central Asia through Central Asian Eyes",
        "U.S. Black Sea Strategy: The Georgian Connection",
    ]


def test_page_without_the_block_gives_nothing() -> None:
    outcome = parse_sidebar("<p>Visit also</p>", "https://x/", "t")
    assert outcome.publications == [] and outcome.rejects == []


@pytest.mark.parametrize(
    ("lines", "authors", "venue", "date", "summary"),
    [
        (
            ["Svante E. Cornell", "The American Interest, March 13, 2020", "How should…",
             "Read More"],
            ["Svante E. Cornell"], "The American Interest", "2020-03-13", ["How should…"],
        ),
        (
            ["Stockholm Institute European Policy Studies", "January 2020",
             "Svante E. Cornell and Niklas Swantström", "The report…"],
            ["Svante E. Cornell", "Niklas Swantström"],
            "Stockholm Institute European Policy Studies", "2020-01", ["The report…"],
        ),
        (["Read at The Hill", "By Mamuka Tsereteli", "Since the Barbary Wars…"],
         ["Mamuka Tsereteli"], "The Hill", None, ["Since the Barbary Wars…"]),
        (["Read at Diplomat website", "Both in Europe and the United States…"],
         [], "Diplomat website", None, ["Both in Europe and the United States…"]),
        (["2410Starr-coverS. Frederick Starr", "Silk Road Paper, October 2024"],
         ["S. Frederick Starr"], None, "2024-10", []),
    ],
)  # fmt: skip
def test_read_entry_lines(lines, authors, venue, date, summary) -> None:
    header = read_entry_lines(lines, title="Some Title")
    assert (header.authors, header.venue, header.date, header.summary) == (
        authors,
        venue,
        date,
        "\n\n".join(summary) or None,
    )


def test_listing_values_come_first_and_the_item_fills_gaps() -> None:
    listing = find_fixture("staff-listing", "start-0.")
    page = StaffListingPage.from_document(listing.html.read_bytes(), listing.url, SILKROAD_BASE_URL)
    untitled = next(e for e in page.observations("t") if e.title is None and e.url)
    item_page = find_fixture("staff-item", "13338-")
    ref = ItemRef(13338, untitled.url, "silkroadstudies")
    item = StaffItemPage(item_page.html.read_bytes(), ref).observation(ref.url, "t2")
    combined = merge_observations(untitled, item)
    assert combined.title == item.title
    assert combined.date == untitled.date  # the listing's venue line dates it
    assert combined.url == untitled.url and len(combined.sources) == 2


def test_label_in_a_span_or_glued_bold_and_one_entry_a_line() -> None:
    html = (
        "<div class='moduletable'><div class='title'>Staff Publications</div><div class='custom'>"
        '<p><span class="label">Analysis</span> Laura Linderman, "Rising Stakes in Tbilisi as '
        'Elections Approach," Civil Georgia, September 7, 2024.<br/>'
        "<strong>Silk Road Paper</strong>S. Frederick Starr, U.S. Policy in Central Asia through "
        "Central Asian Eyes, May 2023.</p></div></div>"
    )
    publications = parse_sidebar(html, "https://www.cacianalyst.org/", "t").publications
    assert [(p.kind, p.authors, p.date) for p in publications] == [
        ("Analysis", ["Laura Linderman"], "2024-09-07"),
        ("Silk Road Paper", ["S. Frederick Starr"], "2023-05"),
    ]


def test_a_menu_link_named_staff_publications_does_not_hide_the_block() -> None:
    html = (
        "<ul class='menu'><li><a href='/staff'>Staff Publications</a></li><li>About</li></ul>"
        "<div><h3>Staff Publications</h3><p>Silk Road Paper S. Frederick Starr, U.S. Policy in "
        "Central Asia through Central Asian Eyes, May 2023.</p></div>"
    )
    outcome = parse_sidebar(html, "https://www.cacianalyst.org/", "t")
    assert [p.title for p in outcome.publications] == [
        "U.S. Policy in Central Asia through Central Asian Eyes"
    ]


@pytest.mark.parametrize(
    ("lines", "authors", "venue", "summary"),
    [
        (["Foreign Affairs", "January 2020", "Svante E. Cornell", "The article…"],
         ["Svante E. Cornell"], "Foreign Affairs", ["The article…"]),
        (["Read at The Hill", "By most accounts, Kazakhstan handled the crisis well."],
         [], "The Hill", ["By most accounts, Kazakhstan handled the crisis well."]),
    ],
)  # fmt: skip
def test_venue_first_by_position_and_by_in_a_summary(lines, authors, venue, summary) -> None:
    header = read_entry_lines(lines, title="Some Title")
    assert (header.authors, header.venue, header.summary) == (authors, venue, "\n\n".join(summary))
