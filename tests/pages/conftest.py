"""The fixture harness: a test per fixture page × field, generated from the fixtures on disk.

The fixtures, their URLs and how each page type is read (its page object, then the steps a
crawl runs) come from :mod:`caci_spider.testworld.fixtures`. A test function asks for:

* ``fixture_field``: ``(page, key)`` for every key of every fixture's oracle, its inputs
  (a listing's ``url``) and later steps' annotations (``duplicate_of``) aside;
* ``page_kind``: every page type of the catalogue;
* ``good_item``: every article item fixture (every section's) whose oracle is a row.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from caci_spider.testworld.fixtures import KINDS, FixturePage, all_fixture_pages, article_item_pages


def oracle_keys(page: FixturePage) -> list[str]:
    skipped = (*page.kind.inputs, *page.kind.annotations)
    return [key for key in page.expected() if key not in skipped]


@functools.cache
def read(page: FixturePage) -> dict[str, Any]:
    """What the page gives, oracle-shaped; read once per test process."""
    return page.read()


def good_items() -> list[FixturePage]:
    return [page for page in article_item_pages() if "reject" not in page.expected()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "fixture_field" in metafunc.fixturenames:
        pairs = [(page, key) for page in all_fixture_pages() for key in oracle_keys(page)]
        ids = [f"{page.kind.name}-{page.name}-{key}" for page, key in pairs]
        metafunc.parametrize("fixture_field", pairs, ids=ids)
    if "page_kind" in metafunc.fixturenames:
        metafunc.parametrize("page_kind", list(KINDS.values()), ids=list(KINDS))
    if "good_item" in metafunc.fixturenames:
        pages = good_items()
        metafunc.parametrize(
            "good_item", pages, ids=[f"{page.kind.name}-{page.name}" for page in pages]
        )
