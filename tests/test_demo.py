"""The offline demo and the local site's printed crawl commands.

The demo writes only to its own directory and starts afresh on every run, so that two runs give
the same counts; it crawls every section the project has a spider for (``publications`` once it
exists) and prints a table of rows per site and section; it names the local site's deliberate
faults; the "Loading the data" commands it prints run as printed. The local site's hint never
points a crawl at the production database or page archive.

What the demo must store is what the fixtures give: the field reports' and staff listing's
figures are pinned here; every other section adds its listed fixture items (none of them is a
fault).
"""

from __future__ import annotations

import fcntl
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from caci_spider import exitcodes, sitechoice, sources
from caci_spider.testworld.demo import (
    AGGREGATE_EXPORT,
    AGGREGATE_SPIDER,
    MARKER,
    ROWS_DUMP,
    STAFF_SPIDER,
    DemoRefused,
    crawl_spiders,
    crawled_sections,
    intended_faults,
    prepare_out_dir,
    shared_ids,
)
from caci_spider.testworld.localsite import FAULTY_SPIDER, LocalK2Site, host_of_profile
from caci_spider.testworld.localsite.__main__ import hint_commands
from tests.conftest import GOOD_FIELD_REPORTS, REPO_ROOT

VENV_BIN = Path(sys.executable).parent
TABLES = ("publications", "staff_publications", "documents", "duplicates", "rejects")
STAFF_ITEMS_WITHOUT_PAGE = (13309, 13311, 13331, 13334, 13335, 13352, 13389)
SPIDERS = crawl_spiders()
SITES = {profile.key for profile in sources.PROFILES}
SECTIONS = crawled_sections(SPIDERS)


def section_rows() -> dict[str, int]:
    """Spider → the rows of its section every demo run stores."""
    site = LocalK2Site()
    rows = {FAULTY_SPIDER: GOOD_FIELD_REPORTS, STAFF_SPIDER: 16}
    for _profile, section in SECTIONS:
        if section.spider not in rows:
            content = site.section(section.category)
            assert content is not None
            rows[section.spider] = len(content.items)
    return rows


ROWS = section_rows()


def linked_pdfs() -> int:
    """The PDFs the crawled sections' fixtures link (their oracles' pdf_url, each once), and
    the book's chapters, one of them a bad PDF (a reject): 10 and 2."""
    urls = {
        json.loads(path.read_text("utf-8")).get("pdf_url")
        for _profile, section in SECTIONS
        for path in (REPO_ROOT / "fixtures" / section.spider / "items").glob("*.json")
    }
    return len(urls - {None}) + 2


EXPECTED_COUNTS = {
    "publications": sum(n for spider, n in ROWS.items() if spider != STAFF_SPIDER),
    "staff_publications": 16,
    "documents": linked_pdfs(),
    "duplicates": 1,
    "rejects": 12,
}


def activated_env() -> dict[str, str]:
    """The environment after ``. .venv/bin/activate``: the venv's tools come first on PATH."""
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO_ROOT),
    }


