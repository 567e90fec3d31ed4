"""Template drift: the fixture site served through each layout, crawled for real, compared with
the fixtures' oracles.

A site's template can change under the crawler overnight: a template override renames or drops
K2's classes, the site moves to Joomla's own article markup, or to something the extraction
cannot read at all. For each layout of :mod:`caci_spider.testworld.localsite.layouts`:

* **first crawl**: a fresh database, the real ``scrapy crawl field_reports`` and
  ``scrapy crawl staff_publications``; every stored row is compared field by field with its
  fixture's oracle;
* **next night**: a database holding a crawl of the site's own layout, the layout switched, an
  incremental ``field_reports`` run with nothing new: only its canary reads an item page.

A readable layout must give every row exactly, exit 0 and a next night that passes; a layout
the extraction cannot read must end with exit 1, a failed self-check and no wrong row, and the
next night's canary must catch it with every stored row kept. ``python -m
caci_spider.testworld.localsite.fault_matrix`` writes the table into docs/reliability.md; the
test suite (tests/localsite/test_drift.py) runs the same cases.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from caci_spider.items import CONTRACT_KEYS
from caci_spider.testworld.localsite import DEFAULT_FIXTURES, LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command

PRODUCTION_BASE_URL = "https://www.cacianalyst.org"
# Row keys compared with the oracles (url with the base replaced; derived keys follow the body).
PUBLICATION_KEYS = tuple(
    key
    for key in CONTRACT_KEYS
    if key not in ("fetched_at", "word_count", "content_hash", "extraction_version")
)
STAFF_KEYS_COMPARED = ("kind", "title", "authors", "roles", "venue", "date", "summary", "url")
_JSON_COLUMNS = ("authors", "tags", "roles")


@dataclass(frozen=True)
class DriftCase:
    layout: str
    what: str  # what the layout changes, for the table
    readable: bool = True


DRIFT_CASES = (
    DriftCase("site", "the site's own customised K2 template (the fixtures as they are)"),
    DriftCase(
        "k2-stock",
        "K2's stock item view: “Written by <account>”, “Published in” and tags after the body",
    ),
    DriftCase("stripped", "every class and id removed (a template override without K2's)"),
    DriftCase("renamed", "every class and id renamed"),
    DriftCase("joomla", "Joomla 4/5 core article view and category blog (com_content)"),
    DriftCase(
        "other-words+stripped",
        "no class or id, a toolbar in words no pattern knows (“Print article”, “Send to a "
        "friend”), “Bookmark and Share” after the text",
    ),
    DriftCase("joomla+stripped", "Joomla's views with every class and id removed"),
    DriftCase("unreadable", "article text rendered by script, not in the HTML", readable=False),
)


@dataclass
class DriftOutcome:
    case: DriftCase
    exit_status: int  # field_reports, first crawl
    staff_exit_status: int
    self_check: str
    rows: int  # publication rows stored
    staff_rows: int
    expected_rows: int
    expected_staff_rows: int
    wrong: list[str] = field(default_factory=list)  # "<id>.<field>" that differ from the oracle
    missing: list[str] = field(default_factory=list)  # "<id>.<field>" stored empty, oracle not
    night_exit_status: int | None = None
    night_message: str = ""
    night_rows_kept: bool = True

    @property
    def fields_exact(self) -> bool:
        return not self.wrong

    @property
    def as_expected(self) -> bool:
        if self.case.readable:
            return (
                self.fields_exact
                and not self.missing
                and self.exit_status == 0
                and self.staff_exit_status == 0
                and self.rows == self.expected_rows
                and self.staff_rows == self.expected_staff_rows
                and self.night_exit_status in (None, 0)
                and self.night_rows_kept
            )
        # Whatever it stored is right (a value it could not read is missing, never wrong), and
        # every run that stored less than its pages hold says it failed.
        return (
            self.fields_exact
            and self.exit_status != 0
            and self.self_check != "ok"
            and (self.staff_exit_status != 0 or not self.missing)
            and self.night_exit_status in (None, 1)
            and self.night_rows_kept
        )


def expected_publications(fixtures: Path = DEFAULT_FIXTURES) -> dict[int, dict[str, Any]]:
    """The good field-report rows the fixture site must give, by id."""
    rows = {}
    for path in sorted((fixtures / "field_reports" / "items").glob("*.json")):
        if path.name.endswith(".draft.json"):
            continue
        expected = json.loads(path.read_text("utf-8"))
        if "reject" not in expected and "duplicate_of" not in expected:
            rows[expected["id"]] = expected
    return rows


def expected_staff(fixtures: Path = DEFAULT_FIXTURES) -> dict[str, dict[str, Any]]:
    """The merged staff rows the fixture site must give, by case-folded title."""
    entries = json.loads((fixtures / "staff_publications" / "expected.json").read_text("utf-8"))
    return {entry["title"].casefold(): entry for entry in entries}


def _rows(db_path: Path, table: str) -> list[dict[str, Any]]:
    if not db_path.exists():
        return []
    db = sqlite_utils.Database(db_path)
    if not db[table].exists():
        return []
    rows = []
    for row in db.table(table).rows:
        for key in _JSON_COLUMNS:
            if key in row and isinstance(row[key], str):
                row[key] = json.loads(row[key])
        rows.append(row)
    return rows


def _differs(got: Any, want: Any, key: str, wrong: list[str], missing: list[str]) -> None:
    """Sort one stored value: right, missing (empty where the oracle is not), or wrong."""
    if got == want:
        return
    (missing if got in (None, "", [], {}) else wrong).append(key)


def compare_publications(db_path: Path, base_url: str) -> tuple[int, list[str], list[str]]:
    """(rows stored, ``<id>.<field>`` of every stored value that differs from its oracle, and
    of every value stored empty where the oracle has one)."""
    expected = expected_publications()
    wrong: list[str] = []
    missing: list[str] = []
    rows = _rows(db_path, "publications")
    for row in rows:
        want = expected.get(row["id"])
        if want is None:
            wrong.append(f"{row['id']} (no such good fixture)")
            continue
        for key in PUBLICATION_KEYS:
            value = want[key]
            if key == "url":
                value = value.replace(PRODUCTION_BASE_URL, base_url)
            _differs(row.get(key), value, f"{row['id']}.{key}", wrong, missing)
    return len(rows), wrong, missing


def compare_staff(db_path: Path, base_url: str) -> tuple[int, list[str], list[str]]:
    expected = expected_staff()
    wrong: list[str] = []
    missing: list[str] = []
    rows = _rows(db_path, "staff_publications")
    for row in rows:
        title = row.get("title") or ""
        want = expected.get(title.casefold())
        if want is None:
            wrong.append(f"staff {title[:40]!r} (no such entry)")
            continue
        for key in STAFF_KEYS_COMPARED:
            value = want[key]
            if key == "url" and value and value.startswith("/"):
                value = base_url + value
            _differs(row.get(key), value, f"staff {title[:40]!r}.{key}", wrong, missing)
    return len(rows), wrong, missing


def _crawl(spider: str, base_url: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(DEFAULT_FIXTURES.parent)}
    command = crawl_command(spider, base_url, out) + ["-s", "RETRY_TIMES=1", *extra]
    return subprocess.run(
        command, cwd=DEFAULT_FIXTURES.parent, env=env, capture_output=True, text=True, timeout=300
    )


def first_error(stderr: str) -> str:
    """The crawler's first ERROR line, without the run's port numbers."""
    for line in stderr.splitlines():
        if "[caci_spider" in line and " ERROR: " in line:
            message = line.split("] ", 1)[-1].removeprefix("ERROR: ")
            return re.sub(r"https?://127\.0\.0\.\d+:\d+", "<site>", message)
    return ""


def run_first_crawl(case: DriftCase, workdir: Path) -> DriftOutcome:
    """Both spiders against a fresh database, the site served through ``case.layout``."""
    site = LocalK2Site()
    site.layout = case.layout
    with serve(site) as (base_url, _site):
        result = _crawl("field_reports", base_url, workdir)
        staff = _crawl("staff_publications", base_url, workdir)
    db_path = workdir / "caci.db"
    rows, wrong, missing = compare_publications(db_path, base_url)
    staff_rows, staff_wrong, staff_missing = compare_staff(db_path, base_url)
    run: dict[str, Any] = next(
        (r for r in reversed(_rows(db_path, "crawl_runs")) if r["spider"] == "field_reports"), {}
    )
    return DriftOutcome(
        case,
        result.returncode,
        staff.returncode,
        str(run.get("self_check") or "none"),
        rows,
        staff_rows,
        len(expected_publications()),
        len(expected_staff()),
        wrong + staff_wrong,
        missing + staff_missing,
    )


def run_next_night(outcome: DriftOutcome, template: Path, port: int, workdir: Path) -> DriftOutcome:
    """A copy of the first night's files (``fault_matrix.first_night``: the site's own layout),
    the layout switched, an incremental run."""
    shutil.copytree(template, workdir, dirs_exist_ok=True)
    before = _rows(workdir / "caci.db", "publications")
    site = LocalK2Site()
    site.layout = outcome.case.layout
    with serve(site, port=port) as (base_url, _site):
        result = _crawl("field_reports", base_url, workdir)
    after = {row["id"]: row for row in _rows(workdir / "caci.db", "publications")}
    outcome.night_exit_status = result.returncode
    outcome.night_message = first_error(result.stderr)
    outcome.night_rows_kept = all(
        {k: v for k, v in after.get(row["id"], {}).items() if k != "fetched_at"}
        == {k: v for k, v in row.items() if k != "fetched_at"}
        for row in before
    )
    return outcome


def render(outcomes: list[DriftOutcome]) -> list[str]:
    """The "template drift" section of docs/reliability.md."""
    lines = [
        "## Template drift: the same articles through another template",
        "",
        "Each row serves every fixture page (field reports, staff listing and items, home page)",
        "through one layout of `caci_spider.testworld.localsite.layouts` and crawls it for real: "
        "a first",
        "crawl of both spiders into a fresh database, its rows compared field by field with the",
        "fixtures' oracles; then a next night (`field_reports`, incremental, nothing new) against",
        "a database that holds a crawl of the site's own layout, so that only the canary reads an",
        "item page. Generated with the fault matrix; `tests/localsite/test_drift.py` runs the",
        "same cases.",
        "",
        "| layout | what changes | rows (field reports + staff) | fields exact | first crawl exit "
        "| self-check | next night exit | next night message | rows kept | as expected |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        exact = "all" if o.fields_exact else "**no**: " + ", ".join(o.wrong[:4])
        if o.missing:
            exact += f"; {len(o.missing)} missing (e.g. {o.missing[0]})"
        lines.append(
            f"| `{o.case.layout}` | {o.case.what} | {o.rows}/{o.expected_rows} + "
            f"{o.staff_rows}/{o.expected_staff_rows} | {exact} | {o.exit_status} "
            f"(staff {o.staff_exit_status}) | {o.self_check} | {o.night_exit_status} | "
            f"{o.night_message.replace('|', '/')[:160] or '–'} | "
            f"{'yes' if o.night_rows_kept else 'no'} | {'yes' if o.as_expected else '**no**'} |"
        )
    return lines
