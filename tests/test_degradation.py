"""Degradation is loud: real crawls of the local site whose item pages degrade without emptying a
field (page chrome in a body, a changed title or body under a canary, tags gone on a refetch).
Each run fails its self-check with an ERROR line naming the field and a URL; no stored row gets
worse."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlite_utils

from caci_spider.records import open_database
from caci_spider.testworld.localsite import LocalK2Site, serve
from tests.conftest import FIXTURES, ITEM_FIXTURES, run_crawl

SEED = next(p for p in ITEM_FIXTURES if p.name.startswith("8145-"))
TAGGED = next(p for p in ITEM_FIXTURES if p.name.startswith("12995-"))


def errors(stderr: str) -> list[str]:
    """The self-check's ERROR lines (the local site's item 7998 always answers 500: not one)."""
    return [
        line.split("ERROR: ", 1)[1] for line in stderr.splitlines() if "ERROR: Self-check" in line
    ]


def publications(out: Path) -> dict[int, dict]:
    return {r["id"]: r for r in sqlite_utils.Database(out / "caci.db")["publications"].rows}


def last_run(out: Path) -> dict:
    db = sqlite_utils.Database(out / "caci.db")
    run = next(db["crawl_runs"].rows_where(order_by="id desc", limit=1))
    return {k: json.loads(v) if k in ("problems", "canaries") else v for k, v in run.items()}


def next_canary(out: Path) -> dict:
    """The stored row the next incremental run checks (the one checked longest ago)."""
    database = open_database(out / "caci.db")
    try:
        (row,) = database.canary_candidates("field_reports", "publications", 1)
    finally:
        database.close()
    return row


def item_path(item_id: int) -> Path:
    return next(p for p in ITEM_FIXTURES if p.name.startswith(f"{item_id}-"))


@pytest.fixture
def crawled(tmp_path):
    """A local site and a database that already holds a first crawl of it."""
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        run_crawl("field_reports", base_url, tmp_path)
        yield base_url, site, tmp_path


def test_a_body_with_page_chrome_is_rejected_and_fails_the_first_crawl(tmp_path) -> None:
    html = SEED.read_text("utf-8")
    # A toolbar line inside the article text, where extraction keeps it as a paragraph.
    start = html.index('<div class="itemFullText">')
    end = html.index("</p>", start) + len("</p>")
    glued = html[:end] + "\n<p>Print</p>\n" + html[end:]
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        site.change_item(8145, glued.encode("utf-8"))
        result = run_crawl("field_reports", base_url, tmp_path, expect_exit=1)
    url = f"{base_url}/publications/field-reports/item/{SEED.stem}.html"
    assert errors(result.stderr) == [
        f"Self-check failed for field_reports: 1 item was rejected for the quality of its body "
        f'(first: {url}: body holds page chrome "Print"): the pages\' template changed or '
        "extraction picks up page chrome; no stored row was replaced"
    ]
    db = sqlite_utils.Database(tmp_path / "caci.db")
    (reject,) = db["rejects"].rows_where("url = ?", [url])
    assert reject["reason"] == 'quality: body holds page chrome "Print"'
    assert 8145 not in publications(tmp_path) and len(publications(tmp_path)) == 17
    assert last_run(tmp_path)["self_check"] == "failed"


def test_a_canary_that_reads_differently_fails_and_a_corrected_typo_passes(crawled) -> None:
    base_url, site, out = crawled
    before = publications(out)
    canary = next_canary(out)
    html = item_path(canary["id"]).read_text("utf-8")
    title = canary["title"]
    changed = html.replace(title, "LATEST FROM THE REGION")
    # Half the article gone: every paragraph of the full text after the first.
    full = re.search(r'<div class="itemFullText">(.*?)</div>', changed, re.DOTALL)
    assert full is not None
    first_paragraph = full[1].split("</p>")[0] + "</p>"
    changed = changed.replace(full[1], first_paragraph)
    site.change_item(canary["id"], changed.encode("utf-8"))
    result = run_crawl("field_reports", base_url, out, expect_exit=1)
    (message,) = errors(result.stderr)
    assert message.startswith(
        f"Self-check failed for field_reports: canary {canary['id']} ({canary['url']}) reads "
        f'differently: title "{title[:50]}'
    )
    assert '→ "LATEST FROM THE REGION"; body (word similarity 0.' in message
    assert message.endswith("the item pages' layout changed; its stored row was kept")
    assert publications(out) == before  # the canary's page never overwrote its row
    run = last_run(out)
    (checked,) = run["canaries"]
    assert checked["outcome"] == "changed"
    assert [d["field"] for d in checked["differing"]] == ["title", "body"]
    db = sqlite_utils.Database(out / "caci.db")
    recorded = db["canary_checks"].get(("field_reports", "cacianalyst", str(canary["id"])))
    assert [d["new"] for d in json.loads(recorded["differing"])][0] == "LATEST FROM THE REGION"

    # The next night's canary had a typo fixed by its editors: one word of its body.
    typo = next_canary(out)
    assert typo["id"] != canary["id"]
    page = item_path(typo["id"]).read_text("utf-8")
    last = typo["body"].split("\n\n")[-1].split()
    word = next(w for w in last if w.isalpha() and len(w) > 5 and page.count(w) == 1)
    site.change_item(typo["id"], page.replace(word, word[:-1] + "x", 1).encode("utf-8"))
    run_crawl("field_reports", base_url, out)
    run = last_run(out)
    assert (run["self_check"], [c["outcome"] for c in run["canaries"]]) == ("ok", ["ok"])


def test_a_full_refetch_that_loses_tags_keeps_them_and_fails(crawled) -> None:
    base_url, site, out = crawled
    before = publications(out)
    assert before[12995]["tags"] == json.dumps(
        ["Kyrgyzstan", "Almazbek Atambayev", "Sadyr Japarov"]
    )
    html = TAGGED.read_text("utf-8")
    untagged = re.sub(r'<div class="itemTagsBlock">.*?</div>', "", html, flags=re.DOTALL)
    assert untagged != html
    site.change_item(12995, untagged.encode("utf-8"))
    result = run_crawl("field_reports", base_url, out, "-a", "mode=full", expect_exit=1)
    url = before[12995]["url"]
    assert errors(result.stderr) == [
        "Self-check failed for field_reports: 1 of 1 refetched items whose rows have tags no "
        f"longer yield it (first: {url}), at least 20%: the item pages' layout changed; the "
        "stored values were kept"
    ]
    assert publications(out)[12995]["tags"] == before[12995]["tags"]


def _with_leading_line(html: str, line: str) -> bytes:
    """``html`` with a paragraph no pattern names before its article text, inside K2's first
    text block (where the class route keeps it)."""
    intro, full = '<div class="itemIntroText">', '<div class="itemFullText">'
    block = intro if intro in html else full
    return html.replace(block, f"{block}<p>{line}</p>", 1).encode("utf-8")


def test_unknown_chrome_at_the_edge_of_many_bodies_fails_the_first_crawl(tmp_path) -> None:
    line = "Follow the Analyst on Telegram"
    with serve(LocalK2Site(FIXTURES)) as (base_url, site):
        for item_id, item in site.items.items():
            site.change_item(item_id, _with_leading_line(item.path.read_text("utf-8"), line))
        result = run_crawl("field_reports", base_url, tmp_path, expect_exit=1)
    (message,) = errors(result.stderr)
    assert f'bodies begin or end with the same paragraph "{line}"' in message
    assert "page chrome the extraction does not know" in message


def test_unknown_chrome_on_a_night_with_one_new_item_is_caught_by_the_canary(crawled) -> None:
    # The template changed overnight: the one new item and the canary both carry the new line.
    # Neither a body of the new item alone nor the similarity of the canary's body shows it;
    # the canary's new paragraph at the edge of its text does.
    base_url, site, out = crawled
    before = publications(out)
    line = "Follow the Analyst on Telegram"
    for item_id, item in site.items.items():
        site.change_item(item_id, _with_leading_line(item.path.read_text("utf-8"), line))
    result = run_crawl("field_reports", base_url, out, expect_exit=1)
    (message,) = errors(result.stderr)
    assert "a new short paragraph at its edge" in message and line in message
    assert publications(out) == before
