"""What every layout knows: the layouts' names, the page's context, the site's account."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import lxml.html

from caci_spider import sources

LAYOUTS = ("site", "k2-stock", "stripped", "renamed", "joomla", "other-words", "unreadable")
# Layouts are combined with "+", applied left to right: "k2-stock+stripped" is K2's stock item
# view served by an override without classes.
COMBINE = "+"
DEFAULT_LAYOUT = "site"
PAGE_KINDS = ("item", "listing", "home")

# The site account every item was created by: K2's "Written by", Joomla's created_by.
ACCOUNT = "admin"
ACCOUNT_ID = 62
ACCOUNT_DESCRIPTION = "Editorial account of the Central Asia-Caucasus Analyst."

# Category slugs of the site and their names (a page without a category block still has one).
# From the site profiles (caci_spider.sources).
SECTIONS = sources.section_names_by_category()

Element = lxml.html.HtmlElement


def check_layout(name: str) -> str:
    """``name`` if it is a layout or a combination ``a+b``, else ValueError."""
    for part in name.split(COMBINE):
        if part not in LAYOUTS:
            raise ValueError(
                f"unknown layout {part!r}; one of {', '.join(LAYOUTS)}, or several joined by "
                f"{COMBINE!r}"
            )
    return name


@dataclass(frozen=True)
class Link:
    href: str
    title: str


@dataclass(frozen=True)
class PageContext:
    """What a template shows beyond the page itself (K2 and Joomla read it from the database)."""

    kind: str = "item"  # "item", "listing" or "home"
    path: str = "/"  # the page's path: its category, print and back-to-top links
    previous: Link | None = None  # neighbours in the category (item navigation)
    next: Link | None = None
    others: tuple[Link, ...] = ()  # other items of the category ("Latest from", "Related")
    # Listing pages: item path → its K2 created-date line, for entries that do not show one.
    entry_dates: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in PAGE_KINDS:
            raise ValueError(f"unknown page kind {self.kind!r}; one of {', '.join(PAGE_KINDS)}")
