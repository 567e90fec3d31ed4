"""One author, one row: every merge rule of caci_spider.names and its ambiguous counter-case,
then the same rules in the database (aliases, links across both tables, merges and splits)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from caci_spider.items import StaffPublication
from caci_spider.names import NameParts, fullest, group_spellings, same_person
from caci_spider.records import open_database
from caci_spider.storage import PublicationsDatabase
from tests.test_storage import report


def groups(*names: str) -> list[list[str]]:
    return sorted(group_spellings(list(names)))


# -- rule 1: case, diacritics and periods ------------------------------------------------------


def test_diacritics_are_one_author() -> None:
    assert groups("Marcela Londoño", "Marcela Londono") == [["Marcela Londono", "Marcela Londoño"]]


def test_case_is_one_author() -> None:
    assert groups("SVANTE CORNELL", "Svante Cornell") == [["SVANTE CORNELL", "Svante Cornell"]]


def test_a_period_after_an_initial_is_one_author() -> None:
    assert groups("Roger N McDermott", "Roger N. McDermott") == [
        ["Roger N McDermott", "Roger N. McDermott"]
    ]


def test_counter_case_another_letter_is_another_author() -> None:
    assert groups("Marcela Londoño", "Marcela Londona") == [
        ["Marcela Londona"],
        ["Marcela Londoño"],
    ]


# -- rule 2: middle names ------------------------------------------------------------------------


def test_a_name_without_middle_names_is_the_one_with_them() -> None:
    assert groups("Svante Cornell", "Svante E. Cornell") == [
        ["Svante Cornell", "Svante E. Cornell"]
    ]
    assert same_person("Svante Cornell", "Svante E. Cornell")


def test_an_initial_is_the_middle_name_it_abbreviates() -> None:
    assert groups("Svante E. Cornell", "Svante Erik Cornell") == [
        ["Svante E. Cornell", "Svante Erik Cornell"]
    ]


def test_particles_and_suffixes_belong_to_the_family_name() -> None:
    assert NameParts.of("Thomas de Waal") == NameParts("thomas", (), "de waal")
    assert NameParts.of("John A. Smith Jr.") == NameParts("john", ("a",), "smith jr")
    assert groups("Thomas de Waal", "Thomas De Waal") == [["Thomas De Waal", "Thomas de Waal"]]
    assert groups("John Smith Jr.", "John A. Smith Jr.") == [
        ["John A. Smith Jr.", "John Smith Jr."]
    ]


def test_counter_case_two_middle_initials_are_two_authors() -> None:
    assert groups("Svante E. Cornell", "Svante X. Cornell") == [
        ["Svante E. Cornell"],
        ["Svante X. Cornell"],
    ]
    assert not same_person("Svante E. Cornell", "Svante X. Cornell")


def test_counter_case_two_middle_names_are_two_authors() -> None:
    assert groups("Svante Erik Cornell", "Svante Eric Cornell") == [
        ["Svante Eric Cornell"],
        ["Svante Erik Cornell"],
    ]


def test_counter_case_a_given_name_and_its_initial_stay_apart() -> None:
    assert groups("S. Cornell", "Svante Cornell") == [["S. Cornell"], ["Svante Cornell"]]


def test_counter_case_another_family_or_given_name_is_another_author() -> None:
    assert groups("Svante Cornell", "Svante Cornelius") == [
        ["Svante Cornelius"],
        ["Svante Cornell"],
    ]
    assert groups("Svante Cornell", "Niklas Cornell") == [["Niklas Cornell"], ["Svante Cornell"]]


def test_counter_case_the_particle_is_part_of_the_family_name() -> None:
    assert groups("Thomas de Waal", "Thomas Waal") == [["Thomas Waal"], ["Thomas de Waal"]]


# -- rule 3: ambiguity -------------------------------------------------------------------------


def test_counter_case_a_bare_name_that_could_be_two_people_stays_apart() -> None:
    names = ["Svante Cornell", "Svante E. Cornell", "Svante X. Cornell"]
    for order in itertools.permutations(names):
        assert sorted(group_spellings(list(order))) == [
            ["Svante Cornell"],
            ["Svante E. Cornell"],
            ["Svante X. Cornell"],
        ]


def test_an_initial_under_one_full_middle_name_joins_it() -> None:
    assert groups("Svante Cornell", "Svante E. Cornell", "Svante Erik Cornell") == [
        ["Svante Cornell", "Svante E. Cornell", "Svante Erik Cornell"]
    ]


def test_counter_case_an_initial_under_two_full_middle_names_stays_apart() -> None:
    assert groups("Svante E. Cornell", "Svante Erik Cornell", "Svante Emil Cornell") == [
        ["Svante E. Cornell"],
        ["Svante Emil Cornell"],
        ["Svante Erik Cornell"],
    ]


# -- the name kept -------------------------------------------------------------------------------


def test_the_fullest_spelling_names_the_author() -> None:
    assert fullest(["Svante Cornell", "Svante E. Cornell"]) == "Svante E. Cornell"
    assert fullest(["Marcela Londono", "Marcela Londoño", "MARCELA LONDONO"]) == "Marcela Londoño"
    assert fullest(["SVANTE E. CORNELL", "Svante E. Cornell"]) == "Svante E. Cornell"


# -- in the database ---------------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> PublicationsDatabase:
    db = open_database(tmp_path / "caci.db")
    yield db
    db.close()


def staff(title: str, *authors: str, **fields) -> StaffPublication:
    return StaffPublication(
        title=title, authors=list(authors), sources=["https://x/"], fetched_at="t", **fields
    )


def authors_of(database: PublicationsDatabase) -> dict[str, list[str]]:
    """Each author's name → its aliases."""
    rows = database.db.execute(
        "SELECT a.name, al.alias FROM authors a JOIN author_aliases al ON al.author_id = a.id"
        " ORDER BY a.name, al.alias"
    ).fetchall()
    found: dict[str, list[str]] = {}
    for name, alias in rows:
        found.setdefault(name, []).append(alias)
    return found


