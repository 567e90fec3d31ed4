"""The local site serves every crawled section of every site, each site on its own host.

Sections, categories, listing paths, feeds and names come from ``caci_spider.sources``; items
from ``fixtures/<spider>/items/``. The Analyst (and the staff listing) answer on the main host,
the Turkey Analyst on a port of its own; the K2 id both fixture sets hold (12997) is two pages.
Most checks go through ``LocalK2Site.respond`` (no sockets); the host tests serve for real.
"""

from __future__ import annotations

import html
import math
import re
import urllib.error
import urllib.request
from functools import cache
from urllib.parse import urlsplit

import lxml.etree
import pytest

from caci_spider import sources
from caci_spider.testworld.demo import (
    AGGREGATE_SPIDER,
    STAFF_SPIDER,
    crawl_spiders,
    crawled_sections,
    intended_faults,
    section_spider,
    shared_ids,
)
from caci_spider.testworld.localsite import (
    FAULTY_CATEGORY,
    MAIN_HOST,
    LocalK2Site,
    SectionContent,
    host_of_profile,
    hosts,
    listing_order,
    load_items,
    other_ports,
    serve,
)
from caci_spider.testworld.localsite.crawl import crawl_command
from caci_spider.testworld.localsite.faults import Fault
from tests.conftest import FIXTURES

SAME_ID = 12997  # a field report's K2 id that a Turkey Analyst item has too
SECTIONS = [
    (profile, section) for profile, section in sources.sections() if section.spider != STAFF_SPIDER
]
SECTION_IDS = [section.spider for _profile, section in SECTIONS]


@cache
def site() -> LocalK2Site:
    return LocalK2Site()


def content_of(category: str) -> SectionContent:
    content = site().section(category)
    assert content is not None, category
    return content


def hrefs(page: bytes) -> list[str]:
    # Every section's pages: /publications/… and the top-level categories' own paths.
    tops = "|".join(s.path[1:] for _p, s in sources.sections() if not s.parent)
    return re.findall(rf'href="(/(?:publications/|{tops})[^"]+)"', page.decode("utf-8"))


# -- what each section serves ---------------------------------------------------------------


def test_every_crawled_section_has_fixtures_and_its_site_a_host() -> None:
    for _profile, section in SECTIONS:
        content = content_of(section.category)
        assert content.items, f"fixtures/{section.spider}/items/ is empty"
        assert all(item.category == section.category for item in content.items.values())
        assert content.listing_path == f"{section.path}.html"
    assert hosts() == {
        MAIN_HOST: (sources.CACIANALYST, sources.SILKROADSTUDIES),
        sources.TURKEYANALYST.key: (sources.TURKEYANALYST,),
    }
    assert host_of_profile(sources.TURKEYANALYST) == "turkeyanalyst"
    assert other_ports(8088) == {"turkeyanalyst": 8089}
    assert other_ports(0) == {"turkeyanalyst": 0}


@pytest.mark.parametrize(("profile", "section"), SECTIONS, ids=SECTION_IDS)
def test_every_section_is_listed_and_paginated(profile, section) -> None:
    content = content_of(section.category)
    fixture = content.fixture_listing
    host = host_of_profile(profile)
    listed: list[str] = []
    pages = math.ceil(len(content.order) / site().page_size)
    for page in range(pages + 1):  # one past the end: the category without entries
        reply = site().respond(f"{content.listing_path}?start={page * 4}", host=host)
        assert reply.status == 200
        text = reply.body.decode("utf-8")
        entries = re.findall(r'<a class="k2ReadMore" href="([^"]+)"', text)
        assert len(entries) == (min(4, len(content.order) - page * 4) if page < pages else 0)
        listed += entries
        if fixture is not None and page * 4 in fixture.pages:
            # The fixture's own listing page, as it is (its pagination is the real site's).
            assert reply.body == fixture.pages[page * 4].read_bytes()
            continue
        assert f"<h2>{html.escape(section.name)}</h2>" in text
        if entries:
            assert text.count(f"Published in {html.escape(section.name)}") == len(entries)
        # Joomla's pagination links when the category spans pages, none on its last page's "Next".
        if pages > 1 and page < pages:
            assert f"Page {page + 1} of {pages}" in text
            assert (f'{content.listing_path}?start={(page + 1) * 4}"' in text) == (page < pages - 1)
        else:
            assert "k2Pagination" not in text
    expected = [content.items[i].href for i in content.order if i in content.items]
    assert [href for href in listed if "-unavailable.html" not in href] == expected
    assert all(urlsplit(href).path.startswith(f"{section.path}/item/")
               for href in listed)  # fmt: skip
    # The order of the section's fixture listing pages where they are the whole category, else
    # a fixed order that is neither chronological nor by id, as on the site.
    order = list(fixture.order) if fixture else listing_order(list(content.items))
    assert [i for i in content.order if i in content.items] == order


