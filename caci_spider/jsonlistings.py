"""K2's JSON category listings, read with suspicion: parsing, validation and the rows they give.

K2 answers a category listing as JSON (``<category>.json?limit=100`` or
``<category>.html?format=json``): ``{site, category, items[]}``, each item with its id, title
(HTML-escaped), link, ``introtext`` and ``fulltext`` (the item page's two body blocks), ``created``
and ``modified`` (UTC), ``hits`` and ``tags``. 100 items a request instead of 4 listing entries
and 100 item pages (docs/json-listings.md).

Nothing here trusts the answer: a page is used only when it is a JSON object with ``site`` and a
non-empty ``items`` list whose every item has an integer id, the text fields as strings, a link to
an item of this very section on the section's own host, and the section's category alias. The
body is size-capped before parsing and its nesting depth is bounded.

Rows are built through the same page object as an item page (:mod:`caci_spider.pages.item`): an
item's JSON fields are written into a K2 item view (:func:`item_html`), whose date line is
``created`` moved to the site's local date by a UTC offset learnt from a few item pages
(:func:`offset_bounds`, :func:`learn_offset`).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from caci_spider.dates import k2_date_text
from caci_spider.items import PublicationPage
from caci_spider.pages.item import item_page
from caci_spider.urls import ItemRef, category_of, host_key, item_ref

# Deeper than this is no K2 answer (an item's deepest field, its author's profile, is 4 down).
MAX_DEPTH = 12
# More items on one page than any K2 cap allows.
MAX_ITEMS = 1000
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
# K2's null date: an item never modified.
NULL_DATE = "0000-00-00 00:00:00"
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# UTC offsets in use are whole quarter hours between -12:00 and +14:00.
_QUARTER = timedelta(minutes=15)
_MIN_OFFSET, _MAX_OFFSET = timedelta(hours=-12), timedelta(hours=14)
_TIME = re.compile(r"\b(?P<hour>\d{1,2}):(?P<minute>\d{2})\b")


class JsonRefused(ValueError):
    """The JSON answer cannot be used; ``str(self)`` is the reason (crawl_runs.sources)."""


@dataclass(frozen=True)
class JsonItem:
    """One validated item of a JSON listing page."""

    ref: ItemRef
    title: str  # as K2 stores it: HTML-escaped
    introtext: str
    fulltext: str
    created: str  # UTC, "YYYY-MM-DD HH:MM:SS"
    modified: str | None  # UTC; None: never modified
    hits: int | None
    tags: tuple[str, ...]
    attachments: tuple[tuple[str, str], ...]  # (link, title)
    category_name: str
    image: str = ""
    image_caption: str = ""


def _depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        if isinstance(current, dict):
            stack.extend((child, level + 1) for child in current.values())
        elif isinstance(current, list):
            stack.extend((child, level + 1) for child in current)
    return deepest


def load(body: bytes, max_size: int) -> dict[str, Any]:
    """The JSON object of a listing answer, or :class:`JsonRefused` saying why not."""
    if len(body) > max_size:
        raise JsonRefused(f"the JSON answer is larger than {max_size} bytes, refused unread")
    text = body.strip()
    if not text:
        raise JsonRefused("the JSON answer is empty")
    if text[:1] == b"<":
        raise JsonRefused("the site answered an HTML page, not JSON")
    if re.match(rb"^[\w.$]+\s*\(", text):
        raise JsonRefused("the site answered JSONP (a script), not JSON")
    try:
        value = json.loads(text)
    except RecursionError as error:
        raise JsonRefused(f"the JSON answer is nested deeper than {MAX_DEPTH} levels") from error
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise JsonRefused(f"the JSON answer is not well-formed ({str(error)[:80]})") from error
    if not isinstance(value, dict):
        raise JsonRefused(f"the JSON answer is a {type(value).__name__}, not an object")
    if _depth(value) > MAX_DEPTH:
        raise JsonRefused(f"the JSON answer is nested deeper than {MAX_DEPTH} levels")
    return value


def parse_page(
    body: bytes, page_url: str, base_url: str, section: str, site: str, max_size: int
) -> list[JsonItem]:
    """The items of one JSON listing page of the section at path ``section`` (its
    ``Section.path``) on ``base_url`` (an empty list: a page past the end), or
    :class:`JsonRefused`."""
    category = category_of(section)
    answer = load(body, max_size)
    if not isinstance(answer.get("site"), dict):
        raise JsonRefused("the JSON answer has no site object: not K2's listing")
    items = answer.get("items")
    if not isinstance(items, list):
        raise JsonRefused("the JSON answer has no items list")
    if len(items) > MAX_ITEMS:
        raise JsonRefused(f"the JSON answer lists {len(items)} items, more than {MAX_ITEMS}")
    listed = answer.get("category")
    if isinstance(listed, dict) and listed.get("alias") != category:
        raise JsonRefused(f"the JSON answer is category {str(listed.get('alias'))[:40]!r}")
    return [_item(raw, page_url, base_url, section, site) for raw in items]


def _item(raw: Any, page_url: str, base_url: str, section: str, site: str) -> JsonItem:
    # The checks run in this order so that a bad item is refused with the first problem found.
    category = category_of(section)
    if not isinstance(raw, dict):
        raise JsonRefused("a JSON item is not an object")
    item_id = _item_id(raw)
    _require_texts(raw, item_id)
    ref = _item_ref(raw["link"], item_id, page_url, base_url, section, site)
    item_category = _item_category(raw, item_id, category)
    if not _DATETIME.match(raw["created"]):  # K2's null date is allowed: no date line
        raise JsonRefused(f"JSON item {item_id} has no created date ({raw['created'][:30]!r})")
    modified = _modified(raw)
    hits = _hits(raw)
    tags, attachments = _item_lists(raw, item_id)
    return JsonItem(
        ref=ref,
        title=raw["title"],
        introtext=raw["introtext"],
        fulltext=raw["fulltext"],
        created=raw["created"],
        modified=modified,
        hits=hits,
        tags=_tag_names(tags),
        attachments=_attachment_links(attachments),
        category_name=str(item_category.get("name") or ""),
        image=_text_or_empty(raw, "image"),
        image_caption=_text_or_empty(raw, "image_caption"),
    )


def _item_id(raw: dict[str, Any]) -> int:
    item_id = raw.get("id")
    if isinstance(item_id, str) and item_id.isdigit():
        item_id = int(item_id)  # K2 before PHP's mysqlnd prints ids as strings
    if not isinstance(item_id, int) or isinstance(item_id, bool) or item_id <= 0:
        raise JsonRefused(f"a JSON item has no integer id ({str(raw.get('id'))[:20]!r})")
    return item_id


def _require_texts(raw: dict[str, Any], item_id: int) -> None:
    for name in ("title", "introtext", "fulltext", "link", "created"):
        if not isinstance(raw.get(name), str):
            raise JsonRefused(f"JSON item {item_id} has no {name} text")


def _item_ref(
    link: str, item_id: int, page_url: str, base_url: str, section: str, site: str
) -> ItemRef:
    """The item the JSON item's link names: on the section's host, and the item itself."""
    absolute = urljoin(page_url, link)
    if host_key(urlsplit(absolute).netloc) != host_key(urlsplit(base_url).netloc):
        raise JsonRefused(f"JSON item {item_id} links off the section's host ({link[:80]!r})")
    ref = item_ref(link, page_url, base_url, section, site=site)
    if ref is None or ref.id != item_id or f"/item/{item_id}-" not in link:
        category = category_of(section)
        raise JsonRefused(f"JSON item {item_id} does not link to item {item_id} of {category}")
    return ref


def _item_category(raw: dict[str, Any], item_id: int, category: str) -> dict[str, Any]:
    item_category = raw.get("category")
    if not isinstance(item_category, dict) or item_category.get("alias") != category:
        raise JsonRefused(f"JSON item {item_id} is not in category {category}")
    return item_category


def _modified(raw: dict[str, Any]) -> str | None:
    """The modified date, or ``None`` when it is missing, malformed or K2's null date."""
    modified = raw.get("modified")
    if not isinstance(modified, str) or not _DATETIME.match(modified):
        return None
    return None if modified == NULL_DATE else modified


