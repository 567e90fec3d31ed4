"""K2ItemPage on markup variants that the fixture pages do not cover, and its era layouts."""

import pytest

from caci_spider.pages.bylines import DatedByline, DatedLineOnly, LegacyByline
from caci_spider.pages.item import K2ItemPage
from caci_spider.records import build_publication
from caci_spider.testworld.fixtures import find_fixture
from caci_spider.urls import ItemRef

REF = ItemRef(
    1, "https://www.cacianalyst.org/publications/field-reports/item/1-x.html", "cacianalyst"
)


def page(body: str, date: str = "Monday, 16 November 2015", head: str = "") -> str:
    return (
        f"<html><head>{head}</head><body><div class='itemView'>"
        f"<span class='itemDateCreated'>{date}</span><h2 class='itemTitle'>T</h2>"
        f"<div class='itemFullText'>{body}</div></div></body></html>"
    )


def report(document):
    result, reason, _raw = build_publication(K2ItemPage(document, REF, "t").extract())
    assert result is not None, reason
    return result


def test_byline_glued_to_its_dated_line_by_one_br() -> None:
    r = report(
        page("<p>By Najia Badykova<br/>November 16th, 2015, The CACI Analyst</p><p>Text.</p>")
    )
    assert (r.byline, r.authors, r.issue_date, r.body) == (
        "By Najia Badykova",
        ["Najia Badykova"],
        "2015-11-16",
        "Text.",
    )


def test_byline_glued_to_the_lead_by_one_br() -> None:
    r = report(
        page(
            "<p>By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)<br/>"
            "During his visit.</p>",
            date="Wednesday, 11 February 2004",
        )
    )
    assert r.authors == ["Fariz Ismailzade"] and r.body == "During his visit."


def test_byline_repeated_at_the_head_of_the_full_text() -> None:
    byline = "<p>By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)</p>"
    document = (
        "<html><body><div class='itemView'><span class='itemDateCreated'>Wednesday, 11 February"
        f" 2004</span><h2 class='itemTitle'>T</h2><div class='itemIntroText'>{byline}"
        f"<p>Lead.</p></div><div class='itemFullText'>{byline}<p>Lead. More.</p></div>"
        "</div></body></html>"
    )
    assert report(document).body == "Lead. More."


def test_text_fallback_survives_chrome_before_the_article() -> None:
    document = (
        "<html><head><title>A TITLE</title></head><body><div class='side'><h3>Newsletter</h3>"
        "<p>Sign up for upcoming events</p><h3>Visit also</h3></div><div class='article'>"
        "<p>Thursday, 23 April 2009</p><h1>A TITLE</h1><p>Published in Field Reports</p>"
        "<p>By Erkin Ahmadov (4/23/2009 issue of the CACI Analyst)</p><p>The body.</p>"
        "<p>Read 311 times</p></div></body></html>"
    )
    r = report(document)
    assert (r.title, r.body, r.hits, r.published) == ("A TITLE", "The body.", 311, "2009-04-23")


def test_xml_declaration_and_windows_1252_bytes() -> None:
    document = page(
        "<p>By Erica Marat (1/9/2008 issue of the CACI Analyst)</p><p>Kyrgyzstan’s text.</p>",
        date="Wednesday, 09 January 2008",
        head='<meta http-equiv="content-type" content="text/html; charset=windows-1252">',
    )
    raw = ('<?xml version="1.0" encoding="windows-1252"?>' + document).encode("cp1252")
    assert report(raw).body == "Kyrgyzstan’s text."
    as_text = '<?xml version="1.0" encoding="utf-8"?>' + document
    assert report(as_text).authors == ["Erica Marat"]


@pytest.mark.parametrize(
    ("prefix", "layout"),
    [
        ("8145-", LegacyByline),  # By … (2/11/2004 issue of the CACI Analyst)
        ("12790-", LegacyByline),  # (the 05/02/2014 issue …), day-first
        ("12990-", DatedByline),  # By Najia Badykova / November 16th, 2015, The CACI Analyst
        ("12999-", DatedByline),  # a bare name line / February 27, 2025
    ],
)
def test_each_era_is_read_by_its_layout(prefix: str, layout: type) -> None:
    fixture = find_fixture("item", prefix)
    ref = ItemRef(int(fixture.name), fixture.url, "cacianalyst")
    assert type(K2ItemPage(fixture.html.read_bytes(), ref, "t").head.layout) is layout


def test_a_dated_line_without_a_name_line() -> None:
    item = K2ItemPage(page("<p>March 28, 2022</p><p>Text.</p>"), REF, "t")
    assert type(item.head.layout) is DatedLineOnly
    assert (item.byline(), item.dated_line(), item.paragraphs()) == (
        None,
        "March 28, 2022",
        ["Text."],
    )
    assert K2ItemPage(page("<p>Text.</p>"), REF, "t").head.layout is None
