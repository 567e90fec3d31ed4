"""The local site's layouts: every fixture page through every template keeps its text.

No crawl here: the pages are read through ``LocalK2Site.respond`` (the hook) or
``layouts.render`` (the listing fixtures the site does not serve) and checked as HTML.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest

from caci_spider.pages.blocks import paragraphs, parse_html
from caci_spider.testworld.localsite import (
    DEFAULT_FIXTURES,
    MAIN_HOST,
    LocalK2Site,
    host_of_profile,
    section_of_category,
)
from caci_spider.testworld.localsite.__main__ import build_parser
from caci_spider.testworld.localsite.faults import Fault
from caci_spider.testworld.localsite.layouts import (
    ACCOUNT,
    LAYOUTS,
    PageContext,
    iso_datetime,
    k2_date_line,
    render,
    unreadable_data,
)
from caci_spider.text import document_normaliser, normalise_text

FIELD_ITEMS = sorted((DEFAULT_FIXTURES / "field_reports" / "items").glob("*.html"))
STAFF_ITEMS = sorted((DEFAULT_FIXTURES / "staff_publications" / "items").glob("*.html"))
FIELD_LISTINGS = sorted((DEFAULT_FIXTURES / "field_reports" / "listings").glob("*.html"))
STAFF_LISTINGS = sorted((DEFAULT_FIXTURES / "staff_publications" / "listings").glob("*.html"))
LAID_OUT = [name for name in LAYOUTS if name != "site"]
# K2's own class and id names: none may survive ``renamed`` or ``joomla``.
K2_NAMES = frozenset(
    "itemView itemHeader itemTitle itemDateCreated itemCategory itemToolbar itemBody "
    "itemIntroText itemFullText itemContentFooter itemHits itemDateModified itemLinks "
    "itemTagsBlock itemTags itemImageBlock itemImageCaption itemAuthor itemNavigation "
    "k2Container itemListView itemListCategory itemListCategoriesBlock itemList itemListLeading "
    "itemContainer catItemView catItemHeader catItemTitle catItemBody catItemIntroText "
    "catItemCategory catItemReadMore catItemDateCreated catItemLinks catItemTagsBlock "
    "k2ReadMore k2Pagination k2PaginationCounter k2PaginationLinks".split()
)


@dataclass(frozen=True)
class Page:
    """A page the site serves: what it is, its fixture (if any) and the path to GET."""

    kind: str  # "item", "staff-item", "listing", "staff-listing", "home", "fixture-listing"
    name: str
    path: str
    fixture: Path | None = None
    host: str = MAIN_HOST  # the local host serving it (the Turkey Analyst has its own)

    def __str__(self) -> str:
        return f"{self.kind}-{self.name}"


def _pages() -> list[Page]:
    site = LocalK2Site()
    by_file = {item.path: item for item in site.items.values()}
    pages = [Page("item", p.stem.split("-")[0], by_file[p].href, p) for p in FIELD_ITEMS]
    pages += [
        Page(
            "staff-item",
            p.stem.split("-")[0],
            f"/publications/joint-center-publications/item/{p.stem}.html",
            p,
        )
        for p in STAFF_ITEMS
    ]
    starts = range(0, len(site.order) + site.page_size, site.page_size)
    pages += [
        Page("listing", str(s), f"/publications/field-reports.html?start={s}") for s in starts
    ]
    staff_starts = sorted(site.staff_listings) + [max(site.staff_listings) + 4]
    pages += [
        Page(
            "staff-listing",
            str(s),
            f"/publications/joint-center-publications.html?start={s}",
            site.staff_listings.get(s),
        )
        for s in staff_starts
    ]
    pages.append(Page("home", "home", "/"))
    # Every other section's items and listing pages, on its site's host.
    for content in site.sections.values():
        host = host_of_profile(content.profile)
        spider = content.section.spider
        pages += [
            Page("item", f"{spider}-{item.id}", item.href, item.path, host)
            for item in sorted(content.items.values(), key=lambda item: item.id)
        ]
        starts = range(0, len(content.order) + site.page_size, site.page_size)
        pages += [
            Page("listing", f"{spider}-{s}", f"{content.listing_path}?start={s}", None, host)
            for s in starts
        ]
    for p in FIELD_LISTINGS:
        url = json.loads(p.with_suffix(".json").read_text("utf-8"))["url"]
        pages.append(Page("fixture-listing", p.stem, urlsplit(url).path, p))
    return pages


PAGES = _pages()
ITEM_PAGES = [p for p in PAGES if p.kind in ("item", "staff-item")]
LISTING_PAGES = [p for p in PAGES if p.kind in ("listing", "staff-listing", "fixture-listing")]


@functools.cache
def site_for(layout: str) -> LocalK2Site:
    return LocalK2Site(layout=layout)


@functools.cache
def served(layout: str, page: Page) -> bytes:
    """The page as the site serves it through ``layout``."""
    if page.kind == "fixture-listing":
        assert page.fixture is not None
        return render(layout, page.fixture.read_bytes(), PageContext("listing", page.path))
    reply = site_for(layout).respond(page.path, host=page.host)
    assert reply.status == 200, (layout, page)
    return reply.body


def section_name(page: Page) -> str:
    """The name of the section whose page ``page`` is ("Field Reports")."""
    category = re.match(r"^/(?:publications/)?([\w-]+)", page.path)
    found = section_of_category(category[1]) if category else None
    assert found is not None, page
    return found[1].name


def tree(layout: str, page: Page) -> lxml.html.HtmlElement:
    return parse_html(served(layout, page))


def by_class(root: lxml.html.HtmlElement, name: str) -> list[lxml.html.HtmlElement]:
    return root.xpath(f".//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]")


def text_of(element: lxml.html.HtmlElement | None) -> str:
    return " ".join(paragraphs(element)) if element is not None else ""


def visible_text(root: lxml.html.HtmlElement) -> str:
    """The page's text as a reader sees it, normalised as extraction does: the page's
    paragraphs one document as evidence of mojibake."""
    texts = paragraphs(root)
    normalise = document_normaliser(texts)
    return "\n".join(normalise(p) for p in texts)


def expected_paragraphs(page: Page) -> list[str]:
    """The body paragraphs the fixture's oracle expects (summary for staff items)."""
    assert page.fixture is not None
    oracle = json.loads(page.fixture.with_suffix(".json").read_text("utf-8"))
    text = oracle.get("body") or oracle.get("summary") or ""
    return [normalise_text(p) for p in text.split("\n\n") if p.strip()]


