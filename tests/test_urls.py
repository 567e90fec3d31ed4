import pytest

from caci_spider.urls import ItemRef, domain_of, host_key, item_ref, listing_start, listing_url

BASE = "https://www.cacianalyst.org"
# A section is named by its own path (its Section.path), never looked up by category.
FIELD_REPORTS = "/publications/field-reports"
ALIAS = "7315-field-reports-caci-analyst-2002-2-27-art-7315"
CANONICAL = f"{BASE}/publications/field-reports/item/{ALIAS}.html"


@pytest.mark.parametrize(
    "href",
    [
        "/publications/field-reports/item/7315-field-reports-caci-analyst-2002-2-27-art-7315.html",
        "http://cacianalyst.org/publications/field-reports/item/7315-field-reports-caci-analyst-2002-2-27-art-7315.html",
        "https://cacianalyst.org./publications/field-reports/item/7315-field-reports-caci-analyst-2002-2-27-art-7315.html",
        "https://WWW.CACIANALYST.ORG/publications/field-reports/item/7315-field-reports-caci-analyst-2002-2-27-art-7315.html?tmpl=component&print=1",
        "/publications/field-reports/item/7315-field-reports-caci-analyst-2002-2-27-art-7315.html#comments",
    ],
)
def test_item_link_variants_are_one_item(href: str) -> None:
    assert item_ref(
        href, f"{BASE}/publications/field-reports.html", BASE, FIELD_REPORTS, "cacianalyst"
    ) == ItemRef(7315, CANONICAL, "cacianalyst")


@pytest.mark.parametrize(
    "href",
    [
        "javascript:void(0)",
        "mailto:caci2@jhu.edu",
        "https://example.org/publications/field-reports/item/7315-x.html",
        "/publications/analytical-articles/item/13302-karachaganak-and-kazakhstans-oil-policy.html",
        "/publications/field-reports/itemlist/tag/Georgia.html",
        "/publications/field-reports.html?start=4",
        "/publications/field-reports/item/" + "9" * 3000 + "-x.html",
        "",
    ],
)
def test_non_item_links_are_ignored(href: str) -> None:
    page = f"{BASE}/publications/field-reports.html"
    assert item_ref(href, page, BASE, FIELD_REPORTS, "cacianalyst") is None


def test_site_links_map_onto_a_local_base_url() -> None:
    ref = item_ref(
        "https://cacianalyst.org/publications/field-reports/item/12-a.html",
        "http://127.0.0.1:8088/publications/field-reports.html",
        "http://127.0.0.1:8088",
        FIELD_REPORTS,
        "cacianalyst",
    )
    assert ref == ItemRef(
        12, "http://127.0.0.1:8088/publications/field-reports/item/12-a.html", "cacianalyst"
    )


def test_host_key_and_domain() -> None:
    assert host_key("WWW.CaciAnalyst.org.") == "cacianalyst.org"
    assert host_key("127.0.0.1:8088") == "127.0.0.1:8088"
    assert domain_of("https://www.cacianalyst.org") == "cacianalyst.org"
    assert domain_of("http://127.0.0.1:8088") == "127.0.0.1"


def test_listing_urls() -> None:
    assert listing_url(BASE, "publications/field-reports.html", 8) == (
        f"{BASE}/publications/field-reports.html?start=8"
    )
    assert listing_start(f"{BASE}/publications/field-reports.html?start=12") == 12
    assert listing_start(f"{BASE}/publications/feature-articles.html?limitstart=4") == 4
    assert listing_start(f"{BASE}/publications/field-reports.html") == 0


def test_default_ports_are_the_same_site() -> None:
    href = "https://www.cacianalyst.org:443/publications/field-reports/item/7315-x.html"
    assert item_ref(href, BASE + "/", BASE, FIELD_REPORTS, "cacianalyst") == ItemRef(
        7315, f"{BASE}/publications/field-reports/item/7315-x.html", "cacianalyst"
    )


def test_an_item_is_of_the_section_at_its_own_path() -> None:
    """A section is its path: a top-level one (``parent=""``) or one declared nowhere in
    caci_spider.sources reads its items, and one slug under two parents is two sections."""
    top = "/tests-news/item/5-a.html"
    under = "/publications/tests-news/item/5-a.html"
    assert item_ref(top, BASE + "/", BASE, "/tests-news", "t") == ItemRef(5, BASE + top, "t")
    assert item_ref(under, BASE + "/", BASE, "/tests-news", "t") is None
    assert item_ref(under, BASE + "/", BASE, "/publications/tests-news", "t") == ItemRef(
        5, BASE + under, "t"
    )
    assert item_ref(top, BASE + "/", BASE, "/publications/tests-news", "t") is None
    deeper = "/a/b/tests-news/item/5-a.html"
    assert item_ref(deeper, BASE + "/", BASE, "/a/b/tests-news", "t") == ItemRef(
        5, BASE + deeper, "t"
    )
