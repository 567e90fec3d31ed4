"""K2's JSON category listing, as the local site serves it (``<category>.json?limit=N&page=P``,
or ``<category>.html?format=json``), built from the same fixture pages it serves as HTML.

The shape follows K2's itemlist view and ``K2ModelItem::prepareJSONItem``:
``{"site": {url, name}, "category": {id, alias, link, name, …}, "items": [...]}``; each item has
``id``, ``title`` (HTML-escaped, as K2 stores it), ``alias``, ``link`` (site-relative), ``catid``,
``introtext``, ``fulltext``, ``created`` and ``modified`` (``YYYY-MM-DD HH:MM:SS`` in UTC; an item
never modified has the null date), ``hits``, ``tags`` (``{name, link}``), ``attachments``,
``author`` (the K2 account), ``category``, ``featured``, ``extra_fields``.

The item fields are read from the fixture page with lxml directly (the K2 blocks' inner HTML),
never through the crawler's extraction code. Dates on the pages are site-local; the site's
``json_utc_offset`` turns them into UTC, so that a crawler has to learn it.

Behaviours (``LocalK2Site.json_mode``):

* ``new``: K2 2.10+: ``limit`` absent → the HTML page size, capped at ``json_cap``; ``page=P``
  is offset ``P*limit``; ``start``/``limitstart`` honoured without ``page``;
* ``old``: K2 2.6–2.9: ``limit`` ignored (100 a page), ``page`` counts from 1;
* ``none``: no JSON: ``.json`` answers 404, ``?format=json`` the HTML listing;
* ``jsonp``: every answer wrapped in a callback (``callback=`` or ``k2jsonp``);
* ``broken``: a cut-off body (not JSON);
* ``wrong-category``: a well-formed answer whose items belong to another category.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from datetime import datetime, timedelta

import lxml.html
from lxml import etree

from caci_spider.testworld.localsite import layouts

JSON_MODES = ("new", "old", "none", "jsonp", "broken", "wrong-category")
OLD_PAGE_SIZE = 100
# K2's null date: an item never modified.
NULL_DATE = "0000-00-00 00:00:00"
_HITS = re.compile(r"read\s+([\d,]+)\s+times", re.IGNORECASE)


def _inner_html(element: etree._Element) -> str:
    parts = [html.escape(element.text or "", quote=False)]
    parts += [etree.tostring(child, encoding="unicode", method="html") for child in element]
    return "".join(parts).strip()


def _first(root: lxml.html.HtmlElement, css_class: str) -> lxml.html.HtmlElement | None:
    found = root.xpath(f'//*[contains(concat(" ", normalize-space(@class), " "), " {css_class} ")]')
    return found[0] if found and isinstance(found[0], lxml.html.HtmlElement) else None


def _utc(line: str | None, offset: timedelta) -> str | None:
    stamp = layouts.iso_datetime(line) if line else None
    if stamp is None:
        return None
    local = datetime.fromisoformat(stamp).replace(tzinfo=None)
    return (local - offset).strftime("%Y-%m-%d %H:%M:%S")


def json_item(
    page: bytes,
    item_id: int,
    alias: str,
    href: str,
    category: dict[str, object],
    offset: timedelta,
    listed_title: str | None = None,
) -> dict[str, object]:
    """One item of K2's JSON listing, from the item's page as the site serves it (before any
    layout). ``category``: the JSON category object."""
    root = lxml.html.fromstring(page)
    # First: the title drops K2's "Featured" badge, which the page-wide hits fallback must not read.
    title = _title(root, listed_title)
    intro, full, created_line = _text_and_date(root, page)
    modified_element = _first(root, "itemDateModified")
    modified_line = modified_element.text_content() if modified_element is not None else None
    image_block = _first(root, "itemImageBlock")
    image = next(image_block.iter("img"), None) if image_block is not None else None
    return {
        "id": item_id,
        # K2 stores titles HTML-escaped (htmlspecialchars on save).
        "title": html.escape(title, quote=True),
        "alias": alias,
        "link": href,
        "catid": category["id"],
        "introtext": _inner_html(intro) if intro is not None else "",
        "fulltext": _inner_html(full) if full is not None else "",
        "extra_fields": [],
        # A page without a date line stands for an item whose date K2 does not know.
        "created": _utc(created_line, offset) or NULL_DATE,
        "created_by_alias": "",
        "modified": _utc(modified_line, offset) or NULL_DATE,
        "featured": "0",
        "image": image.get("src", "") if image is not None else "",
        "image_caption": image.get("alt", "") if image is not None else "",
        "hits": _hits(root, item_id),
        "category": category,
        "tags": _tags(root),
        "attachments": _attachments(root),
        "author": {"name": "Site Editor", "link": "", "avatar": "", "profile": ""},
        "language": "*",
    }


def _title(root: lxml.html.HtmlElement, listed_title: str | None) -> str:
    """The item title without K2's "Featured" badge (dropped from ``root``)."""
    title_element = _first(root, "itemTitle")
    title = ""
    if title_element is not None:
        for badge in title_element.xpath(".//sup"):  # K2's "Featured" badge is not the title
            badge.drop_tree()
        title = " ".join(title_element.text_content().split())
    # A legacy item whose page prints an empty title still has one in K2 (the listing shows it).
    return title or listed_title or ""


