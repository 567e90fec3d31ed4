"""Faults the local K2 site can act out, one item page at a time.

Each :class:`Fault` turns the normal reply for an item into a misbehaving one: error statuses,
slow or dropped connections, truncated or oversized pages, unlabelled windows-1252, redirect
loops and off-site redirects, throttling, hostile markup. ``site.faults[item_id] = Fault(...)``
switches one on for a field report (``site.sections[category].faults[item_id]`` for an item of
another section); ``times`` makes it transient (the page recovers after that many requests).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caci_spider.testworld.localsite import LocalK2Site, Reply

KINDS = (
    "status",  # answer ``status`` (500, 404, 410, …)
    "slow",  # answer after ``delay`` seconds
    "drop",  # close the connection without an answer
    "dataloss",  # declare a longer Content-Length than is sent
    "truncated",  # a complete answer holding the first 40 % of the page
    "empty",  # 200 with an empty body
    "huge",  # the page padded beyond DOWNLOAD_MAXSIZE
    "cp1252",  # the page in windows-1252, no charset anywhere
    "redirect-loop",  # 302 to itself
    "redirect-offsite",  # 302 to ``target`` on another host
    "throttle",  # 429 with Retry-After: ``delay``
    "hostile",  # <script>, control characters and a lone surrogate in title and body
)

_CHARSET_META = re.compile(rb"<meta[^>]*charset[^>]*>", re.IGNORECASE)


@dataclass
class Fault:
    kind: str
    status: int = 500
    delay: float = 0.0
    times: int = 0  # 0: always; n: the first n requests only
    target: str = ""  # redirect-offsite: the other host's base URL
    size: int = 3 * 1024 * 1024  # huge: bytes of padding

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(KINDS)}")

    def reply(
        self, site: LocalK2Site, item_id: int, path: str, attempt: int, category: str = ""
    ) -> Reply | None:
        """The faulty reply, or ``None`` once a transient fault has passed. ``category``: the
        item's section (default: the field reports)."""
        from caci_spider.testworld.localsite import FAULTY_CATEGORY, Reply

        if self.times and attempt > self.times:
            return None
        category = category or FAULTY_CATEGORY
        content = site.section(category)
        known = content is not None and item_id in content.items
        page = site.item_page(item_id, category) if known else b""
        match self.kind:
            case "status":
                return Reply(self.status, f"<h1>Error {self.status}</h1>".encode())
            case "slow":
                return Reply(200, page, delay=self.delay)
            case "drop":
                return Reply(200, b"", drop=True)
            case "dataloss":
                return Reply(200, page[: len(page) // 2], declared_length=len(page))
            case "truncated":
                return Reply(200, page[: len(page) * 2 // 5])
            case "empty":
                return Reply(200, b"")
            case "huge":
                return Reply(200, page + b"<!--" + b"x" * self.size + b"-->")
            case "cp1252":
                text = page.decode("utf-8")
                body = _CHARSET_META.sub(b"", text.encode("cp1252", errors="replace"))
                return Reply(200, body, content_type="text/html")
            case "redirect-loop":
                return Reply(302, b"", headers={"Location": path})
            case "redirect-offsite":
                return Reply(302, b"", headers={"Location": f"{self.target}{path}"})
            case "throttle":
                return Reply(429, b"Too Many Requests", headers={"Retry-After": f"{self.delay:g}"})
            case "hostile":
                return Reply(200, hostile(page))
        raise AssertionError(self.kind)


def hostile(page: bytes) -> bytes:
    """Script elements, control characters and a lone surrogate in the title and the body."""
    evil = (
        b"<script>document.title='pwned'</script>\x01\x07"
        b"<img src=x onerror=alert(1)>&#xD800;<style>p{}</style>"
    )
    page = re.sub(rb'(<h2 class="itemTitle">)', rb"\1" + evil, page, count=1)
    return re.sub(rb'(<div class="itemFullText">\s*<p>)', rb"\1" + evil, page, count=1)
