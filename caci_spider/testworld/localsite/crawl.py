"""The ``scrapy crawl`` command line that points a spider at a local site.

Shared by everything that crawls the local K2 site for real: the offline demo, the local site's
printed hint, the fault matrix, the tests and the benchmarks.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from caci_spider import sources


def base_url_settings(base_url: str, base_urls: Mapping[str, str] | str | None = None) -> list[str]:
    """``-s <SETTING>=<url>`` for every site's base-URL setting, in the profiles' order.

    ``base_urls`` maps a profile key to its local host (``site.base_urls``, set by
    :func:`caci_spider.testworld.localsite.serve`: the Turkey Analyst answers on a port of its own);
    a plain string is the Turkey Analyst's. A site it does not name points at ``base_url``, where
    its paths answer 404, never at the live site.
    """
    if isinstance(base_urls, str):
        base_urls = {sources.TURKEYANALYST.key: base_urls}
    urls = base_urls or {}
    settings = []
    for profile in sources.PROFILES:
        settings += ["-s", f"{profile.base_url_setting}={urls.get(profile.key, base_url)}"]
    return settings


def crawl_command(
    spider: str, base_url: str, out: Path, base_urls: Mapping[str, str] | str | None = None
) -> list[str]:
    """The ``scrapy crawl`` command line that points ``spider`` at a local site."""
    return [
        sys.executable, "-m", "scrapy", "crawl", spider,
        *base_url_settings(base_url, base_urls),
        "-s", f"CACI_DB_PATH={out / 'caci.db'}",
        "-s", f"CACI_EXPORT_DIR={out}",
        "-s", f"HTTPCACHE_DIR={(out / 'httpcache').resolve()}",
        # A loopback server needs no politeness delay.
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
    ]  # fmt: skip
