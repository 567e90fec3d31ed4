"""URL grammar of a Joomla + K2 site: item identity, host variants, listing pages.

The K2 id is the identity of a publication: ``/item/7315-any-alias.html``, its print view
(``?tmpl=component&print=1``), other query strings and the host variants ``cacianalyst.org``,
``www.cacianalyst.org`` and ``cacianalyst.org.`` (trailing dot) are one item.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from w3lib.url import add_or_replace_parameter, safe_url_string

from caci_spider.sources import DEFAULT_PARENT, sections, site_hosts, staff_section

# The paths of a K2 site's sections, spelled here only: a category hangs under its menu parent
# (``Section.parent``), ``/publications/<category>``, or at the top, ``/<category>``; its
# listing is that + ``.html``, its feed that + ``.feed``, an item that +
# ``/item/<id>-<alias>.html``. ``section`` is the section's path (its ``Section.path``), the
# category its last segment.
ITEM_PATH = re.compile(
    r"^(?P<section>(?:/[\w-]+)*/(?P<category>[\w-]+))/item/(?P<id>\d+)(?:-[^/]*)?\.html$"
)


def section_path(parent: str, category: str) -> str:
    """``/publications/field-reports`` (``/silkroadstudies-news`` for a top-level category)."""
    return f"/{parent}/{category}" if parent else f"/{category}"


def category_of(path: str) -> str:
    """The K2 category of the section at ``path``: its last segment."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def category_path(category: str) -> str:
    """The path of a section declared in caci_spider.sources, found by its category; an unknown
    category is taken to hang under :data:`~caci_spider.sources.DEFAULT_PARENT`, as K2's article
    categories of these sites do. Only for the local test site and tests, which serve the
    declared sections: a crawl passes its section's own path (``Section.path``) instead, so a
    section declared elsewhere (a test profile) or two sections of one slug on two sites work."""
    found = next((s for _, s in sections() if s.category == category), None)
    return found.path if found is not None else section_path(DEFAULT_PARENT, category)


def item_path_match(path: str, section: str) -> re.Match[str] | None:
    """The :data:`ITEM_PATH` match of an item path of the section at path ``section``
    (``/publications/silkroadstudies-news/item/…`` is no item of ``/silkroadstudies-news``)."""
    match = ITEM_PATH.match(path)
    if match is None or match["section"] != section:
        return None
    return match


# Hosts whose links are the site's own, whatever base URL the crawl runs against: every
# profile's hosts (caci_spider.sources).
SITE_HOSTS = site_hosts()
_MAX_URL_LENGTH = 2083  # longer links are garbage, not items
# The site and K2 category of the institute's "Staff Publications" (silkroadstudies.org).
STAFF_SITE_PROFILE, STAFF_SECTION = staff_section()
STAFF_CATEGORY = STAFF_SECTION.category
STAFF_PATH = STAFF_SECTION.path


@dataclass(frozen=True)
class ItemRef:
    id: int
    url: str
    # The profile key of the site the item is on (caci_spider.sources): a K2 id is unique only
    # within its site. "" where the site is not known yet (a listing's or feed's links, which
    # the spider keys by its target's site).
    site: str


def host_key(netloc: str) -> str:
    """``WWW.CaciAnalyst.org.`` → ``cacianalyst.org``; ports are kept (local sites)."""
    host, sep, port = netloc.lower().rpartition(":")
    if not sep or not port.isdigit():
        host, port = netloc.lower(), ""
    if port in ("80", "443"):  # default ports name the same site
        port = ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return f"{host}:{port}" if port else host


def domain_of(base_url: str) -> str:
    """The domain for Scrapy's ``allowed_domains`` (no port, no ``www.``)."""
    return host_key(urlsplit(base_url).hostname or "")


def is_same_site(url: str, base_url: str) -> bool:
    """True when ``url`` is on the base host or one of the site's own host variants."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return False
    key = host_key(parts.netloc)
    return key == host_key(urlsplit(base_url).netloc) or key in SITE_HOSTS


def item_ref(href: str, page_url: str, base_url: str, section: str, site: str) -> ItemRef | None:
    """The canonical item a link points to, or ``None`` when it is not an item of the section at
    path ``section`` (its ``Section.path``: ``/publications/field-reports``).

    The canonical URL is ``base_url`` + the item path, with no query and no fragment; ``site``
    is the profile key of the site ``base_url`` is (caci_spider.sources).
    """
    href = (href or "").strip()
    if not href or len(href) > _MAX_URL_LENGTH:
        return None
    absolute = urljoin(page_url, href)
    if not is_same_site(absolute, base_url):
        return None
    match = item_path_match(urlsplit(absolute).path, section)
    if not match:
        return None
    url = safe_url_string(base_url.rstrip("/") + match.group(0))
    return ItemRef(int(match["id"]), url, site)


def listing_url(base_url: str, category_path: str, start: int) -> str:
    """``{base}/publications/field-reports.html?start=N``."""
    return add_or_replace_parameter(
        f"{base_url.rstrip('/')}/{category_path.strip('/')}", "start", str(start)
    )


def listing_start(url: str) -> int | None:
    """The ``?start=`` / ``?limitstart=`` offset of a listing URL (0 when absent)."""
    query = urlsplit(url).query
    match = re.search(r"(?:^|&)(?:limit)?start=(\d+)", query)
    if match:
        return int(match.group(1))
    return 0


def is_staff_listing_or_item(url: str) -> bool:
    """True for the full staff listing and its item pages (the authoritative copies)."""
    path = urlsplit(url).path
    return path.startswith(STAFF_PATH)


def is_loopback(url: str | None) -> bool:
    """A URL on a loopback address: the local site (a test or demo crawl), never a live one."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
