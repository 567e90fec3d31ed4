"""Requests of a first crawl (and of a ``mode=full`` after 3 edits) of a generated section of N
items read through K2's JSON listing, against the HTML route (docs/benchmarks.md, "JSON listings").

    python -m benchmarks.json_listings --sizes 1000 10000

Prints a Markdown table: the requests the local site answered, by kind.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import sqlite_utils

from benchmarks.sitegen import BenchSite, Generator, write_site
from caci_spider.testworld.localsite import serve
from caci_spider.testworld.localsite.crawl import crawl_command

REPO_ROOT = Path(__file__).resolve().parents[1]


def kinds(paths: list[str]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for path in paths:
        if path.endswith(".json") or "format=json" in path:
            counted["json"] += 1
        elif "/item/" in path:
            counted["item"] += 1
        elif path == "/robots.txt":
            counted["robots"] += 1
        elif path.endswith(".pdf"):
            counted["pdf"] += 1
        else:
            counted["listing/other"] += 1
    return counted


def crawl(
    site: BenchSite, base_url: str, out: Path, *arguments: str
) -> tuple[Counter[str], dict, float]:
    start = len(site.log)
    started = time.perf_counter()
    command = crawl_command("field_reports", base_url, out) + [
        "-s", "CACI_COVERAGE_MIN_ITEMS=1000000", "-s", "CONCURRENT_REQUESTS=8",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *arguments,
    ]  # fmt: skip
    subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    run = next(
        sqlite_utils.Database(out / "caci.db")["crawl_runs"].rows_where(order_by="id desc", limit=1)
    )
    return kinds([path for _t, path, _s in site.log[start:]]), run, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument(
        "--html", action="store_true", help="also crawl each size by the HTML route"
    )
    args = parser.parse_args()
    print(
        "| N | run | requests | JSON pages | item pages | listing pages | robots.txt "
        "| rows new | rows updated | elapsed |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for n in args.sizes:
            tree = write_site(Path(scratch) / f"n{n}", n, Generator())
            site = BenchSite(tree)
            site.json_mode = "new"
            runs = [("first, JSON", Path(scratch) / f"json{n}", ())]
            if args.html:
                runs.append(
                    ("first, HTML", Path(scratch) / f"html{n}", ("-s", "CACI_JSON_LISTINGS=False"))
                )
            with serve(site) as (base_url, _site):
                for label, out, extra in runs:
                    counted, run, elapsed = crawl(site, base_url, out, *extra)
                    report(n, label, counted, run, elapsed)
                # Three items edited, then a full check through JSON.
                for item_id in list(site.items)[:3]:
                    page = site.item_content(item_id).replace(b"</p>", b" Edited.</p>", 1)
                    site.change_item(item_id, page)
                counted, run, elapsed = crawl(site, base_url, runs[0][1], "-a", "mode=full")
                report(n, "mode=full, 3 edited, JSON", counted, run, elapsed)
            sys.stdout.flush()


def report(n: int, label: str, counted: Counter[str], run: dict, elapsed: float) -> None:
    print(
        f"| {n:,} | {label} | {sum(counted.values()):,} | {counted['json']:,} "
        f"| {counted['item']:,} "
        f"| {counted['listing/other']:,} | {counted['robots']} | {run['items_new']:,} "
        f"| {run['items_updated']:,} | {elapsed:.1f} s |"
    )


if __name__ == "__main__":
    main()
