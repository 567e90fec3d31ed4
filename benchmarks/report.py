"""The report (``docs/benchmarks.md``): targets judged, and every figure put into the Markdown
template ``benchmarks/report.md.tmpl``, which holds all of the report's prose and table layouts.
This module only computes and formats the values the template names."""

from __future__ import annotations

import functools
import os
import re
import statistics
from collections.abc import Iterable
from pathlib import Path
from string import Template
from typing import Any

from benchmarks.accuracy import TRAFILATURA_OPTIONS
from benchmarks.measure import STAGES
from benchmarks.scenarios import NEW_ITEMS
from caci_spider.settings import CACI_CANARY_ITEMS

TEMPLATE = Path(__file__).with_name("report.md.tmpl")
TARGETS = {
    "ratio": 0.7,
    "cpu_ms": 5.0,
    "rss_mb": 250.0,
    "rss_growth": 1.5,
}
_MARKER = re.compile(r"^<!-- (\w+) -->$", re.MULTILINE)


@functools.cache
def fragments(path: Path = TEMPLATE) -> dict[str, Template]:
    """The template's fragments by name (the text before the first marker is a comment)."""
    _comment, *parts = _MARKER.split(path.read_text("utf-8"))
    named = zip(parts[::2], parts[1::2], strict=True)
    return {name: Template(body.strip("\n")) for name, body in named}


def fill(name: str, **values: Any) -> str:
    """Fragment ``name`` with ``values``; a name it uses and was not given is an error."""
    return fragments()[name].substitute(values)


def lines(rows: Iterable[str]) -> str:
    return "\n".join(rows)