def test_listings_come_from_fixture_html_or_from_the_item_pages(tmp_path) -> None:
    served = {c.section.spider for c in site().sections.values() if c.fixture_listing}
    # Fixture listing pages that are the whole category are served; a partial one is not.
    assert {"analytical_articles", "turkey_analyst", "feature_articles"} <= served
    assert "silk_road_papers" not in served and FAULTY_CATEGORY not in site().sections
    # A test that reorders a section gets a synthesized listing of the new order.
    content = content_of(sources.section_of("analytical_articles")[1].category)
    listing = content.fixture_listing
    assert listing is not None
    content.order.reverse()
    try:
        page = site().respond(f"{content.listing_path}?start=0").body
        assert page != listing.pages[0].read_bytes()
        assert re.findall(rb'class="k2ReadMore" href="([^"]+)"', page)[0].decode() == (
            content.items[content.order[0]].href
        )
    finally:
        content.order.reverse()
    # A synthesized listing reads its titles from the item pages, without their oracles: a
    # legacy page with an empty itemTitle is listed under the title K2 holds (its <title>).
    items = tmp_path / "items"
    items.mkdir()
    legacy = next((FIXTURES / "field_reports" / "items").glob("7315-*.html"))
    (items / legacy.name).write_bytes(legacy.read_bytes())
    bare = LocalK2Site(tmp_path)
    bare.items = load_items(items)
    bare.order = [7315]
    text = bare.listing_page(0)
    assert "SADJAYA’S DEATH THROWS GEORGIAN POLITICS INTO TURMOIL" in html.unescape(text)


def test_only_the_field_reports_carry_the_listing_faults() -> None:
    for _profile, section in SECTIONS:
        content = content_of(section.category)
        stale = [i for i in content.order if i not in content.items]
        if section.category == FAULTY_CATEGORY:
            assert stale and content.failing
        else:
            assert stale == [] and content.failing == {} and content.faults == {}


@pytest.mark.parametrize(("profile", "section"), SECTIONS, ids=SECTION_IDS)
def test_item_pages_under_their_own_category(profile, section) -> None:
    content = content_of(section.category)
    host = host_of_profile(profile)
    for item in content.items.values():
        reply = site().respond(item.href, host=host)
        assert reply.status == 200
        assert reply.body == item.path.read_bytes()
        # Any alias, and the print view, serve the same page.
        other_alias = f"{section.path}/item/{item.id}-x.html"
        assert site().respond(f"{other_alias}?tmpl=component&print=1", host=host).body == (
            reply.body
        )
        # Under another section's category it is not there (unless that section has the id).
        for _p, other in SECTIONS:
            if other.category == section.category:
                continue
            elsewhere = f"{other.path}/item/{item.id}-{item.alias}.html"
            answer = site().respond(elsewhere, host=host)
            if answer.status == 200:
                assert answer.body != reply.body
    unknown = f"{section.path}/item/1-nothing.html"
    assert site().respond(unknown, host=host).status == 404


