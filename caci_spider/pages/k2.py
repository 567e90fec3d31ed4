"""Helpers shared by the K2 page objects: class lookups and the page chrome to leave out."""

from __future__ import annotations

import functools
import re

from lxml import etree

from caci_spider.sources import Boilerplate, boilerplate_pattern

# Lines that end an article body on every era of the site (docs/site-notes.md, "Item pages: what
# comes in which order", items 6–10), the blocks that follow the body in stock K2's item view
# (author block, "Latest from", related items, navigation, "back to top") and in Joomla's
# article view (its info block below the text, article navigation), and the sidebars. Forms a
# sentence could begin with are matched as whole lines only, so that prose ("Latest from Moscow
# comes word that…") never ends a body. A site's own footer blurbs and newsletter headings are
# added per site (body_end).
_K2_BODY_END_HEAD = (
    r"^(?:read\s+[\d,]+\s+times\b|last\s+modified\s+on\s+\S.{0,60}\d{4}\b"
    r"|last\s+updated:?\s+[^.!?]{0,60}\d{4}$|hits:\s*[\d,]+$"
    r"|visit\s+also$|staff\s+publications$|tagged\s+under(?:$|:|\s+\S+[^.!?]*$)"
    r"|sign\s+up\s+for\s+upcoming\s+events"
)
_K2_BODY_END_TAIL = (
    r"|more\s+in\s+this\s+category(?:\s*:.*|$)|related\s+items(?:\s+\(by\s+tag\))?\s*:?$"
    r"|latest\s+from\s+[^.!?]{1,60}$|back\s+to\s+top$|tweet$"
    r"|(?:previous|next)\s+article\s*:.*"
    r"|(?:[«‹]\s*)?(?:prev(?:ious)?|next)(?:\s+article)?(?:\s*[»›])?$)"
)


@functools.cache
def body_end(boilerplate: Boilerplate) -> re.Pattern[str]:
    """The lines that end an article body on a site with ``boilerplate`` (its profile's, in
    caci_spider.sources): K2's and Joomla's own, and that site's footer blurbs and newsletter
    and sidebar headings, never another site's."""
    site = boilerplate_pattern(boilerplate)
    return re.compile(
        _K2_BODY_END_HEAD + (f"|{site}" if site else "") + _K2_BODY_END_TAIL, re.IGNORECASE
    )


# The lines that end a body on any K2 site, before a site's own boilerplate.
BODY_END = body_end(Boilerplate())
PUBLISHED_IN = re.compile(r"^published\s+in\s+(?P<section>.+?)\s*$", re.IGNORECASE)
# Lines the item view prints around the article's head that are not the article: K2's toolbar
# (font resizer, "Print", "E-mail"), rating and social buttons, its author block ("Written by
# <account>": a site account, not the article's author), the "Featured" badge, and Joomla's
# info block ("Details", "Written by: …", "Category: …", "Published: …", "Hits: …").
HEAD_CHROME = re.compile(
    r"^(?:print(?:\s+this\s+page)?|e-?mail|tweet|share|like|font\s+size|(?:de|in)crease\s+font\s+size"
    r"|rate\s+this\s+item\b.*|\(\s*\d+\s+votes?\s*\)|featured|details|written\s+by\b.*"
    r"|created\s+by\b.*|category:.*|parent\s+category:.*|published:.*|created:.*"
    r"|last\s+updated:.*|hits:\s*[\d,]+)$",
    re.IGNORECASE,
)
# "Tagged under" (K2) heads the tag links of an item in the text route.
TAGGED_UNDER = re.compile(r"^\s*tagged\s+under\b", re.IGNORECASE)


def class_xpath(*classes: str) -> str:
    """XPath matching any element carrying one of ``classes`` (K2's class names)."""
    # The plain ``contains`` first: it rejects most elements without building a string.
    tests = " or ".join(
        f"(contains(@class, '{name}')"
        f" and contains(concat(' ', normalize-space(@class), ' '), ' {name} '))"
        for name in classes
    )
    return f".//*[{tests}]"


@functools.cache
def compiled_class_xpath(*classes: str, first: bool = False) -> etree.XPath:
    """:func:`class_xpath` compiled once; ``first`` lets libxml2 stop at the first match."""
    expression = class_xpath(*classes)
    return etree.XPath(f"({expression})[1]" if first else expression)


def first_by_class(root: etree._Element, *classes: str) -> etree._Element | None:
    found = compiled_class_xpath(*classes, first=True)(root)
    return found[0] if found else None


class ClassIndex:
    """The elements carrying each class, from one pass over a page.

    Gives what :func:`first_by_class` and :func:`class_xpath` give for the whole page (tokens
    split on the same XML whitespace as XPath's ``normalize-space``, document order) without
    walking the page once per lookup: an item page asks for six classes.
    """

    _CLASSED = etree.XPath(".//*[@class]")
    _TOKEN_SEPARATOR = re.compile(r"[ \t\r\n]+")

    def __init__(self, root: etree._Element) -> None:
        self._elements = self._CLASSED(root)
        self._positions: dict[str, list[int]] = {}
        for position, element in enumerate(self._elements):
            for name in set(self._TOKEN_SEPARATOR.split(element.get("class"))):
                if name:
                    self._positions.setdefault(name, []).append(position)

    def first(self, *classes: str) -> etree._Element | None:
        found = [self._positions[name][0] for name in classes if name in self._positions]
        return self._elements[min(found)] if found else None

    def all(self, *classes: str) -> list[etree._Element]:
        """Every element carrying one of ``classes``, in document order."""
        found: set[int] = set()
        for name in classes:
            found.update(self._positions.get(name, ()))
        return [self._elements[position] for position in sorted(found)]


def has_class(element: etree._Element, *classes: str) -> bool:
    names = (element.get("class") or "").split()
    return any(name in names for name in classes)
