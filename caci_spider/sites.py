"""A database belongs to the sites it was built from.

Rows carry the base URL they were fetched from, and an incremental run skips every id it has:
fixture rows of a local site in the production database would hide those ids of the real site
forever. So the database records, per base-URL setting, the site it holds (table ``sites``), and
a crawl of another site into it is refused before any request. Host variants of one site
(``www.``, bare, a trailing dot, http or https, a default port) are the same site; another port
of a loopback host is another site.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from caci_spider.sources import CACIANALYST
from caci_spider.storage.common import SITES_TABLE
from caci_spider.urls import host_key


class SiteMismatch(Exception):
    """The database was built from another site than this crawl points at."""


def site_key(base_url: str) -> str:
    return host_key(urlsplit(base_url).netloc)


def recorded_sites(connection: sqlite3.Connection) -> dict[str, str]:
    """``{setting: base URL}`` the database holds; for a database written before the ``sites``
    table existed, the Analyst's site is read off its stored publications."""
    tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    sites: dict[str, str] = {}
    if SITES_TABLE in tables:
        sites.update(connection.execute(f"SELECT setting, base_url FROM {SITES_TABLE}"))
    # The Analyst was the one site before the sites table (caci_spider.sources).
    analyst = CACIANALYST.base_url_setting
    if analyst not in sites and "publications" in tables:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(publications)")}
        # Since rows are keyed by (site, id), the Analyst's rows are those of its key.
        mine = f" WHERE site = '{CACIANALYST.key}'" if "site" in columns else ""
        row = connection.execute(
            f"SELECT url FROM publications{mine} ORDER BY id LIMIT 1"
        ).fetchone()
        if row and row[0]:
            parts = urlsplit(row[0])
            sites[analyst] = f"{parts.scheme}://{parts.netloc}"
    return sites


def check_sites(db_path: Path, base_urls: Mapping[str, str]) -> None:
    """Raise :class:`SiteMismatch` when ``db_path`` holds another site for one of the settings."""
    if not db_path.exists() or db_path.stat().st_size == 0:
        return
    connection = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        sites = recorded_sites(connection)
    finally:
        connection.close()
    for setting, url in base_urls.items():
        recorded = sites.get(setting)
        if recorded and site_key(recorded) != site_key(url):
            raise SiteMismatch(
                f"{db_path} holds the data of {recorded} ({setting}), not of {url}: crawl "
                f"{recorded} into it, or give this site its own database with "
                "-s CACI_DB_PATH=… (and -s CACI_EXPORT_DIR=…, -s HTTPCACHE_DIR=…)"
            )