def inner_html(element: lxml.html.HtmlElement) -> str:
    return (
        lxml.html.tostring(element, encoding="unicode", with_tail=False)
        .split(">", 1)[1]
        .rsplit("</", 1)[0]
    )


def article_html(root: lxml.html.HtmlElement) -> str:
    """The article's own HTML in a site or k2-stock page: intro text then full text."""
    parts = by_class(root, "itemIntroText") + by_class(root, "itemFullText")
    if not parts:  # the legacy page outside K2
        parts = by_class(root, "content")
    return "".join(inner_html(part) for part in parts)


def tokens(root: lxml.html.HtmlElement) -> set[str]:
    names: set[str] = set()
    for element in root.iter():
        if isinstance(element.tag, str):
            names.update((element.get("class") or "").split())
            if element.get("id"):
                names.add(element.get("id") or "")
    return names


# -- the layout name ------------------------------------------------------------------------------


def test_an_unknown_layout_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown layout 'nope'"):
        render("nope", b"<html></html>", PageContext())
    with pytest.raises(ValueError, match="unknown layout"):
        LocalK2Site(layout="nope")
    site = LocalK2Site()
    with pytest.raises(ValueError, match="unknown layout"):
        site.layout = "wordpress"
    assert site.layout == "site"
    with pytest.raises(ValueError, match="unknown page kind"):
        PageContext(kind="sitemap")


