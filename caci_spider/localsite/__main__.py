"""``python -m caci_spider.localsite [--port 8088]``: serve the fixtures as a local K2 site."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from caci_spider.localsite import DEFAULT_FIXTURES, LocalK2Site, serve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = parser.parse_args()
    with serve(LocalK2Site(args.fixtures), args.host, args.port) as (base_url, site):
        print(f"Local K2 site with {len(site.items)} field reports at {base_url}", flush=True)
        print(f"Crawl it: scrapy crawl field_reports -s CACI_BASE_URL={base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
