"""Each route to the fields measured on its own: the text route (K2's class names ignored) must
give every item fixture's oracle, as the classes do (tests/pages/test_fixtures.py)."""

from __future__ import annotations

import pytest

from caci_spider.pages.item import JoomlaArticlePage, K2ItemPage, TextItemPage, item_page
from caci_spider.testworld.fixtures import FixturePage, article_item_pages, read_item_as
from caci_spider.urls import ItemRef

ITEMS = article_item_pages()


def differences(got: dict[str, object], want: dict[str, object]) -> list[str]:
    """The oracle's keys whose value differs (a reject's reason is matched as a substring)."""
    found = []
    for key, value in want.items():
        if key == "duplicate_of":
            continue  # added by de-duplication, not by extraction
        if key == "reject":
            if str(value) not in str(got.get("reject")):
                found.append(f"reject: want {value!r}, got {got.get('reject')!r}")
        elif got.get(key) != value:
            found.append(f"{key}: want {str(value)[:80]!r}, got {str(got.get(key))[:80]!r}")
    return found


@pytest.mark.parametrize("page", ITEMS, ids=[f"{page.kind.name}-{page.name}" for page in ITEMS])
def test_the_text_route_alone_gives_the_oracle(page: FixturePage) -> None:
    got = read_item_as(TextItemPage, page.html.read_bytes(), page.url)
    assert not differences(got, page.expected()), page.html.name


def test_the_text_route_ignores_every_k2_class() -> None:
    classes = [name for name in vars(K2ItemPage) if name.endswith("_CLASSES")]
    assert classes and all(getattr(TextItemPage, name) == () for name in classes)
    assert not TextItemPage.TAG_LINK_XPATH


def _ref() -> ItemRef:
    return ItemRef(
        1, "https://www.cacianalyst.org/publications/field-reports/item/1-a.html", "cacianalyst"
    )


def test_item_page_detects_joomla_articles_per_page() -> None:
    joomla = b'<html><body><div class="com-content-article item-page"><p>x</p></div></body></html>'
    k2 = b'<html><body><div class="itemView"><p>x</p></div></body></html>'
    assert type(item_page(joomla, _ref(), "t")) is JoomlaArticlePage
    assert type(item_page(k2, _ref(), "t")) is K2ItemPage
