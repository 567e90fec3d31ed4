"""Benchmarks of the field-reports crawl: ``python -m benchmarks.run``.

One command, one machine, one report (``docs/benchmarks.md`` by default):

1. a generated K2 site of N field reports per size (``benchmarks.sitegen``), served by the local
   site on loopback;
2. throughput of the real ``scrapy crawl field_reports`` next to a bare Scrapy spider that
   requests exactly the URLs the crawl requested and extracts nothing, same concurrency
   (``--rounds`` interleaved rounds, 3 by default; the median round is reported);
3. CPU time per item, split into extraction, normalisation and storage, in-process;
4. peak RSS of each crawl process (``wait4`` resource usage of the child);
5. requests of a first crawl, an unchanged incremental re-run and a re-run after 10 new items;
6. body accuracy and speed on the fixture pages, against trafilatura.

The comparison with trafilatura is part of the run: when trafilatura cannot be imported the
command stops at once with exit status 2 and one line (install the ``bench`` extra), unless
``--skip-trafilatura`` leaves it out on purpose. ``--quick`` runs one tiny size with fewer
repetitions (the smoke test uses it). Nothing here asserts a time: the targets are reported,
met or not.

Modules: ``measure`` (a crawl process's time, CPU and peak RSS, CPU per item), ``scenarios``
(the crawls of one size), ``accuracy`` (the fixtures against trafilatura), ``report`` (targets
and ``report.md.tmpl``, the report's Markdown template); this one parses the options and runs
them in order.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.accuracy import TrafilaturaMissing, bench_accuracy, trafilatura_module
from benchmarks.measure import describe_machine, load_average, log, project_concurrent_items
from benchmarks.report import render, target_rows
from benchmarks.scenarios import bench_size
from benchmarks.sitegen import REPO_ROOT, Generator, check_generated

DEFAULT_SIZES = (1000, 10000)
QUICK_SIZES = (30,)


def code_state() -> str:
    """The commit measured, and the files of the package that differ from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "caci_spider"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = sorted(line[3:] for line in dirty if line.strip())
    return f"commit {head}" + (
        f" with uncommitted changes to {', '.join(changed)}" if changed else ""
    )  # fmt: skip


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", help="N values (default 1000 10000)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--quick", action="store_true", help="tiny N, few repeats (smoke test)")
    parser.add_argument("--concurrency", type=int, default=8, help="CONCURRENT_REQUESTS")
    parser.add_argument("--per-domain", type=int, default=8, help="CONCURRENT_REQUESTS_PER_DOMAIN")
    parser.add_argument(
        "--concurrent-items", type=int, help="CONCURRENT_ITEMS (default: the project's)"
    )
    parser.add_argument(
        "--rounds", type=int, help="rounds of the three throughput crawls (default 3)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeats", type=int, help="timing repeats per fixture (default 20)")
    parser.add_argument("--workdir", type=Path, help="keep generated sites and logs here")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per crawl process")
    parser.add_argument(
        "--skip-trafilatura",
        action="store_true",
        help="leave the trafilatura comparison out (by default it runs, and a trafilatura "
        "that cannot be imported stops the benchmark)",
    )
    args = parser.parse_args(argv)
    args.sizes = args.sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    args.repeats = args.repeats or (2 if args.quick else 20)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.concurrent_items = args.concurrent_items or project_concurrent_items()
    return args


def command_line(argv: list[str] | None, args: argparse.Namespace) -> str:
    shown = list(sys.argv[1:] if argv is None else argv)
    # Paths inside the repository are shown relative to it, so the command reads the same
    # on every checkout.
    cleaned = []
    for token in shown:
        with contextlib.suppress(ValueError):
            token = str(Path(token).resolve().relative_to(REPO_ROOT))
        cleaned.append(token)
    return "python -m benchmarks.run" + ("" if not cleaned else " " + shlex.join(cleaned))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    # Before anything is measured: a comparison that was asked for and cannot run stops here.
    try:
        trafilatura = None if args.skip_trafilatura else trafilatura_module()
    except TrafilaturaMissing as missing:
        print(f"benchmarks.run: {missing}", file=sys.stderr)
        raise SystemExit(2) from None
    started = time.perf_counter()
    load_before = load_average()
    temp = None
    if args.workdir:
        root = args.workdir.resolve()
        root.mkdir(parents=True, exist_ok=True)
    else:
        temp = tempfile.TemporaryDirectory(prefix="caci-bench-")
        root = Path(temp.name)
    try:
        generation_problems = check_generated(Generator(seed=args.seed))
        if generation_problems:
            log(
                "generated pages do not extract as their templates: "
                + "; ".join(generation_problems)
            )
        sizes = [bench_size(n, args, root) for n in args.sizes]
        log("accuracy on the fixtures")
        accuracy = bench_accuracy(args.repeats, trafilatura)
    finally:
        if temp is not None:
            temp.cleanup()
    results = {
        "command": command_line(argv, args),
        "date": time.strftime("%Y-%m-%d"),
        "duration_s": time.perf_counter() - started,
        "load_before": load_before,
        "code": code_state(),
        "rounds": args.rounds,
        "load_after": load_average(),
        "machine": describe_machine(),
        "args": {
            "concurrency": args.concurrency,
            "per_domain": args.per_domain,
            "concurrent_items": args.concurrent_items,
            "seed": args.seed,
            "repeats": args.repeats,
        },
        "generation_problems": generation_problems,
        "sizes": sizes,
        "accuracy": accuracy,
    }
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(results), "utf-8")
    log(f"wrote {out}")
    for target, measured, outcome in target_rows(results):
        log(f"{target}: {measured} ({outcome})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n", "utf-8")
        log(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
