"""Every fixture page through every template the local site can serve (see
caci_spider.testworld.localsite.layouts), read by the page objects: the same oracle as the site's
own markup. One test per fixture × layout; a difference names the fields.

This is the page-level half of the template-drift check; tests/localsite/test_drift.py crawls
the same layouts for real.
"""

from __future__ import annotations

import pytest

from caci_spider.testworld.fixtures import FixturePage, all_fixture_pages
from caci_spider.testworld.localsite.layouts import LAYOUTS, PageContext, render
from tests.pages.test_routes import differences

READABLE = [
    *(layout for layout in LAYOUTS if layout not in ("site", "unreadable")),
    # Combinations: another template served without its classes, or with them renamed.
    "k2-stock+stripped",
    "k2-stock+renamed",
    "joomla+stripped",
    "joomla+renamed",
    "other-words+stripped",
]
PAGES = all_fixture_pages()
CASES = [(page, layout) for page in PAGES for layout in READABLE]


def context_of(page: FixturePage) -> PageContext:
    kind = "listing" if page.kind.name.endswith("listing") else "item"
    return PageContext(kind=kind, path=page.site_path.split("?")[0])


def oracle_differences(page: FixturePage, got: dict[str, object]) -> list[str]:
    want = {
        key: value
        for key, value in page.expected().items()
        if key not in page.kind.inputs and key not in page.kind.annotations
    }
    return differences(got, want)


@pytest.mark.parametrize(
    ("page", "layout"),
    CASES,
    ids=[f"{page.kind.name}-{page.name}-{layout}" for page, layout in CASES],
)
def test_a_fixture_through_another_template_gives_its_oracle(
    page: FixturePage, layout: str
) -> None:
    document = render(layout, page.html.read_bytes(), context_of(page))
    got = page.kind.read(document, page.url)
    assert not oracle_differences(page, got), oracle_differences(page, got)