@pytest.mark.parametrize(("profile", "section"), SECTIONS, ids=SECTION_IDS)
def test_feeds_per_section(profile, section) -> None:
    content = content_of(section.category)
    host = host_of_profile(profile)
    headers = {"Host": "127.0.0.1:1234"}
    rss = site().respond(f"{section.path}.feed", headers, host)
    assert rss.status == 200 and "rss+xml" in rss.content_type
    channel = lxml.etree.fromstring(rss.body)
    assert channel.findtext("channel/title") == section.name
    links = [urlsplit(link).path for link in channel.xpath("//item/link/text()")]
    assert links and len(links) == min(10, len(content.items))
    assert set(links) <= {item.href for item in content.items.values()}
    atom = site().respond(f"{content.listing_path}?format=feed&type=atom", headers, host)
    assert atom.status == 200 and b"<entry>" in atom.body
    # The other host has no such feed.
    other = next(key for key in hosts() if key != host)
    assert site().respond(f"{section.path}.feed", headers, other).status == 404


def test_the_feature_articles_pdfs_are_served_on_their_host() -> None:
    assert site().section_pdfs, "a feature article fixture links its PDF"
    for path, (host, lines) in site().section_pdfs.items():
        reply = site().respond(path, host=host)
        assert reply.status == 200 and reply.content_type == "application/pdf"
        assert reply.body.startswith(b"%PDF-") and lines[0]
        other = next(key for key in hosts() if key != host)
        assert site().respond(path, host=other).status == 404


# -- two hosts ------------------------------------------------------------------------------


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def test_the_two_hosts_serve_their_own_sites_only() -> None:
    with serve(LocalK2Site()) as (base_url, served):
        turkey = served.base_urls["turkeyanalyst"]
        assert served.base_urls == {
            "cacianalyst": base_url,
            "silkroadstudies": base_url,
            "turkeyanalyst": turkey,
        }
        assert urlsplit(turkey).port != urlsplit(base_url).port
        for profile, section in sources.sections():
            own = served.base_urls[profile.key]
            other = turkey if own == base_url else base_url
            listing = f"{section.path}.html"
            assert get(own + listing)[0] == 200, (profile.key, listing)
            assert get(other + listing)[0] == 404, (profile.key, listing)
        for url in (base_url, turkey):
            status, robots = get(f"{url}/robots.txt")
            assert status == 200 and b"Disallow: /administrator/" in robots
            assert get(f"{url}/")[0] == 200
        status, home = get(f"{turkey}/")
        assert b"/publications/turkey-analyst-articles.html" in home
        assert b"Central Asia-Caucasus Analyst" not in home  # not the Analyst's chrome
        assert get(f"{turkey}/images/pdf/caspian-energy-paper.pdf")[0] == 404


def test_the_same_k2_id_is_two_pages_on_two_hosts() -> None:
    field_report = site().items[SAME_ID]
    turkey_item = content_of("turkey-analyst-articles").items[SAME_ID]
    assert field_report.path != turkey_item.path
    with serve(LocalK2Site()) as (base_url, served):
        turkey = served.base_urls["turkeyanalyst"]
        status, caci_page = get(base_url + field_report.href)
        assert status == 200 and caci_page == field_report.path.read_bytes()
        status, turkey_page = get(turkey + turkey_item.href)
        assert status == 200 and turkey_page == turkey_item.path.read_bytes()
        assert caci_page != turkey_page
        # Each one's path on the other host: 404.
        assert get(turkey + field_report.href)[0] == 404
        assert get(base_url + turkey_item.href)[0] == 404


