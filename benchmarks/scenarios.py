"""The crawls run for each size N: a generated site, interleaved rounds of the full crawl, the
bare Scrapy baseline and the full crawl without the page archive, then an unchanged incremental
re-run, a re-run after new items, and CPU per item in-process."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.measure import (
    Crawl,
    RecordingSite,
    bare_crawl,
    cpu_per_item,
    crawl,
    crawl_summary,
    log,
    median_round,
)
from benchmarks.sitegen import Generator, write_item, write_site
from caci_spider.records import open_database
from caci_spider.testworld.localsite import serve

NEW_ITEMS = 3
# Incremental re-runs measured: feed first (the default), and the weekly listing walk.
WALK = ["-a", "walk=listing"]


def bench_size(n: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    work = root / f"n{n}"
    work.mkdir(parents=True, exist_ok=True)
    log(f"N={n}: generating the site")
    generator = Generator(seed=args.seed)
    started = time.perf_counter()
    tree = write_site(work / "fixtures", n, generator)
    generation_s = time.perf_counter() - started
    site = RecordingSite(tree)
    pages = site.listing_pages()
    generated = [site.items[item_id] for item_id in site.order if item_id in site.items]
    sizes = [i.path.stat().st_size for i in generated]
    result: dict[str, Any] = {
        "n": n,
        "generation_s": generation_s,
        "listing_pages": pages,
        "page_kb_mean": statistics.fmean(sizes) / 1024,
    }
    out = work / "crawl"
    rounds: dict[str, list[Crawl]] = {"full": [], "bare": [], "no-archive": []}
    with serve(site) as (base_url, _site):
        # Rounds interleave the three crawls, so that a slow spell of the machine hits all of
        # them; each kind is reported by its median round.
        for r in range(1, args.rounds + 1):
            tag = "" if r == 1 else f"-{r}"
            log(f"N={n}: round {r} of {args.rounds}: full crawl")
            full = crawl(f"full{tag}", site, base_url, work / f"crawl{tag}", work, args)
            rounds["full"].append(full)
            log(f"N={n}: round {r}: bare Scrapy baseline ({len(full.urls)} URLs)")
            rounds["bare"].append(bare_crawl(site, base_url, full.urls, work, args, f"bare{tag}"))
            log(f"N={n}: round {r}: full crawl without the page archive")
            rounds["no-archive"].append(
                crawl(
                    f"no-archive{tag}",
                    site,
                    base_url,
                    work / f"crawl-no-archive{tag}",
                    work,
                    args,
                    ["-s", "HTTPCACHE_ENABLED=False"],
                )  # fmt: skip
            )
        full, bare, no_archive = (median_round(rounds[k]) for k in ("full", "bare", "no-archive"))
        log(f"N={n}: incremental re-run, unchanged site, feed first")
        rerun = crawl("rerun", site, base_url, out, work, args)
        log(f"N={n}: incremental re-run, unchanged site, listing walk")
        rerun_walk = crawl("rerun-walk", site, base_url, out, work, args, WALK)
        new_dir = work / "new-items"
        rng = random.Random(f"{args.seed}:positions:{n}")

        def publish(first: int) -> None:
            # Published now: at the top of the feed, anywhere in the (unordered) listing.
            for k in range(first, first + NEW_ITEMS):
                path = write_item(new_dir, generator.item(n + k))
                site.add_item(path, position=rng.randrange(len(site.order) + 1))

        publish(1)
        log(f"N={n}: incremental re-run after {NEW_ITEMS} new items, feed first")
        added = crawl("added", site, base_url, out, work, args)
        publish(1 + NEW_ITEMS)
        log(f"N={n}: incremental re-run after {NEW_ITEMS} more new items, listing walk")
        added_walk = crawl("added-walk", site, base_url, out, work, args, WALK)
    database = open_database(out / "caci.db")
    try:
        stored = {
            "publications": database.count("publications"),
            "duplicates": database.count("duplicates"),
            "rejects": database.count("rejects"),
            "mean_words": next(
                iter(database.db.execute("SELECT avg(word_count) FROM publications").fetchone())
            )
            or 0.0,
        }
    finally:
        database.close()
    crawls = {c.name: crawl_summary(c) for c in (rerun, rerun_walk, added, added_walk)}
    for kind, runs in rounds.items():
        crawls[kind] = crawl_summary(median_round(runs))
        crawls[kind]["rounds_pages_per_s"] = [c.pages_per_s for c in runs]
    result.update(
        crawls=crawls,
        stored=stored,
        full_items_new=full.stats.get("caci/items/new", 0),
    )
    log(f"N={n}: CPU per item, in-process")
    texts = [
        (i.id, f"http://127.0.0.1/publications/field-reports/item/{i.id}-{i.alias}.html",
         i.path.read_bytes().decode("utf-8"))
        for i in generated
    ]  # fmt: skip
    result["cpu"] = cpu_per_item(texts, work / "cpu.db")
    return result