def test_the_command_line_takes_a_layout() -> None:
    assert build_parser().parse_args([]).layout == "site"
    assert build_parser().parse_args(["--layout", "joomla"]).layout == "joomla"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--layout", "drupal"])


@pytest.mark.parametrize("page", [p for p in PAGES if p.fixture is not None], ids=str)
def test_the_site_layout_serves_the_fixture_itself(page: Page) -> None:
    assert page.fixture is not None
    assert served("site", page) == page.fixture.read_bytes()


# -- text survives every layout --------------------------------------------------------------------


@pytest.mark.parametrize("layout", [name for name in LAYOUTS if name != "unreadable"])
@pytest.mark.parametrize("page", ITEM_PAGES, ids=str)
def test_every_expected_body_paragraph_survives(layout: str, page: Page) -> None:
    text = visible_text(tree(layout, page))
    for paragraph in expected_paragraphs(page):
        assert paragraph in text, (layout, page, paragraph[:60])


@pytest.mark.parametrize("layout", ["k2-stock", "stripped", "renamed", "joomla"])
@pytest.mark.parametrize("page", ITEM_PAGES, ids=str)
def test_the_article_html_is_carried_over_unchanged(layout: str, page: Page) -> None:
    """Paragraphs, ``<br>``s, ``&nbsp;``, images and emphasis arrive exactly as published."""
    original = article_html(tree("site", page))
    root = tree(layout, page)
    if layout == "joomla":
        (body,) = root.xpath("//div[@itemprop='articleBody']")
        assert inner_html(body) == original
    elif layout == "k2-stock":
        assert article_html(root) == original
    else:  # same tree, other attributes: the same elements at the same places
        site_root = tree("site", page)
        parts = by_class(site_root, "itemIntroText") + by_class(site_root, "itemFullText")
        parts = parts or by_class(site_root, "content")
        paths = [site_root.getroottree().getpath(part) for part in parts]
        laid_out = [root.getroottree().xpath(path)[0] for path in paths]
        assert "".join(inner_html(part) for part in laid_out) == original


@pytest.mark.parametrize("page", ITEM_PAGES, ids=str)
def test_an_unreadable_item_page_holds_its_text_only_in_a_script(page: Page) -> None:
    body = served("unreadable", page)
    text = visible_text(parse_html(body))
    data = unreadable_data(body)
    assert data is not None and isinstance(data["html"], str)
    hidden = visible_text(lxml.html.fragment_fromstring(data["html"], create_parent="div"))
    for paragraph in expected_paragraphs(page):
        assert paragraph not in text
        assert paragraph in hidden
    assert "itemFullText" not in body.decode()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("page", LISTING_PAGES, ids=str)
def test_listings_still_link_every_item_and_page(layout: str, page: Page) -> None:
    site_root = tree("site", page)
    links = {a.get("href") for a in tree(layout, page).iter("a")}
    for view in by_class(site_root, "catItemView"):
        for link in view.iter("a"):
            assert link.get("href") in links, (layout, page, link.get("href"))
    for pagination in by_class(site_root, "k2Pagination"):
        for link in pagination.iter("a"):
            assert link.get("href") in links


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("page", LISTING_PAGES, ids=str)
def test_listing_teasers_survive(layout: str, page: Page) -> None:
    site_root = tree("site", page)
    text = visible_text(tree(layout, page))
    for intro in by_class(site_root, "catItemIntroText"):
        for paragraph in paragraphs(intro):
            assert normalise_text(paragraph) in text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_home_page_keeps_the_staff_publications_sidebar(layout: str) -> None:
    home = next(p for p in PAGES if p.kind == "home")
    text = visible_text(tree(layout, home))
    chrome = parse_html((DEFAULT_FIXTURES / "site_chrome.html").read_bytes())
    (sidebar,) = by_class(chrome, "staffPublications")
    for line in paragraphs(sidebar):
        assert normalise_text(line) in text


