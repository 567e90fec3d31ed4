"""The fault matrix: every fault the local site can act out, crawled for real, outcome observed;
then the nightly changes (a database that holds a crawl, the site changed), the exports that
cannot be written on such a night (a directory in the way, a full disk:
:mod:`caci_spider.testworld.localsite.fullfs`) and the template drift (the site served through other
templates, :mod:`caci_spider.testworld.localsite.drift`).

``python -m caci_spider.testworld.localsite.fault_matrix [--out docs/reliability.md]`` runs every
scenario (each a fresh local site and database, the real ``scrapy crawl field_reports``) and writes
the table; the test suite runs the same scenarios and asserts their expected outcome.

"Items lost" counts the site's good items that ended neither stored, nor in ``rejects``, nor in
``duplicates``, nor excluded by robots.txt: items that vanished without a trace. The goal is zero.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from caci_spider.records import open_database
from caci_spider.sources import section_of
from caci_spider.storage import export_publications
from caci_spider.testworld.localsite import DEFAULT_FIXTURES, LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from caci_spider.testworld.localsite.drift import (
    DRIFT_CASES,
    DriftOutcome,
    run_first_crawl,
    run_next_night,
)
from caci_spider.testworld.localsite.drift import render as render_drift
from caci_spider.testworld.localsite.faults import Fault
from caci_spider.testworld.localsite.fullfs import run_on_full_disk

SEED_ID = 8145  # the seed page: the usual target
CURLY_ID = 12990  # a page whose text has curly apostrophes (for the encoding fault)
MOJIBAKE_ID = 9612  # a page whose text is mojibake (UTF-8 read as windows-1252)
_CONTROL_OR_MARKUP = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|<\s*(script|style|img)\b", re.I)


@dataclass
class Scenario:
    name: str
    injected: str
    expected: str
    inject: Callable[[LocalK2Site, str], None]  # (site, base URL of another host)
    target: int = SEED_ID
    stored: bool = True  # the target ends up stored (for refetch scenarios: stays stored)
    reject: str | None = None  # a substring of the target's reject reason, if it is rejected
    settings: tuple[str, ...] = ()
    refetch: bool = False  # crawl clean first, then inject and refetch everything (mode=full)
    arguments: tuple[str, ...] = ()  # more command-line arguments (-a …)
    exit_status: int | None = None  # the exit status it must end with, when the row shows it
    exact_body: bool = False  # the target's stored body must be its oracle's, to the letter


@dataclass
class Outcome:
    scenario: Scenario
    exit_status: int
    stored: bool
    rejects: list[str]
    lost: list[int]
    offsite_requests: int
    text_problems: list[str] = field(default_factory=list)
    jsonl_valid: bool = True
    target_body_ok: bool = True

    @property
    def as_expected(self) -> bool:
        reject_ok = (
            not self.rejects if self.scenario.reject is None
            else any(self.scenario.reject in r for r in self.rejects)
        )  # fmt: skip
        exit_ok = self.scenario.exit_status in (None, self.exit_status)
        return (
            self.stored == self.scenario.stored
            and exit_ok
            and reject_ok
            and not self.lost
            and self.offsite_requests == 0
            and not self.text_problems
            and self.jsonl_valid
            and self.target_body_ok
        )

    def observed(self) -> str:
        """What happened, without the run's random port numbers."""
        return re.sub(r"https?://(?:127\.0\.0\.1|localhost):\d+", "<site>", self._observed())

    def _observed(self) -> str:
        parts = [] if self.scenario.exit_status is None else [f"exit {self.exit_status}"]
        parts.append("stored" if self.stored else "not stored")
        if self.scenario.exact_body and self.stored:
            parts.append("body as published" if self.target_body_ok else "body differs")
        parts += [f"reject “{r}”" for r in self.rejects]
        if self.offsite_requests:
            parts.append(f"{self.offsite_requests} off-site requests")
        parts += self.text_problems
        return "; ".join(parts)


def _fault(item_id: int, fault: Fault) -> Callable[[LocalK2Site, str], None]:
    def inject(site: LocalK2Site, _other: str) -> None:
        site.faults[item_id] = fault

    return inject


def _offsite_redirect(site: LocalK2Site, other: str) -> None:
    site.faults[SEED_ID] = Fault("redirect-offsite", target=other)


def _robots(site: LocalK2Site, _other: str) -> None:
    site.robots_txt = f"User-agent: *\nDisallow: /publications/field-reports/item/{SEED_ID}-\n"


