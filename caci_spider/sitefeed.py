"""A K2 category's feed (RSS 2.0 or Atom), read for the ids it lists and nothing else.

K2 publishes a feed for every category at ``<category path>.feed`` (equivalently
``?format=feed&type=rss``; ``type=atom`` for Atom): the newest 10 items by creation date, each
with its item link, title, creation date, category, author and intro text. An incremental run
reads it to learn which ids are new (:mod:`caci_spider.spiders.base`); every field of a stored
row still comes from the item page.

Parsed with the standard library's ElementTree through ``defusedxml`` (a Scrapy dependency),
which refuses any DTD: no entity expansion (billion laughs), no external entities. Its size is
capped before parsing by the request's ``download_maxsize`` (``CACI_FEED_MAXSIZE``). Why not
feedparser: docs/contributing.md, "Dependencies".
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from caci_spider.urls import ItemRef, item_ref

ATOM = "{http://www.w3.org/2005/Atom}"


class FeedRefused(ValueError):
    """The feed cannot be used; ``str(self)`` is the reason, for the WARNING and crawl_runs."""


@dataclass(frozen=True)
class FeedEntry:
    ref: ItemRef
    title: str | None
    created: str | None  # as the feed prints it (pubDate or published), not parsed


def feed_path(section: str) -> str:
    """K2's feed of the section at path ``section``: ``publications/field-reports.feed``."""
    return f"{section.lstrip('/')}.feed"


def parse_feed(
    body: bytes, feed_url: str, base_url: str, section: str, max_size: int | None = None
) -> list[FeedEntry]:
    """The entries of an RSS 2.0 or Atom feed, newest first as the feed lists them.

    Raises :class:`FeedRefused` when the body is not XML, carries a DTD (entity declarations:
    entity expansion or external entities), is neither RSS nor Atom, lists no items, or lists
    an item without a K2 item link of the section at path ``section`` on ``base_url``.
    """
    if max_size is not None and len(body) > max_size:
        raise FeedRefused(f"the feed is larger than {max_size} bytes, refused unread")
    if not body.strip():
        raise FeedRefused("the feed is empty")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise FeedRefused(f"the feed is hostile XML, refused ({type(error).__name__})") from error
    except ParseError as error:
        raise FeedRefused(f"the feed is not well-formed XML ({error})") from error
    if root.tag == "rss":
        items = [(_text(item, "link") or _text(item, "guid"), item) for item in root.iter("item")]
        title_tag, date_tag = "title", "pubDate"
    elif root.tag == f"{ATOM}feed":
        items = [(_atom_link(entry), entry) for entry in root.iter(f"{ATOM}entry")]
        title_tag, date_tag = f"{ATOM}title", f"{ATOM}published"
    else:
        raise FeedRefused(f"the feed is neither RSS nor Atom (root element <{root.tag[:40]}>)")
    if not items:
        raise FeedRefused("the feed lists no items")
    entries = []
    for link, element in items:
        # The spider keys the entries by its target's site (a feed knows only its base URL).
        ref = item_ref(link or "", feed_url, base_url, section, site="")
        if ref is None:
            raise FeedRefused(f"a feed item has no K2 item link of this section ({link!r:.80})")
        entries.append(FeedEntry(ref, _text(element, title_tag), _text(element, date_tag)))
    return entries


def _text(element: Element, tag: str) -> str | None:
    child = element.find(tag)
    text = (child.text or "").strip() if child is not None else ""
    return text or None


def _atom_link(entry: Element) -> str | None:
    for link in entry.findall(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href")
    return None
