"""The real ``scrapy crawl publications`` (and a section spider alone) against the local K2
sites over HTTP: the Analyst and the Turkey Analyst on hosts of their own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider import sources
from caci_spider.localsite import LocalK2Site, serve
from caci_spider.localsite.crawl import crawl_command
from caci_spider.localsite.faults import Fault
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
    assert {site for site, _ in stored} == {"cacianalyst", "turkeyanalyst"}


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
        assert all(f"/publications/{section.category}/item/" in r["url"] for r in rows)
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


def test_the_feature_articles_pdfs_are_linked_and_fetched(crawled) -> None:
    _base, _site, _out, _log, db = crawled
    links = list(db.query("SELECT * FROM document_links WHERE item_table = 'publications'"))
    pdfs = {
        row["pdf_url"]
        for row in db.query("SELECT pdf_url FROM publications WHERE pdf_url IS NOT NULL")
    }
    assert pdfs and {link["document_url"] for link in links} == pdfs
    assert {row["url"] for row in db["documents"].rows} == pdfs


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


@pytest.mark.parametrize("spider", ["turkey_analyst", "analytical_articles"])
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
    assert db.execute("SELECT DISTINCT site FROM publications").fetchall() == [("cacianalyst",)]
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