def test_field_report_and_staff_authors_are_one_author(database: PublicationsDatabase) -> None:
    database.store_report(report(1, authors=["Svante Cornell"]), "field_reports")
    database.store_staff(
        staff("A Book", "Svante E. Cornell", "S. Frederick Starr",
              roles={"Svante E. Cornell": "editor"}),
    )  # fmt: skip
    assert authors_of(database) == {
        "S. Frederick Starr": ["S. Frederick Starr"],
        "Svante E. Cornell": ["Svante Cornell", "Svante E. Cornell"],
    }
    works = database.db.execute(
        "SELECT kind, printed_as, role, position FROM author_publications"
        " WHERE author = 'Svante E. Cornell' ORDER BY kind"
    ).fetchall()
    assert works == [
        ("publication", "Svante Cornell", "author", 0),
        ("staff publication", "Svante E. Cornell", "editor", 0),
    ]
    links = database.db.execute(
        "SELECT position, role FROM staff_publication_authors ORDER BY position"
    ).fetchall()
    assert links == [(0, "editor"), (1, "author")]


def test_a_spelling_that_makes_a_merge_ambiguous_parts_the_authors(
    database: PublicationsDatabase,
) -> None:
    database.store_report(report(1, authors=["Svante Cornell"]), "field_reports")
    database.store_staff(staff("A Book", "Svante E. Cornell"))
    merged = database.author_id("Svante Cornell")
    assert database.author_id("Svante E. Cornell") == merged
    database.store_staff(staff("Another Book", "Svante X. Cornell"))
    assert authors_of(database) == {
        "Svante Cornell": ["Svante Cornell"],
        "Svante E. Cornell": ["Svante E. Cornell"],
        "Svante X. Cornell": ["Svante X. Cornell"],
    }
    # Every link follows the spelling printed on its publication.
    rows = database.db.execute(
        "SELECT printed_as, author FROM author_publications ORDER BY printed_as"
    ).fetchall()
    assert all(printed == author for printed, author in rows) and len(rows) == 3
    assert database.db["authors"].count == 3


def test_diacritics_merge_and_keep_the_lower_id(database: PublicationsDatabase) -> None:
    database.store_report(report(1, authors=["Marcela Londono"]), "field_reports")
    first = database.author_id("Marcela Londono")
    database.store_report(report(2, body="Other.", authors=["Marcela Londoño"]), "field_reports")
    assert database.author_id("Marcela Londoño") == first
    assert authors_of(database) == {"Marcela Londoño": ["Marcela Londono", "Marcela Londoño"]}
    assert database.db.execute("SELECT DISTINCT author_id FROM publication_authors").fetchall() == [
        (first,)
    ]