# -- what each layout renders ------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_stripped_pages_carry_no_class_or_id(page: Page) -> None:
    root = tree("stripped", page)
    assert not root.xpath("//*[@class or @id]")


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_renamed_pages_carry_no_k2_name(page: Page) -> None:
    root, site_root = tree("renamed", page), tree("site", page)
    names = tokens(root)
    assert names and all(re.fullmatch(r"t-[0-9a-f]{8}", name) for name in names)
    assert not names & tokens(site_root)
    assert [e.tag for e in root.iter()] == [e.tag for e in site_root.iter()]


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_joomla_pages_carry_no_k2_name(page: Page) -> None:
    names = tokens(tree("joomla", page))
    assert not names & K2_NAMES
    assert "site" in names and "container-component" in names


@pytest.mark.parametrize("page", ITEM_PAGES, ids=str)
def test_joomla_item_pages_are_com_content_articles(page: Page) -> None:
    root = tree("joomla", page)
    (article,) = by_class(root, "com-content-article")
    assert "item-page" in article.get("class") and article.get("itemscope") is not None
    (headline,) = root.xpath("//div[@class='page-header']/h1[@itemprop='headline']")
    assert root.xpath("//dl[contains(@class, 'article-info')]/dt[@class='article-info-term']")
    (author,) = root.xpath("//dd[@class='createdby']")
    assert text_of(author) == f"Written by: {ACCOUNT}"
    (category,) = root.xpath("//dd[@class='category-name']")
    section = section_name(page)
    assert text_of(category) == f"Category: {section}"
    (published,) = root.xpath("//dd[@class='published']/time[@itemprop='datePublished']")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00\+00:00", published.get("datetime"))
    assert text_of(published).startswith("Published: ")
    site_root = tree("site", page)
    date_line = text_of((by_class(site_root, "itemDateCreated") or by_class(site_root, "meta"))[0])
    assert published.get("datetime") == iso_datetime(date_line)
    oracle = json.loads(page.fixture.with_suffix(".json").read_text("utf-8"))  # type: ignore[union-attr]
    if oracle.get("published"):
        assert published.get("datetime").startswith(oracle["published"])
    site_title = text_of((by_class(site_root, "itemTitle") or site_root.xpath("//h1"))[0])
    assert text_of(headline) in (site_title, site_title.removesuffix(" Featured"))
    assert "Featured" not in text_of(headline)
    hits = root.xpath("//dd[@class='hits']")
    if oracle.get("hits") and page.name != "7231":  # 7231 shows its hits as a body line
        assert text_of(hits[0]) == f"Hits: {oracle['hits']}"
        assert hits[0].xpath("meta/@content") == [f"UserPageVisits:{oracle['hits']}"]
    modified = root.xpath("//dd[@class='modified']/time")
    if page.kind == "item":
        assert bool(modified) == bool(oracle.get("modified"))
        if modified:
            assert modified[0].get("datetime").startswith(oracle["modified"])
    tags = [text_of(a) for a in root.xpath("//ul[contains(@class, 'tags')]/li/a")]
    assert tags == (oracle.get("tags") or [])
    assert root.xpath("//div[@itemprop='articleBody'][@class='com-content-article__body']")


def test_joomla_shows_the_k2_image_as_a_figure_outside_the_body() -> None:
    page = next(p for p in ITEM_PAGES if p.name == "12990")
    root = tree("joomla", page)
    (figure,) = root.xpath("//figure[contains(@class, 'item-image')]")
    assert figure.xpath("img/@alt") == ["karachag"]
    assert "The Karachaganak gas condensate field" in text_of(figure.find("figcaption"))
    (body,) = root.xpath("//div[@itemprop='articleBody']")
    assert "gas condensate field" not in text_of(body)


