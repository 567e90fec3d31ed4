"""The real ``scrapy crawl publications`` (and a section spider alone) against the local K2
sites over HTTP: the Analyst (with the institute's silkroadstudies sections) and the Turkey
Analyst on hosts of their own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider import sources
from caci_spider.testworld.localsite import LocalK2Site, serve
from caci_spider.testworld.localsite.crawl import crawl_command
from caci_spider.testworld.localsite.faults import Fault
from tests.conftest import FIXTURES, REPO_ROOT

SECTIONS = [(profile, section) for profile, section in sources.sections() if section.spider != (
    "staff_publications"
)]  # fmt: skip


def crawl(
    spider: str,
    site,
    base_url: str,
    out: Path,
    *arguments: str,
    expect_exit: int = 0,
    base_urls: dict[str, str] | None = None,
) -> str:
    command = crawl_command(spider, base_url, out, base_urls or site.base_urls) + [
        "-s", "RETRY_TIMES=1", "-s", "CACI_COVERAGE_MIN_ITEMS=1000000", *arguments,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == expect_exit, result.stderr[-4000:]
    return result.stderr


def last_run(db: sqlite_utils.Database) -> dict:
    return next(iter(db.query("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")))


def fixture_keys(spider: str) -> list[tuple[str, int]]:
    """(site, id) of every publication the section's fixtures give (not the broken or the
    duplicate pages)."""
    keys = []
    for page in sorted((FIXTURES / spider / "items").glob("*.json")):
        expected = json.loads(page.read_text("utf-8"))
        if "reject" in expected or "duplicate_of" in expected:
            continue
        keys.append((expected.get("site") or "cacianalyst", expected["id"]))
    return sorted(keys)


def exported(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def crawled(local_site, tmp_path_factory):
    base_url, site = local_site
    out = tmp_path_factory.mktemp("publications")
    log = crawl("publications", site, base_url, out)
    return base_url, site, out, log, sqlite_utils.Database(out / "caci.db")


def test_every_fixture_publication_of_both_sites_is_stored_once(crawled) -> None:
    _base, _site, _out, _log, db = crawled
    stored = sorted((row["site"], row["id"]) for row in db["publications"].rows)
    want = sorted(key for _, section in SECTIONS for key in fixture_keys(section.spider))
    assert stored == want
    assert {site for site, _ in stored} == {"cacianalyst", "turkeyanalyst", "silkroadstudies"}


def test_the_same_id_on_two_sites_is_two_publications(crawled) -> None:
    _base, site, _out, _log, db = crawled
    rows = {row["site"]: row for row in db.query("SELECT * FROM publications WHERE id = 12997")}
    assert set(rows) == {"cacianalyst", "turkeyanalyst"}
    assert rows["cacianalyst"]["section"] == "Field Reports"
    assert rows["turkeyanalyst"]["section"] == "Articles"
    assert rows["turkeyanalyst"]["url"].startswith(site.base_urls["turkeyanalyst"])
    assert rows["cacianalyst"]["body"] != rows["turkeyanalyst"]["body"]


def test_every_section_export_and_the_aggregate_are_written(crawled) -> None:
    _base, _site, out, _log, _db = crawled
    for profile, section in SECTIONS:
        rows = exported(out / section.export_name)
        assert [(r["site"], r["id"]) for r in rows] == fixture_keys(section.spider)
        assert all(f"{section.path}/item/" in r["url"] for r in rows)
        assert {r["site"] for r in rows} == {profile.key}
    everything = [(r["site"], r["id"]) for r in exported(out / "publications.jsonl")]
    assert everything == sorted(everything)  # by site, then id
    assert len(everything) == sum(len(fixture_keys(s.spider)) for _, s in SECTIONS)


def test_the_runs_row_records_every_section(crawled) -> None:
    _base, _site, _out, _log, db = crawled
    (run,) = db["crawl_runs"].rows
    assert (run["spider"], run["self_check"]) == ("publications", "ok")
    sections = json.loads(run["sections"])
    assert list(sections) == [section.category for _, section in SECTIONS]
    for profile, section in SECTIONS:
        record = sections[section.category]
        assert (record["site"], record["spider"], record["source"]) == (
            profile.key, section.spider, "listing",
        )  # fmt: skip
        assert record["new"] == len(fixture_keys(section.spider))
        assert record["listing_pages"] >= 1
    assert sum(s["new"] for s in sections.values()) == run["items_new"]


def test_the_pdfs_are_linked_and_fetched(crawled) -> None:
    """Every pdf_url is linked to its row (a paper's as the paper itself) and fetched once; a
    book's chapters are linked to the book and fetched; a chapter's bad PDF is a reject, and
    the run is still ok (the crawl exited 0)."""
    _base, _site, _out, _log, db = crawled
    links = list(db.query("SELECT * FROM document_links WHERE item_table = 'publications'"))
    pdfs = {
        (row["site"], str(row["id"]), row["pdf_url"], "paper" if row["kind"] else "download")
        for row in db.query("SELECT * FROM publications WHERE pdf_url IS NOT NULL")
    }
    own = {(link["site"], link["item_id"], link["document_url"], link["role"]) for link in links}
    assert pdfs and {link for link in own if link[3] != "chapter"} == pdfs
    assert {site for site, _id, _url, role in pdfs if role == "paper"} == {"silkroadstudies"}
    chapters = [link for link in own if link[3] == "chapter"]
    assert sorted(url.rsplit("/", 1)[1] for _site, _id, url, _role in chapters) == [
        "2007_01_BOOK_Starr_New-Silk-Roads_Afghanistan.pdf",
        "2007_01_BOOK_Starr_New-Silk-Roads_Introduction.pdf",
        "truncated.pdf",
    ]
    assert {(site, item_id) for site, item_id, _url, _role in chapters} == {
        ("silkroadstudies", "13125")
    }
    fetched = {row["url"] for row in db["documents"].rows}
    bad = next(url for _site, _id, url, _role in chapters if url.endswith("truncated.pdf"))
    assert fetched == {url for _s, _i, url, _r in pdfs} | {u for _s, _i, u, _r in chapters} - {bad}
    assert db.execute("SELECT count(*) FROM rejects WHERE url = ?", [bad]).fetchone()[0] == 1


def test_the_papers_rows_and_their_text(crawled) -> None:
    """A paper's row: its type label, printed month, By line (an editor marked) and PDF; the
    documents' full-text index finds it by a sentence of its summary."""
    _base, _site, _out, _log, db = crawled
    papers = {
        row["id"]: row
        for row in db.query("SELECT * FROM publications WHERE site = 'silkroadstudies'")
    }
    assert (papers[13012]["kind"], papers[13012]["published"], papers[13012]["issue_date"]) == (
        "Silk Road Paper", "2005-11-01", "2005-11",
    )  # fmt: skip
    assert (papers[13125]["kind"], papers[13125]["byline"]) == (
        "Book",
        "By S. Frederick Starr, ed.",
    )
    assert papers[13433]["kind"] is None and papers[13441]["kind"] is None  # news, event
    found = db.execute(
        "SELECT d.url FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid"
        " WHERE documents_fts MATCH ?",
        ['"post-Soviet landscape of Central Asia"'],
    ).fetchall()
    assert found == [(papers[13862]["pdf_url"],)]


def test_an_unchanged_night_reads_the_feeds_and_a_canary_per_section(crawled, tmp_path) -> None:
    base_url, site, out, _log, db = crawled
    log = crawl("publications", site, base_url, out)
    last = list(db.query("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1"))[0]
    assert (last["items_new"], last["self_check"]) == (0, "ok")
    # One meaning per count: the canaries were read and matched (checked); no row was read
    # live and found equal (unchanged).
    n = len(SECTIONS)
    assert f": {2 * n} read, 0 new, 0 updated, 0 unchanged, {n} checked, 0 not read, " in log
    assert last["items_unchanged"] == 0
    sections = json.loads(last["sections"]).values()
    assert [(s["unchanged"], s["checked"], s["not_read"]) for s in sections] == [(0, 1, 0)] * n
    sources_of = json.loads(last["sources"])
    assert {s["source"] for s in sources_of.values()} == {"feed"}
    # two robots.txt (one per host), a feed and a canary per section
    assert last["requests"] == 2 + 2 * len(SECTIONS)
    # each canary names its row's site: an id alone is no item's (12997 is one of each site)
    canaries = json.loads(last["canaries"])
    assert len(canaries) == len(SECTIONS)
    assert {c["site"] for c in canaries} == {profile.key for profile, _section in SECTIONS}
    assert all(c["url"].startswith(site.base_urls[c["site"]]) for c in canaries), canaries


@pytest.mark.parametrize("spider", ["turkey_analyst", "analytical_articles", "srs_events"])
def test_a_section_spider_alone_writes_only_its_rows(local_site, tmp_path, spider) -> None:
    base_url, site = local_site
    crawl(spider, site, base_url, tmp_path)
    db = sqlite_utils.Database(tmp_path / "caci.db")
    assert sorted((row["site"], row["id"]) for row in db["publications"].rows) == fixture_keys(
        spider
    )
    profile, section = sources.section_of(spider)
    files = sorted(path.name for path in tmp_path.glob("*.jsonl"))
    assert files == [section.export_name]
    assert [(r["site"], r["id"]) for r in exported(tmp_path / section.export_name)] == (
        fixture_keys(spider)
    )


def test_the_papers_alone_then_the_staff_listing_link_the_same_works(local_site, tmp_path) -> None:
    """``silk_road_papers`` alone writes its rows, its export and the documents; the staff
    spider after it links the staff rows that are papers (same title, compatible date) in
    ``staff_papers``, which joins both ways."""
    base_url, site = local_site
    crawl("silk_road_papers", site, base_url, tmp_path)
    db = sqlite_utils.Database(tmp_path / "caci.db")
    papers = fixture_keys("silk_road_papers")
    assert sorted((row["site"], row["id"]) for row in db["publications"].rows) == papers
    files = sorted(path.name for path in tmp_path.glob("*.jsonl"))
    assert files == ["documents.jsonl", "silk_road_papers.jsonl"]
    assert db["staff_papers"].count == 0  # no staff row yet
    crawl("staff_publications", site, base_url, tmp_path)
    linked = list(
        db.query(
            "SELECT s.title AS staff_title, p.title, p.id FROM staff_papers l"
            " JOIN staff_publications s ON s.id = l.staff_id"
            " JOIN publications p ON p.site = l.site AND p.id = l.paper_id ORDER BY p.id"
        )
    )
    assert [(row["id"], row["title"]) for row in linked] == [
        (13818, "Türkiye's Return to Central Asia and the Caucasus"),
        (13830, "Greater Central Asia as A Component of U.S. Global Strategy"),
    ]
    # the other way: from the paper to its staff row
    (staff,) = db.query(
        "SELECT s.* FROM publications p JOIN staff_papers l ON l.site = p.site AND"
        " l.paper_id = p.id JOIN staff_publications s ON s.id = l.staff_id WHERE p.id = 13830"
    )
    assert staff["date"].startswith("2024-10")


def test_a_section_spider_after_publications_reads_its_feed_and_keeps_the_backoff(
    local_site, tmp_path
) -> None:
    """What ``publications`` learnt of a section (its listing walk, its rejects' backoff) holds
    for the section's own spider, and the other way round: neither walks the listing again or
    refetches a page that failed for good the night before."""
    base_url, site = local_site
    crawl("publications", site, base_url, tmp_path)
    db = sqlite_utils.Database(tmp_path / "caci.db")
    crawl("field_reports", site, base_url, tmp_path)
    run = last_run(db)
    assert json.loads(run["sources"])["field-reports"]["source"] == "feed"
    # robots.txt, the feed and one canary: no listing page, no rejected item again (7998, 7999)
    assert (run["requests"], run["items_rejected"], run["self_check"]) == (3, 0, "ok")
    crawl("publications", site, base_url, tmp_path)
    assert {s["source"] for s in json.loads(last_run(db)["sources"]).values()} == {"feed"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_sister_site_down_fails_the_run_and_keeps_every_row(tmp_path) -> None:
    """The Turkey Analyst's host refuses connections on the next night: the Analyst's sections
    are crawled as usual, the run fails its self-check naming the section (exit 1), and no
    stored row or export of the Turkey Analyst is lost."""
    main, turkey_port = free_port(), free_port()
    with serve(LocalK2Site(FIXTURES), port=main, ports={"turkeyanalyst": turkey_port}) as (
        base_url, site,
    ):  # fmt: skip
        base_urls = dict(site.base_urls)
        crawl("publications", site, base_url, tmp_path)
    turkey = [(r["site"], r["id"]) for r in exported(tmp_path / "turkey_analyst.jsonl")]
    assert turkey == fixture_keys("turkey_analyst")
    # The next night: the same base URLs (the database is claimed for them), the Turkey
    # Analyst's port closed.
    with serve(LocalK2Site(FIXTURES), port=main, ports={"turkeyanalyst": free_port()}) as (
        base_url, site,
    ):  # fmt: skip
        log = crawl("publications", site, base_url, tmp_path, expect_exit=1, base_urls=base_urls)
    # One ERROR line names the host and its setting; the Analyst's sections go on.
    (down,) = [line for line in log.splitlines() if "did not answer" in line and "ERROR" in line]
    assert "TURKEY_ANALYST_BASE_URL" in down and str(base_urls["turkeyanalyst"]) in down
    db = sqlite_utils.Database(tmp_path / "caci.db")
    run = last_run(db)
    assert run["self_check"] == "failed"
    assert "Articles (turkeyanalyst)" in run["problems"]
    sections = json.loads(run["sections"])
    assert sections["field-reports"]["coverage_problems"] == []
    assert [(r["site"], r["id"]) for r in exported(tmp_path / "turkey_analyst.jsonl")] == turkey
    stored = db.execute("SELECT count(*) FROM publications WHERE site = 'turkeyanalyst'")
    assert stored.fetchone()[0] == len(turkey)


def test_one_sections_item_pages_forbidden_fail_the_run(tmp_path) -> None:
    """The Turkey Analyst answers 403 to every item page while the Analyst reads well: a first
    night stores the Analyst's rows and fails (exit 1), naming the section; so does a later
    night of a database that holds both sites, on which only the section's canary is asked."""
    site = LocalK2Site(FIXTURES)
    turkey = site.sections["turkey-analyst-articles"]
    first, later = tmp_path / "first", tmp_path / "later"
    with serve(site) as (base_url, site):
        crawl("publications", site, base_url, later)  # a good night
        turkey.failing.update({item_id: 403 for item_id in turkey.items})
        first_log = crawl("publications", site, base_url, first, expect_exit=1)
        later_log = crawl("publications", site, base_url, later, expect_exit=1)
    assert "Articles (turkeyanalyst): none of the 5 item pages asked for could be read" in first_log
    db = sqlite_utils.Database(first / "caci.db")
    stored = {site for (site,) in db.execute("SELECT DISTINCT site FROM publications")}
    assert stored == {"cacianalyst", "silkroadstudies"}
    assert "Articles (turkeyanalyst): none of the 1 item pages asked for could be read" in later_log
    assert last_run(sqlite_utils.Database(later / "caci.db"))["self_check"] == "failed"


def test_a_section_barred_by_robots_txt_fails_its_first_night(tmp_path) -> None:
    """robots.txt forbids the Turkey Analyst's item pages: its requests are dropped before they
    leave (no reject), and the section stored nothing on its first crawl."""
    site = LocalK2Site(FIXTURES)
    site.robots_txt = "User-agent: *\nDisallow: /publications/turkey-analyst-articles/item/\n"
    with serve(site) as (base_url, site):
        log = crawl("publications", site, base_url, tmp_path, expect_exit=1)
    assert "Articles (turkeyanalyst): none of the 5 item pages asked for could be read" in log


def test_a_broken_new_item_alone_does_not_fail_the_night(tmp_path) -> None:
    """A later night on which a section's only new item is a page without a body, and no
    canary is asked (CACI_CANARY_ITEMS=0): the page was read and is a reject, not a failure."""
    site = LocalK2Site(FIXTURES)
    analytical = site.sections["analytical-articles"]
    held_back = max(analytical.items)
    listed = list(analytical.order)
    with serve(site) as (base_url, site):
        analytical.order[:] = [i for i in listed if i != held_back]
        crawl("publications", site, base_url, tmp_path)
        analytical.order[:] = listed
        analytical.faults[held_back] = Fault("empty")
        log = crawl("publications", site, base_url, tmp_path, "-s", "CACI_CANARY_ITEMS=0")
    assert "self-check ok" in log
