"""Offline demo: ``python -m caci_spider.demo [--out exports/demo]``.

Starts the local K2 site on a free loopback port, runs the real ``scrapy crawl field_reports``
and ``scrapy crawl staff_publications`` against it, and prints what was stored.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from caci_spider.localsite import LocalK2Site, serve

SPIDERS = ("field_reports", "staff_publications")


def crawl_command(spider: str, base_url: str, out: Path) -> list[str]:
    """The ``scrapy crawl`` command line that points ``spider`` at a local site."""
    return [
        sys.executable, "-m", "scrapy", "crawl", spider,
        "-s", f"CACI_BASE_URL={base_url}",
        "-s", f"SILKROAD_BASE_URL={base_url}",
        "-s", f"CACI_DB_PATH={out / 'caci.db'}",
        "-s", f"CACI_EXPORT_DIR={out}",
        "-s", f"HTTPCACHE_DIR={(out / 'httpcache').resolve()}",
        # A loopback server needs no politeness delay.
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("exports/demo"))
    args = parser.parse_args()
    args.out = args.out.resolve()  # the crawls run from the project directory
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(LocalK2Site()) as (base_url, _site):
        for spider in SPIDERS:
            print(f"$ scrapy crawl {spider}  (against {base_url})", flush=True)
            subprocess.run(
                crawl_command(spider, base_url, args.out),
                check=True,
                cwd=Path(__file__).resolve().parents[1],
            )
    db = sqlite_utils.Database(args.out / "caci.db")
    print()
    for table in ("publications", "staff_publications", "duplicates", "rejects"):
        print(f"{table:20} {db[table].count:4d} rows")
    print(f"\nExports: {sorted(str(p) for p in args.out.glob('*.jsonl'))}")
    for row in db.query("SELECT id, published, title FROM publications ORDER BY id LIMIT 5"):
        print(f"  {row['id']}  {row['published']}  {row['title']}")


if __name__ == "__main__":
    main()
