"""Offline demo: ``python -m caci_spider.demo [--out exports/demo]``.

Starts the local K2 site on free loopback ports (the Analyst's host and the Turkey Analyst's),
runs the real ``scrapy crawl publications`` (every section of both sites in one run) and
``scrapy crawl staff_publications`` against it, and prints what was stored: a table of rows per
site and section (in the database, in the section's export, rejected), the tables' counts,
every reject with the deliberate fault of the local site it comes from, the sqlite-utils
commands of docs/loading.md with this run's paths and the Datasette command. What it expects is
read from the fixtures and the site's fault list, never typed in.

The crawls are data (:func:`crawl_spiders`): ``publications`` and ``staff_publications`` when
the project has a ``publications`` spider, else every section spider it has, one by one.

Every run starts afresh, so that every run gives the same counts: the site gets a new port each
time, and a database keeps the site it was built from (a crawl of another base URL is refused).
The demo therefore removes its own outputs in ``--out`` (the database with its ``-wal``,
``-shm`` and lock files, the page archive ``httpcache/`` and the crawls' ``.jsonl`` exports) and
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
from functools import cache
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

from caci_spider import citations, contract, exitcodes, preflight, sources
from caci_spider.citations import EXPORT_NAMES as CITATION_EXPORTS
from caci_spider.testworld.localsite import (
    BROKEN_SERVER_ITEM_ID,
    DEFAULT_FIXTURES,
    FAULTY_SPIDER,
    MISSING_ITEM_ID,
    STAFF_SECTION,
    LocalK2Site,
    pdf_links,
    pdfs,
    section_of_category,
    serve,
)
from caci_spider.testworld.localsite.crawl import crawl_command

STAFF_SPIDER = STAFF_SECTION.spider
# The spider that crawls every section of every site in one run, and its aggregate export.
AGGREGATE_SPIDER = sources.ALL_SECTIONS_SPIDER
AGGREGATE_EXPORT = "publications.jsonl"
# The text of the PDFs the crawls fetched (the feature articles').
DOCUMENTS_EXPORT = contract.table("documents").export or "documents.jsonl"
# Where the "Loading the data" dump of the publications table goes (not a crawl's export).
ROWS_DUMP = "publications-rows.jsonl"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = PROJECT_ROOT / "exports" / "demo"
# The production database of settings.py (CACI_DB_PATH): the demo never writes there.
PRODUCTION_DB = PROJECT_ROOT / preflight.PRODUCTION_DB
MARKER = ".caci-demo"
DB_NAME = "caci.db"
ARCHIVE_NAME = "httpcache"
TABLES = ("publications", "staff_publications", "documents", "duplicates", "rejects")
# The names of the local site's deliberate faults (caci_spider.testworld.localsite).
FAULT_NAMES = {
    MISSING_ITEM_ID: "MISSING_ITEM_ID",
    BROKEN_SERVER_ITEM_ID: "BROKEN_SERVER_ITEM_ID",
}
_LOG_LEVEL = re.compile(r"\] (WARNING|ERROR|CRITICAL): ")
_URL = re.compile(r"https?://[^\s<>\"']+")
_CATEGORY = re.compile(r"^/(?:publications/)?([\w-]+)(?:/|\.html$|\.feed$)")


# -- what the demo crawls ---------------------------------------------------------------------
@cache
def available_spiders() -> frozenset[str]:
    """The names of the project's spiders (``scrapy list``)."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    from caci_spider import settings

    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": settings.SPIDER_MODULES}))
    return frozenset(loader.list())


def publication_sections() -> list[tuple[sources.SiteProfile, sources.Section]]:
    """Every section whose rows go to ``publications`` (all but the staff listing)."""
    return [(p, s) for p, s in sources.sections() if s.spider != STAFF_SPIDER]


def crawl_spiders(available: frozenset[str] | None = None) -> tuple[str, ...]:
    """The crawls the demo runs, in order: ``publications`` (every section of both sites) when
    the project has it, else each section spider it has; then ``staff_publications``."""
    available = available_spiders() if available is None else available
    if AGGREGATE_SPIDER in available:
        crawls = [AGGREGATE_SPIDER]
    else:
        crawls = [s.spider for _p, s in publication_sections() if s.spider in available]
    return (*crawls, STAFF_SPIDER)


