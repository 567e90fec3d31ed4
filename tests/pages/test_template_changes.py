"""Item, listing and staff pages under template changes the fixtures do not show, and prose that
looks like page chrome: each route keeps the article whole and leaves the template out."""

from __future__ import annotations

import pytest

from caci_spider.pages.item import JoomlaArticlePage, TextItemPage, item_page
from caci_spider.pages.staff import StaffListingPage
from caci_spider.records import build_publication
from caci_spider.settings import SILKROAD_BASE_URL
from caci_spider.urls import ItemRef

REF = ItemRef(
    1, "https://www.cacianalyst.org/publications/field-reports/item/1-x.html", "cacianalyst"
)
LONG = "The ministry did not answer the questions the report raised about the tender. " * 3


def k2(body: str, intro: str = "<p>By Fariz Ismailzade</p>", extra: str = "") -> str:
    return (
        "<html><head><title>T</title></head><body><div class='itemView'>"
        "<span class='itemDateCreated'>Monday, 16 November 2015</span>"
        "<h2 class='itemTitle'>T</h2><div class='itemBody'>"
        f"<div class='itemIntroText'>{intro}</div><div class='itemFullText'>{body}</div>"
        f"{extra}<span class='itemHits'>Read 12 times</span></div></div></body></html>"
    )


def read(document: str, page_object=item_page):
    report, reason, _raw = build_publication(page_object(document, REF, "t").extract())
    assert report is not None, reason
    return report


@pytest.mark.parametrize(
    "prose",
    [
        "Latest from Moscow comes word that the talks have failed.",
        "Related items on the agenda include the pipeline tariff.",
        "Last updated in 2019, the census counted 33 million people.",
        "More in this category of weapons, Russia remains the main supplier.",
        "Tagged under the new law as extremist, the group was dissolved.",
    ],
)
def test_prose_that_begins_like_a_footer_line_does_not_end_the_body(prose: str) -> None:
    body = f"<p>{LONG}</p><p>{prose}</p><p>The last paragraph.</p>"
    assert read(k2(body)).body.split("\n\n") == [LONG.strip(), prose, "The last paragraph."]


def test_text_beside_an_image_stays_in_the_body_on_the_class_route() -> None:
    short = "Flags of the five states, with the figures of their trade below."
    table = "<table><tr><td><img/>12%</td></tr></table>"
    body = f"<p>{LONG}</p><div><img src='f.png'/> {short}</div>{table}"
    assert read(k2(body)).body.split("\n\n") == [LONG.strip(), short, "12%"]


def test_a_renamed_full_text_block_is_read_through_the_text_route() -> None:
    # The intro keeps K2's class, the full text has another: the article is not cut to its intro.
    document = k2("", intro=f"<p>By Fariz Ismailzade</p><p>{LONG}</p>").replace(
        "<div class='itemFullText'></div>",
        "<div class='articleRest'>"
        + "".join(f"<p>Paragraph {n}. {LONG}</p>" for n in range(4))
        + "</div>",
    )
    report = read(document)
    assert report.authors == ["Fariz Ismailzade"] and len(report.body.split("\n\n")) == 5


def test_the_text_route_drops_unknown_toolbar_lines_around_the_article() -> None:
    document = (
        "<html><head><title>T</title></head><body><div>"
        "<span>Monday, 16 November 2015</span><h2>T</h2><p>Published in Field Reports</p>"
        "<p>Print article</p><p>Send to a friend</p>"
        "<p>Michael Hikari Cecire and Laura Linderman</p><p>February 27, 2025</p>"
        f"<p>{LONG}</p><p>Bookmark and Share</p><p>Read 12 times</p></div></body></html>"
    )
    report = read(document, TextItemPage)
    assert report.authors == ["Michael Hikari Cecire", "Laura Linderman"]
    assert report.issue_date == "2025-02-27" and report.body == LONG.strip()


def test_the_text_route_reads_tags_from_a_list_of_tag_view_links() -> None:
    tags = (
        "<ul><li><a href='/component/tags/tag/kyrgyzstan'>Kyrgyzstan</a></li>"
        "<li><a href='/component/tags/tag/sadyr-japarov'>Sadyr Japarov</a></li></ul>"
    )
    document = (
        "<html><head><title>T</title></head><body><div><span>Monday, 16 November 2015</span>"
        f"<h2>T</h2>{tags}<p>By Fariz Ismailzade</p><p>{LONG}</p><p>Read 12 times</p>"
        "</div></body></html>"
    )
    report = read(document, TextItemPage)
    assert report.tags == ["Kyrgyzstan", "Sadyr Japarov"] and report.body == LONG.strip()


def joomla(sidebar: str = "", info: str = "") -> str:
    return (
        f"<html><body><aside>{sidebar}</aside><div class='com-content-article item-page'>"
        "<div class='page-header'><h1>T</h1></div><dl class='article-info'>"
        "<dd class='published'><time datetime='2015-11-16T09:00:00+00:00'>Published: 16 "
        f"November 2015</time></dd>{info}</dl><div class='com-content-article__body'>"
        f"<p>By Fariz Ismailzade</p><p>{LONG}</p></div></div></body></html>"
    )


def test_joomla_info_block_values_come_from_the_article_not_a_sidebar() -> None:
    sidebar = (
        "<ul class='tags'><li><a href='/t/x'>Sidebar tag</a></li></ul>"
        "<span class='hits'>Hits: 999</span>"
    )
    info = (
        "<dd class='hits'>Hits: 12</dd>"
        "<dd class='category-name'>Category: <a href='#'>Field Reports</a></dd>"
    )
    page = item_page(joomla(sidebar, info), REF, "t")
    assert isinstance(page, JoomlaArticlePage)
    assert (page.hits(), page.section(), page.tags()) == (12, "Field Reports", [])
    assert read(joomla(sidebar, info)).published == "2015-11-16"


def test_joomla_section_from_its_category_line_without_classes() -> None:
    document = joomla(info="<dd>Category: <a href='#'>Field Reports</a></dd>")
    assert TextItemPage(document, REF, "t").section() == "Field Reports"


def test_a_staff_summary_keeps_its_subheadings() -> None:
    listing = (
        "<html><body><div class='itemListView'><div class='itemList'><div class='catItemView'>"
        "<h3 class='catItemTitle'><a href='/publications/joint-center-publications/item/5-x.html'>"
        "A Paper</a></h3><div class='catItemIntroText'><p>Svante E. Cornell</p>"
        "<p>Silk Road Paper, October 2024</p><h4>Key findings</h4><p>The findings.</p>"
        "</div></div></div></div></body></html>"
    )
    url = f"{SILKROAD_BASE_URL}/publications/joint-center-publications.html"
    (entry,) = StaffListingPage.from_document(listing, url, SILKROAD_BASE_URL).entries()
    assert entry.summary() == "Key findings\n\nThe findings."
