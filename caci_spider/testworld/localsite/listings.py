"""A section's listing pages from its fixture listing HTML (``fixtures/<spider>/listings/
start-<offset>.html``), where those pages are the whole category: served as they are, in the
order they list the items. Where they are not (the field reports, whose listing carries the
site's faults; a section whose fixture listing is a part of it), the local site synthesizes its
listing pages from the item fixture pages instead."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_START = re.compile(r"^start-(\d+)\.html$")
_ITEM_LINK = re.compile(rb'href="(/[^"?#]*/item/(\d+)-[^"?#]*\.html)"')


class Item(Protocol):
    @property
    def href(self) -> str: ...


@dataclass(frozen=True)
class FixtureListing:
    """The fixture listing pages of a section, by offset, and the item order they give."""

    pages: Mapping[int, Path]
    order: tuple[int, ...]
    page_size: int


def linked_items(page: bytes) -> list[tuple[int, str]]:
    """``(id, path)`` of the items a listing page links, each once, in the page's order."""
    found: dict[int, str] = {}
    for match in _ITEM_LINK.finditer(page):
        found.setdefault(int(match[2]), match[1].decode("utf-8"))
    return list(found.items())


def fixture_listing(
    directory: Path, items: Mapping[int, Item], page_size: int
) -> FixtureListing | None:
    """The section's fixture listing if its pages are ``start-0``, ``start-<page_size>``, …, full
    but the last, and link every item fixture of the section at its own path and nothing else;
    else None (the listing is synthesized)."""
    pages = {int(m[1]): p for p in directory.glob("*.html") if (m := _START.match(p.name))}
    if not pages or sorted(pages) != list(range(0, len(pages) * page_size, page_size)):
        return None
    order: list[int] = []
    for start in sorted(pages):
        linked = linked_items(pages[start].read_bytes())
        last = start == max(pages)
        if not linked or len(linked) > page_size or (not last and len(linked) < page_size):
            return None
        if any(item_id not in items or items[item_id].href != path for item_id, path in linked):
            return None
        order += [item_id for item_id, _path in linked]
    if sorted(order) != sorted(items):
        return None
    return FixtureListing(pages, tuple(order), page_size)