def _text_and_date(
    root: lxml.html.HtmlElement, page: bytes
) -> tuple[lxml.html.HtmlElement | None, lxml.html.HtmlElement | None, str | None]:
    """``(intro, full, created line)`` of the item page."""
    intro = _first(root, "itemIntroText")
    full = _first(root, "itemFullText")
    created_line = layouts.k2_date_line(page)
    if intro is None and full is None:
        # A page without K2's item view (an article template): its content block is the text,
        # its meta line the date.
        intro = _first(root, "content")
        meta = _first(root, "meta")
        created_line = created_line or (meta.text_content() if meta is not None else None)
    return intro, full, created_line


def _hits(root: lxml.html.HtmlElement, item_id: int) -> int:
    """The page's counter where it prints one; K2 always has one (a stable made-up count)."""
    hits_element = _first(root, "itemHits")
    hits_match = _HITS.search(
        hits_element.text_content() if hits_element is not None else root.text_content()
    )
    if hits_match:
        return int(hits_match[1].replace(",", ""))
    digest = int(hashlib.sha256(str(item_id).encode()).hexdigest()[:6], 16)
    return 100 + digest % 5000


def _tags(root: lxml.html.HtmlElement) -> list[dict[str, str]]:
    tags_element = _first(root, "itemTags")
    return [
        {"name": " ".join(link.text_content().split()), "link": link.get("href", "")}
        for link in (tags_element.iter("a") if tags_element is not None else ())
    ]


def _attachments(root: lxml.html.HtmlElement) -> list[dict[str, object]]:
    attachments_element = _first(root, "itemAttachments")
    return [
        {"id": index + 1, "link": link.get("href", ""), "title": link.text_content().strip()}
        for index, link in enumerate(
            attachments_element.iter("a") if attachments_element is not None else ()
        )
    ]


def category_object(category: str, name: str, listing_path: str) -> dict[str, object]:
    return {
        "id": int(hashlib.sha256(category.encode()).hexdigest()[:4], 16),
        "alias": category,
        "link": listing_path,
        "name": name,
        "description": "",
        "image": "",
        "ordering": 1,
        "parent": "0",
        "children": [],
    }


def page_window(
    mode: str, query: dict[str, list[str]], page_size: int, cap: int
) -> tuple[int, int]:
    """``(offset, count)`` of the items a JSON request asks for, as the K2 version of ``mode``
    reads its query."""

    def number(name: str) -> int:
        values = query.get(name) or ["0"]
        return int(values[0]) if values[0].isdigit() else 0

    page = number("page")
    if mode == "old":
        # 2.6–2.9: 100 a page whatever ``limit`` says; page counts from 1; start ignored.
        return max(page - 1, 0) * OLD_PAGE_SIZE, OLD_PAGE_SIZE
    limit = number("limit") or page_size
    if cap and limit > cap:
        limit = cap
    if page:
        return page * limit, limit
    return number("start") or number("limitstart"), limit


def render(
    mode: str,
    site: dict[str, str],
    category: dict[str, object],
    items: list[dict[str, object]],
    callback: str | None,
) -> tuple[int, bytes, str]:
    """``(status, body, content type)`` of a JSON listing in ``mode``."""
    body = json.dumps({"site": site, "category": category, "items": items}).encode()
    if mode == "jsonp" or (callback and re.fullmatch(r"[\w.]+", callback)):
        return 200, f"{callback or 'k2jsonp'}(".encode() + body + b")", "application/javascript"
    if mode == "broken":
        return 200, body[: len(body) // 2], "application/json"
    return 200, body, "application/json; charset=utf-8"
