"""Measuring: a crawl process's wall, CPU and peak RSS, what the site answered it, CPU per item.

Everything here measures and nothing judges: the targets and the report are in
:mod:`benchmarks.report`, the crawls each size runs in :mod:`benchmarks.scenarios`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.sitegen import REPO_ROOT, BenchSite
from caci_spider.pages.item import K2ItemPage
from caci_spider.records import build_publication, open_database
from caci_spider.testworld.localsite import MAIN_HOST
from caci_spider.testworld.localsite.crawl import crawl_command
from caci_spider.urls import ItemRef

LISTING_PATH = "/publications/field-reports.html"
ITEM_PATH = re.compile(r"^/publications/field-reports/item/\d+")
STAGES = ("extraction", "normalisation", "storage", "total")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- a child process -------------------------------------------------------------------------


@dataclass
class ProcessRun:
    command: list[str]
    returncode: int
    wall_s: float
    cpu_s: float  # user + system of the child
    max_rss_mb: float  # peak resident set size of the child
    log: str
    user_s: float = 0.0
    sys_s: float = 0.0


def run_measured(command: list[str], cwd: Path, log_path: Path, timeout: float) -> ProcessRun:
    """Run ``command`` and read its own resource usage (``wait4``): peak RSS and CPU time of
    exactly that process, whatever else the harness does."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    with log_path.open("wb") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log_file, stderr=log_file)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    scale = 1 / 1024 / 1024 if sys.platform == "darwin" else 1 / 1024  # bytes vs KiB
    return ProcessRun(
        command,
        process.returncode,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss * scale,
        log_path.read_text("utf-8", errors="replace"),
        usage.ru_utime,
        usage.ru_stime,
    )


_STAT = re.compile(r"'(?P<key>[\w/]+)': (?P<value>-?\d+(?:\.\d+)?)")


def log_stats(log_text: str) -> dict[str, float]:
    """The numeric values of the last "Dumping Scrapy stats" block of a crawl log."""
    block = log_text.rpartition("Dumping Scrapy stats:")[2]
    block = block.split("\n}", 1)[0]
    return {m["key"]: float(m["value"]) for m in _STAT.finditer(block)}


# -- a crawl ---------------------------------------------------------------------------------


@dataclass
class Crawl:
    name: str
    run: ProcessRun
    stats: dict[str, float]
    listing: int  # listing-page requests the site answered during the run
    items: int  # item-page requests
    other: int  # robots.txt and anything else
    statuses: dict[int, int]
    urls: list[str] = field(default_factory=list)
    feed: int = 0  # the section's K2 feed
    json: int = 0  # the JSON listing channel's probes and pages

    @property
    def pages(self) -> int:
        return self.listing + self.items

    @property
    def elapsed(self) -> float:
        return self.stats.get("elapsed_time_seconds") or self.run.wall_s

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.run.cpu_s / self.pages if self.pages else 0.0


def classify(site: RecordingSite, since: int, base_url: str) -> dict[str, Any]:
    """What the site answered since log position ``since``: counts and the URLs, in order."""
    listing = items = other = feed = json_pages = 0
    statuses: Counter[int] = Counter()
    urls = []
    for raw_path, status in site.requests[since:]:
        path = raw_path.split("?", 1)[0]
        statuses[status] += 1
        if path.endswith(".json") or "format=json" in raw_path:
            json_pages += 1  # the JSON listing channel's probes and pages
        elif path == LISTING_PATH:
            listing += 1
            urls.append(base_url + raw_path)
        elif path.endswith(".feed"):
            feed += 1
        elif ITEM_PATH.match(path):
            items += 1
            urls.append(base_url + raw_path)
        else:
            other += 1
    return {
        "listing": listing,
        "items": items,
        "other": other,
        "feed": feed,
        "json": json_pages,
        "statuses": dict(statuses),
        "urls": urls,
    }


class RecordingSite(BenchSite):
    """Keeps every request's path with its query (the site's own log drops the query)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[tuple[str, int]] = []

    def respond(
        self, raw_path: str, headers: dict[str, str] | None = None, host: str = MAIN_HOST
    ) -> Any:
        reply = super().respond(raw_path, headers, host)
        with self.lock:
            self.requests.append((raw_path, reply.status))
        return reply


def project_concurrent_items() -> int:
    """The project's ``CONCURRENT_ITEMS`` (Scrapy's default unless ``settings.py`` sets it)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("caci_spider.settings", priority="project")
    return settings.getint("CONCURRENT_ITEMS")


def concurrency_settings(args: argparse.Namespace) -> list[str]:
    """The same for both crawls. ``CONCURRENT_ITEMS`` too: Scrapy starts that many tasks for
    the output of every response, a per-page cost both crawls must share."""
    return [
        "-s", f"CONCURRENT_REQUESTS={args.concurrency}",
        "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.per_domain}",
        "-s", f"CONCURRENT_ITEMS={args.concurrent_items}",
        "-s", "DOWNLOAD_DELAY=0",
        "-s", "AUTOTHROTTLE_ENABLED=False",
    ]  # fmt: skip


def crawl(
    name: str,
    site: RecordingSite,
    base_url: str,
    out: Path,
    work: Path,
    args: argparse.Namespace,
    extra: list[str] | None = None,
) -> Crawl:
    """The real ``scrapy crawl field_reports`` against ``site``, into ``out``."""
    command = crawl_command("field_reports", base_url, out) + concurrency_settings(args)
    command += extra or []
    since = len(site.requests)
    run = run_measured(command, REPO_ROOT, work / f"{name}.log", args.timeout)
    if run.returncode != 0:
        raise RuntimeError(f"{name}: exit {run.returncode}\n{run.log[-3000:]}")
    seen = classify(site, since, base_url)
    return Crawl(name, run, log_stats(run.log), **seen)


