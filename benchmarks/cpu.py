"""CPU per page of the full crawl, quickly: ``python -m benchmarks.cpu --n 1000 --rounds 3``.

A narrower companion of :mod:`benchmarks.run` for working on the crawl's CPU: it generates one
site of N field reports (:mod:`benchmarks.sitegen`), serves it on loopback and runs the real
``scrapy crawl field_reports`` ``--rounds`` times into empty databases, printing each round's
CPU (user + sys of the crawl process, ``wait4``), pages, CPU per page and peak RSS, and the
median. CPU time rather than wall time: it is what this benchmark is about, and it is less
disturbed by other work on a shared machine. ``--bare`` adds the bare Scrapy baseline of
:mod:`benchmarks.bare_crawl` over the same URLs. For finding where the CPU goes:
``--profile DIR`` runs each full crawl under cProfile with a CPU clock
(:mod:`benchmarks.profile_crawl`) into ``DIR/round-<r>.prof``, and ``--py-spy DIR`` samples it
with py-spy (when installed) into ``DIR/round-<r>.txt`` (raw stacks). A profiled round's
figures are not comparable with an unprofiled one's.

"Pages" are as in :mod:`benchmarks.run`: listing and item pages the site answered. The bench
site's default ``json_mode`` is ``"none"``, so a first crawl's JSON listing probe is refused and
the section is walked through its HTML listing pages, as in the report; the probe is counted
apart (``json``), not as a page.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import (
    RecordingSite,
    bare_crawl,
    classify,
    concurrency_settings,
    log_stats,
    project_concurrent_items,
    run_measured,
)
from benchmarks.sitegen import REPO_ROOT, Generator, write_site
from caci_spider.testworld.localsite import serve
from caci_spider.testworld.localsite.crawl import crawl_command


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cpu", description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--bare", action="store_true", help="also run the bare baseline")
    parser.add_argument("--profile", type=Path, help="run the full crawls under cProfile")
    parser.add_argument(
        "--py-spy", type=Path, help="sample the full crawls with py-spy (raw stacks) into DIR"
    )
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("-s", dest="settings", action="append", default=[])
    args = parser.parse_args(argv)
    args.concurrency = args.per_domain = 8
    args.concurrent_items = project_concurrent_items()
    args.timeout = 3600.0
    with tempfile.TemporaryDirectory(prefix="caci-cpu-") as scratch:
        root = (args.workdir or Path(scratch)).resolve()
        root.mkdir(parents=True, exist_ok=True)
        site = RecordingSite(write_site(root / "fixtures", args.n, Generator(seed=args.seed)))
        cpu_full: list[float] = []
        cpu_bare: list[float] = []
        with serve(site) as (base_url, _site):
            for r in range(1, args.rounds + 1):
                out = root / f"crawl-{r}"
                command = crawl_command("field_reports", base_url, out)
                command += concurrency_settings(args)
                for setting in args.settings:
                    command += ["-s", setting]
                if args.profile:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    prof = args.profile.resolve() / f"round-{r}.prof"
                    command[1:3] = ["-m", "benchmarks.profile_crawl", str(prof)]
                if args.py_spy:
                    args.py_spy.mkdir(parents=True, exist_ok=True)
                    stacks = args.py_spy.resolve() / f"round-{r}.txt"
                    spy = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", str(stacks)]
                    command = [str(Path(sys.executable).parent / spy[0]), *spy[1:], "--", *command]
                since = len(site.requests)
                run = run_measured(command, REPO_ROOT, root / f"full-{r}.log", args.timeout)
                if run.returncode != 0:
                    sys.exit(f"round {r}: exit {run.returncode}\n{run.log[-3000:]}")
                seen = classify(site, since, base_url)
                pages = seen["listing"] + seen["items"]
                stats = log_stats(run.log)
                per_page = 1000 * run.cpu_s / pages
                cpu_full.append(per_page)
                print(
                    f"round {r} full: {run.cpu_s:.2f} s CPU ({run.user_s:.2f} + {run.sys_s:.2f}),"
                    f" {pages} pages ({seen['listing']} listing, {seen['items']} items,"
                    f" {seen['json']} json, {seen['feed']} feed, {seen['other']} other),"
                    f" {per_page:.3f} ms/page, RSS {run.max_rss_mb:.1f} MB,"
                    f" new {stats.get('caci/items/new', 0):.0f}",
                    flush=True,
                )
                if args.bare:
                    bare = bare_crawl(site, base_url, seen["urls"], root, args, f"bare-{r}")
                    cpu_bare.append(bare.cpu_ms_per_page)
                    print(
                        f"round {r} bare: {bare.run.cpu_s:.2f} s CPU, {bare.pages} pages,"
                        f" {bare.cpu_ms_per_page:.3f} ms/page, RSS {bare.run.max_rss_mb:.1f} MB",
                        flush=True,
                    )
        full_median = statistics.median(cpu_full)
        print(f"median full: {full_median:.3f} ms/page over {len(cpu_full)} rounds")
        if cpu_bare:
            bare_median = statistics.median(cpu_bare)
            print(
                f"median bare: {bare_median:.3f} ms/page; full/bare {full_median / bare_median:.2f}"
            )


if __name__ == "__main__":
    main()
