"""Linked PDFs (issue 14): the real ``scrapy crawl staff_publications`` against a local site
whose staff item pages link the test PDFs (``caci_spider.testworld.localsite.pdfs``): every good
PDF's text stored and searchable, every bad case a reject with its reason, a second run fetching no
PDF, ``mode=reparse`` rebuilding documents with no request, ``mode=full`` keeping versions."""

from __future__ import annotations

import json
import subprocess
import sys

import sqlite_utils

from caci_spider.documents import download_links, is_pdf_url
from caci_spider.pdfworker import MAX_INFLATED, extract, inflated_size
from caci_spider.targets import on_hosts
from caci_spider.testworld.localsite import OFF_SITE_PDF, LocalK2Site, serve
from caci_spider.testworld.localsite.pdfs import (
    BAD_REASONS,
    GOOD,
    PDF_PATH,
    TEST_MAXSIZE,
    good_pdf,
    write_pdf,
)
from caci_spider.testworld.localsite.pdfs import text_content as page_text
from tests.conftest import FIXTURES, REPO_ROOT, run_crawl

PDF_SETTINGS = ("-s", f"CACI_PDF_MAXSIZE={TEST_MAXSIZE}", "-s", "CACI_PDF_TIMEOUT=1")


def pdf_hits(site: LocalK2Site) -> int:
    return sum(n for path, n in site.hits.items() if path.startswith(PDF_PATH))


def test_linked_pdfs_end_to_end(tmp_path) -> None:
    """One crawl (a crawl is seconds of CPU), then its checks in order: they build on it."""
    site = LocalK2Site(FIXTURES)
    site.pdfs = True
    with serve(site) as (base_url, _site):
        run_crawl("staff_publications", base_url, tmp_path, *PDF_SETTINGS)
        crawled = (base_url, site, tmp_path)
        check_good_pdfs(crawled)
        check_bad_pdfs(crawled)
        check_links_rows_and_exports(crawled)
        check_second_run_reparse_and_full(crawled)


def check_good_pdfs(crawled) -> None:
    base_url, _site, out = crawled
    db = sqlite_utils.Database(out / "caci.db")
    rows = {row["url"]: row for row in db["documents"].rows}
    assert sorted(rows) == sorted(f"{base_url}{PDF_PATH}{pdf.name}.pdf" for pdf in GOOD)
    for pdf in GOOD:
        row = rows[f"{base_url}{PDF_PATH}{pdf.name}.pdf"]
        assert row["text"] == pdf.text  # pages separated by a form feed
        assert (row["pages"], row["title"], row["author"]) == (
            len(pdf.pages),
            pdf.title,
            pdf.author,
        )
        assert row["bytes"] == len(good_pdf(pdf))


def check_bad_pdfs(crawled) -> None:
    base_url, _site, out = crawled
    db = sqlite_utils.Database(out / "caci.db")
    reasons = {
        row["url"]: row["reason"]
        for row in db["rejects"].rows
        if row["url"].startswith(f"{base_url}{PDF_PATH}")
    }
    assert reasons == {f"{base_url}{PDF_PATH}{name}.pdf": why for name, why in BAD_REASONS.items()}


def check_links_rows_and_exports(crawled) -> None:
    base_url, _site, out = crawled
    db = sqlite_utils.Database(out / "caci.db")
    links = list(db["document_links"].rows)
    assert {link["item_table"] for link in links} == {"staff_publications"}
    assert {link["role"] for link in links} == {"download"}
    staff_ids = {row["id"] for row in db["staff_publications"].rows}
    assert {link["item_id"] for link in links} <= staff_ids
    first = f"{base_url}{PDF_PATH}{GOOD[0].name}.pdf"
    assert len([link for link in links if link["document_url"] == first]) == 2  # fetched once
    # Off the allowed hosts: linked, never fetched, not a reject.
    assert OFF_SITE_PDF in {link["document_url"] for link in links}
    assert not list(db["rejects"].rows_where("url = ?", [OFF_SITE_PDF]))
    # The row gains nothing but the link.
    assert "documents" not in db["staff_publications"].columns_dict
    records = [json.loads(line) for line in (out / "documents.jsonl").read_text().splitlines()]
    assert [r["url"] for r in records] == sorted(r["url"] for r in records)
    assert len(records) == len(GOOD)
    found = subprocess.run(
        [sys.executable, "-m", "sqlite_utils", "search", str(out / "caci.db"), "documents",
         "Middle Corridor", "-c", "url"],
        capture_output=True, text=True, check=True, cwd=REPO_ROOT,
    )  # fmt: skip
    assert json.loads(found.stdout) == [{"url": first}]