def _hits(raw: dict[str, Any]) -> int | None:
    hits = raw.get("hits")
    if isinstance(hits, str) and hits.isdigit():
        hits = int(hits)
    if not isinstance(hits, int) or isinstance(hits, bool) or hits < 0:
        return None
    return hits


def _item_lists(raw: dict[str, Any], item_id: int) -> tuple[list[Any], list[Any]]:
    tags = raw.get("tags") or []
    attachments = raw.get("attachments") or []
    if not isinstance(tags, list) or not isinstance(attachments, list):
        raise JsonRefused(f"JSON item {item_id} has tags or attachments that are not lists")
    return tags, attachments


def _tag_names(tags: list[Any]) -> tuple[str, ...]:
    return tuple(
        tag["name"] for tag in tags if isinstance(tag, dict) and isinstance(tag.get("name"), str)
    )


def _attachment_links(attachments: list[Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (a["link"], str(a.get("title") or ""))
        for a in attachments
        if isinstance(a, dict) and isinstance(a.get("link"), str)
    )


def _text_or_empty(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    return value if isinstance(value, str) else ""


# -- the site's UTC offset ------------------------------------------------------------------------
def utc_datetime(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def offset_bounds(
    created: str, local_day: date, local_time: tuple[int, int] | None
) -> tuple[timedelta, timedelta]:
    """The UTC offsets (``[low, high)``) under which an item created at ``created`` (UTC) shows
    ``local_day`` (and ``local_time``, when its date line prints one) on its page."""
    start = datetime(local_day.year, local_day.month, local_day.day)
    span = timedelta(days=1)
    if local_time is not None:
        start += timedelta(hours=local_time[0], minutes=local_time[1])
        span = timedelta(minutes=1)
    low = start - utc_datetime(created)
    return low, low + span


def learn_offset(bounds: Iterable[tuple[timedelta, timedelta]]) -> timedelta | None:
    """The UTC offset all ``bounds`` allow: the quarter hour nearest zero in their intersection
    (``None``: they disagree, or allow no offset in use)."""
    low, high = _MIN_OFFSET, _MAX_OFFSET + _QUARTER
    for item_low, item_high in bounds:
        low, high = max(low, item_low), min(high, item_high)
    candidates = []
    step = _MIN_OFFSET
    while step <= _MAX_OFFSET:
        if low <= step < high:
            candidates.append(step)
        step += _QUARTER
    return min(candidates, key=abs) if candidates else None


def local_time_of(date_line: str | None) -> tuple[int, int] | None:
    match = _TIME.search(date_line or "")
    return (int(match["hour"]), int(match["minute"])) if match else None


def format_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _date_line(utc_text: str, offset: timedelta) -> str:
    if utc_text == NULL_DATE:
        return ""
    local = (utc_datetime(utc_text) + offset).date()
    return f"{_WEEKDAYS[local.weekday()]}, {k2_date_text(local)}"


# -- the item view a JSON item stands for ------------------------------------------------------
def item_html(item: JsonItem, offset: timedelta) -> str:
    """A K2 item view holding the JSON item's fields, for the item page object
    (:func:`caci_spider.pages.item.item_page`): the same text rules as a fetched item page."""
    tags = "".join(
        f'<li><a href="/itemlist/tag/{html.escape(tag)}">{html.escape(tag)}</a></li>'
        for tag in item.tags
    )
    attachments = "".join(
        f'<li><a href="{html.escape(link)}">{html.escape(title)}</a></li>'
        for link, title in item.attachments
    )
    modified = (
        f'<span class="itemDateModified">Last modified on {_date_line(item.modified, offset)}'
        "</span>"
        if item.modified
        else ""
    )
    image = (
        f'<div class="itemImageBlock"><span class="itemImage"><img src="{html.escape(item.image)}"'
        f' alt="{html.escape(item.image_caption or html.unescape(item.title))}" /></span></div>'
        if item.image
        else ""
    )
    hits = f'<span class="itemHits">Read <b>{item.hits}</b> times</span>' if item.hits else ""
    return (
        f"<html><head><title>{item.title}</title></head><body>"
        '<div id="k2Container" class="itemView"><div class="itemHeader">'
        + (
            f'<span class="itemDateCreated">{_date_line(item.created, offset)}</span>'
            if item.created != NULL_DATE
            else ""
        )
        +  # K2 stores the title escaped: written as it is, it reads back unescaped.
        f'<h2 class="itemTitle">{item.title}</h2>'
        f'<div class="itemCategory"><span>Published in</span>'
        f'<a href="#">{html.escape(item.category_name)}</a></div></div>{image}'
        '<div class="itemBody">'
        f'<div class="itemIntroText">{item.introtext}</div>'
        f'<div class="itemFullText">{item.fulltext}</div>'
        "</div>"
        f'<div class="itemContentFooter">{hits}{modified}</div>'
        + (f'<div class="itemTagsBlock"><ul class="itemTags">{tags}</ul></div>' if tags else "")
        + (
            f'<div class="itemAttachmentsBlock"><ul class="itemAttachments">{attachments}</ul>'
            "</div>"
            if attachments
            else ""
        )
        + "</div></body></html>"
    )


def item_page_of(item: JsonItem, offset: timedelta, fetched_at: str) -> PublicationPage:
    """The item page's fields a JSON item gives, read by the item page object."""
    page = item_page(item_html(item, offset), item.ref, fetched_at).extract()
    if item.hits is not None:
        page.hits = item.hits  # K2 always has the counter, whether the template prints it or not
    return page