def run_demo(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "caci_spider.demo", *arguments],
        cwd=REPO_ROOT,
        env=activated_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(db: Path) -> dict:
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        counts = {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        rejects = connection.execute("SELECT spider, url, reason FROM rejects").fetchall()
        urls = [row[0] for row in connection.execute("SELECT url FROM publications")]
    finally:
        connection.close()
    return {
        "counts": counts,
        "rejects": sorted((spider, urlsplit(url)[2:4], reason) for spider, url, reason in rejects),
        "sites": {urlsplit(url).netloc for url in urls + [url for _s, url, _r in rejects]},
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, list[tuple[subprocess.CompletedProcess, dict]]]:
    """The demo run twice into the same directory (each run on a new random port)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    runs = []
    for _ in range(2):
        result = run_demo("--out", str(out))
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        runs.append((result, snapshot(out / "caci.db")))
    return out, runs


def test_two_runs_give_the_same_counts(two_runs) -> None:
    _out, [(_first, before), (second, after)] = two_runs
    assert before["counts"] == after["counts"] == EXPECTED_COUNTS
    assert before["rejects"] == after["rejects"]
    # Nothing of the first run (its ports) is left in the second run's database: one host per
    # crawled site (the Turkey Analyst has its own).
    assert len(after["sites"]) == len({host_of_profile(p) for p, _s in SECTIONS})
    assert before["sites"].isdisjoint(after["sites"])
    # One "as expected" per table, per section, for the aggregate export and per K2 id that
    # two crawled sites share (12997 once the Turkey Analyst is crawled).
    aggregate = AGGREGATE_SPIDER in SPIDERS
    site = LocalK2Site()
    shared = shared_ids(site, intended_faults(site, SPIDERS), SPIDERS)
    assert second.stdout.count("as expected") == (
        len(TABLES) + len(SECTIONS) + aggregate + len(shared)
    )
    for item_id in shared:
        assert f"same K2 id on two sites: item {item_id} (" in second.stdout
        assert ": 2 rows (as expected)" in second.stdout


def table_rows(output: str) -> dict[str, list[str]]:
    """The demo's table by site and section: section name → its words."""
    block = output.split(", by site and section:\n", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in block.splitlines()[1:]:
        words = line.split()
        if words[0] not in SITES:  # the aggregate row, the notes under the table
            continue
        numbers = [i for i, word in enumerate(words) if word.isdigit()]
        rows[" ".join(words[1 : numbers[0]])] = [words[0], *words[numbers[0] :]]
    return rows


def test_the_table_counts_rows_per_site_and_section(two_runs) -> None:
    out, runs = two_runs
    rows = table_rows(runs[-1][0].stdout)
    rejects = {FAULTY_SPIDER: 3, STAFF_SPIDER: 8, "silk_road_papers": 1}
    assert list(rows) == [section.name for _p, section in SECTIONS]
    for profile, section in SECTIONS:
        n = ROWS[section.spider]
        site, database, export, rejected, *note = rows[section.name]
        assert (site, int(database), int(export)) == (profile.key, n, n), section.spider
        assert int(rejected) == rejects.get(section.spider, 0)
        assert note == ["(as", "expected)"]
        export_file = out / section.export_name
        assert len(export_file.read_text("utf-8").splitlines()) == n
    if AGGREGATE_SPIDER in SPIDERS:
        exported = (out / AGGREGATE_EXPORT).read_text("utf-8").splitlines()
        assert len(exported) == EXPECTED_COUNTS["publications"]
        assert f"all sites        {AGGREGATE_EXPORT}" in runs[-1][0].stdout


def test_output_names_the_intended_faults(two_runs) -> None:
    _out, runs = two_runs
    output = runs[-1][0].stdout
    note, _, crawls = output.partition(f"\n$ scrapy crawl {SPIDERS[0]}")
    assert crawls, output
    # Before the crawls: every deliberate fault, by id and by the local site's name for it.
    for text in ("item 7999", "MISSING_ITEM_ID", "item 7998", "BROKEN_SERVER_ITEM_ID",
                 "item 9877", "missing body", "item 12871", "listing start=4",
                 *map(str, STAFF_ITEMS_WITHOUT_PAGE)):  # fmt: skip
        assert text in note, text
    # After each crawl: its WARNING and ERROR lines are the intended ones.
    assert crawls.count("all from the intended faults above") == len(SPIDERS), crawls
    assert "Log: 1 ERROR and 4 WARNING lines" in crawls
    assert "Log: 0 ERROR and 8 WARNING lines" in crawls
    assert "NOT" not in crawls
    # Every reject is listed with its reason and the fault it comes from.
    rejects = crawls.split("\nRejects:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    listed = [line for line in rejects if line.startswith("  ") and "rejects are" not in line]
    assert len(listed) == 12
    assert all("intended: " in line for line in listed), listed
    assert any("HTTP 500" in line and "BROKEN_SERVER_ITEM_ID" in line for line in listed)
    assert any("HTTP 404" in line and "MISSING_ITEM_ID" in line for line in listed)
    assert any("document truncated.pdf" in line and "chapter" in line for line in listed)
    assert "12 of 12 rejects are intended faults of the local site" in crawls


def printed_loading_commands(output: str) -> list[str]:
    block = output.split("\nLoad the data (docs/loading.md", 1)[1]
    lines = block.split("\n")[1:]
    commands = []
    for line in lines:
        if not line.startswith("  "):
            break
        commands.append(line.strip())
    return commands


def test_loading_commands_run_as_printed(two_runs) -> None:
    out, runs = two_runs
    commands = printed_loading_commands(runs[-1][0].stdout)
    assert len(commands) == 8, commands
    outputs = []
    for command in commands:
        # With the venv activated (as docs/loading.md has it) the tool is plain `sqlite-utils`.
        assert command.startswith("sqlite-utils "), command
        assert str(out / "caci.db") in command
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=REPO_ROOT,
            env=activated_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, (command, result.stderr)
        outputs.append(result.stdout)
    tables, search, staff_search, _rows, authors, works, staff, documents = outputs
    # Then how to browse it: Datasette on this database with the contract's configuration.
    browse = runs[-1][0].stdout.split("\nBrowse it in Datasette (docs/datasette.md):\n", 1)[1]
    program, database, *options = shlex.split(browse.splitlines()[0])
    assert program.endswith("datasette") and database == str(out / "caci.db")
    assert options[::2] == ["-m", "-c"] and all((REPO_ROOT / o).is_file() for o in options[1::2])
    # The feature articles' PDFs about corridors (their text is stored and searchable).
    assert {row["title"] for row in json.loads(documents)} >= {"Coordinating the Corridors"}
    publications = EXPECTED_COUNTS["publications"]
    assert {"table": "publications", "count": publications} in json.loads(tables)
    # The two field reports about a pipeline (other sections may mention one too).
    assert {7004, 7231} <= {row["id"] for row in json.loads(search)}
    exported = [json.loads(line) for line in (out / ROWS_DUMP).read_text().splitlines()]
    assert len(exported) == publications
    assert all(isinstance(row["authors"], list) for row in exported)  # --json-cols
    assert [r["title"] for r in json.loads(staff_search)] == [
        "Central Asia After the Pandemic: An Opening for American Strategy"
    ]
    # Field reports and staff publications of one author, whatever the spelling printed.
    top = json.loads(authors)[0]
    assert top["author"] == "Svante E. Cornell" and top["n"] >= 8
    kinds = {(row["kind"], row["printed_as"]) for row in json.loads(works)}
    assert ("publication", "Svante Cornell") in kinds
    assert ("staff publication", "Svante E. Cornell") in kinds
    rows = json.loads(staff)
    assert rows and all(row["date"] >= "2024" for row in rows)
    assert all(isinstance(row["authors"], list) for row in rows)  # --json-cols


def test_demo_refuses_a_directory_holding_another_database(tmp_path) -> None:
    db = tmp_path / "caci.db"
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE publications (id INTEGER PRIMARY KEY, title TEXT)")
    connection.execute("INSERT INTO publications VALUES (1, 'a production row')")
    connection.commit()
    connection.close()
    (tmp_path / "field_reports.jsonl").write_text('{"id": 1}\n')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    result = run_demo("--out", str(tmp_path))

    assert result.returncode == exitcodes.USAGE
    assert result.stdout == ""  # refused before the site starts
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "not a demo directory" in result.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_demo_refuses_the_production_export_directory() -> None:
    exports = REPO_ROOT / "exports"
    before = sorted(p.name for p in exports.iterdir()) if exports.exists() else None
    with pytest.raises(DemoRefused, match="production database lives") as refused:
        prepare_out_dir(exports)
    assert refused.value.exit_code == exitcodes.USAGE
    assert not (exports / MARKER).exists()
    if before is not None:
        assert sorted(p.name for p in exports.iterdir()) == before


def test_demo_clears_only_its_own_outputs(tmp_path) -> None:
    out = tmp_path / "demo"
    prepare_out_dir(out)  # a new directory becomes a demo directory
    assert (out / MARKER).is_file()
    own = ["caci.db", "caci.db-wal", "caci.db-shm", "caci.db.lock", "field_reports.jsonl",
           "staff_publications.jsonl", ".field_reports.jsonl.x1y2", "turkey_analyst.jsonl",
           "analytical_articles.jsonl", "publications.jsonl",
           ".publications.jsonl.tmp"]  # fmt: skip
    for name in own + ["notes.txt", ROWS_DUMP]:
        (out / name).write_text("x")
    (out / "httpcache").mkdir()
    (out / "httpcache" / "field_reports.sqlite").write_text("x")

    prepare_out_dir(out)

    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "notes.txt", ROWS_DUMP])


def test_demo_never_clears_under_a_running_crawl(tmp_path) -> None:
    prepare_out_dir(tmp_path)  # empty: accepted
    (tmp_path / "caci.db").write_text("in use")
    with (tmp_path / "caci.db.lock").open("wb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(DemoRefused) as refused:
            prepare_out_dir(tmp_path)
    assert refused.value.exit_code == exitcodes.SKIPPED
    assert (tmp_path / "caci.db").read_text() == "in use"


# -- the local site's printed crawl commands ------------------------------------------------
def settings_of(command: list[str]) -> dict[str, str]:
    pairs = [command[i + 1] for i, word in enumerate(command) if word == "-s"]
    return dict(pair.split("=", 1) for pair in pairs)


def project_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO_ROOT / path


@pytest.mark.parametrize("from_root", [True, False])
def test_localsite_hint_writes_to_its_own_files(from_root, tmp_path, monkeypatch) -> None:
    """On its own ports the local site prints ``-s CACI_SITE=local``: one word for every
    site's base URL, the local files and the pace; on others, the settings one by one."""
    monkeypatch.chdir(REPO_ROOT if from_root else tmp_path)
    base_url = "http://127.0.0.1:8088"
    turkey = "http://127.0.0.1:8089"
    urls = {"cacianalyst": base_url, "silkroadstudies": base_url, "turkeyanalyst": turkey}
    commands = hint_commands(base_url, urls)
    assert commands == [["scrapy", "crawl", spider, "-s", "CACI_SITE=local"] for spider in SPIDERS]
    local = REPO_ROOT / "exports" / "local"
    free_ports = {**urls, "turkeyanalyst": "http://127.0.0.1:9999"}
    for command in [*commands, *hint_commands(base_url, free_ports)]:
        settings = settings_of(command)
        if "CACI_SITE" in settings:
            port = sitechoice.local_port(settings["CACI_SITE"])
            assert port is not None
            settings = sitechoice.local_settings(port)
        assert settings["CACI_BASE_URL"] == settings["SILKROAD_BASE_URL"] == base_url
        assert settings["TURKEY_ANALYST_BASE_URL"] in (turkey, free_ports["turkeyanalyst"])
        database = project_path(settings["CACI_DB_PATH"])
        assert database == local / "caci.db" != REPO_ROOT / "exports" / "caci.db"
        assert project_path(settings["CACI_EXPORT_DIR"]) == local
        # The page archive is taken from the project root, never Scrapy's .scrapy/.
        archive = project_path(settings["HTTPCACHE_DIR"])
        assert archive == local / "httpcache"
        assert not archive.is_relative_to(REPO_ROOT / ".scrapy")
        assert settings["DOWNLOAD_DELAY"] == "0"
        assert settings["AUTOTHROTTLE_ENABLED"] == "False"
    # Another port is another site, so another database (a database keeps one site).
    at_9000 = {"cacianalyst": "http://127.0.0.1:9000", "turkeyanalyst": "http://127.0.0.1:9001"}
    assert hint_commands(at_9000["cacianalyst"], at_9000)[0][3:] == ["-s", "CACI_SITE=local:9000"]
    other = sitechoice.local_settings(9000)
    assert project_path(other["CACI_DB_PATH"]) == REPO_ROOT / "exports" / "local-9000" / "caci.db"
    assert other["TURKEY_ANALYST_BASE_URL"] == "http://127.0.0.1:9001"


def printed_crawl_commands(output: str) -> list[list[str]]:
    """The ``scrapy crawl`` commands in ``output``, continuation lines joined."""
    commands, current = [], None
    for line in output.splitlines():
        if current is None and line.startswith("  scrapy crawl "):
            current = []
        if current is None:
            continue
        current.append(line.strip().removesuffix("\\"))
        if not line.endswith("\\"):
            commands.append(shlex.split(" ".join(current)))
            current = None
    return commands


def test_localsite_prints_its_hint_and_faults(monkeypatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "caci_spider.testworld.localsite", "--port", "0"],
        cwd=REPO_ROOT,
        env=activated_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Serving until Ctrl-C"):
                break
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=30)
    output = "".join(lines)
    base_url = output.split(" at ", 1)[1].split()[0]
    # The table of hosts: site, base URL, section, item pages.
    urls = {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ") and
            " item pages" in line}  # fmt: skip
    assert urls["cacianalyst"] == urls["silkroadstudies"] == base_url != urls["turkeyanalyst"]
    assert printed_crawl_commands(output) == hint_commands(base_url, urls)
    assert "MISSING_ITEM_ID" in output and "BROKEN_SERVER_ITEM_ID" in output


def test_the_printed_loading_commands_are_the_docs() -> None:
    """The demo prints docs/loading.md's commands with its own paths: pointed at the page's
    path, every command it prints stands in the page, word for word; so does its Datasette
    command in docs/datasette.md."""
    from caci_spider.testworld.demo import datasette_command, loading_commands

    datasette = (REPO_ROOT / "docs" / "datasette.md").read_text("utf-8")
    browse = datasette_command(REPO_ROOT / "exports" / "demo" / "caci.db")
    assert " ".join(browse.split()[1:]) in " ".join(datasette.split())
    section = (REPO_ROOT / "docs" / "loading.md").read_text("utf-8")
    blocks = " ".join(
        part.split("```", 1)[0] for part in section.split("```sh\n")[1:]
    )  # the shell blocks
    words = " ".join(blocks.replace("\\\n", " ").split())
    demo = REPO_ROOT / "exports" / "demo"
    for command in loading_commands(demo / "caci.db", demo, "sqlite-utils"):
        assert " ".join(command.split()) in words, command