def _listing_noise(site: LocalK2Site, other: str) -> None:
    path = f"/publications/field-reports/item/{SEED_ID}-x.html"
    site.listing_noise = (
        '<p><a href="javascript:void(0)">js</a> <a href="mailto:x@cacianalyst.org">mail</a> '
        f'<a href="{other}{path}">off-site item</a> '
        f'<a href="/publications/field-reports/item/1{"9" * 3000}-long.html">long</a> '
        f'<a href="{other}/publications/field-reports.html?start=4">off-site listing</a></p>'
    )


def _no_fault(_site: LocalK2Site, _other: str) -> None:
    """The fixture site as it is: the case is in the page (9612) or in the command line."""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("500 then success", "first request answers 500", "retried, stored",
             _fault(SEED_ID, Fault("status", 500, times=1))),
    Scenario("persistent 500", "every request answers 500", "retries run out; reject with status",
             _fault(SEED_ID, Fault("status", 500)), stored=False, reject="HTTP 500"),
    Scenario("404", "the item answers 404", "reject with status",
             _fault(SEED_ID, Fault("status", 404)), stored=False, reject="HTTP 404"),
    Scenario("410 on refetch", "a stored item answers 410 to mode=full",
             "reject with status; stored row untouched",
             _fault(SEED_ID, Fault("status", 410)), reject="HTTP 410", refetch=True),
    Scenario("slow once", "first answer 3 s late, DOWNLOAD_TIMEOUT=1", "timeout retried, stored",
             _fault(SEED_ID, Fault("slow", delay=3, times=1)), settings=("DOWNLOAD_TIMEOUT=1",)),
    Scenario("always slow", "every answer 3 s late, DOWNLOAD_TIMEOUT=1",
             "reject naming the timeout", _fault(SEED_ID, Fault("slow", delay=3)),
             stored=False, reject="Timeout", settings=("DOWNLOAD_TIMEOUT=1",)),
    Scenario("dropped once", "first connection closed without an answer", "retried, stored",
             _fault(SEED_ID, Fault("drop", times=1))),
    Scenario("always dropped", "every connection closed without an answer",
             "reject naming the failure", _fault(SEED_ID, Fault("drop")),
             stored=False, reject="fetch failed"),
    Scenario("data loss", "Content-Length longer than the body sent",
             "reject naming the failure", _fault(SEED_ID, Fault("dataloss")),
             stored=False, reject="fetch failed"),
    Scenario("truncated HTML", "a complete answer with the first 40 % of the page",
             "reject: no closing </html>", _fault(SEED_ID, Fault("truncated")),
             stored=False, reject="truncated page"),
    Scenario("truncated on refetch", "mode=full gets 40 % of a stored page",
             "reject; stored row untouched", _fault(SEED_ID, Fault("truncated")),
             reject="truncated page", refetch=True),
    Scenario("empty 200", "200 with an empty body", "reject “empty page”",
             _fault(SEED_ID, Fault("empty")), stored=False, reject="empty page"),
    Scenario("too large", "page padded to 3 MiB, DOWNLOAD_MAXSIZE=1 MiB",
             "download cancelled; reject", _fault(SEED_ID, Fault("huge")),
             stored=False, reject="fetch failed", settings=("DOWNLOAD_MAXSIZE=1048576",)),
    Scenario("windows-1252, no charset", "page re-encoded, no header or meta charset",
             "decoded correctly, stored with its text as published",
             _fault(CURLY_ID, Fault("cp1252")), target=CURLY_ID, exact_body=True),
    Scenario("Turkish mojibake", "a page holds AÅŸgabat (ş as UTF-8 read as windows-1252) alone "
             "in its paragraph, Ã…lesund in another (fixture 9612)",
             "exit 0; stored as Aşgabat and Ålesund", _no_fault, target=MOJIBAKE_ID,
             exit_status=0, exact_body=True),
    Scenario("`_version` job", "-a _version=r123 -a _job=6487ec79, as Scrapyd passes them",
             "exit 0; taken in silence, the crawl as usual", _no_fault,
             arguments=("-a", "_version=r123", "-a", "_job=6487ec79"), exit_status=0),
    Scenario("redirect loop", "302 to itself", "reject “dropped without an answer”",
             _fault(SEED_ID, Fault("redirect-loop")), stored=False,
             reject="redirect loop"),
    Scenario("redirect to another host", "302 to the same path on another host",
             "not followed; reject “dropped without an answer”", _offsite_redirect,
             stored=False, reject="off the configured hosts"),
    Scenario("429 with Retry-After", "first answer 429, Retry-After: 1", "waited, stored",
             _fault(SEED_ID, Fault("throttle", delay=1, times=1))),
    Scenario("robots.txt disallows the item", "Disallow: the item's path",
             "never requested; not a reject", _robots, stored=False),
    Scenario("hostile listing links", "javascript:, mailto:, off-site and 3,000-character links",
             "none requested", _listing_noise),
    Scenario("hostile markup", "<script>, <style>, <img onerror>, control characters and "
             "&#xD800; in title and body", "stored as plain text without them",
             _fault(SEED_ID, Fault("hostile"))),
)  # fmt: skip