def fmt(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def spread(values: list[float]) -> str:
    """``lowest–highest`` of a few measurements (one: itself)."""
    if not values:
        return ""
    low, high = min(values), max(values)
    return fmt(low, 0) if len(values) == 1 else f"{fmt(low, 0)}–{fmt(high, 0)}"


def mean(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.fmean(r[key] for r in rows) if rows else 0.0


def item_processing_ms(size: dict[str, Any]) -> float:
    """Section 3's mean CPU per item, spread over the full crawl's pages."""
    return size["cpu"]["cpu"]["total"]["mean"] * size["n"] / max(size["crawls"]["full"]["pages"], 1)


# -- the report ------------------------------------------------------------------------------


def render(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    machine = results["machine"]
    args = results["args"]
    return (
        fill(
            "report",
            command=results["command"],
            **machine,
            date=results["date"],
            duration=fmt(results["duration_s"], 0),
            load_before=results["load_before"],
            load_after=results["load_after"],
            code=results["code"],
            concurrency=args["concurrency"],
            per_domain=args["per_domain"],
            concurrent_items=args["concurrent_items"],
            seed=args["seed"],
            repeats=args["repeats"],
            rounds=times(results["rounds"]),
            new_items=NEW_ITEMS,
            target_rows=lines(
                fill("target_row", target=target, measured=measured, verdict=outcome)
                for target, measured, outcome in target_rows(results)
            ),
            site_rows=site_rows(sizes),
            generation_check="; ".join(results["generation_problems"]) or fill("generation_ok"),
            throughput_rows=throughput_rows(sizes),
            cost_rows=cost_rows(sizes),
            throughput_budget=throughput_budget(sizes[-1]),
            cpu_rows=cpu_rows(sizes),
            memory_rows=memory_rows(sizes),
            memory_growth=memory_growth(sizes),
            requests_rows=requests_rows(sizes),
            **accuracy_section(results["accuracy"]),
        )
        + "\n"
    )


def site_rows(sizes: list[dict[str, Any]]) -> str:
    return lines(
        fill(
            "site_row",
            n=f"{s['n']:,}",
            listing_pages=f"{s['listing_pages']:,}",
            page_kb=fmt(s["page_kb_mean"], 1),
            mean_words=fmt(s["stored"]["mean_words"], 0),
            generation_s=fmt(s["generation_s"], 1),
            stored=f"{int(s['full_items_new']):,}",
            duplicates=s["stored"]["duplicates"],
            rejects=s["stored"]["rejects"],
        )
        for s in sizes
    )


THROUGHPUT_CRAWLS = (
    ("full", "**full**"),
    ("bare", "bare"),
    ("no-archive", "full without the page archive"),
)


def throughput_rows(sizes: list[dict[str, Any]]) -> str:
    rows = []
    for s in sizes:
        bare = s["crawls"]["bare"]
        for name, label in THROUGHPUT_CRAWLS:
            c = s["crawls"][name]
            ratio = c["pages_per_s"] / bare["pages_per_s"] if bare["pages_per_s"] else 0.0
            shown = "" if name == "bare" else fmt(ratio, 2)
            rows.append(
                fill(
                    "throughput_row",
                    n=f"{s['n']:,}",
                    label=label,
                    pages=f"{c['pages']:,}",
                    elapsed=fmt(c["elapsed_s"], 1),
                    pages_per_s=fmt(c["pages_per_s"], 0),
                    rounds_pages_per_s=spread(c.get("rounds_pages_per_s", [])),
                    wall=fmt(c["wall_s"], 1),
                    cpu=fmt(c["cpu_s"], 1),
                    user=fmt(c["user_s"], 1),
                    sys=fmt(c["sys_s"], 1),
                    cpu_per_page=fmt(c["cpu_ms_per_page"], 2),
                    ratio=f"**{shown}**" if name == "full" else shown,
                )
            )
    return lines(rows)


def cost_rows(sizes: list[dict[str, Any]]) -> str:
    rows = []
    for s in sizes:
        c = s["crawls"]
        bare, no_archive, full = (c[k]["cpu_ms_per_page"] for k in ("bare", "no-archive", "full"))
        processing = item_processing_ms(s)
        rows.append(
            fill(
                "cost_row",
                n=f"{s['n']:,}",
                bare=fmt(bare, 2),
                processing=fmt(processing, 2),
                rest=fmt(no_archive - bare - processing, 2),
                archive=fmt(full - no_archive, 2),
                full=fmt(full, 2),
            )
        )
    return lines(rows)


def throughput_budget(size: dict[str, Any]) -> str:
    """What the throughput target asks of the crawl's CPU, from one size's measurements."""
    c = size["crawls"]
    full, bare = c["full"], c["bare"]
    busy = full["cpu_s"] / full["wall_s"] if full["wall_s"] else 0.0
    budget = bare["cpu_ms_per_page"] / TARGETS["ratio"]
    headroom = budget - bare["cpu_ms_per_page"]
    processing = item_processing_ms(size)
    added = full["cpu_ms_per_page"] - bare["cpu_ms_per_page"]
    figures = {
        "budget": fmt(budget, 2),
        "headroom": fmt(headroom, 2),
        "added": fmt(added, 2),
    }
    sentences = [
        fill(
            "budget",
            ratio=TARGETS["ratio"],
            n=f"{size['n']:,}",
            busy=f"{busy:.0%}",
            bare=fmt(bare["cpu_ms_per_page"], 2),
            **figures,
        )
    ]
    if processing > headroom:
        sentences.append(
            fill(
                "budget_processing",
                processing=fmt(processing, 2),
                cpu_ms=f"{TARGETS['cpu_ms']:g}",
            )
        )
        cores = os.cpu_count() or 1
        if cores <= 2 and added > headroom + budget:
            sentences.append(fill("budget_cores", cores=cores, **figures))
    return " ".join(sentences)


def cpu_rows(sizes: list[dict[str, Any]]) -> str:
    rows = []
    for s in sizes:
        for stage in STAGES:
            c, w = s["cpu"]["cpu"][stage], s["cpu"]["wall"][stage]
            rows.append(
                fill(
                    "cpu_row",
                    n=f"{s['n']:,}",
                    stage=f"**{stage}**" if stage == "total" else stage,
                    cpu_median=fmt(c["median"], 3),
                    cpu_p95=fmt(c["p95"], 3),
                    cpu_mean=fmt(c["mean"], 3),
                    wall_median=fmt(w["median"], 3),
                    wall_p95=fmt(w["p95"], 3),
                )
            )
    return lines(rows)


def memory_rows(sizes: list[dict[str, Any]]) -> str:
    return lines(
        fill(
            "memory_row",
            n=f"{s['n']:,}",
            **{k: fmt(s["crawls"][k]["max_rss_mb"], 1) for k in ("full", "bare", "rerun", "added")},
        )
        for s in sizes
    )


def memory_growth(sizes: list[dict[str, Any]]) -> str:
    """The growth sentence after the memory table (a paragraph of its own), or nothing."""
    if len(sizes) < 2:
        return ""
    first, last = sizes[0], sizes[-1]
    growth = last["crawls"]["full"]["max_rss_mb"] / first["crawls"]["full"]["max_rss_mb"]
    bare_growth = last["crawls"]["bare"]["max_rss_mb"] / first["crawls"]["bare"]["max_rss_mb"]
    sentence = fill(
        "memory_growth",
        first=f"{first['n']:,}",
        last=f"{last['n']:,}",
        growth=fmt(growth, 2),
        bare_growth=fmt(bare_growth, 2),
    )
    return "\n\n" + sentence


REQUEST_RUNS = (
    ("full", "first"),
    ("rerun", "unchanged, feed first"),
    ("rerun-walk", "unchanged, listing walk"),
    ("added", f"+{NEW_ITEMS} new, feed first"),
    ("added-walk", f"+{NEW_ITEMS} new, listing walk"),
)


def requests_rows(sizes: list[dict[str, Any]]) -> str:
    rows = []
    for s in sizes:
        for name, label in REQUEST_RUNS:
            c = s["crawls"][name]
            rows.append(
                fill(
                    "requests_row",
                    n=f"{s['n']:,}",
                    label=label,
                    total=f"{c['listing'] + c['items'] + c['other'] + c.get('feed', 0):,}",
                    listing=f"{c['listing']:,}",
                    items=f"{c['items']:,}",
                    other=c["other"],
                    feed=c.get("feed", 0),
                    answers=", ".join(f"{k}: {v:,}" for k, v in sorted(c["statuses"].items())),
                    network=f"{int(c['network_requests'] or 0):,}",
                    rows_new=f"{int(c['items_new']):,}",
                    elapsed=fmt(c["elapsed_s"], 1),
                )
            )
    return lines(rows)


def accuracy_section(accuracy: dict[str, Any]) -> dict[str, str]:
    """Section 6's values: how trafilatura ran (or that it was skipped) and the table."""
    traf, rows = accuracy["trafilatura"], accuracy["rows"]
    if not traf:
        return {
            "trafilatura_method": fill("trafilatura_skipped"),
            "accuracy_table": fill(
                "accuracy_ours",
                rows=lines(
                    fill(
                        "accuracy_ours_row",
                        id=r["id"],
                        ours_similarity=fmt(r["ours_similarity"], 3),
                        ours_f1=fmt(r["ours_f1"], 3),
                        ours_ms=fmt(r["ours_ms"], 2),
                    )
                    for r in rows
                ),
            ),
        }
    table = []
    for r in rows:
        better = "**" if r["ours_similarity"] > r["traf_similarity"] else ""
        table.append(
            fill(
                "accuracy_compared_row",
                id=r["id"],
                ours_similarity=f"{better}{fmt(r['ours_similarity'], 3)}{better}",
                **{k: fmt(r[k], 3) for k in ("traf_similarity", "ours_f1", "traf_f1")},
                **{k: fmt(r[k], 2) for k in ("ours_ms", "traf_ms")},
            )
        )
    table.append(
        fill(
            "accuracy_compared_row",
            id="**mean**",
            **{
                k: fmt(mean(rows, k), 3)
                for k in ("ours_similarity", "traf_similarity", "ours_f1", "traf_f1")
            },
            **{k: fmt(mean(rows, k), 2) for k in ("ours_ms", "traf_ms")},
        )
    )
    return {
        "trafilatura_method": fill(
            "trafilatura_compared",
            version=traf,
            options=", ".join(f"{k}={v}" for k, v in TRAFILATURA_OPTIONS.items()),
        ),
        "accuracy_table": fill("accuracy_compared", rows=lines(table)),
    }


# -- the targets -----------------------------------------------------------------------------


def target_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for every target of the issue."""
    return [
        (target, measured, ok if isinstance(ok, str) else verdict(ok))
        for target, measured, ok in _targets(results)
    ]


def _targets(results: dict[str, Any]) -> list[tuple[str, str, bool | str]]:
    sizes = results["sizes"]
    last = sizes[-1]
    full, bare = last["crawls"]["full"], last["crawls"]["bare"]
    ratio = full["pages_per_s"] / bare["pages_per_s"] if bare["pages_per_s"] else 0.0
    rows: list[tuple[str, str, bool | str]] = [
        (
            f"full/bare throughput ≥ {TARGETS['ratio']} at N = {last['n']:,}",
            fmt(ratio, 2),
            ratio >= TARGETS["ratio"],
        ),
    ]
    for s in sizes:
        median = s["cpu"]["cpu"]["total"]["median"]
        rows.append(
            (
                f"extraction + normalisation + storage ≤ {TARGETS['cpu_ms']:g} ms median per "
                f"item (N = {s['n']:,})",
                f"{fmt(median, 2)} ms CPU",
                median <= TARGETS["cpu_ms"],
            )
        )
    rss = full["max_rss_mb"]
    rows.append(
        (f"peak RSS ≤ {TARGETS['rss_mb']:g} MB at N = {last['n']:,}", f"{fmt(rss, 1)} MB",
         rss <= TARGETS["rss_mb"])
    )  # fmt: skip
    if len(sizes) > 1:
        growth = rss / sizes[0]["crawls"]["full"]["max_rss_mb"]
        rows.append(
            (
                f"peak RSS at N = {last['n']:,} < {TARGETS['rss_growth']}× N = {sizes[0]['n']:,}",
                f"{fmt(growth, 2)}×",
                growth < TARGETS["rss_growth"],
            )
        )
    else:
        rows.append((f"peak RSS growth < {TARGETS['rss_growth']}×", "one size only", "n/a"))
    item_pages = [s["crawls"]["rerun"]["items"] for s in sizes]
    rows.append(
        (
            f"an unchanged re-run fetches no item page but its {CACI_CANARY_ITEMS} canary",
            ", ".join(
                f"{p} item pages (N = {s['n']:,})" for p, s in zip(item_pages, sizes, strict=True)
            ),
            all(p == CACI_CANARY_ITEMS for p in item_pages),
        )
    )
    costs = [
        s["crawls"]["rerun"]["listing"] + s["crawls"]["rerun"]["items"]
        + s["crawls"]["rerun"]["feed"]
        for s in sizes
    ]  # fmt: skip
    rows.append(
        (
            "an unchanged feed-first night costs at most 2 requests (feed + canary) + robots.txt",
            ", ".join(f"{c} (N = {s['n']:,})" for c, s in zip(costs, sizes, strict=True)),
            all(c <= 2 for c in costs),
        )
    )
    accuracy = results["accuracy"]
    target = "our body similarity beats trafilatura's on every fixture"
    if accuracy["trafilatura"]:
        table = accuracy["rows"]
        higher = sum(r["ours_similarity"] > r["traf_similarity"] for r in table)
        lower = sum(r["ours_similarity"] < r["traf_similarity"] for r in table)
        ties = len(table) - higher - lower
        exact_ties = sum(r["ours_similarity"] == r["traf_similarity"] == 1.0 for r in table)
        measured = f"higher on {higher}, equal on {ties}, lower on {lower} of {len(table)}"
        if higher == len(table):
            ok: bool | str = True
        elif lower == 0 and ties == exact_ties:
            ok = f"never lower; the {ties} ties are pages both extract exactly (1.000)"
        else:
            ok = False
        rows.append((target, measured, ok))
    else:
        rows.append((target, "trafilatura skipped (`--skip-trafilatura`)", "n/a"))
    return rows