def bare_crawl(
    site: RecordingSite,
    base_url: str,
    urls: list[str],
    work: Path,
    args: argparse.Namespace,
    name: str = "bare",
) -> Crawl:
    """The bare Scrapy baseline (``benchmarks.bare_crawl``) requesting exactly ``urls``."""
    url_file = work / f"{name}-urls.txt"
    url_file.write_text("\n".join(urls) + "\n", "utf-8")
    stats_file = work / f"{name}-stats.json"
    command = [
        sys.executable, "-m", "benchmarks.bare_crawl",
        "--urls", str(url_file), "--stats", str(stats_file),
    ] + concurrency_settings(args)  # fmt: skip
    since = len(site.requests)
    # Run outside the project directory: no scrapy.cfg, so no project settings at all.
    run = run_measured(command, work, work / f"{name}.log", args.timeout)
    if run.returncode != 0:
        raise RuntimeError(f"bare crawl: exit {run.returncode}\n{run.log[-3000:]}")
    stats = json.loads(stats_file.read_text("utf-8"))
    numeric = {k: float(v) for k, v in stats.items() if isinstance(v, int | float)}
    return Crawl("bare", run, numeric, **classify(site, since, base_url))


def median_round(runs: list[Crawl]) -> Crawl:
    """The round of median elapsed time (the lower middle one for an even count)."""
    return sorted(runs, key=lambda c: c.elapsed)[(len(runs) - 1) // 2]


def crawl_summary(c: Crawl) -> dict[str, Any]:
    return {
        "listing": c.listing,
        "items": c.items,
        "other": c.other,
        "feed": c.feed,
        "pages": c.pages,
        "statuses": c.statuses,
        "network_requests": c.stats.get("downloader/request_count"),
        "elapsed_s": c.elapsed,
        "wall_s": c.run.wall_s,
        "cpu_s": c.run.cpu_s,
        "user_s": c.run.user_s,
        "sys_s": c.run.sys_s,
        "cpu_ms_per_page": c.cpu_ms_per_page,
        "pages_per_s": c.pages_per_s,
        "max_rss_mb": c.run.max_rss_mb,
        "items_new": c.stats.get("caci/items/new", 0),
    }


# -- in-process timing -----------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def cpu_per_item(pages: list[tuple[int, str, str]], db_path: Path) -> dict[str, Any]:
    """CPU (``time.process_time``) and wall (``perf_counter``) time per item for each stage,
    over every generated page in listing order, storing into a fresh database.

    Normalisation is :func:`caci_spider.records.build_publication`: normalise → validate →
    collapse, the steps the pipeline stages call in that order; storage is what
    ``DeduplicatePipeline`` and ``StorePipeline`` ask of the database.
    """
    database = open_database(db_path)
    # As in a crawl: every stored item is noted against the run (item_runs).
    run_id = database.start_run("field_reports", "incremental", "2026-01-01T00:00:00Z")
    cpu: dict[str, list[float]] = {s: [] for s in STAGES}
    wall: dict[str, list[float]] = {s: [] for s in STAGES}
    outcomes: Counter[str] = Counter()
    fetched_at = "2026-01-01T00:00:00Z"
    clock_cpu, clock_wall = time.process_time, time.perf_counter
    try:
        for item_id, url, text in pages:
            c0, w0 = clock_cpu(), clock_wall()
            page = K2ItemPage(text, ItemRef(item_id, url, "cacianalyst"), fetched_at).extract()
            c1, w1 = clock_cpu(), clock_wall()
            report, reason, _raw = build_publication(page)
            c2, w2 = clock_cpu(), clock_wall()
            if report is None:
                outcomes[f"rejected: {reason}"] += 1
            elif database.duplicate_of(report) is not None:
                outcomes["duplicate"] += 1
            else:
                outcomes[database.store_report(report, "field_reports", run_id)] += 1
            c3, w3 = clock_cpu(), clock_wall()
            for bucket, (a, b, c, d) in ((cpu, (c0, c1, c2, c3)), (wall, (w0, w1, w2, w3))):
                bucket["extraction"].append(1000 * (b - a))
                bucket["normalisation"].append(1000 * (c - b))
                bucket["storage"].append(1000 * (d - c))
                bucket["total"].append(1000 * (d - a))
    finally:
        database.close()

    def summary(values: list[float]) -> dict[str, float]:
        return {
            "median": statistics.median(values) if values else 0.0,
            "p95": percentile(values, 0.95),
            "mean": statistics.fmean(values) if values else 0.0,
        }

    return {
        "items": len(pages),
        "outcomes": dict(outcomes),
        "cpu": {s: summary(cpu[s]) for s in STAGES},
        "wall": {s: summary(wall[s]) for s in STAGES},
    }


def time_call(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median wall ms of ``function()`` over ``repeats`` calls, and its last result."""
    times = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times), result


# -- the machine -----------------------------------------------------------------------------


def describe_machine() -> dict[str, str]:
    import lxml.etree
    import scrapy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    lxml_version = ".".join(str(v) for v in lxml.etree.LXML_VERSION[:3])
    libxml = ".".join(str(v) for v in lxml.etree.LIBXML_VERSION)
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "lxml": f"{lxml_version} (libxml2 {libxml})",
    }


def load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "?"