def good_item_ids(fixtures: Path = DEFAULT_FIXTURES) -> set[int]:
    """The fixture site's items that should become rows."""
    ids = set()
    for path in (fixtures / "field_reports" / "items").glob("*.json"):
        if path.name.endswith(".draft.json"):
            continue  # a draft oracle (caci_spider.testworld.draft) is not checked yet
        expected = json.loads(path.read_text("utf-8"))
        if "reject" not in expected and "duplicate_of" not in expected:
            ids.add(expected["id"])
    return ids


def run_scenario(scenario: Scenario, workdir: Path) -> Outcome:
    """Crawl a fresh local site with the scenario's fault; observe what happened."""
    env = {**os.environ, "PYTHONPATH": str(DEFAULT_FIXTURES.parent)}
    settings = [
        "-s", "RETRY_TIMES=1", "-s", "CACI_COVERAGE_MIN_ITEMS=1000",
        *[arg for s in scenario.settings for arg in ("-s", s)], *scenario.arguments,
    ]  # fmt: skip
    with serve(LocalK2Site()) as (base_url, site), serve(LocalK2Site()) as (other, other_site):
        other = other.replace("127.0.0.1", "localhost")  # another host, not another port
        command = crawl_command("field_reports", base_url, workdir) + settings

        def crawl(*extra: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                command + list(extra), cwd=DEFAULT_FIXTURES.parent, env=env,
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip

        if scenario.refetch:
            crawl()
            before = _row(workdir, scenario.target)
            scenario.inject(site, other)
            result = crawl("-a", "mode=full")
        else:
            before = None
            scenario.inject(site, other)
            result = crawl()
        offsite = sum(other_site.hits.values())
    return _observe(scenario, workdir, result.returncode, offsite, before)


def _row(workdir: Path, item_id: int) -> dict | None:
    db = sqlite_utils.Database(workdir / "caci.db")
    rows = list(db["publications"].rows_where("id = ?", [item_id]))
    return rows[0] if rows else None


def _observe(
    scenario: Scenario, workdir: Path, status: int, offsite: int, before: dict | None
) -> Outcome:
    db = sqlite_utils.Database(workdir / "caci.db")
    stored_ids = {r["id"] for r in db["publications"].rows}
    rejects = list(db["rejects"].rows)
    marker = f"/item/{scenario.target}-"
    target_rejects = [r["reason"] for r in rejects if marker in r["url"]]
    rejected_ids = {int(m[1]) for r in rejects if (m := re.search(r"/item/(\d+)-", r["url"]))}
    duplicate_ids = {r["id"] for r in db["duplicates"].rows}
    excluded = {scenario.target} if scenario.name.startswith("robots") else set()
    lost = sorted(good_item_ids() - stored_ids - rejected_ids - duplicate_ids - excluded)
    text_problems = [
        f"markup or control character in {row['id']}.{key}"
        for row in db["publications"].rows
        for key in ("title", "body", "byline")
        if row[key] and _CONTROL_OR_MARKUP.search(row[key])
    ]
    outcome = Outcome(
        scenario, status, scenario.target in stored_ids, target_rejects, lost, offsite,
        text_problems, _jsonl_valid(workdir / "field_reports.jsonl"),
    )  # fmt: skip
    if before is not None:  # refetch scenarios: the stored row must be exactly as it was
        after = _row(workdir, scenario.target)
        outcome.target_body_ok = after is not None and after["body"] == before["body"]
    elif outcome.stored and scenario.exact_body:
        expected = json.loads(
            next((DEFAULT_FIXTURES / "field_reports" / "items").glob(f"{scenario.target}-*.json"))
            .read_text("utf-8")
        )  # fmt: skip
        stored_row = _row(workdir, scenario.target)
        outcome.target_body_ok = stored_row is not None and stored_row["body"] == expected["body"]
    return outcome


def _jsonl_valid(path: Path) -> bool:
    if not path.exists():
        return False
    try:
        for line in path.read_bytes().decode("utf-8").splitlines():
            json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return True


def render(
    outcomes: list[Outcome],
    nightly: list[NightlyOutcome],
    drift: list[DriftOutcome],
    writes: list[WriteOutcome] | None = None,
) -> str:
    lines = [
        "# Reliability: the fault matrix",
        "",
        "Generated by `python -m caci_spider.testworld.localsite.fault_matrix "
        "--out docs/reliability.md`:",
        "each row is a fresh local K2 site (the fixture pages) with one fault switched on, and",
        "the real `scrapy crawl field_reports` against it (`RETRY_TIMES=1`). “Items lost”",
        "counts the site's good items that ended neither stored, nor in `rejects`, nor in",
        "`duplicates`, nor excluded by robots.txt. Every row also checks that no stored text holds",
        "markup or control characters and that every line of the JSONL export is valid UTF-8",
        "JSON. The test suite (`tests/test_faults.py`) runs the same scenarios.",
        "",
        "| fault | how injected | expected | observed | items lost | as expected |",
        "|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        s = o.scenario
        lines.append(
            f"| {s.name} | {s.injected} | {s.expected} | {o.observed()} | {len(o.lost)} | "
            f"{'yes' if o.as_expected else '**no**'} |"
        )
    lines += [
        "",
        "## Nightly runs: the site changes under a database that holds a crawl",
        "",
        "Every scheduled run after the first night finds a database that already holds a crawl.",
        "Each row below starts from a copy of the same first night (the fixture site crawled",
        "into a fresh database), changes the site, and runs the real `scrapy crawl field_reports`",
        "(incremental, `RETRY_TIMES=1`, every other setting at its default). “Message” is the",
        "run's first ERROR line (the WARNING for a skipped night); “rows kept” says that every",
        "stored row is exactly as the first night left it. Exit statuses:",
        "0 ok, 1 crawl failed, 2 usage or configuration error, 75 skipped (docs/scheduling.md).",
        "",
        "“Read” is what the night learnt the section's items from (`crawl_runs.sources`): the",
        "feed, or the listing and why; “new rows” the rows it added.",
        "",
        "| change | how injected | expected | exit | message | read | new rows | rows kept "
        "| as expected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n in nightly:
        night = n.scenario
        lines.append(
            f"| {night.name} | {night.injected} | {night.expected} | {n.exit_status} | "
            f"{n.message.replace('|', '/') or '–'} | {n.source.replace('|', '/') or '–'} | "
            f"{n.new_rows} | {'yes' if n.rows_kept else 'no'} | "
            f"{'yes' if n.as_expected else '**no**'} |"
        )
    if writes:
        lines += ["", *render_writes(writes)]
    lines += ["", *render_drift(drift)]
    lines += [
        "",
        "Crash safety and concurrent readers are covered by `tests/test_crash_safety.py`: a crawl",
        "killed with SIGKILL at random moments leaves a database that passes",
        "`PRAGMA integrity_check` and the FTS5 `integrity-check`, the previous complete export,",
        "and a next run that completes; a reader polling the database during a crawl never gets",
        "“database is locked”.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.testworld.localsite.fault_matrix", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=Path("docs/reliability.md"))
    args = parser.parse_args()
    outcomes = []
    for scenario in SCENARIOS:
        with tempfile.TemporaryDirectory() as workdir:
            outcome = run_scenario(scenario, Path(workdir))
        print(f"{'ok ' if outcome.as_expected else 'BAD'} {scenario.name}: {outcome.observed()}")
        outcomes.append(outcome)
    nightly = []
    port = free_port()
    drift: list[DriftOutcome] = []
    # One first night for both tables: every scenario works on a copy of it.
    with tempfile.TemporaryDirectory() as template:
        first_night(Path(template), port)
        for night in NIGHTLY_SCENARIOS:
            with tempfile.TemporaryDirectory() as workdir:
                result = run_nightly_scenario(night, Path(template), port, Path(workdir))
            print(f"{'ok ' if result.as_expected else 'BAD'} {night.name}: {result.message}")
            nightly.append(result)
        writes = []
        for write in WRITE_SCENARIOS:
            with tempfile.TemporaryDirectory() as workdir:
                written = run_write_scenario(write, Path(template), port, Path(workdir))
            print(f"{'ok ' if written.as_expected else 'BAD'} {write.name}: {written.message}")
            writes.append(written)
        for case in DRIFT_CASES:
            with tempfile.TemporaryDirectory() as workdir:
                layout = run_first_crawl(case, Path(workdir) / "first")
                run_next_night(layout, Path(template), port, Path(workdir) / "night")
            print(f"{'ok ' if layout.as_expected else 'BAD'} layout {case.layout}")
            drift.append(layout)
    args.out.write_text(render(outcomes, nightly, drift, writes), "utf-8")
    print(f"Wrote {args.out}")


# -- nightly runs: a database that holds a crawl, then the site changes ------------------------
@dataclass
class NightlyScenario:
    name: str
    injected: str
    expected: str
    exit_status: int
    message: str  # a substring of the run's first ERROR (or, for a skip, WARNING) line
    change: Callable[[LocalK2Site, Path], list[str]]  # (site, scratch dir) → extra crawl args
    site_down: bool = False
    rows_kept: bool = True  # every stored row exactly as the first night left it
    source: str = ""  # "feed" or "listing": how the night learnt the section's items ("": any)
    new_rows: int | None = None  # rows the night must add (None: not checked)


@dataclass
class NightlyOutcome:
    scenario: NightlyScenario
    exit_status: int
    message: str
    rows_kept: bool
    source: str = ""  # crawl_runs.sources of the night: "feed" or "listing (why)"
    new_rows: int = 0

    @property
    def as_expected(self) -> bool:
        s = self.scenario
        return (
            self.exit_status == s.exit_status
            and s.message in self.message
            and (self.rows_kept or not s.rows_kept)
            and self.source.startswith(s.source)
            and (s.new_rows is None or self.new_rows == s.new_rows)
        )


def _new_items(count: int) -> Callable[[LocalK2Site, Path], list[str]]:
    def change(site: LocalK2Site, scratch: Path) -> list[str]:
        seed = next((DEFAULT_FIXTURES / "field_reports" / "items").glob(f"{SEED_ID}-*.html"))
        for number in range(count):
            item_id = 13001 + number
            html = seed.read_text("utf-8").replace(
                "During his three-day visit", f"During visit number {item_id}"
            )
            path = scratch / f"{item_id}-new-report.html"
            path.write_text(html, "utf-8")
            site.add_item(path, position=2)
        return []

    return change


def _unchanged(_site: LocalK2Site, _scratch: Path) -> list[str]:
    return []


def _walk_night(change: Callable[[LocalK2Site, Path], list[str]]) -> Callable[..., list[str]]:
    """``change`` on a night that walks the listing (-a walk=listing: the weekly walk's night):
    a feed-first night does not look at the listing, and judges it on its next walk."""

    def walk(site: LocalK2Site, scratch: Path) -> list[str]:
        return [*change(site, scratch), "-a", "walk=listing"]

    return walk


def _feed_fault(fault: str, new: int = 2) -> Callable[[LocalK2Site, Path], list[str]]:
    def change(site: LocalK2Site, scratch: Path) -> list[str]:
        _new_items(new)(site, scratch)
        site.feed_fault = fault
        return []

    return change


def _walk_due(site: LocalK2Site, scratch: Path) -> list[str]:
    """A stale feed, 8 days after the last complete listing walk."""
    _feed_fault("stale")(site, scratch)
    walked = datetime.now(UTC) - timedelta(days=8)
    with sqlite3.connect(scratch.parent / "caci.db") as conn:
        conn.execute("UPDATE listing_walks SET walked_at = ?", [walked.isoformat()])
    return []


def _moved_listing(site: LocalK2Site, _scratch: Path) -> list[str]:
    site.listing_moved = True
    return []


def _moved_listing_feed_kept(site: LocalK2Site, scratch: Path) -> list[str]:
    """The listing moved but its feed still answers: feed-first nights pass; the weekly walk,
    due here (8 days), finds the listing gone."""
    site.listing_moved = True
    site.feed_moves_with_listing = False
    walked = datetime.now(UTC) - timedelta(days=8)
    with sqlite3.connect(scratch.parent / "caci.db") as conn:
        conn.execute("UPDATE listing_walks SET walked_at = ?", [walked.isoformat()])
    return []


def _redesigned_listing(site: LocalK2Site, _scratch: Path) -> list[str]:
    site.listing_page = lambda start: "<html><body><ul class='articles'></ul></body></html>"  # type: ignore[method-assign]
    return []


def _shrunk_listing(site: LocalK2Site, _scratch: Path) -> list[str]:
    site.order = site.order[:8]
    return []


def _redesigned_items(site: LocalK2Site, scratch: Path) -> list[str]:
    _new_items(3)(site, scratch)
    site.broken_markup = True
    return []


def _items_gone(site: LocalK2Site, scratch: Path) -> list[str]:
    _new_items(3)(site, scratch)
    site.failing.update({item_id: 404 for item_id in site.items})
    return []


def _items_forbidden(site: LocalK2Site, scratch: Path) -> list[str]:
    _new_items(3)(site, scratch)
    site.robots_txt = "User-agent: *\nDisallow: /publications/field-reports/item/\n"
    return []


def _start_ignored(site: LocalK2Site, scratch: Path) -> list[str]:
    _new_items(3)(site, scratch)
    site.order = [*site.order[3:], *site.order[:3]]  # the new items at the end of the listing
    first_page = site.listing_page
    site.listing_page = lambda start: first_page(0)  # type: ignore[method-assign]
    return []


def _foreign_site(_site: LocalK2Site, _scratch: Path) -> list[str]:
    return ["-s", "CACI_BASE_URL=http://127.0.0.2:9"]


def _lock_held(_site: LocalK2Site, scratch: Path) -> list[str]:
    import fcntl

    handle = (scratch.parent / "caci.db.lock").open("wb")
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _held_locks.append(handle)  # released when the scenario's files are removed
    return []


_held_locks: list[object] = []

_WALK = " (on a listing night: -a walk=listing)"

NIGHTLY_SCENARIOS: tuple[NightlyScenario, ...] = (
    NightlyScenario("nothing new", "the site as it was", "exit 0, no ERROR; the feed only", 0, "",
                    _unchanged, source="feed", new_rows=0),
    NightlyScenario("one new item", "one item published (top of the feed)",
                    "exit 0, the item stored from the feed", 0, "", _new_items(1), source="feed",
                    new_rows=1),
    NightlyScenario("15 new items at once", "15 items published: the feed's 10 all new",
                    "exit 0, the listing walked, all 15 stored", 0, "", _new_items(15),
                    source="listing", new_rows=15),
    NightlyScenario("feed 404, 2 new items", "the feed answers 404",
                    "exit 0, the listing walked, both stored", 0, "", _feed_fault("status"),
                    source="listing", new_rows=2),
    NightlyScenario("feed malformed, 2 new items", "the feed cut off half-way",
                    "exit 0, the listing walked, both stored", 0, "", _feed_fault("malformed"),
                    source="listing", new_rows=2),
    NightlyScenario("feed oversized, 2 new items", "20 MB of junk in the feed",
                    "exit 0, refused unread, the listing walked, both stored", 0, "",
                    _feed_fault("oversized"), source="listing", new_rows=2),
    NightlyScenario("feed entity expansion, 2 new items", "a billion-laughs DTD in the feed",
                    "exit 0, refused, the listing walked, both stored", 0, "",
                    _feed_fault("entity-expansion"), source="listing", new_rows=2),
    NightlyScenario("feed external entity, 2 new items", "an entity reading /etc/passwd",
                    "exit 0, refused, the listing walked, both stored", 0, "",
                    _feed_fault("external-entity"), source="listing", new_rows=2),
    NightlyScenario("stale feed, 2 new items, walk due", "the feed frozen before the new "
                    "items; the last walk 8 days ago", "exit 0, the weekly walk stores both", 0,
                    "", _walk_due, source="listing", new_rows=2),
    NightlyScenario("host refusing connections", "nothing listening at the base URL",
                    "exit 1: the host given up after robots.txt, one ERROR line naming it and "
                    "CACI_BASE_URL; no other request", 1,
                    "did not answer (DownloadConnectionRefusedError", _unchanged, site_down=True),
    NightlyScenario("wrong path prefix", "the listing path answers 404",
                    "exit 1: the first listing page answered 404", 1, "answered HTTP 404",
                    _moved_listing),
    NightlyScenario("listing moved, feed kept, walk due", "the listing path answers 404, the "
                    "feed still answers; the last walk 8 days ago",
                    "exit 1 on the weekly walk: the first listing page answered 404", 1,
                    "answered HTTP 404", _moved_listing_feed_kept),
    NightlyScenario("listing redesign", "200, no K2 entries on the listing" + _WALK,
                    "exit 1: no entries", 1, "holds no entries", _walk_night(_redesigned_listing)),
    NightlyScenario("listing shrank", "8 of 22 listing entries left" + _WALK,
                    "exit 1: below 80 % of the last good run", 1, "below 80% of the 22",
                    _walk_night(_shrunk_listing)),
    NightlyScenario("item redesign, 3 new items", "date line and title gone from item pages",
                    "exit 1: the canary lost fields; stored rows kept", 1,
                    "no longer yields title, published", _redesigned_items),
    NightlyScenario("item pages gone, 3 new items", "every item page answers 404",
                    "exit 1: no item page could be read", 1, "none of the 4 item pages",
                    _items_gone),
    NightlyScenario("item pages forbidden, 3 new items", "robots.txt disallows item pages",
                    "exit 1: no item page could be read", 1, "none of the 4 item pages",
                    _items_forbidden),
    NightlyScenario("listing ignores ?start", "every offset serves page one; 3 new items at "
                    "the end" + _WALK, "exit 1: too few distinct entries", 1,
                    "the listing holds 4 entries", _walk_night(_start_ignored)),
    NightlyScenario("foreign base URL", "CACI_BASE_URL of another site, same database",
                    "exit 2 before any request", 2, "holds the data of", _foreign_site),
    NightlyScenario("previous run still going", "another process holds the database lock",
                    "exit 75, nothing done", 75, "another crawl holds", _lock_held),
)  # fmt: skip


def first_night(workdir: Path, port: int) -> None:
    """The database and archive of a first crawl of the local site on ``port``."""
    with serve(LocalK2Site(), port=port) as (base_url, _site):
        result = subprocess.run(
            crawl_command("field_reports", base_url, workdir) + ["-s", "RETRY_TIMES=1"],
            cwd=DEFAULT_FIXTURES.parent, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"the first night failed:\n{result.stderr[-3000:]}")


def run_nightly_scenario(
    scenario: NightlyScenario, template: Path, port: int, workdir: Path
) -> NightlyOutcome:
    """The next night's run: a copy of the first night's files, the site changed."""
    shutil.copytree(template, workdir, dirs_exist_ok=True)
    scratch = workdir / "scratch"
    scratch.mkdir()
    before = _all_rows(workdir)
    site = LocalK2Site()
    extra = scenario.change(site, scratch)
    command = crawl_command("field_reports", f"http://127.0.0.1:{port}", workdir)
    command += ["-s", "RETRY_TIMES=1", *extra]
    try:
        if scenario.site_down:
            result = _run(command)
        else:
            with serve(site, port=port):
                result = _run(command)
    finally:
        while _held_locks:
            _held_locks.pop().close()  # type: ignore[attr-defined]
    lines = [
        line.split("] ", 1)[-1]
        for line in result.stderr.splitlines()
        # The crawler's own verdicts; Scrapy's retry ERROR for the always-500 item is a fault
        # of every night.
        if "[caci_spider" in line
        and (" ERROR: " in line or (" WARNING: " in line and "another crawl holds" in line))
    ]
    message = re.sub(r"(https?://)?127\.0\.0\.\d+:\d+", "<site>", lines[0]) if lines else ""
    message = re.sub(r"/\S+/caci\.db", "<db>", message)
    after = {row["id"]: row for row in _all_rows(workdir)}
    kept = all(after.get(row["id"]) == row for row in before)
    return NightlyOutcome(
        scenario, result.returncode, message, kept, _night_source(workdir), len(after) - len(before)
    )


def _night_source(workdir: Path) -> str:
    """How the night's run learnt the items: ``feed`` or ``listing (why)``."""
    db = sqlite_utils.Database(workdir / "caci.db")
    runs = list(db["crawl_runs"].rows_where(order_by="id desc", limit=1))
    if len(runs) < 1 or not runs[0].get("sources") or db["crawl_runs"].count < 2:
        return ""
    source = json.loads(runs[0]["sources"]).get("field-reports", {})
    kind = source.get("source", "")
    return f"{kind} ({source.get('reason', '')})" if kind == "listing" else kind


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=DEFAULT_FIXTURES.parent, capture_output=True, text=True, timeout=300
    )


def _all_rows(workdir: Path) -> list[dict]:
    db = sqlite_utils.Database(workdir / "caci.db")
    return [
        {k: v for k, v in row.items() if k != "fetched_at"}
        for row in db["publications"].rows_where(order_by="id")
    ]


# -- writing the results: an export that cannot be written on a later night -------------------
EXPORT = "field_reports.jsonl"


@dataclass
class WriteScenario:
    name: str
    injected: str
    expected: str
    message: str  # a substring of the run's first ERROR line
    disk_full: bool = False  # the export directory on a full disk; else a directory in the way


@dataclass
class WriteOutcome:
    scenario: WriteScenario
    exit_status: int
    message: str
    self_check: str
    export: str  # what stands at the export's path after the night
    rows_lost: int  # rows of the first night or of the night's new item not in the database
    files_lost: int  # an export neither its previous file nor complete, or a temporary file left

    @property
    def as_expected(self) -> bool:
        return (
            self.exit_status == 1
            and self.self_check == "failed"
            and self.scenario.message in self.message
            and self.rows_lost == 0
            and self.files_lost == 0
        )


WRITE_SCENARIOS: tuple[WriteScenario, ...] = (
    WriteScenario("export target unwritable at write time",
                  f"a directory stands where {EXPORT} goes; one new item published",
                  "exit 1 naming the file and the error; the item stored in the database",
                  "could not write the export"),
    WriteScenario("disk full during export",
                  "the export directory on a full filesystem (a tmpfs with no space left); one "
                  "new item published",
                  "exit 1 naming the file and the error; the previous file kept whole; the item "
                  "stored in the database", "No space left on device", disk_full=True),
)  # fmt: skip


def run_write_scenario(
    scenario: WriteScenario, template: Path, port: int, workdir: Path
) -> WriteOutcome:
    """The next night's ``scrapy crawl field_reports`` (a copy of the first night's files, one
    new item on the site) with its export blocked or its disk full."""
    shutil.copytree(template, workdir, dirs_exist_ok=True)
    scratch = workdir / "scratch"
    scratch.mkdir()
    site = LocalK2Site()
    _new_items(1)(site, scratch)
    before = _all_rows(workdir)
    previous = (workdir / EXPORT).read_text("utf-8")
    command = crawl_command("field_reports", f"http://127.0.0.1:{port}", workdir)
    command += ["-s", "RETRY_TIMES=1"]
    if scenario.disk_full:
        exports, after = workdir / "exports", workdir / "exports-after"
        seed = scratch / "previous"
        seed.mkdir()
        shutil.copy2(workdir / EXPORT, seed / EXPORT)
        exports.mkdir()
        with serve(site, port=port):
            result = run_on_full_disk(
                [*command, "-s", f"CACI_EXPORT_DIR={exports}"], exports, after, seed,
                cwd=DEFAULT_FIXTURES.parent,
            )  # fmt: skip
    else:
        after = workdir
        (workdir / EXPORT).unlink()
        (workdir / EXPORT).mkdir()
        with serve(site, port=port):
            result = _run(command)
    lines = [
        line.split("] ", 1)[-1]
        for line in result.stderr.splitlines()
        if "[caci_spider" in line and " ERROR: " in line
    ]
    message = lines[0].replace(str(workdir), "<dir>") if lines else ""
    rows = {row["id"]: row for row in _all_rows(workdir)}
    lost = sum(rows.get(row["id"]) != row for row in before) + (13001 not in rows)
    written = after / EXPORT
    if written.is_dir():
        export, whole = "the directory, untouched", not any(written.iterdir())
    else:
        text = written.read_text("utf-8")
        export = "the previous file" if text == previous else "a new file"
        whole = text in (previous, _fresh_export(workdir / "caci.db", scratch / EXPORT))
    temporary = [p for p in after.iterdir() if p.name.startswith(f".{EXPORT}.")]
    db = sqlite_utils.Database(workdir / "caci.db")
    (run,) = db["crawl_runs"].rows_where(order_by="id desc", limit=1)
    return WriteOutcome(
        scenario, result.returncode, message, run["self_check"], export, lost,
        int(not whole) + len(temporary),
    )  # fmt: skip


def _fresh_export(database_path: Path, path: Path) -> str:
    """The field reports' export as the database's rows make it now."""
    profile, section = section_of("field_reports")
    database = open_database(database_path)
    try:
        export_publications(database, path, site=profile.key, category=section.category)
    finally:
        database.close()
    return path.read_text("utf-8")


def render_writes(outcomes: list[WriteOutcome]) -> list[str]:
    """The "writing the results" section of docs/reliability.md."""
    lines = [
        "## Writing the results: exports that cannot be written",
        "",
        "Each export is written to a temporary file beside it and renamed over the old one only",
        "once complete, so a reader finds the previous complete file or the new complete one,",
        "never a part. A night whose export (or database, or page archive) cannot be written",
        "fails: exit 1, `crawl_runs.self_check = 'failed'` with the file and the error in",
        "`crawl_runs.problems`, one ERROR line, and the nightly's two lines for a failed crawl",
        "(`python -m caci_spider.nightly`: cron mails them). Every other export of the run is",
        "still written, and every row is in the database: once the space is freed or the path",
        "cleared, the next run writes the file. Each row starts from a copy",
        "of the first night above, publishes one new item and runs the real `scrapy crawl",
        "field_reports`. “Rows lost”: rows of the first night or the new item missing from the",
        "database; “files lost”: an export that is neither its previous file nor complete, or",
        "a temporary file left behind. `tests/test_export_failures.py` does the same through",
        "`scrapy crawl publications` and the nightly, for every export file.",
        "",
        f"| fault | how injected | expected | exit | message | `{EXPORT}` after | rows lost "
        "| files lost | as expected |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        w = o.scenario
        lines.append(
            f"| {w.name} | {w.injected} | {w.expected} | {o.exit_status} | "
            f"{o.message.replace('|', '/') or '–'} | {o.export} | {o.rows_lost} | "
            f"{o.files_lost} | {'yes' if o.as_expected else '**no**'} |"
        )
    return lines


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