def test_joomla_item_pages_link_their_neighbours() -> None:
    site = site_for("joomla")
    listed = [i for i in site.order if i in site.items]
    page = next(p for p in ITEM_PAGES if p.name == str(listed[1]))
    root = tree("joomla", page)
    (nav,) = root.xpath("//nav[@class='pagenavigation']")
    hrefs = nav.xpath(".//a/@href")
    assert hrefs == [site.items[listed[0]].href, site.items[listed[2]].href]
    assert "Previous article:" in text_of(nav) and "Next article:" in text_of(nav)


@pytest.mark.parametrize("page", LISTING_PAGES, ids=str)
def test_joomla_listings_are_category_blogs(page: Page) -> None:
    root, site_root = tree("joomla", page), tree("site", page)
    (blog,) = by_class(root, "com-content-category-blog")
    assert "blog" in blog.get("class").split() and blog.get("itemscope") is not None
    entries = by_class(site_root, "catItemView")
    items = root.xpath("//div[contains(@class, 'blog-items')]/div[contains(@class, 'blog-item')]")
    assert len(items) == len(entries)
    if not entries:
        assert "There are no articles in this category" in text_of(blog)
    for entry, item in zip(entries, items, strict=True):
        title = by_class(entry, "catItemTitle")
        link = title[0].find(".//a") if title else None
        heading = item.xpath(".//div[@class='page-header']/h2[@itemprop='name']")
        assert bool(heading) == bool(title)
        if link is not None:
            assert heading[0].xpath("a/@href") == [link.get("href")]
        if by_class(entry, "catItemReadMore"):
            (more,) = item.xpath(".//p[@class='readmore']/a[@class='btn btn-secondary']")
            assert text_of(more).startswith("Read more")
    pagination = by_class(site_root, "k2Pagination")
    nav = root.xpath("//nav[@class='pagination__wrapper']/ul[contains(@class, 'pagination')]")
    assert bool(nav) == bool(pagination and pagination[0].find(".//a") is not None)
    if nav:
        assert nav[0].xpath("li[contains(@class, 'page-item')]/a[@class='page-link']")
        counter = text_of(by_class(pagination[0], "k2PaginationCounter")[0])
        assert root.xpath("//p[contains(@class, 'counter')]")[0].text_content() == counter
        current = nav[0].xpath("li[contains(@class, 'active')]/a[@aria-current='true']")
        assert len(current) == 1 and current[0].get("href") == "#"


@pytest.mark.parametrize("page", ITEM_PAGES, ids=str)
def test_k2_stock_item_pages_follow_item_php(page: Page) -> None:
    root = tree("k2-stock", page)
    order = {element: n for n, element in enumerate(root.iter())}

    def one(name: str) -> lxml.html.HtmlElement:
        (element,) = by_class(root, name)
        return element

    author = one("itemAuthor")
    assert text_of(author) == f"Written by {ACCOUNT}"
    assert order[one("itemHeader")] < order[author] < order[one("itemToolbar")]
    toolbar = text_of(one("itemToolbar"))
    for label in ("font size", "Print", "E-mail"):
        assert label in toolbar
    body, links = one("itemBody"), one("itemLinks")
    # A feature article is an abstract: its text is all intro, no full text.
    (full,) = by_class(root, "itemFullText") or by_class(root, "itemIntroText")
    category = one("itemCategory")
    assert text_of(category).startswith("Published in ")
    assert order[body] < order[full] < order[links] < order[category]
    assert text_of(author) not in text_of(body)
    tags = by_class(root, "itemTagsBlock")
    if tags:
        assert order[category] < order[tags[0]] and text_of(tags[0]).startswith("Tagged under")
        assert by_class(root, "itemRelated")
    if by_class(root, "itemContentFooter"):
        assert one("itemContentFooter").getparent() is body
    for block in ("itemSocialSharing", "itemAuthorBlock", "itemAuthorLatest", "itemBackToTop"):
        assert order[links] < order[one(block)] or block == "itemSocialSharing"
    assert "Latest from admin" in text_of(one("itemAuthorLatest"))
    assert text_of(one("itemNavigation")).startswith("More in this category:")
    assert order[one("itemSocialSharing")] < order[links]


