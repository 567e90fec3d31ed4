"""Datasette with the project's files (datasette/, generated from the contract) on a database
crawled from the local site, through Datasette's own test client."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import pytest
from datasette.app import Datasette
from markupsafe import escape

from caci_spider.browse import datasette_command
from tests.conftest import REPO_ROOT, run_crawl

DATASETTE = REPO_ROOT / "datasette"


@pytest.fixture(scope="module")
def datasette(local_site, tmp_path_factory):
    """Both spiders crawled into one database, served with the committed files."""
    base_url, _site = local_site
    out = tmp_path_factory.mktemp("browse")
    for spider in ("field_reports", "staff_publications"):
        run_crawl(spider, base_url, out)
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
    assert counts == {"Field Reports": 18}
    by_author = {f["value"]: f["count"] for f in facets["authors"]["results"]}
    assert by_author["Roger N. McDermott"] == 2
    years = {f["value"]: f["count"] for f in facets["year"]["results"]}
    assert years[2000] == 3 and sum(years.values()) == 18


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
    assert {r["spider"] for r in added} == {"field_reports", "staff_publications"}
    assert len(added) == 18 + 16