def check_second_run_reparse_and_full(crawled) -> None:
    """In order: an incremental run fetches no PDF again; reparse rebuilds the documents from
    the archive without a request; a full run keeps the text of changed bytes as a version, and
    a failed extraction never replaces stored text."""
    base_url, site, out = crawled
    db_path = out / "caci.db"
    hits = pdf_hits(site)
    run_crawl("staff_publications", base_url, out, *PDF_SETTINGS)
    assert pdf_hits(site) == hits

    with sqlite_utils.Database(db_path) as db:
        before = {row["url"]: row["text"] for row in db["documents"].rows}
        db.execute("DELETE FROM documents")
        db.conn.commit()
    requests = len(site.log)
    run_crawl("staff_publications", base_url, out, "-a", "mode=reparse", *PDF_SETTINGS)
    assert len(site.log) == requests
    with sqlite_utils.Database(db_path) as db:
        assert {row["url"]: row["text"] for row in db["documents"].rows} == before

    first, second = (f"{base_url}{PDF_PATH}{pdf.name}.pdf" for pdf in GOOD)
    site.pdf_overrides[GOOD[0].name] = write_pdf([page_text(["A revised edition."])])
    site.pdf_overrides[GOOD[1].name] = b"<html><body>Maintenance</body></html>"
    try:
        run_crawl("staff_publications", base_url, out, "-a", "mode=full", *PDF_SETTINGS)
    finally:
        site.pdf_overrides.clear()
    with sqlite_utils.Database(db_path) as db:
        texts = {row["url"]: row["text"] for row in db["documents"].rows}
        assert texts == {first: "A revised edition.", second: before[second]}
        versions = list(db["document_versions"].rows)
        assert [(v["url"], v["text"]) for v in versions] == [(first, before[first])]
        reasons = {r["reason"] for r in db["rejects"].rows_where("url = ?", [second])}
        assert reasons == {"not a PDF"}


def test_download_links_and_pdf_urls() -> None:
    page = (
        "<html><body><a href='/a/paper.PDF'>paper</a><a href='/files/get?id=3'>Click Here to "
        "Download</a><a href='/x.html'>Download PDF</a><a href='#top'>Download</a>"
        "<a href='mailto:x@y'>download</a><a href='/a/paper.PDF#p2'>again</a></body></html>"
    )
    assert download_links(page, "https://www.silkroadstudies.org/item/1.html") == [
        "https://www.silkroadstudies.org/a/paper.PDF",
        "https://www.silkroadstudies.org/files/get?id=3",
    ]
    assert is_pdf_url("https://x.org/a.pdf?download=1") and not is_pdf_url("/a.pdf")
    assert on_hosts("https://www.silkroadstudies.org/a.pdf", ["silkroadstudies.org"])
    assert on_hosts("http://127.0.0.1:8088/a.pdf", ["127.0.0.1"])
    assert not on_hosts("https://elsewhere.example/a.pdf", ["silkroadstudies.org"])


def test_the_bomb_check_stops_inflating_at_its_limit() -> None:
    import zlib

    bomb = write_pdf([b""], raw_streams={0: zlib.compress(bytes(8 * 1024 * 1024))})
    assert inflated_size(bomb, limit=1024 * 1024) <= 3 * 1024 * 1024
    assert inflated_size(bomb) == 8 * 1024 * 1024 < MAX_INFLATED
    assert extract(bomb)["ok"] is False  # no text, but read: not a bomb at this size