@pytest.mark.parametrize("page", LISTING_PAGES, ids=str)
def test_k2_stock_listing_entries_follow_category_item_php(page: Page) -> None:
    root, site_root = tree("k2-stock", page), tree("site", page)
    views = by_class(root, "catItemView")
    assert len(views) == len(by_class(site_root, "catItemView"))
    for view in views:
        order = {element: n for n, element in enumerate(view.iter())}
        (author,) = by_class(view, "catItemAuthor")
        assert text_of(author) == f"Written by {ACCOUNT}"
        assert author.getparent() is by_class(view, "catItemHeader")[0]
        (category,) = by_class(view, "catItemCategory")
        assert text_of(category).startswith("Published in ")
        for intro in by_class(view, "catItemIntroText"):
            assert order[intro] < order[category]
    if by_class(root, "itemListCategory"):
        assert by_class(root, "itemListCategoriesBlock")


def test_k2_stock_listings_show_each_items_created_date() -> None:
    site = site_for("k2-stock")
    page = next(p for p in LISTING_PAGES if p.kind == "listing" and p.name == "0")
    for view in by_class(tree("k2-stock", page), "catItemView"):
        href = by_class(view, "k2ReadMore")[0].get("href")
        item = next((i for i in site.items.values() if i.href == href), None)
        dates = by_class(view, "catItemDateCreated")
        if item is None:
            assert not dates
        else:
            assert text_of(dates[0]) == k2_date_line(item.path.read_bytes())


# -- the hook: overrides, broken markup and faults first, the layout last ----------------------


def test_the_layout_renders_overrides_and_broken_markup() -> None:
    site = LocalK2Site(layout="joomla")
    item = site.items[12995]
    changed = item.path.read_bytes().replace(
        b"Kyrgyzstan\xe2\x80\x99s parliamentary", b"A new lead"
    )
    site.change_item(12995, changed)
    root = parse_html(site.respond(item.href).body)
    assert "A new lead" in text_of(root.xpath("//div[@itemprop='articleBody']")[0])
    site.broken_markup = True
    root = parse_html(site.respond(item.href).body)
    assert not root.xpath("//h1[@itemprop='headline']")
    assert not root.xpath("//time[@itemprop='datePublished']")
    assert root.xpath("//div[@itemprop='articleBody']")


def test_a_hostile_page_is_laid_out_with_its_hostile_markup() -> None:
    site = LocalK2Site(layout="joomla")
    site.faults[12995] = Fault("hostile")
    body = site.respond(site.items[12995].href).body
    root = parse_html(body)
    (headline,) = root.xpath("//h1[@itemprop='headline']")
    assert headline.xpath("script") and "pwned" in lxml.html.tostring(headline, encoding="unicode")
    assert root.xpath("//div[@itemprop='articleBody']//script")


def test_transport_faults_act_on_the_laid_out_page() -> None:
    site = LocalK2Site(layout="joomla")
    site.faults[12995] = Fault("truncated")
    full = site.item_page(12995)
    assert b"com-content-article" in full
    assert site.respond(site.items[12995].href).body == full[: len(full) * 2 // 5]
    assert site.item_content(12995) == site.items[12995].path.read_bytes()


def test_every_page_is_rendered_quickly() -> None:
    """A crawl serves ~30 pages: rendering them all through every layout stays cheap."""
    import time

    started = time.perf_counter()
    for layout in LAID_OUT:
        site = LocalK2Site(layout=layout)
        for page in PAGES:
            if page.kind != "fixture-listing":
                site.respond(page.path)
    assert time.perf_counter() - started < 10
