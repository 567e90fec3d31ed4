"""The storage stage alone: CPU per stored item and SQL statements per new publication.

``python -m benchmarks.storage_stage 1000 2000`` generates N field reports
(:mod:`benchmarks.sitegen`), extracts and normalises them once, then stores them into a fresh
database ``--rounds`` times, timing what ``DeduplicatePipeline`` and ``StorePipeline`` ask of
the database per item (``duplicate_of``, ``publication``, ``store_report``: the stage
``benchmarks.measure.cpu_per_item`` calls "storage", plus the pipeline's ``publication``), with
``time.process_time``. One more round counts the statements each new item runs
(``sqlite3.Connection.set_trace_callback``; trigger programs and FTS5's own statements aside).
The machine is shared: the figure is the median of the rounds' means.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.sitegen import Generator
from caci_spider.items import Publication
from caci_spider.pages.item import K2ItemPage
from caci_spider.records import build_publication, open_database
from caci_spider.urls import ItemRef

FETCHED_AT = "2026-01-01T00:00:00Z"


def reports(n: int) -> list[Publication]:
    generator = Generator()
    built = []
    for k in range(1, n + 1):
        item = generator.item(k)
        url = f"http://127.0.0.1/publications/field-reports/item/{item.id}-{item.alias}.html"
        page = K2ItemPage(item.page.decode("utf-8"), ItemRef(item.id, url), FETCHED_AT).extract()
        report, _reason, _raw = build_publication(page)
        if report is not None:
            built.append(report)
    return built


def store_all(
    items: list[Publication], trace: bool = False
) -> tuple[list[float], Counter[str], list[int]]:
    """CPU ms per item, outcomes, and statements per new item (when ``trace``)."""
    times: list[float] = []
    outcomes: Counter[str] = Counter()
    per_new: list[int] = []
    with tempfile.TemporaryDirectory() as directory:
        database = open_database(Path(directory) / "caci.db")
        run_id = database.start_run("field_reports", "incremental", FETCHED_AT)
        seen: list[str] = []
        if trace:
            database.db.conn.set_trace_callback(
                lambda sql: (
                    None if sql.startswith("--") or (seen and seen[-1] == sql) else seen.append(sql)
                )
            )
        for report in items:
            before = len(seen)
            start = time.process_time()
            if database.duplicate_of(report) is not None:
                outcome = "duplicate"
            else:
                database.publication(report.site, report.id)
                outcome = database.store_report(report, "field_reports", run_id)
            times.append(1000 * (time.process_time() - start))
            outcomes[outcome] += 1
            if outcome == "new":
                per_new.append(len(seen) - before)
        database.close()
    return times, outcomes, per_new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for n in args.sizes:
        items = reports(n)
        means = []
        for _ in range(args.rounds):
            times, outcomes, _ = store_all(copy.deepcopy(items))
            means.append(statistics.fmean(times))
        _, _, per_new = store_all(copy.deepcopy(items), trace=True)
        print(
            f"N={n}: {dict(outcomes)}; storage CPU ms/item, round means "
            f"{[round(m, 3) for m in means]}, median {statistics.median(means):.3f}; "
            f"SQL statements per new item: median {statistics.median(per_new)}, "
            f"max {max(per_new)}"
        )


if __name__ == "__main__":
    main()
