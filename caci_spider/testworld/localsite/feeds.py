"""The local site's K2 category feeds, as Joomla's feed view renders them, and their faults.

K2 serves ``<category path>.feed`` (``?type=rss``, the default, or ``?type=atom``), and the same
as ``<category path>.html?format=feed&type=…``: the newest :data:`FEED_SIZE` items by creation
date. Built from the fixtures' data only: each item's created date from its K2 date line (an item
published by a test with :meth:`LocalK2Site.add_item` is created "now"), its title, authors and
first body paragraph (the intro text) from its oracle JSON.

RSS follows Joomla's ``JDocumentRendererFeedRss`` (``<rss version="2.0">``, ``<channel>``, per
item ``<title>``, ``<link>``, ``<guid isPermaLink="true">``, ``<description>`` holding the intro
HTML, ``<author>``, ``<category>``, ``<pubDate>`` in RFC 822); Atom its ``…FeedAtom`` (``<entry>``
with ``<link rel="alternate" href>``, ``<published>``, ``<updated>``, ``<summary type="html">``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

FEED_SIZE = 10
GENERATOR = "Joomla! - Open Source Content Management"

FEED_FAULTS = (
    "status",  # the feed answers 404
    "malformed",  # the RSS cut off half-way: not well-formed XML
    "oversized",  # the RSS followed by 20 MB of junk
    "entity-expansion",  # "billion laughs": nested entity declarations
    "external-entity",  # an entity that reads a local file
    "empty",  # a channel without items
    "no-links",  # items without a K2 item link
    "stale",  # frozen: items created after the fixtures' newest never show up
)
JUNK_SIZE = 20 * 1024 * 1024


@dataclass(frozen=True)
class FeedItem:
    path: str  # the item's path on the site
    title: str
    created: datetime
    authors: tuple[str, ...]
    intro: str  # plain text of the first body paragraph
    category: str


def render_rss(base: str, channel: str, listing_path: str, items: list[FeedItem]) -> bytes:
    built = max((item.created for item in items), default=datetime(2000, 1, 1, tzinfo=UTC))
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<!-- generator="{GENERATOR}" -->',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
        "\t<channel>",
        f"\t\t<title>{html.escape(channel)}</title>",
        f"\t\t<description><![CDATA[{html.escape(channel)}]]></description>",
        f"\t\t<link>{base}{listing_path}</link>",
        f"\t\t<lastBuildDate>{format_datetime(built)}</lastBuildDate>",
        f"\t\t<generator>{GENERATOR}</generator>",
        f'\t\t<atom:link rel="self" type="application/rss+xml" '
        f'href="{base}{listing_path.removesuffix(".html")}.feed?type=rss"/>',
        "\t\t<language>en-gb</language>",
    ]
    for item in items:
        url = f"{base}{item.path}"
        parts += [
            "\t\t<item>",
            f"\t\t\t<title>{html.escape(item.title)}</title>",
            f"\t\t\t<link>{url}</link>",
            f'\t\t\t<guid isPermaLink="true">{url}</guid>',
            f"\t\t\t<description><![CDATA[<p>{html.escape(item.intro)}</p>]]></description>",
            *(f"\t\t\t<author>{html.escape(name)}</author>" for name in item.authors[:1]),
            f"\t\t\t<category>{html.escape(item.category)}</category>",
            f"\t\t\t<pubDate>{format_datetime(item.created)}</pubDate>",
            "\t\t</item>",
        ]
    parts += ["\t</channel>", "</rss>", ""]
    return "\n".join(parts).encode("utf-8")


def render_atom(base: str, channel: str, listing_path: str, items: list[FeedItem]) -> bytes:
    built = max((item.created for item in items), default=datetime(2000, 1, 1, tzinfo=UTC))
    self_url = f"{base}{listing_path.removesuffix('.html')}.feed?type=atom"
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<!-- generator="{GENERATOR}" -->',
        '<feed xmlns="http://www.w3.org/2005/Atom"  xml:lang="en-gb">',
        f'\t<title type="text">{html.escape(channel)}</title>',
        f'\t<subtitle type="text">{html.escape(channel)}</subtitle>',
        f'\t<link rel="alternate" type="text/html" href="{base}{listing_path}"/>',
        f"\t<id>{self_url}</id>",
        f"\t<updated>{built.isoformat()}</updated>",
        f'\t<generator uri="https://www.joomla.org">{GENERATOR}</generator>',
        f'\t<link rel="self" type="application/atom+xml" href="{self_url}"/>',
    ]
    for item in items:
        url = f"{base}{item.path}"
        parts += [
            "\t<entry>",
            f"\t\t<title>{html.escape(item.title)}</title>",
            f'\t\t<link rel="alternate" type="text/html" href="{url}"/>',
            f"\t\t<published>{item.created.isoformat()}</published>",
            f"\t\t<updated>{item.created.isoformat()}</updated>",
            f"\t\t<id>{url}</id>",
            *(
                f"\t\t<author>\n\t\t\t<name>{html.escape(name)}</name>\n\t\t</author>"
                for name in item.authors[:1]
            ),
            f'\t\t<summary type="html"><![CDATA[<p>{html.escape(item.intro)}</p>]]></summary>',
            f'\t\t<category term="{html.escape(item.category)}" />',
            "\t</entry>",
        ]
    parts += ["</feed>", ""]
    return "\n".join(parts).encode("utf-8")


def faulty_feed(fault: str, good: bytes) -> tuple[int, bytes]:
    """(status, body) of the feed under ``fault`` (``good``: the feed as it should be)."""
    match fault:
        case "status":
            return 404, b"<html><body><h1>404 Not Found</h1></body></html>"
        case "malformed":
            return 200, good[: len(good) // 2]
        case "oversized":
            return 200, good.replace(b"</rss>", b"<!--" + b"x" * JUNK_SIZE + b"--></rss>")
        case "entity-expansion":
            declarations = '<!ENTITY lol0 "lol">' + "".join(
                f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
            )
            body = good.replace(b"<rss ", f"<!DOCTYPE rss [{declarations}]>\n<rss ".encode(), 1)
            return 200, body.replace(b"<title>", b"<title>&lol9;", 1)
        case "external-entity":
            doctype = '<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
            body = good.replace(b"<rss ", f"{doctype}<rss ".encode(), 1)
            return 200, body.replace(b"<title>", b"<title>&secret;", 1)
        case "empty":
            start, end = good.find(b"\t\t<item>"), good.rfind(b"</item>")
            return 200, good[:start] + good[end + len(b"</item>\n") :] if start >= 0 else good
        case "no-links":
            body = good
            for tag in (b"link", b"guid"):
                while (start := body.find(b"\t\t\t<" + tag)) >= 0:
                    body = body[:start] + body[body.find(b"\n", start) + 1 :]
            return 200, body
    raise ValueError(f"unknown feed fault {fault!r}; one of {', '.join(FEED_FAULTS)}")
