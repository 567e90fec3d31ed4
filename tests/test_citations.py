"""Citation records (caci_spider.citations) from single rows: types, names, dates, escapes.

The exports of a real crawl, read back by other parsers, are tested in tests/test_datasette.py.
"""

from __future__ import annotations

import json
import sqlite3

import pybtex.database
import pytest

from caci_spider.citations import (
    INSTITUTE,
    bibtex_text,
    csl_item,
    date_parts,
    person,
    ris_text,
    write_citations,
)

PUBLICATIONS = "publications"
FETCHED = "2026-11-27T17:49:47Z"


def staff_row(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "0123456789ab", "kind": None, "title": "A Title", "authors": [], "roles": {},
        "venue": None, "date": None, "url": None, "summary": None, "sources": [],
        "fetched_at": FETCHED,
    }  # fmt: skip
    return row | values


def publication_row(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": 7315, "site": "cacianalyst", "url": "https://www.cacianalyst.org/x.html",
        "section": "Field Reports", "title": "IS AZERBAIJAN TURNING TOWARDS RUSSIA?",
        "authors": ["S. Frederick Starr"], "published": "2024-07-15", "issue_date": None,
        "issue": None, "body": "Text.", "pdf_url": None, "fetched_at": FETCHED,
    }  # fmt: skip
    return row | values


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("S. Frederick Starr", {"family": "Starr", "given": "S. Frederick"}),
        ("Svante E. Cornell", {"family": "Cornell", "given": "Svante E."}),
        ("William D. O’Malley", {"family": "O’Malley", "given": "William D."}),
        ("Thomas de Waal", {"family": "de Waal", "given": "Thomas"}),
        ("Martin Luther King Jr.", {"family": "King", "given": "Martin Luther", "suffix": "Jr."}),
        ("Trend", {"literal": "Trend"}),
    ],
)
def test_names_split_into_family_and_given(name, expected) -> None:
    assert person(name) == expected


def test_dates_stay_as_precise_as_stored() -> None:
    assert date_parts("2024") == [2024]
    assert date_parts("2024-07") == [2024, 7]
    assert date_parts("2024-07-15") == [2024, 7, 15]
    assert date_parts(FETCHED) == [2026, 11, 27]
    assert date_parts(None) is None and date_parts("undated") is None


def test_a_publication_is_a_magazine_article_of_its_site() -> None:
    item = csl_item(PUBLICATIONS, publication_row())
    assert item["id"] == "cacianalyst:7315" and item["citation-key"] == "cacianalyst7315"
    assert item["type"] == "article-magazine"
    assert item["container-title"] == "Central Asia-Caucasus Analyst"
    assert item["genre"] == "Field Reports"
    assert item["title"] == "IS AZERBAIJAN TURNING TOWARDS RUSSIA?"
    assert item["author"] == [{"family": "Starr", "given": "S. Frederick"}]
    assert item["issued"] == {"date-parts": [[2024, 7, 15]]}
    assert item["accessed"] == {"date-parts": [[2026, 11, 27]]}
    turkey = csl_item(
        PUBLICATIONS,
        publication_row(site="turkeyanalyst", section="Articles", issue="vol. 2, no. 3",
                        pdf_url="https://www.turkeyanalyst.org/a.pdf"),
    )  # fmt: skip
    assert turkey["container-title"] == "The Turkey Analyst"
    assert (turkey["volume"], turkey["issue"]) == ("2", "3")
    assert turkey["custom"] == {"pdf_url": "https://www.turkeyanalyst.org/a.pdf"}


