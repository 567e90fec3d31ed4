"""Offline demo: ``python -m caci_spider.demo [--out exports/demo]``.

Starts the local K2 site on a free loopback port, runs the real ``scrapy crawl field_reports``
and ``scrapy crawl staff_publications`` against it, and prints what was stored: the tables'
counts, every reject with the deliberate fault of the local site it comes from, and the
sqlite-utils commands of the README's "Loading the data" with this run's paths.

Every run starts afresh, so that every run gives the same counts: the site gets a new port each
time, and a database keeps the site it was built from (a crawl of another base URL is refused).
The demo therefore removes its own outputs in ``--out`` (the database with its ``-wal``,
``-shm`` and lock files, the page archive ``httpcache/`` and the two ``.jsonl`` exports) and
nothing else. It only does so in a directory it made: one holding its marker file
``.caci-demo``, or an empty one. Any other directory (``--out exports``, which holds the
production database) is refused with exit status 2 and nothing is touched.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from caci_spider import exitcodes, preflight
from caci_spider.localsite import (
    BROKEN_SERVER_ITEM_ID,
    MISSING_ITEM_ID,
    LocalK2Site,
    serve,
)
from caci_spider.localsite.crawl import crawl_command

SPIDERS = ("field_reports", "staff_publications")
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PROJECT_ROOT / "exports" / "demo"
# The production database of settings.py (CACI_DB_PATH): the demo never writes there.
PRODUCTION_DB = PROJECT_ROOT / preflight.PRODUCTION_DB
MARKER = ".caci-demo"
DB_NAME = "caci.db"
ARCHIVE_NAME = "httpcache"
TABLES = ("publications", "staff_publications", "duplicates", "rejects")
# The names of the local site's deliberate faults (caci_spider.localsite).
FAULT_NAMES = {
    MISSING_ITEM_ID: "MISSING_ITEM_ID",
    BROKEN_SERVER_ITEM_ID: "BROKEN_SERVER_ITEM_ID",
}
_LOG_LEVEL = re.compile(r"\] (WARNING|ERROR|CRITICAL): ")
_URL = re.compile(r"https?://[^\s<>\"']+")


def shell_command(command: Sequence[str]) -> list[str]:
    """``command`` as a user with the venv activated types it: ``scrapy crawl …``."""
    return ["scrapy", *command[command.index("crawl") :]]


def wrapped(command: Sequence[str], indent: str = "    ", width: int = 96) -> str:
    """``command`` shell-quoted, broken between options with ``\\`` continuations."""
    words: list[str] = []
    for word in map(shlex.quote, command):
        if words and words[-1] in ("-s", "-a"):
            words[-1] += " " + word
        else:
            words.append(word)
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) > width:
            lines[-1] += " \\"
            lines.append(indent + word)
        else:
            lines[-1] += " " + word
    return "\n".join(lines)


def shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies under it, else absolute."""
    path = path.absolute()
    try:
        return str(path.relative_to(Path.cwd().absolute()))
    except ValueError:
        return str(path)


