"""What a synthesized listing shows of an item, read from the item's fixture page itself (never
from its oracle): the title K2 holds for it and the teaser its listing entry prints."""

from __future__ import annotations

from pathlib import Path

from caci_spider import sources
from caci_spider.pages.blocks import parse_html


def listed_title(page: bytes, profile: sources.SiteProfile | None = None) -> str | None:
    """The item's title as K2's database holds it: the page's ``<title>``, which K2 fills even
    where a legacy template leaves ``itemTitle`` empty (as the real listing shows those titles),
    without the site's name a template appends (" - Turkey Analyst")."""
    title = " ".join((parse_html(page).findtext(".//title") or "").split())
    for name in profile.site_names if profile else ():
        title = title.removesuffix(f" - {name}")
    return title or None


def teaser(page: bytes) -> list[str]:
    """The paragraph a K2 listing entry prints under the title: the first one of the item's
    intro text, else of its full text."""
    root = parse_html(page)
    for name in ("itemIntroText", "itemFullText"):
        block = root.xpath(f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]")
        if not block:
            continue
        for paragraph in block[0].iter("p"):
            text = " ".join(paragraph.text_content().split())
            if text:
                return [text]
    return []


def read(path: Path, profile: sources.SiteProfile | None = None) -> tuple[str | None, list[str]]:
    """(title, teaser) of the item fixture page at ``path``."""
    page = path.read_bytes()
    return listed_title(page, profile), teaser(page)
