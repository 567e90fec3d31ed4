"""Helpers shared by the K2 page objects: class lookups and the page chrome to leave out."""

from __future__ import annotations

import re

from lxml import etree

# Lines that end an article body on every era of the site (SITE.md §4a, items 6–10), plus the
# sidebars that follow it.
BODY_END = re.compile(
    r"^(?:read\s+[\d,]+\s+times\b|last\s+modified\s+on\b|visit\s+also$|staff\s+publications$"
    r"|tagged\s+under\b|newsletter$|sign\s+up\s+for\s+upcoming\s+events"
    r"|the\s+central\s+asia-caucasus\s+analyst\s+is\s+a\s+biweekly)",
    re.IGNORECASE,
)
PUBLISHED_IN = re.compile(r"^published\s+in\s+(?P<section>.+?)\s*$", re.IGNORECASE)
PRINT_THIS_PAGE = re.compile(r"^print\s+this\s+page$", re.IGNORECASE)
FEATURED_BADGE = re.compile(r"\s+featured\s*$", re.IGNORECASE)


def class_xpath(*classes: str) -> str:
    """XPath matching any element carrying one of ``classes`` (K2's class names)."""
    tests = " or ".join(
        f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')" for name in classes
    )
    return f".//*[{tests}]"


def first_by_class(root: etree._Element, *classes: str) -> etree._Element | None:
    found = root.xpath(class_xpath(*classes))
    return found[0] if found else None


def has_class(element: etree._Element, *classes: str) -> bool:
    names = (element.get("class") or "").split()
    return any(name in names for name in classes)
