"""Listing extraction over every listing fixture, and over the local site's own pages."""

from __future__ import annotations

import pytest

from caci_spider.pages.listing import K2ListingPage
from tests.conftest import LISTING_FIXTURES, expected_for

BASE = "https://www.cacianalyst.org"


def listing(page_path) -> K2ListingPage:
    expected = expected_for(page_path)
    return K2ListingPage(page_path.read_bytes(), expected["url"], BASE, "field-reports")


@pytest.mark.parametrize("page_path", LISTING_FIXTURES, ids=lambda p: p.stem)
def test_entries(page_path) -> None:
    entries = listing(page_path).entries()
    assert [{"id": e.id, "url": e.url, "title": e.title} for e in entries] == expected_for(
        page_path
    )["items"]


@pytest.mark.parametrize("page_path", LISTING_FIXTURES, ids=lambda p: p.stem)
def test_page_starts(page_path) -> None:
    assert listing(page_path).page_starts() == expected_for(page_path)["page_starts"]


def test_fixture_set_covers_empty_and_partial_pages() -> None:
    counts = sorted(len(expected_for(p)["items"]) for p in LISTING_FIXTURES)
    assert counts[0] == 0 and any(0 < c < 4 for c in counts) and counts[-1] == 4


def test_local_site_listing_pages_parse(local_site) -> None:
    _base, site = local_site
    seen: list[int] = []
    for start in range(0, len(site.order) + 4, 4):
        page = K2ListingPage(
            site.listing_page(start),
            f"{BASE}/publications/field-reports.html?start={start}",
            BASE,
            "field-reports",
        )
        seen += [e.id for e in page.entries()]
    assert seen == site.order