# -- the demo's own directory -----------------------------------------------------------------
class DemoRefused(Exception):
    """The demo must not run; ``str(self)`` is the one line to print."""

    def __init__(self, message: str, exit_code: int = exitcodes.USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def own_outputs(out: Path) -> list[Path]:
    """What a demo run writes into ``out``, and so what the next run removes."""
    db = out / DB_NAME
    paths = [db, *(Path(f"{db}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]
    paths.append(out / ARCHIVE_NAME)
    for spider in SPIDERS:
        paths.append(out / f"{spider}.jsonl")
        paths.extend(out.glob(f".{spider}.jsonl.*"))  # left by an export that was killed
    return paths


def prepare_out_dir(out: Path) -> None:
    """Make ``out`` a demo directory without a previous run's outputs.

    Raises :class:`DemoRefused`, before anything is written or removed, when ``out`` is the
    production export directory, is not a directory, or is a non-empty directory without the
    marker; and when a crawl is writing to the demo database right now.
    """
    out = out.absolute()
    if (out / DB_NAME).resolve() == PRODUCTION_DB.resolve():
        raise DemoRefused(
            f"--out {out} is where the production database lives ({shown(PRODUCTION_DB)}): "
            f"the demo writes to a directory of its own, e.g. --out {shown(DEFAULT_OUT)}"
        )
    if out.exists() and not out.is_dir():
        raise DemoRefused(f"--out {out} is not a directory: choose another --out")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise DemoRefused(
            f"--out {out} is not empty and not a demo directory (no {MARKER} in it): the demo "
            "clears its directory on every run, so give it a new or empty one (remove an old "
            "demo output by hand)"
        )
    out.mkdir(parents=True, exist_ok=True)
    lock_path = Path(f"{out / DB_NAME}.lock")
    with lock_path.open("a+b") as lock:
        try:  # the crawls' own lock (<CACI_DB_PATH>.lock): never clear under a running crawl
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DemoRefused(
                f"a crawl is writing to {out / DB_NAME} right now: wait for it to end",
                exitcodes.SKIPPED,
            ) from None
        (out / MARKER).write_text(
            "Written by python -m caci_spider.demo: every demo run removes the previous run's "
            "outputs in this directory (caci.db*, httpcache/, *.jsonl exports).\n",
            "utf-8",
        )
        for path in own_outputs(out):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        lock_path.unlink()


# -- the local site's deliberate faults -------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    """A deliberate fault of the local site and the reject (or duplicate) it must end in."""

    spider: str
    where: str  # "item 7999", "listing start=4"
    outcome: str  # the reject's reason, or "duplicate of <id>"
    label: str  # short, printed next to the reject
    detail: str  # printed before the crawls; faults with the same detail are listed together

    @property
    def is_reject(self) -> bool:
        return not self.outcome.startswith("duplicate")


def where(url: str) -> str:
    """The item or listing page a URL points at, whatever its host, port, alias or query."""
    parts = urlsplit(url)
    item = re.search(r"/item/(\d+)", parts.path)
    if item:
        return f"item {item[1]}"
    if parts.path in ("", "/"):
        return "home page"
    query = parse_qs(parts.query)
    start = (query.get("start") or query.get("limitstart") or ["0"])[0]
    return f"listing start={start}"


def intended_faults(site: LocalK2Site) -> list[Fault]:
    """What the local site does wrong on purpose, read from the site and ``fixtures/``."""
    faults: list[Fault] = []
    listed = [item_id for item_id in site.order if item_id is not None]
    for item_id in listed:
        name = FAULT_NAMES.get(item_id, "")
        named = f" ({name})" if name else ""
        if item_id in site.failing:
            status = site.failing[item_id]
            faults.append(
                Fault(
                    "field_reports", f"item {item_id}", f"HTTP {status}",
                    f"always answers {status}{named}",
                    f"answers {status} every time: Scrapy retries it, logs the ERROR \"Gave up "
                    f"retrying\", then it is rejected{named}",
                )
            )  # fmt: skip
        elif item_id not in site.items:
            faults.append(
                Fault(
                    "field_reports", f"item {item_id}", "HTTP 404", f"stale link{named}",
                    f"a stale listing link to an item the site does not have{named}",
                )
            )  # fmt: skip
    for item_id, item in sorted(site.items.items()):
        expected_path = item.path.with_suffix(".json")
        if item_id not in listed or not expected_path.exists():
            continue
        expected = json.loads(expected_path.read_text("utf-8"))
        if "reject" in expected:
            faults.append(
                Fault(
                    "field_reports", f"item {item_id}", f"missing {expected['reject']}",
                    "fixture page broken on purpose",
                    f"a fixture page broken on purpose: its {expected['reject']} is empty "
                    f"(fixtures/field_reports/items/{item.path.name})",
                )
            )  # fmt: skip
        if "duplicate_of" in expected:
            faults.append(
                Fault(
                    "field_reports", f"item {item_id}", f"duplicate of {expected['duplicate_of']}",
                    "a re-import under a higher id",
                    f"the same report as {expected['duplicate_of']} under a higher id: kept in "
                    "`duplicates`, no log line",
                )
            )  # fmt: skip
    listings = site.fixtures / "staff_publications" / "listings"
    oracles = [p for p in listings.glob("start-*.json") if not p.name.endswith(".draft.json")]
    for path in sorted(oracles, key=lambda p: int(p.stem[6:])):
        listing = json.loads(path.read_text("utf-8"))
        start = int(path.stem.removeprefix("start-"))
        for raw in listing.get("rejects", []):
            faults.append(
                Fault(
                    "staff_publications", f"listing start={start}", "entry without a title",
                    "garbage listing entry",
                    f"a listing entry with neither a title nor a link (its text: {raw!r})",
                )
            )  # fmt: skip
        for entry in listing.get("entries", []):
            linked = re.search(r"/item/(\d+)", entry.get("item_path") or "")
            if linked and int(linked[1]) not in site.staff_items:
                faults.append(
                    Fault(
                        "staff_publications", f"item {linked[1]}", "HTTP 404",
                        "no page on the local site",
                        "linked from the staff listing, but the local site has no page for "
                        "them: their rows are stored from the listing alone",
                    )
                )  # fmt: skip
    return faults


def expected_counts(site: LocalK2Site, faults: list[Fault]) -> dict[str, int]:
    """The rows every demo run stores, from the fixtures."""
    broken_or_duplicate = {
        f.where for f in faults if f.spider == "field_reports" and f.where.startswith("item")
    }
    listed = {f"item {i}" for i in site.order if i is not None and i in site.items}
    staff = json.loads((site.fixtures / "staff_publications" / "expected.json").read_text("utf-8"))
    return {
        "publications": len(listed - broken_or_duplicate),
        "staff_publications": len(staff),
        "duplicates": sum(not f.is_reject for f in faults),
        "rejects": sum(f.is_reject for f in faults),
    }


def describe_faults(faults: Iterable[Fault]) -> list[str]:
    """The note on the deliberate faults, grouped by spider and explanation."""
    lines = []
    for spider in SPIDERS:
        groups: dict[tuple[str, str], list[str]] = {}
        for fault in faults:
            if fault.spider == spider:
                groups.setdefault((fault.outcome, fault.detail), []).append(fault.where)
        if not groups:
            continue
        lines.append(f"  {spider}")
        for (outcome, detail), places in groups.items():
            if len(places) > 1 and all(p.startswith("item ") for p in places):
                ids = sorted(int(p.removeprefix("item ")) for p in places)
                place = "items " + ", ".join(map(str, ids))
            else:
                place = ", ".join(places)
            lines.append(
                textwrap.fill(
                    f"{place} → {outcome}: {detail}",
                    width=96,
                    initial_indent="    ",
                    subsequent_indent="        ",
                    break_on_hyphens=False,
                    break_long_words=False,
                )
            )
    return lines


def print_faults(site: LocalK2Site, file: TextIO | None = None) -> None:
    faults = intended_faults(site)
    rejects = sum(f.is_reject for f in faults)
    errors = [f.where for f in faults if f.outcome.startswith("HTTP 5")]
    print(
        "The local site has faults on purpose, and the crawls log them: one WARNING per reject\n"
        f"({rejects} in all) and one ERROR when Scrapy gives up retrying "
        f"{' and '.join(errors) or 'an item'}. All of them are intended:",
        file=file,
    )
    for line in describe_faults(faults):
        print(line, file=file)


# -- running the crawls and reading what they stored ------------------------------------------
def run_crawl(command: list[str]) -> tuple[int, list[str]]:
    """Run ``command``, relaying its output; ``(exit status, WARNING/ERROR lines)``."""
    flagged = []
    with subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if _LOG_LEVEL.search(line):
                flagged.append(line.rstrip())
    return process.returncode, flagged


def judge_log(spider: str, lines: list[str], faults: list[Fault]) -> list[str]:
    """The WARNING/ERROR lines that no intended fault explains."""
    places = {f.where for f in faults if f.spider == spider}
    return [
        line
        for line in lines
        if not any(where(url.rstrip(":,.)")) in places for url in _URL.findall(line))
    ]


def open_database(path: Path) -> sqlite3.Connection:
    """An existing database (``mode=rw``): a missing one stays missing, no empty file is left."""
    connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
    connection.row_factory = sqlite3.Row
    return connection


def run_summary(db: Path, spider: str) -> str:
    with open_database(db) as connection:
        row = connection.execute(
            "SELECT * FROM crawl_runs WHERE spider = ? ORDER BY id DESC LIMIT 1", (spider,)
        ).fetchone()
    connection.close()
    if row is None:
        return f"{spider}: no run recorded"
    run = dict(row)
    statuses = json.loads(run.get("responses_by_status") or "{}")
    by_status = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    return (
        f"{spider}: {run.get('finish_reason')}, self-check {run.get('self_check')}; "
        f"{run.get('requests')} requests ({by_status}); {run.get('items_rejected')} rejected, "
        f"{run.get('items_duplicate')} duplicate"
    )


def loading_commands(db: Path, out: Path, program: str) -> list[str]:
    """README "Loading the data", pointed at ``db``; each runs as printed in a shell."""
    path = shlex.quote(shown(db))
    return [
        f"{program} tables {path} --counts",
        f"{program} search {path} publications pipeline -c id -c title",
        f"{program} search {path} staff_publications pandemic -c title -c date",
        f"{program} rows {path} publications --nl --json-cols"
        f" > {shlex.quote(shown(out / 'publications.jsonl'))}",
        f'{program} query {path} "select author, count(*) n from author_publications'
        ' group by author order by n desc limit 10"',
        f'{program} query {path} "select kind, title, date, printed_as from author_publications'
        " where author = 'Svante E. Cornell' order by date desc\"",
        f'{program} query {path} --json-cols "select title, authors, date, venue'
        ' from staff_publications where year >= 2024 order by date desc"',
    ]


def sqlite_utils_program() -> str:
    """``sqlite-utils`` when the venv's copy is the one on PATH, else its path."""
    beside = Path(sys.executable).parent / "sqlite-utils"
    found = shutil.which("sqlite-utils")
    if found and beside.exists() and Path(found).resolve() == beside.resolve():
        return "sqlite-utils"
    return shown(beside) if beside.exists() else "sqlite-utils"


def report(db: Path, out: Path, site: LocalK2Site, faults: list[Fault]) -> bool:
    """Print what was stored; ``True`` when it is exactly what the local site should give."""
    expected = expected_counts(site, faults)
    by_place = {(f.spider, f.where, f.outcome): f for f in faults}
    ok = True
    with open_database(db) as connection:
        counts = {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        rejects = connection.execute(
            "SELECT spider, url, reason FROM rejects ORDER BY spider, url, reason"
        ).fetchall()
        duplicates = connection.execute(
            "SELECT id, duplicate_of FROM duplicates ORDER BY id"
        ).fetchall()
    connection.close()
    print(f"\nStored in {shown(db)}:")
    for table in TABLES:
        note = "as expected" if counts[table] == expected[table] else f"EXPECTED {expected[table]}"
        ok &= counts[table] == expected[table]
        print(f"  {table:20} {counts[table]:4d}  ({note})")
    print("\nDuplicates:")
    for row in duplicates:
        fault = by_place.get(
            ("field_reports", f"item {row['id']}", f"duplicate of {row['duplicate_of']}")
        )
        ok &= fault is not None
        note = f"intended: {fault.label}" if fault else "NOT an intended fault of the local site"
        print(f"  item {row['id']} = item {row['duplicate_of']}  ({note})")
    print("\nRejects:")
    seen = set()
    for row in rejects:
        key = (row["spider"], where(row["url"]), row["reason"])
        fault = by_place.get(key)
        seen.add(key)
        if fault:
            print(f"  {key[0]:19} {key[1]:17} {key[2]:22} intended: {fault.label}")
        else:
            ok = False
            print(f"  {key[0]:19} {row['url']}  {key[2]}  NOT an intended fault of the local site")
    missing = [f for f in faults if f.is_reject and (f.spider, f.where, f.outcome) not in seen]
    for fault in missing:
        ok = False
        print(f"  MISSING: {fault.spider} {fault.where} should be rejected ({fault.outcome})")
    intended = len(rejects) - sum((r["spider"], where(r["url"]), r["reason"]) not in by_place
                                  for r in rejects)  # fmt: skip
    print(f"  {intended} of {len(rejects)} rejects are intended faults of the local site")
    exports = [out / f"{spider}.jsonl" for spider in SPIDERS]
    print("\nExports: " + ", ".join(
        f"{shown(p)} ({len(p.read_text('utf-8').splitlines())} rows)" for p in exports if p.exists()
    ))  # fmt: skip
    print('\nLoad the data (README "Loading the data", with this demo\'s paths):')
    for command in loading_commands(db, out, sqlite_utils_program()):
        print(f"  {command}")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.demo",
        description="Crawl the local K2 site with both spiders into a demo directory.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"the demo's own directory, cleared on every run (default: {shown(DEFAULT_OUT)})",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the crawls' log level (default: WARNING, the lines the faults produce)",
    )
    args = parser.parse_args(argv)
    out = args.out.absolute()  # the crawls run from the project directory
    try:
        prepare_out_dir(out)
    except DemoRefused as refused:
        print(f"caci_spider.demo: {refused}", file=sys.stderr)
        return refused.exit_code
    db = out / DB_NAME
    with serve(LocalK2Site()) as (base_url, site):
        faults = intended_faults(site)
        print(f"Local K2 site at {base_url}; the demo writes to {shown(out)}/\n")
        print_faults(site)
        for spider in SPIDERS:
            command = crawl_command(spider, base_url, out) + ["-s", f"LOG_LEVEL={args.log_level}"]
            print(f"\n$ {wrapped(shell_command(command))}", flush=True)
            status, flagged = run_crawl(command)
            if status != 0:
                print(
                    f"caci_spider.demo: scrapy crawl {spider} exited with status {status}",
                    file=sys.stderr,
                )
                return status
            print(run_summary(db, spider))
            errors = sum(" ERROR: " in line or " CRITICAL: " in line for line in flagged)
            others = judge_log(spider, flagged, faults)
            line = f"{errors} ERROR and {len(flagged) - errors} WARNING lines"
            if others:
                print(f"Log: {line}; {len(others)} of them NOT from an intended fault:")
                for other in others:
                    print(f"  {other}")
            else:
                print(f"Log: {line}, all from the intended faults above")
    if not report(db, out, site, faults):
        print(
            "caci_spider.demo: the crawls stored something other than the local site should "
            "give (see above)",
            file=sys.stderr,
        )
        return exitcodes.CRAWL_FAILED
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