def crawled_sections(spiders: Sequence[str]) -> list[tuple[sources.SiteProfile, sources.Section]]:
    """The sections ``spiders`` crawl, in the profiles' order (the staff listing last)."""
    everything = AGGREGATE_SPIDER in spiders
    crawled = [(p, s) for p, s in publication_sections() if everything or s.spider in spiders]
    if STAFF_SPIDER in spiders:
        crawled.append(sources.section_of(STAFF_SPIDER))
    return crawled


@cache
def chapter_documents() -> dict[str, str]:
    """The PDFs the papers' fixture pages link besides their ``pdf_url`` (a book's chapters),
    by path, with the spider of the section linking them."""
    found: dict[str, str] = {}
    for _profile, section in sources.sections():
        if sources.RULE_PAPER not in section.rules:
            continue
        for page in sorted((DEFAULT_FIXTURES / section.spider / "items").glob("*.html")):
            for path, _words in pdf_links(page):
                found.setdefault(path, section.spider)
    return found


def section_spider(url: str, default: str = "") -> str:
    """The spider of the section a URL's path belongs to (``default`` when none does); a
    chapter's PDF belongs to the section of the book linking it."""
    if urlsplit(url).path in chapter_documents():
        return chapter_documents()[urlsplit(url).path]
    match = _CATEGORY.match(urlsplit(url).path)
    found = section_of_category(match[1]) if match else None
    return found[1].spider if found else default


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
    """What a demo run writes into ``out``, and so what the next run removes: the database,
    the page archive, every section's export, the aggregate ``publications.jsonl`` and the
    citation exports."""
    db = out / DB_NAME
    paths = [db, *(Path(f"{db}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]
    paths.append(out / ARCHIVE_NAME)
    exports = [section.export_name for _profile, section in sources.sections()]
    for name in dict.fromkeys([*exports, AGGREGATE_EXPORT, *citations.EXPORT_NAMES.values()]):
        paths.append(out / name)
        paths.extend(out.glob(f".{name}.*"))  # left by an export that was killed
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
            "outputs in this directory (caci.db*, httpcache/, the crawls' .jsonl exports).\n",
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

    spider: str  # the spider of the fault's section ("field_reports"), whoever crawls it
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
    if parts.path.lower().endswith(".pdf"):
        return f"document {parts.path.rsplit('/', 1)[-1]}"
    if parts.path in ("", "/"):
        return "home page"
    query = parse_qs(parts.query)
    start = (query.get("start") or query.get("limitstart") or ["0"])[0]
    return f"listing start={start}"


def intended_faults(site: LocalK2Site, spiders: Sequence[str] | None = None) -> list[Fault]:
    """What the local site does wrong on purpose, read from the site and ``fixtures/``: the
    faults of the sections ``spiders`` crawl (default: the demo's crawls)."""
    crawled = {s.spider for _p, s in crawled_sections(spiders or crawl_spiders())}
    faults = [
        fault
        for fault in [*_field_report_faults(site), *_section_faults(site), *_staff_faults(site)]
        if fault.spider in crawled
    ]
    return faults


def _oracle_faults(spider: str, items: dict, listed: set, where_files: str) -> list[Fault]:
    """A section's fixture pages broken on purpose (``reject`` in the oracle) and re-imports
    (``duplicate_of``)."""
    faults: list[Fault] = []
    for item_id, item in sorted(items.items()):
        expected_path = item.path.with_suffix(".json")
        if item_id not in listed or not expected_path.exists():
            continue
        expected = json.loads(expected_path.read_text("utf-8"))
        if "reject" in expected:
            faults.append(
                Fault(
                    spider, f"item {item_id}", f"missing {expected['reject']}",
                    "fixture page broken on purpose",
                    f"a fixture page broken on purpose: its {expected['reject']} is empty "
                    f"({where_files}/{item.path.name})",
                )
            )  # fmt: skip
        if "duplicate_of" in expected:
            faults.append(
                Fault(
                    spider, f"item {item_id}", f"duplicate of {expected['duplicate_of']}",
                    "a re-import under a higher id",
                    f"the same publication as {expected['duplicate_of']} under a higher id: "
                    "kept in `duplicates`, no log line",
                )
            )  # fmt: skip
    return faults


def _section_faults(site: LocalK2Site) -> list[Fault]:
    """The sections other than the field reports: their oracles' faults, and a bad test PDF a
    book links as a chapter."""
    faults: list[Fault] = []
    for content in site.sections.values():
        listed = {i for i in content.order if i is not None}
        spider = content.section.spider
        faults += _oracle_faults(spider, content.items, listed, f"fixtures/{spider}/items")
    for path, spider in chapter_documents().items():
        name = path.removeprefix(pdfs.PDF_PATH).removesuffix(".pdf")
        if path.startswith(pdfs.PDF_PATH) and name in pdfs.BAD_REASONS:
            faults.append(
                Fault(
                    spider, f"document {name}.pdf", pdfs.BAD_REASONS[name],
                    "a bad chapter PDF on purpose",
                    f"a book's chapter links a bad PDF ({name}.pdf): a reject, the run goes on",
                )
            )  # fmt: skip
    return faults


def _field_report_faults(site: LocalK2Site) -> list[Fault]:
    faults: list[Fault] = []
    listed = [item_id for item_id in site.order if item_id is not None]
    for item_id in listed:
        name = FAULT_NAMES.get(item_id, "")
        named = f" ({name})" if name else ""
        if item_id in site.failing:
            status = site.failing[item_id]
            faults.append(
                Fault(
                    FAULTY_SPIDER, f"item {item_id}", f"HTTP {status}",
                    f"always answers {status}{named}",
                    f"answers {status} every time: Scrapy retries it, logs the ERROR \"Gave up "
                    f"retrying\", then it is rejected{named}",
                )
            )  # fmt: skip
        elif item_id not in site.items:
            faults.append(
                Fault(
                    FAULTY_SPIDER, f"item {item_id}", "HTTP 404", f"stale link{named}",
                    f"a stale listing link to an item the site does not have{named}",
                )
            )  # fmt: skip
    faults += _oracle_faults(
        FAULTY_SPIDER, site.items, set(listed), f"fixtures/{FAULTY_SPIDER}/items"
    )
    return faults


def _staff_faults(site: LocalK2Site) -> list[Fault]:
    faults: list[Fault] = []
    listings = site.fixtures / STAFF_SPIDER / "listings"
    oracles = [p for p in listings.glob("start-*.json") if not p.name.endswith(".draft.json")]
    for path in sorted(oracles, key=lambda p: int(p.stem[6:])):
        listing = json.loads(path.read_text("utf-8"))
        start = int(path.stem.removeprefix("start-"))
        for raw in listing.get("rejects", []):
            faults.append(
                Fault(
                    STAFF_SPIDER, f"listing start={start}", "entry without a title",
                    "garbage listing entry",
                    f"a listing entry with neither a title nor a link (its text: {raw!r})",
                )
            )  # fmt: skip
        for entry in listing.get("entries", []):
            linked = re.search(r"/item/(\d+)", entry.get("item_path") or "")
            if linked and int(linked[1]) not in site.staff_items:
                faults.append(
                    Fault(
                        STAFF_SPIDER, f"item {linked[1]}", "HTTP 404",
                        "no page on the local site",
                        "linked from the staff listing, but the local site has no page for "
                        "them: their rows are stored from the listing alone",
                    )
                )  # fmt: skip
    return faults


@dataclass(frozen=True)
class SectionCounts:
    """One row of the demo's table: a section's rows in the database, in its export, rejected."""

    site: str
    section: str
    database: int
    export: int
    rejects: int


def _faulty_items(faults: Iterable[Fault], spider: str) -> set[str]:
    return {f.where for f in faults if f.spider == spider and f.where.startswith("item ")}


def expected_sections(
    site: LocalK2Site, faults: list[Fault], spiders: Sequence[str]
) -> dict[str, SectionCounts]:
    """Section spider → what every demo run stores of that section, from the fixtures: every
    listed item with a page, but the ones a fault rejects or finds a duplicate."""
    expected = {}
    for profile, section in crawled_sections(spiders):
        rejects = sum(f.is_reject for f in faults if f.spider == section.spider)
        if section.spider == STAFF_SPIDER:
            staff = json.loads((site.fixtures / STAFF_SPIDER / "expected.json").read_text("utf-8"))
            rows = len(staff)
        else:
            content = site.section(section.category)
            assert content is not None, section.category
            listed = {f"item {i}" for i in content.order if i is not None and i in content.items}
            rows = len(listed - _faulty_items(faults, section.spider))
        expected[section.spider] = SectionCounts(profile.key, section.name, rows, rows, rejects)
    return expected


def shared_ids(
    site: LocalK2Site, faults: list[Fault], spiders: Sequence[str]
) -> dict[int, list[tuple[sources.SiteProfile, sources.Section]]]:
    """K2 ids that sections of more than one crawled site store (each site numbers its own
    items): id → the sections holding it. Every one of them must be a row per site."""
    holders: dict[int, list[tuple[sources.SiteProfile, sources.Section]]] = {}
    for profile, section in crawled_sections(spiders):
        content = site.section(section.category)
        if content is None:
            continue
        faulty = _faulty_items(faults, section.spider)
        for item_id in content.items:
            if item_id in content.order and f"item {item_id}" not in faulty:
                holders.setdefault(item_id, []).append((profile, section))
    return {
        item_id: found
        for item_id, found in sorted(holders.items())
        if len({profile.key for profile, _section in found}) > 1
    }


def expected_counts(
    site: LocalK2Site, faults: list[Fault], spiders: Sequence[str] | None = None
) -> dict[str, int]:
    """The rows every demo run stores in each table, from the fixtures."""
    spiders = spiders or crawl_spiders()
    by_section = expected_sections(site, faults, spiders)
    return {
        "publications": sum(c.database for k, c in by_section.items() if k != STAFF_SPIDER),
        "staff_publications": by_section[STAFF_SPIDER].database
        if STAFF_SPIDER in by_section
        else 0,
        "documents": expected_documents(site, faults, spiders),
        "duplicates": sum(not f.is_reject for f in faults),
        "rejects": sum(f.is_reject for f in faults),
    }


def expected_documents(site: LocalK2Site, faults: list[Fault], spiders: Sequence[str]) -> int:
    """The PDFs a demo run stores: every distinct ``pdf_url`` of the stored items' oracles (the
    local site serves a PDF for each; the demo's staff pages link none)."""
    urls = set()
    for _profile, section in crawled_sections(spiders):
        content = site.section(section.category) if section.spider != STAFF_SPIDER else None
        if content is None:
            continue
        faulty = _faulty_items(faults, section.spider)
        for item_id, item in content.items.items():
            if item_id not in content.order or f"item {item_id}" in faulty:
                continue
            oracle = json.loads(item.path.with_suffix(".json").read_text("utf-8"))
            if oracle.get("pdf_url"):
                urls.add(urlsplit(oracle["pdf_url"]).path)
            if sources.RULE_PAPER in section.rules:
                # A book's chapters: each PDF the local site serves as a good one.
                urls.update(p for p, _w in pdf_links(item.path) if p in site.section_pdfs)
    return len(urls)


def describe_faults(faults: Iterable[Fault], spiders: Sequence[str] | None = None) -> list[str]:
    """The note on the deliberate faults, grouped by section and explanation."""
    lines = []
    faults = list(faults)
    for profile, section in crawled_sections(spiders or crawl_spiders()):
        groups: dict[tuple[str, str], list[str]] = {}
        for fault in faults:
            if fault.spider == section.spider:
                groups.setdefault((fault.outcome, fault.detail), []).append(fault.where)
        if not groups:
            continue
        lines.append(f"  {profile.key} {section.name} ({section.spider})")
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


def print_faults(
    site: LocalK2Site, file: TextIO | None = None, spiders: Sequence[str] | None = None
) -> None:
    spiders = spiders or crawl_spiders()
    faults = intended_faults(site, spiders)
    rejects = sum(f.is_reject for f in faults)
    errors = [f.where for f in faults if f.outcome.startswith("HTTP 5")]
    print(
        "The local site has faults on purpose, and the crawls log them: one WARNING per reject\n"
        f"({rejects} in all) and one ERROR when Scrapy gives up retrying "
        f"{' and '.join(errors) or 'an item'}. All of them are intended:",
        file=file,
    )
    for line in describe_faults(faults, spiders):
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
    """The WARNING/ERROR lines that no intended fault explains: a line is explained when one
    of its URLs is a fault's page in that fault's section."""
    places = {(f.spider, f.where) for f in faults}
    return [
        line
        for line in lines
        if not any(
            (section_spider(url.rstrip(":,.)"), spider), where(url.rstrip(":,.)"))) in places
            for url in _URL.findall(line)
        )
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
    """docs/loading.md ("Loading the data"), pointed at ``db``; each runs as printed in a shell."""
    path = shlex.quote(shown(db))
    return [
        f"{program} tables {path} --counts",
        f"{program} search {path} publications pipeline -c site -c id -c section -c title",
        f"{program} search {path} staff_publications pandemic -c title -c date",
        f"{program} rows {path} publications --nl --json-cols"
        f" > {shlex.quote(shown(out / ROWS_DUMP))}",
        f'{program} query {path} "select author, count(*) n from author_publications'
        ' group by author order by n desc limit 10"',
        f'{program} query {path} "select kind, title, date, printed_as from author_publications'
        " where author = 'Svante E. Cornell' order by date desc\"",
        f'{program} query {path} --json-cols "select title, authors, date, venue'
        ' from staff_publications where year >= 2024 order by date desc"',
        f"{program} search {path} documents corridors -c url -c title",
    ]


def datasette_command(db: Path) -> str:
    """Datasette on ``db`` with the configuration generated from the data contract."""
    config = PROJECT_ROOT / "datasette"
    program = venv_program("datasette")
    return (
        f"{program} {shlex.quote(shown(db))} -m {shlex.quote(shown(config / 'metadata.json'))}"
        f" -c {shlex.quote(shown(config / 'datasette.json'))}"
    )


def venv_program(name: str) -> str:
    """``name`` when the venv's copy is the one on PATH, else its path."""
    beside = Path(sys.executable).parent / name
    found = shutil.which(name)
    if found and beside.exists() and Path(found).resolve() == beside.resolve():
        return name
    return shown(beside) if beside.exists() else name


def sqlite_utils_program() -> str:
    """``sqlite-utils`` when the venv's copy is the one on PATH, else its path."""
    return venv_program("sqlite-utils")


def stored_sections(
    db: Path, out: Path, spiders: Sequence[str], site_urls: dict[str, str]
) -> dict[str, SectionCounts]:
    """Section spider → what the crawls stored of it: rows in the database (a publication
    counts for a section when its URL is under the section's category on its site's host and
    its ``site`` is the section's site), rows in the section's export, rejects."""
    found: dict[str, SectionCounts] = {}
    with open_database(db) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(publications)")}
        site_column = "site" if "site" in columns else "NULL"
        rows = connection.execute(f"SELECT {site_column} AS site, url FROM publications")
        stored = [(row["site"], row["url"]) for row in rows]
        staff_rows = connection.execute("SELECT count(*) FROM staff_publications").fetchone()[0]
        reject_urls = [(r["spider"], r["url"]) for r in connection.execute("SELECT * FROM rejects")]
    connection.close()
    for profile, section in crawled_sections(spiders):
        host = urlsplit(site_urls.get(profile.key, "")).netloc
        if section.spider == STAFF_SPIDER:
            database = staff_rows
        else:
            database = sum(
                section_spider(url) == section.spider
                and urlsplit(url).netloc == host
                and row_site in (None, profile.key)
                for row_site, url in stored
            )
        export = out / section.export_name
        exported = len(export.read_text("utf-8").splitlines()) if export.exists() else 0
        rejects = sum(section_spider(url, spider) == section.spider for spider, url in reject_urls)
        found[section.spider] = SectionCounts(
            profile.key, section.name, database, exported, rejects
        )
    return found


def print_sections(
    expected: dict[str, SectionCounts],
    found: dict[str, SectionCounts],
    total: SectionCounts | None = None,
) -> bool:
    """The table of rows per site and section; ``True`` when every row is as expected."""
    ok = True
    rows = [*found.values(), *([total] if total is not None else [])]
    width = max(22, *(len(row.section) for row in rows))
    print(f"  {'site':16} {'section':{width}} {'database':>8} {'export':>8} {'rejects':>8}")
    for spider, want in expected.items():
        got = found[spider]
        differs = [
            f"{name} EXPECTED {getattr(want, name)}"
            for name in ("database", "export", "rejects")
            if getattr(got, name) != getattr(want, name)
        ]
        ok &= not differs
        print(
            f"  {got.site:16} {got.section:{width}} {got.database:8d} {got.export:8d} "
            f"{got.rejects:8d}  ({'; '.join(differs) or 'as expected'})"
        )
    if total is not None:
        same = total.database == total.export
        print(
            f"  {total.site:16} {total.section:{width}} {total.database:8d} {total.export:8d} "
            f"{total.rejects:8d}  ({'as expected' if same else 'EXPORT DIFFERS FROM THE TABLE'})"
        )
        ok &= same
    return ok


def print_shared_ids(
    db: Path, shared: dict[int, list[tuple[sources.SiteProfile, sources.Section]]]
) -> bool:
    """Each K2 id that two sites use, with its rows: one per site, or it is not as expected."""
    if not shared:
        return True
    ok = True
    with open_database(db) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(publications)")}
        site_column = "site" if "site" in columns else "NULL"
        for item_id, holders in shared.items():
            found = connection.execute(
                f"SELECT {site_column} AS site FROM publications WHERE id = ?", (item_id,)
            ).fetchall()
            sites = sorted(str(row["site"]) for row in found)
            want = sorted(profile.key for profile, _section in holders)
            named = ", ".join(f"{p.key} {s.name}" for p, s in holders)
            note = "as expected" if sites == want else f"EXPECTED one row per site: {want}"
            ok &= sites == want
            print(
                f"  same K2 id on two sites: item {item_id} ({named}): {len(found)} rows ({note})"
            )
    connection.close()
    return ok


def report(
    db: Path,
    out: Path,
    site: LocalK2Site,
    faults: list[Fault],
    spiders: Sequence[str] | None = None,
) -> bool:
    """Print what was stored; ``True`` when it is exactly what the local site should give."""
    spiders = spiders or crawl_spiders()
    expected = expected_counts(site, faults, spiders)
    by_place = {(f.spider, f.where, f.outcome): f for f in faults}
    counts, rejects, duplicates = read_tables(db)
    want_sections = expected_sections(site, faults, spiders)
    got_sections = stored_sections(db, out, spiders, site.base_urls)
    total = aggregate_total(out, spiders, counts["publications"], got_sections)
    print(f"\nStored in {shown(db)}, by site and section:")
    ok = print_sections(want_sections, got_sections, total)
    ok &= print_shared_ids(db, shared_ids(site, faults, spiders))
    ok &= print_tables(db, counts, expected)
    ok &= print_duplicates(duplicates, by_place)
    ok &= print_rejects(rejects, faults, by_place)
    print_exports(db, out, spiders)
    return ok


def read_tables(db: Path) -> tuple[dict[str, int], list[sqlite3.Row], list[sqlite3.Row]]:
    """``(rows per table, rejects, duplicates)`` as the crawls stored them."""
    with open_database(db) as connection:
        counts = {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        rejects = connection.execute(
            "SELECT spider, url, reason FROM rejects ORDER BY spider, url, reason"
        ).fetchall()
        duplicates = connection.execute(
            "SELECT id, duplicate_of, url FROM duplicates ORDER BY id"
        ).fetchall()
    connection.close()
    return counts, rejects, duplicates


def aggregate_total(
    out: Path, spiders: Sequence[str], publications: int, got_sections: dict[str, SectionCounts]
) -> SectionCounts | None:
    """The aggregate export's row of the table, when its spider ran."""
    if AGGREGATE_SPIDER not in spiders:
        return None
    aggregate = out / AGGREGATE_EXPORT
    aggregate_rows = len(aggregate.read_text("utf-8").splitlines()) if aggregate.exists() else 0
    # Every site's publications in one export, beside the table that holds them.
    return SectionCounts(
        "all sites",
        AGGREGATE_EXPORT,
        publications,
        aggregate_rows,
        sum(c.rejects for k, c in got_sections.items() if k != STAFF_SPIDER),
    )


def print_tables(db: Path, counts: dict[str, int], expected: dict[str, int]) -> bool:
    """Rows per table against the expected counts."""
    ok = True
    print(f"\nTables of {shown(db)}:")
    for table in TABLES:
        note = "as expected" if counts[table] == expected[table] else f"EXPECTED {expected[table]}"
        ok &= counts[table] == expected[table]
        print(f"  {table:20} {counts[table]:4d}  ({note})")
    return ok


def print_duplicates(
    duplicates: list[sqlite3.Row], by_place: dict[tuple[str, str, str], Fault]
) -> bool:
    """Each duplicate row, which must be an intended fault of the local site."""
    ok = True
    print("\nDuplicates:")
    for row in duplicates:
        spider = section_spider(row["url"] or "", FAULTY_SPIDER)
        fault = by_place.get((spider, f"item {row['id']}", f"duplicate of {row['duplicate_of']}"))
        ok &= fault is not None
        note = f"intended: {fault.label}" if fault else "NOT an intended fault of the local site"
        print(f"  {spider:19} item {row['id']} = item {row['duplicate_of']}  ({note})")
    return ok


def print_rejects(
    rejects: list[sqlite3.Row], faults: list[Fault], by_place: dict[tuple[str, str, str], Fault]
) -> bool:
    """Each reject, which must be an intended fault, then each intended reject not stored."""
    ok = True
    print("\nRejects:")
    seen = set()
    intended = 0
    for row in rejects:
        key = (section_spider(row["url"], row["spider"]), where(row["url"]), row["reason"])
        fault = by_place.get(key)
        seen.add(key)
        if fault:
            intended += 1
            print(f"  {key[0]:19} {key[1]:17} {key[2]:22} intended: {fault.label}")
        else:
            ok = False
            print(f"  {key[0]:19} {row['url']}  {key[2]}  NOT an intended fault of the local site")
    missing = [f for f in faults if f.is_reject and (f.spider, f.where, f.outcome) not in seen]
    for fault in missing:
        ok = False
        print(f"  MISSING: {fault.spider} {fault.where} should be rejected ({fault.outcome})")
    print(f"  {intended} of {len(rejects)} rejects are intended faults of the local site")
    return ok


def print_exports(db: Path, out: Path, spiders: Sequence[str]) -> None:
    """The export files with their rows, then how to load and browse them."""
    names = [section.export_name for _p, section in crawled_sections(spiders)]
    if AGGREGATE_SPIDER in spiders:
        names.append(AGGREGATE_EXPORT)
    names.append(DOCUMENTS_EXPORT)
    exports = [out / name for name in names]
    print("\nExports: " + ", ".join(
        f"{shown(p)} ({len(p.read_text('utf-8').splitlines())} rows)" for p in exports if p.exists()
    ))  # fmt: skip
    citations = [out / name for name in CITATION_EXPORTS.values() if (out / name).exists()]
    if citations:
        print(
            "Citations, one record per row (docs/citations.md): " + ", ".join(map(shown, citations))
        )
    print("\nLoad the data (docs/loading.md, with this demo's paths):")
    for command in loading_commands(db, out, sqlite_utils_program()):
        print(f"  {command}")
    print("\nBrowse it in Datasette (docs/datasette.md):")
    print(f"  {datasette_command(db)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.demo",
        description="Crawl every section of the local K2 sites and the staff listing into a "
        "demo directory.",
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
    spiders = crawl_spiders()
    failed = 0  # the first crawl's exit status that was not 0
    with serve(LocalK2Site()) as (base_url, site):
        faults = intended_faults(site, spiders)
        hosts = ", ".join(f"{key} at {url}" for key, url in site.base_urls.items())
        print(f"Local K2 sites: {hosts}; the demo writes to {shown(out)}/\n")
        print_faults(site, spiders=spiders)
        for spider in spiders:
            command = crawl_command(spider, base_url, out, site.base_urls)
            command += ["-s", f"LOG_LEVEL={args.log_level}"]
            print(f"\n$ {wrapped(shell_command(command))}", flush=True)
            status, flagged = run_crawl(command)
            if status != 0:
                print(
                    f"caci_spider.demo: scrapy crawl {spider} exited with status {status}",
                    file=sys.stderr,
                )
                failed = failed or status
                if not db.exists():
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
        ok = report(db, out, site, faults, spiders)
    if failed:
        return failed
    if not ok:
        print(
            "caci_spider.demo: the crawls stored something other than the local site should "
            "give (see above)",
            file=sys.stderr,
        )
        return exitcodes.CRAWL_FAILED
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
