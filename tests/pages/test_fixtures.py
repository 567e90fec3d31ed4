"""Every fixture page against its oracle, field by field (generated in tests/pages/conftest.py),
and every page type against its contract: no field more, none fewer."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from pathlib import Path
from typing import Any

from caci_spider.items import STAFF_KEYS, PublicationPage
from caci_spider.pages.fields import fields_of
from caci_spider.pages.listing import K2ListingPage, ListingEntry
from caci_spider.pages.staff import SidebarEntry, StaffListingEntry, parse_sidebar
from caci_spider.records import normalise_staff_publication
from caci_spider.testworld.fixtures import (
    CACI_BASE_URL,
    FIXTURES_ROOT,
    FixturePage,
    PageKind,
    find_fixture,
    fixture_pages,
    good_fixtures,
    item_kinds,
    listing_kinds,
)
from tests.pages.conftest import good_items, read

# -- one test per fixture page × field ----------------------------------------------------------


def test_field(fixture_field: tuple[FixturePage, str]) -> None:
    page, key = fixture_field
    got, want = read(page), page.expected()
    where = f"{page.html.name}: {key}"
    if key == "reject":
        assert "reject" in got, f"{where}: the page gave a row"
        assert want["reject"] in got["reject"], where
        return
    assert key in got, f"{where}: not given ({got.get('reject') or sorted(got)})"
    assert_same(got[key], want[key], where)


def assert_same(got: Any, want: Any, where: str) -> None:
    """Equal values; a list of records is compared record by record and key by key."""
    if isinstance(want, list) and want and isinstance(want[0], dict):
        assert len(got) == len(want), where
        for index, (got_record, want_record) in enumerate(zip(got, want, strict=True)):
            for key, value in want_record.items():
                assert key in got_record and got_record[key] == value, f"{where}[{index}].{key}"
    else:
        assert got == want, where


def test_derived_fields(good_item: FixturePage) -> None:
    row = read(good_item)
    assert row["word_count"] == len(row["body"].split())
    assert row["content_hash"] == hashlib.sha256(row["body"].encode()).hexdigest()


# -- no field more, none fewer, for every page type ---------------------------------------------

# What each page object must declare: the raw fields the crawl's next step takes.
_STAFF_PAGE_KEYS = {k for k in STAFF_KEYS if k not in ("id", "sources", "fetched_at")}
_ITEM_FIELDS = {f.name for f in dataclasses.fields(PublicationPage)} - {"fetched_at"}
DECLARED = {
    **{kind: _ITEM_FIELDS for kind in item_kinds()},
    **{kind: {"items", "page_starts"} for kind in listing_kinds()},
    "staff-item": _STAFF_PAGE_KEYS,
    "staff-listing": {"entries", "rejects", "page_starts"},
}
# The fields of the records some page fields list, as their oracles name them.
RECORD_FIELDS = {
    **{
        (kind, "items"): {f.name for f in dataclasses.fields(ListingEntry)}
        for kind in listing_kinds()
    },
    ("staff-listing", "entries"): {
        "item_path" if f.key == "url" else f.key for f in fields_of(StaffListingEntry)
    },
}


def test_no_extra_fields(page_kind: PageKind) -> None:
    assert {f.key for f in fields_of(page_kind.page_class)} == DECLARED[page_kind.name]
    pages = fixture_pages(page_kind.name)
    assert pages, f"no {page_kind.name} fixture"
    for page in pages:
        got, want = read(page), page.expected()
        oracle = set(want) - set(page_kind.inputs) - set(page_kind.annotations)
        if "reject" in want:
            assert set(got) == oracle == {"reject"}, page.html.name
            continue
        assert set(got) == set(page_kind.keys), page.html.name
        assert oracle == set(page_kind.compared()), page.html.name
        for (kind, key), record_fields in RECORD_FIELDS.items():
            if kind == page_kind.name:
                for got_record, want_record in zip(got[key], want[key], strict=True):
                    assert set(got_record) == set(want_record) == record_fields, page.html.name


SIDEBAR_PAGES = [FIXTURES_ROOT / "site_chrome.html", find_fixture("item", "8145-").html]


def test_sidebar_entries_have_no_extra_fields() -> None:
    """The sidebar has no oracle of its own: its entries' fields against the contract."""
    assert {f.key for f in fields_of(SidebarEntry)} == _STAFF_PAGE_KEYS
    for path in SIDEBAR_PAGES:
        outcome = parse_sidebar(path.read_bytes(), f"{CACI_BASE_URL}/", "t")
        assert outcome.publications, path.name
        for publication in outcome.publications:
            assert list(normalise_staff_publication(publication).as_row()) == list(STAFF_KEYS)


# -- the fixture set ------------------------------------------------------------------------------


def test_item_fixture_set_is_complete() -> None:
    rejected = [p for p in fixture_pages("item") if "reject" in p.expected()]
    assert len(good_items()) >= 15 and rejected


def test_listing_fixture_set_covers_empty_and_partial_pages() -> None:
    counts = sorted(len(p.expected()["items"]) for p in fixture_pages("listing"))
    assert counts[0] == 0 and any(0 < c < 4 for c in counts) and counts[-1] == 4


def test_seed_acceptance() -> None:
    row = read(find_fixture("item", "8145-"))
    assert row["title"] == "IS AZERBAIJAN TURNING TOWARDS RUSSIA?"
    assert row["authors"] == ["Fariz Ismailzade"]
    assert row["published"] == row["issue_date"] == "2004-02-11"
    assert row["hits"] == 4672
    assert row["body"].count("During his three-day visit") == 1
    assert "Aliyev's" in row["body"] and '"Moscow declaration"' in row["body"]
    assert "\\" not in row["body"]
    for chrome in ("Read 4672 times", "Visit also", "Staff Publications", "Newsletter"):
        assert chrome not in row["body"]


def test_local_site_listing_pages_parse(local_site) -> None:
    _base, site = local_site
    seen: list[int] = []
    for start in range(0, len(site.order) + 4, 4):
        page = K2ListingPage(
            site.listing_page(start),
            f"{CACI_BASE_URL}/publications/field-reports.html?start={start}",
            CACI_BASE_URL,
            "/publications/field-reports",
        )
        seen += [e.id for e in page.entries()]
    assert seen == site.order


# -- the counts tests use ----------------------------------------------------------------------


def test_good_fixtures_are_the_oracles_a_crawl_stores() -> None:
    pages = fixture_pages("item")
    good = good_fixtures("field_reports")
    broken = [p for p in pages if "reject" in p.expected() or "duplicate_of" in p.expected()]
    assert broken and set(good) == set(pages) - set(broken)
    assert all(good_fixtures(section) for section in ("feature_articles", "turkey_analyst"))


def test_a_new_fixture_is_one_more_good_fixture(tmp_path: Path) -> None:
    items = FIXTURES_ROOT / "field_reports" / "items"
    copy = tmp_path / "field_reports" / "items"
    shutil.copytree(items, copy)
    before = len(good_fixtures("field_reports", tmp_path))
    page = good_fixtures("field_reports", tmp_path)[0]
    for suffix in (".html", ".json"):
        shutil.copy(page.html.with_suffix(suffix), copy / f"99999-a-new-report{suffix}")
    assert len(good_fixtures("field_reports", tmp_path)) == before + 1
