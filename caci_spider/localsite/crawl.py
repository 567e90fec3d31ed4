"""The ``scrapy crawl`` command line that points a spider at a local site.

Shared by everything that crawls the local K2 site for real: the offline demo, the local site's
printed hint, the fault matrix, the tests and the benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path


def crawl_command(
    spider: str, base_url: str, out: Path, turkey_base_url: str | None = None
) -> list[str]:
    """The ``scrapy crawl`` command line that points ``spider`` at a local site (the Turkey
    Analyst at ``turkey_base_url``, its own host, when given; else at ``base_url`` too)."""
    return [
        sys.executable, "-m", "scrapy", "crawl", spider,
        "-s", f"CACI_BASE_URL={base_url}",
        "-s", f"SILKROAD_BASE_URL={base_url}",
        "-s", f"TURKEY_ANALYST_BASE_URL={turkey_base_url or base_url}",
        "-s", f"CACI_DB_PATH={out / 'caci.db'}",
        "-s", f"CACI_EXPORT_DIR={out}",
        "-s", f"HTTPCACHE_DIR={(out / 'httpcache').resolve()}",
        # A loopback server needs no politeness delay.
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
    ]  # fmt: skip