def test_staff_publications_are_typed_by_kind_and_venue() -> None:
    paper = csl_item(
        "staff_publications",
        staff_row(kind="Silk Road Paper", date="2024-07", authors=["Svante E. Cornell"],
                  roles={"Svante E. Cornell": "editor"}),
    )  # fmt: skip
    assert paper["type"] == "report" and paper["collection-title"] == "Silk Road Papers"
    assert paper["publisher"] == INSTITUTE
    assert paper["editor"] == [{"family": "Cornell", "given": "Svante E."}]
    assert "author" not in paper and paper["issued"] == {"date-parts": [[2024, 7]]}
    book = csl_item("staff_publications", staff_row(kind="Book", venue="AFPC Press"))
    assert (book["type"], book["publisher"]) == ("book", "AFPC Press")
    op_ed = csl_item("staff_publications", staff_row(venue="Wall Street Journal"))
    assert (op_ed["type"], op_ed["container-title"]) == ("article-newspaper", "Wall Street Journal")
    analysis = csl_item(
        "staff_publications", staff_row(kind="Analysis", venue="The American Interest")
    )
    assert analysis["type"] == "article-magazine" and analysis["genre"] == "Analysis"
    pdf = csl_item("staff_publications", staff_row(url="https://www.silkroadstudies.org/p.pdf"))
    assert pdf["custom"] == {"pdf_url": "https://www.silkroadstudies.org/p.pdf"}


def test_bibtex_keeps_titles_exactly_and_keys_stable() -> None:
    rows = [
        ("publications", publication_row(title="Oil & Gas: 100% {Braces} #1_x")),
        ("publications", publication_row(id=7316, title="Second")),
        ("staff_publications", staff_row()),
    ]
    items = [csl_item(table, row) for table, row in rows]
    parsed = pybtex.database.parse_string(bibtex_text(items), "bibtex")
    assert list(parsed.entries) == ["cacianalyst7315", "cacianalyst7316", "staff0123456789ab"]
    title = parsed.entries["cacianalyst7315"].fields["title"]
    assert title == r"{Oil \& Gas: 100\% \{Braces\} \#1\_x}"
    # The same rows give the same keys, whatever else is exported with them.
    again = pybtex.database.parse_string(bibtex_text(items[1:]), "bibtex")
    assert list(again.entries) == list(parsed.entries)[1:]
    ris = ris_text(items)
    assert ris.startswith("TY  - MGZN\n") and "TI  - Oil & Gas: 100% {Braces} #1_x\n" in ris


def test_the_exports_replace_old_files_whole(tmp_path) -> None:
    (tmp_path / "citations.json").write_text("stale", "utf-8")
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE staff_publications (id, kind, title, authors, roles, "
                       "venue, date, url, summary, sources, fetched_at)")  # fmt: skip
    row = staff_row(authors=["Brenda Shaffer"])
    connection.execute(
        "INSERT INTO staff_publications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [json.dumps(v) if isinstance(v, (list, dict)) else v for v in row.values()],
    )
    assert write_citations(connection, tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "citations.bib", "citations.json", "citations.ris",
    ]  # fmt: skip
    (item,) = json.loads((tmp_path / "citations.json").read_text("utf-8"))
    assert item["author"] == [{"family": "Shaffer", "given": "Brenda"}]


def test_the_institutes_papers_books_and_news_are_typed_by_what_they_are() -> None:
    paper = csl_item(
        "publications",
        publication_row(
            site="silkroadstudies", section="Silkroad Papers and Monographs",
            kind="Silk Road Paper", published="2025-06-03", issue_date="2025-06",
        ),
    )  # fmt: skip
    assert paper["type"] == "report" and paper["genre"] == "Silk Road Paper"
    assert (paper["collection-title"], paper["publisher"]) == ("Silk Road Papers", INSTITUTE)
    assert "container-title" not in paper
    assert paper["issued"] == {"date-parts": [[2025, 6]]}  # the printed month
    book = csl_item(
        "publications",
        publication_row(
            site="silkroadstudies", section="Silkroad Papers and Monographs", kind="Book"
        ),
    )
    assert (book["type"], book["publisher"]) == ("book", INSTITUTE)
    assert "collection-title" not in book
    news = csl_item("publications", publication_row(site="silkroadstudies", section="News"))
    assert (news["type"], news["container-title"], news["genre"]) == ("webpage", INSTITUTE, "News")
    analyst = csl_item("publications", publication_row(kind=None))
    assert (analyst["type"], analyst["container-title"]) == (
        "article-magazine", "Central Asia-Caucasus Analyst",
    )  # fmt: skip