def test_field_report_faults_stay_on_field_reports_and_sections_take_their_own() -> None:
    local = LocalK2Site()
    turkey_item = local.sections["turkey-analyst-articles"].items[SAME_ID]
    local.faults[SAME_ID] = Fault("status", 503)
    local.failing[SAME_ID] = 500
    assert local.respond(local.items[SAME_ID].href).status == 503
    assert local.respond(turkey_item.href, host="turkeyanalyst").status == 200
    # A section's own fault, acted out on its own page.
    local.sections["turkey-analyst-articles"].faults[SAME_ID] = Fault("truncated")
    body = local.respond(turkey_item.href, host="turkeyanalyst").body
    full = turkey_item.path.read_bytes()
    assert body == full[: len(full) * 2 // 5]


def test_a_layout_renders_a_new_sections_pages() -> None:
    content = LocalK2Site(layout="k2-stock").sections["analytical-articles"]
    local = LocalK2Site(layout="k2-stock")
    item = next(iter(content.items.values()))
    page = local.respond(item.href).body.decode("utf-8")
    assert page != item.path.read_text("utf-8")
    # The stock template's navigation and "Latest from" link the item's own section.
    linked = hrefs(page.encode())
    assert any(href.startswith("/publications/analytical-articles/item/") for href in linked)
    assert not any(href.startswith("/publications/field-reports/item/") for href in linked)
    turkey = local.sections["turkey-analyst-articles"]
    listing = local.respond(turkey.listing_path, host="turkeyanalyst").body.decode("utf-8")
    assert "turkey-analyst-articles/item/" in listing


# -- the crawl commands and the demo's crawls -----------------------------------------------


def settings_of(command: list[str]) -> dict[str, str]:
    pairs = [command[i + 1] for i, word in enumerate(command) if word == "-s"]
    return dict(pair.split("=", 1) for pair in pairs)


def test_crawl_commands_carry_every_sites_base_url(tmp_path) -> None:
    urls = {"cacianalyst": "http://127.0.0.1:1", "silkroadstudies": "http://127.0.0.1:1",
            "turkeyanalyst": "http://127.0.0.1:2"}  # fmt: skip
    settings = settings_of(crawl_command("publications", "http://127.0.0.1:1", tmp_path, urls))
    assert settings["CACI_BASE_URL"] == settings["SILKROAD_BASE_URL"] == "http://127.0.0.1:1"
    assert settings["TURKEY_ANALYST_BASE_URL"] == "http://127.0.0.1:2"
    turkey_only = crawl_command("turkey_analyst", "http://127.0.0.1:1", tmp_path, "http://x:2")
    assert settings_of(turkey_only)["TURKEY_ANALYST_BASE_URL"] == "http://x:2"
    # Without the Turkey host, its setting still points at the local site (404), never live.
    alone = settings_of(crawl_command("field_reports", "http://127.0.0.1:1", tmp_path))
    assert alone["TURKEY_ANALYST_BASE_URL"] == "http://127.0.0.1:1"


def test_the_demo_crawls_publications_once_the_project_has_it() -> None:
    every = frozenset(section.spider for _p, section in sources.sections())
    assert crawl_spiders(every | {AGGREGATE_SPIDER}) == (AGGREGATE_SPIDER, STAFF_SPIDER)
    assert crawl_spiders(every) == (*SECTION_IDS, STAFF_SPIDER)
    assert crawl_spiders(frozenset({"field_reports", STAFF_SPIDER})) == (
        "field_reports",
        STAFF_SPIDER,
    )
    crawled = crawled_sections((AGGREGATE_SPIDER, STAFF_SPIDER))
    assert [section.spider for _p, section in crawled] == [*SECTION_IDS, STAFF_SPIDER]
    assert crawl_spiders()[-1] == STAFF_SPIDER


def test_a_url_names_its_section() -> None:
    for _profile, section in sources.sections():
        assert section_spider(f"http://h:1/publications/{section.category}/item/1-a.html") == (
            section.spider
        )
        assert section_spider(f"http://h:1/publications/{section.category}.html?start=4") == (
            section.spider
        )
    assert section_spider("http://h:1/", "fallback") == "fallback"
    assert section_spider("http://h:1/publications/field-reportsx.html", "x") == "x"


def test_the_demo_knows_the_k2_id_two_sites_share() -> None:
    spiders = (AGGREGATE_SPIDER, STAFF_SPIDER)
    shared = shared_ids(site(), intended_faults(site(), spiders), spiders)
    assert list(shared) == [SAME_ID]
    assert [(p.key, s.spider) for p, s in shared[SAME_ID]] == [
        ("cacianalyst", "field_reports"),
        ("turkeyanalyst", "turkey_analyst"),
    ]
    # A crawl of one site alone shares nothing.
    assert shared_ids(site(), [], ("field_reports",)) == {}
