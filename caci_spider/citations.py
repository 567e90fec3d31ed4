"""Citation records of every publication and staff publication: CSL-JSON, RIS and BibTeX.

One function, :func:`csl_item`, turns a stored row of ``publications`` or ``staff_publications``
into a CSL-JSON item (the Citation Style Language's input format, which Zotero, Pandoc and
citeproc read); the RIS (:func:`ris_text`, written with rispy) and BibTeX (:func:`bibtex_text`,
written with bibtexparser) records are made from those items, so the three formats never
disagree. docs/citations.md says how each field is chosen.

``python -m caci_spider.citations exports/caci.db`` writes ``citations.json``, ``citations.ris``
and ``citations.bib`` beside the database (``--out`` elsewhere); every crawl writes them after
its other exports (:func:`write_citations`).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import rispy
from bibtexparser import Library, write_string
from bibtexparser.model import Entry, Field
from nameparser import HumanName

from caci_spider import exitcodes
from caci_spider.documents import is_pdf_url
from caci_spider.storage import write_atomic

PUBLICATIONS = "publications"
STAFF = "staff_publications"
EXPORT_NAMES = {"csljson": "citations.json", "ris": "citations.ris", "bibtex": "citations.bib"}

# The publication each site's articles appear in.
CONTAINER_TITLES = {
    "cacianalyst": "Central Asia-Caucasus Analyst",
    "turkeyanalyst": "The Turkey Analyst",
}
INSTITUTE = "Central Asia-Caucasus Institute & Silk Road Studies Program"
SILK_ROAD_PAPER = "Silk Road Paper"
SILK_ROAD_PAPERS = "Silk Road Papers"

# Staff publication kinds (caci_spider/staff/kinds.py) whose CSL type does not depend on the
# venue. The rest (Analysis, Article, Commentary, Op-ed, no kind) are articles in their venue.
KIND_TYPES = {
    "Silk Road Paper": "report",
    "Policy Paper": "report",
    "Policy Brief": "report",
    "Issue Brief": "report",
    "Research Paper": "report",
    "Working Paper": "report",
    "Report": "report",
    "Silk Road Monograph": "book",
    "Monograph": "book",
    "Book": "book",
    "Book Chapter": "chapter",
    "Journal Article": "article-journal",
    "Interview": "interview",
    "Testimony": "speech",
}
# A venue whose name ends in one of these words is a newspaper ("Wall Street Journal", "The
# Hill", "Washington Post"); any other venue of an article is taken for a magazine.
NEWSPAPER_WORDS = frozenset(
    "times post journal herald tribune gazette hill guardian telegraph monitor daily news "
    "chronicle standard observer independent".split()
)

RIS_TYPES = {
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "article-journal": "JOUR",
    "report": "RPRT",
    "book": "BOOK",
    "chapter": "CHAP",
    "interview": "GEN",
    "speech": "GEN",
    "webpage": "ELEC",
}
BIBTEX_TYPES = {
    "article-magazine": "article",
    "article-newspaper": "article",
    "article-journal": "article",
    "report": "techreport",
    "book": "book",
    "chapter": "incollection",
}

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_VOLUME_ISSUE = re.compile(r"vol\.\s*(?P<volume>\d+)(?:,\s*no\.\s*(?P<issue>\d+))?", re.I)


# -- one record ---------------------------------------------------------------------------------


def date_parts(text: str | None) -> list[int] | None:
    """``2024`` → [2024], ``2024-07`` → [2024, 7], ``2024-07-15`` (or an ISO time) → [2024, 7,
    15]: as precise as the stored date, never more."""
    match = _DATE.match(text or "")
    if match is None:
        return None
    return [int(part) for part in match.groups() if part is not None]


def person(name: str) -> dict[str, str]:
    """A printed name as CSL's ``{family, given}`` (nameparser: particles such as "de" stay
    with the family name, "Jr." becomes the suffix); a single word stays whole (``literal``)."""
    return dict(_person_parts(name))


@functools.lru_cache(maxsize=4096)
def _person_parts(name: str) -> tuple[tuple[str, str], ...]:
    # Cached: an export names the same few hundred authors over and over, and nameparser
    # costs ~0.6 ms a name (most of an export's CPU before the cache).
    parsed = HumanName(name)
    given = " ".join(part for part in (parsed.first, parsed.middle) if part)
    if not parsed.last or not given:
        return (("literal", name),)
    found: tuple[tuple[str, str], ...] = (("family", parsed.last), ("given", given))
    if parsed.suffix:
        found += (("suffix", parsed.suffix),)
    return found


def bibtex_key(table: str, row: dict[str, Any]) -> str:
    """The BibTeX key, from the row's identity only, so that it never changes and no two rows
    share it: ``cacianalyst7315``, ``turkeyanalyst42``, ``staff3fa2b1c0d9e8``."""
    if table == PUBLICATIONS:
        return f"{row['site']}{row['id']}"
    return f"staff{row['id']}"


def _is_newspaper(venue: str) -> bool:
    words = re.findall(r"[\w’']+", venue.casefold())
    return bool(words) and words[-1] in NEWSPAPER_WORDS


def _staff_type(kind: str | None, venue: str | None) -> str:
    if kind in KIND_TYPES:
        return KIND_TYPES[kind]
    if venue:
        return "article-newspaper" if _is_newspaper(venue) else "article-magazine"
    return "webpage"


# What a row adds to its item besides the fields it sets directly: its authors, editors, issued
# date parts and PDF link.
_Contributors = tuple[list[dict[str, str]], list[dict[str, str]], list[int] | None, str | None]


def csl_item(table: str, row: dict[str, Any], pdf_url: str | None = None) -> dict[str, Any]:
    """The CSL-JSON item of a stored row of ``publications`` or ``staff_publications`` (JSON
    columns decoded); ``pdf_url``: a staff publication's PDF found on its item page."""
    # The key order is the order CSL-JSON exports print, so each helper adds its keys in turn.
    item: dict[str, Any] = {"id": "", "type": ""}
    if table == PUBLICATIONS:
        found = _publication_fields(item, row)
    elif table == STAFF:
        found = _staff_fields(item, row, pdf_url)
    else:
        raise ValueError(f"no citation record for a row of {table}")
    _add_common_fields(item, table, row, found)
    return item


def _publication_fields(item: dict[str, Any], row: dict[str, Any]) -> _Contributors:
    item["id"] = f"{row['site']}:{row['id']}"
    item["type"] = "article-magazine"
    kind = row.get("kind")
    _add_publication_container(item, row["site"], kind)
    if kind or row.get("section"):
        item["genre"] = kind or row["section"]
    issue = _VOLUME_ISSUE.search(row.get("issue") or "")
    if issue:
        item["volume"] = issue["volume"]
        if issue["issue"]:
            item["issue"] = issue["issue"]
    authors = [person(name) for name in row.get("authors") or []]
    # A paper's printed month is its date as printed; K2's date is when it was posted.
    first, second = ("issue_date", "published") if kind else ("published", "issue_date")
    issued = date_parts(row.get(first) or row.get(second))
    return authors, [], issued, row.get("pdf_url") or None


def _add_publication_container(item: dict[str, Any], site: str, kind: str | None) -> None:
    container = CONTAINER_TITLES.get(site)
    if container:
        item["container-title"] = container
    elif kind:  # the institute's own papers and books, typed as a staff row of that kind
        item["type"] = _staff_type(kind, None)
        item["publisher"] = INSTITUTE
        if kind == SILK_ROAD_PAPER:
            item["collection-title"] = SILK_ROAD_PAPERS
    else:  # the institute's news and events: pages of its site
        item["type"] = "webpage"
        item["container-title"] = INSTITUTE


def _staff_fields(item: dict[str, Any], row: dict[str, Any], pdf_url: str | None) -> _Contributors:
    item["id"] = row["id"]
    kind, venue = row.get("kind"), row.get("venue")
    item["type"] = _staff_type(kind, venue)
    _add_staff_container(item, kind, venue)
    if kind:
        item["genre"] = kind
    roles = row.get("roles") or {}
    names = row.get("authors") or []
    authors = [person(n) for n in names if roles.get(n) != "editor"]
    editors = [person(n) for n in names if roles.get(n) == "editor"]
    issued = date_parts(row.get("date"))
    if is_pdf_url(row.get("url")):
        pdf_url = row["url"]
    return authors, editors, issued, pdf_url


def _add_staff_container(item: dict[str, Any], kind: str | None, venue: str | None) -> None:
    if kind == SILK_ROAD_PAPER:
        item["collection-title"] = SILK_ROAD_PAPERS
        item["publisher"] = INSTITUTE
    elif item["type"] in ("report", "book", "speech") and venue:
        item["publisher"] = venue
    elif item["type"] == "webpage":
        item["container-title"] = INSTITUTE
    elif venue:
        item["container-title"] = venue


def _add_common_fields(
    item: dict[str, Any], table: str, row: dict[str, Any], found: _Contributors
) -> None:
    authors, editors, issued, pdf_url = found
    item["citation-key"] = bibtex_key(table, row)
    item["title"] = row["title"]
    if authors:
        item["author"] = authors
    if editors:
        item["editor"] = editors
    if issued:
        item["issued"] = {"date-parts": [issued]}
    if row.get("url"):
        item["URL"] = row["url"]
    accessed = date_parts(row.get("fetched_at"))
    if accessed:
        item["accessed"] = {"date-parts": [accessed]}
    if pdf_url:
        # CSL has no variable for a second link: its schema's "custom" holds it.
        item["custom"] = {"pdf_url": pdf_url}


# -- every record of a database ------------------------------------------------------------------


def dict_rows(
    connection: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    """Rows as dicts, whatever row factory the connection has (Datasette's and sqlite-utils'
    are left as they are)."""
    return list(iter_dict_rows(connection, sql, params))


def iter_dict_rows(
    connection: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> Iterator[dict[str, Any]]:
    """:func:`dict_rows` one at a time: the export reads every row with its body, and holding
    them all at once doubled a 10,000-row crawl's peak memory."""
    cursor = connection.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    for row in cursor:
        yield dict(zip(names, tuple(row), strict=True))


def decoded_row(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row with its JSON columns (authors, roles) decoded."""
    found = dict(row)
    for key in ("authors", "roles"):
        if isinstance(found.get(key), str):
            found[key] = json.loads(found[key])
    return found


def staff_pdf_urls(connection: sqlite3.Connection) -> dict[str, str]:
    """The first PDF download link of each staff publication's item page (``document_links``)."""
    if not has_table(connection, "document_links"):
        return {}
    found: dict[str, str] = {}
    for item_id, url in connection.execute(
        "SELECT item_id, document_url FROM document_links WHERE item_table = ? "
        "AND role = 'download' ORDER BY item_id, linked_at, document_url",
        [STAFF],
    ):
        found.setdefault(item_id, url)
    return found


def has_table(connection: sqlite3.Connection, name: str) -> bool:
    query = "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?"
    return connection.execute(query, [name]).fetchone() is not None


def records(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every publication (by site, then id) and staff publication (by id), as CSL-JSON items."""
    items = []
    if has_table(connection, PUBLICATIONS):
        rows = iter_dict_rows(connection, f"SELECT * FROM {PUBLICATIONS} ORDER BY site, id")
        items += [csl_item(PUBLICATIONS, decoded_row(row)) for row in rows]
    if has_table(connection, STAFF):
        pdfs = staff_pdf_urls(connection)
        rows = iter_dict_rows(connection, f"SELECT * FROM {STAFF} ORDER BY id")
        items += [csl_item(STAFF, decoded_row(row), pdfs.get(row["id"])) for row in rows]
    return items


# -- RIS and BibTeX ------------------------------------------------------------------------------


def inverted_name(name: dict[str, str]) -> str:
    """``Family, Given`` (``Family, Given, Jr.``), or the whole name where it has no parts."""
    if "literal" in name:
        return name["literal"]
    suffix = f", {name['suffix']}" if name.get("suffix") else ""
    return f"{name['family']}, {name['given']}{suffix}"


def date_of(item: dict[str, Any], key: str) -> list[int]:
    parts: list[int] = item.get(key, {}).get("date-parts", [[]])[0]
    return parts


def _ris_date(parts: Sequence[int]) -> str:
    """RIS's ``YYYY/MM/DD/`` with the unknown parts left empty (``2024/07//``)."""
    padded = [f"{parts[0]:04d}"] + [f"{p:02d}" for p in parts[1:]]
    padded += [""] * (3 - len(padded))
    return "/".join(padded) + "/"


# rispy knows no editor tag; RIS's ED is the one Zotero and EndNote read as the editor.
RIS_MAPPING = {**rispy.TAG_KEY_MAPPING, "ED": "editors"}
RIS_LIST_TAGS = [*rispy.LIST_TYPE_TAGS, "ED"]


class PlainRisWriter(rispy.RisWriter):
    """rispy's writer without the ``1.``, ``2.`` line it puts before each reference: RIS has no
    such line, and stricter readers take it for a broken tag."""

    def set_header(self, count: int) -> str:
        return ""


def ris_reference(item: dict[str, Any]) -> dict[str, Any]:
    """One RIS reference (rispy's keys) from a CSL-JSON item."""
    reference: dict[str, Any] = {
        "type_of_reference": RIS_TYPES.get(item["type"], "GEN"),
        "id": item["citation-key"],
        "title": item["title"],
    }
    if item.get("author"):
        reference["authors"] = [inverted_name(n) for n in item["author"]]
    if item.get("editor"):
        reference["editors"] = [inverted_name(n) for n in item["editor"]]
    if item.get("container-title"):
        reference["secondary_title"] = item["container-title"]
    if item.get("collection-title"):
        reference["tertiary_title"] = item["collection-title"]
    if item.get("publisher"):
        reference["publisher"] = item["publisher"]
    if item.get("genre"):
        reference["type_of_work"] = item["genre"]
    if item.get("volume"):
        reference["volume"] = item["volume"]
    if item.get("issue"):
        reference["number"] = item["issue"]
    issued = date_of(item, "issued")
    if issued:
        reference["year"] = str(issued[0])
        reference["date"] = _ris_date(issued)
    if item.get("URL"):
        reference["urls"] = [item["URL"]]
    accessed = date_of(item, "accessed")
    if accessed:
        reference["access_date"] = _ris_date(accessed)
    pdf = item.get("custom", {}).get("pdf_url")
    if pdf:
        reference["file_attachments1"] = pdf
    return reference


def ris_text(items: Iterable[dict[str, Any]]) -> str:
    references = [ris_reference(item) for item in items]
    if not references:
        return ""
    text: str = rispy.dumps(
        references, implementation=PlainRisWriter, mapping=RIS_MAPPING, list_tags=RIS_LIST_TAGS
    )
    return text


_BIBTEX_SPECIALS = re.compile(r"([&%$#_{}])")


def bibtex_value(text: str) -> str:
    """Text as a BibTeX field value: LaTeX's special characters escaped, everything else (UTF-8
    included, as biber and bibtex8 read it) as stored."""
    return _BIBTEX_SPECIALS.sub(r"\\\1", text.replace("\\", r"\textbackslash{}"))


def _bibtex_names(names: Iterable[dict[str, str]]) -> str:
    # A name without parts (an organisation) in braces, so that it is not split.
    return " and ".join(
        f"{{{bibtex_value(n['literal'])}}}" if "literal" in n else bibtex_value(inverted_name(n))
        for n in names
    )


def bibtex_entry(item: dict[str, Any]) -> Entry:
    """One BibTeX entry (bibtexparser's model) from a CSL-JSON item."""
    entry_type = BIBTEX_TYPES.get(item["type"], "misc")
    fields: list[tuple[str, str]] = []
    if item.get("author"):
        fields.append(("author", _bibtex_names(item["author"])))
    if item.get("editor"):
        fields.append(("editor", _bibtex_names(item["editor"])))
    # Double braces: the title exactly as stored, never re-cased by a style.
    fields.append(("title", "{" + bibtex_value(item["title"]) + "}"))
    container = item.get("container-title")
    if container:
        key = {"article": "journal", "incollection": "booktitle"}.get(entry_type, "howpublished")
        fields.append((key, bibtex_value(container)))
    if item.get("collection-title"):
        fields.append(("series", bibtex_value(item["collection-title"])))
    if item.get("publisher"):
        key = "institution" if entry_type == "techreport" else "publisher"
        fields.append((key, bibtex_value(item["publisher"])))
    if item.get("genre") and entry_type in ("techreport", "misc"):
        fields.append(("type", bibtex_value(item["genre"])))
    if item.get("volume"):
        fields.append(("volume", item["volume"]))
    if item.get("issue"):
        fields.append(("number", item["issue"]))
    issued = date_of(item, "issued")
    if issued:
        fields.append(("year", str(issued[0])))
        if len(issued) > 1:
            fields.append(("month", str(issued[1])))
        # biblatex's date keeps a partial date partial: 2024-07.
        fields.append(("date", "-".join(f"{p:02d}" for p in issued)))
    if item.get("URL"):
        fields.append(("url", item["URL"]))
    accessed = date_of(item, "accessed")
    if accessed:
        fields.append(("urldate", "-".join(f"{p:02d}" for p in accessed)))
    pdf = item.get("custom", {}).get("pdf_url")
    if pdf:
        fields.append(("pdf", pdf))
    return Entry(entry_type, item["citation-key"], [Field(k, "{" + v + "}") for k, v in fields])


def bibtex_text(items: Iterable[dict[str, Any]]) -> str:
    library = Library([bibtex_entry(item) for item in items])
    # The values are enclosed above (bibtex_entry): the writer adds nothing.
    text: str = write_string(library, unparse_stack=[])
    return text


def csl_json_text(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, indent=1) + "\n"


# -- files ---------------------------------------------------------------------------------------


# Each export file (by name) and the function that writes its text from the records.
EXPORT_TEXTS: dict[str, Callable[[list[dict[str, Any]]], str]] = {
    EXPORT_NAMES["csljson"]: csl_json_text,
    EXPORT_NAMES["ris"]: ris_text,
    EXPORT_NAMES["bibtex"]: bibtex_text,
}


def write_export(path: Path, text: str, count: int) -> int:
    """One export file, written atomically; returns ``count`` (its records), for the log."""
    write_atomic(path, lambda handle: handle.write(text))
    return count


def write_items(
    path: Path, text_of: Callable[[list[dict[str, Any]]], str], items: list[dict[str, Any]]
) -> int:
    """One export file of ``items`` in the format ``text_of`` writes, atomically."""
    return write_export(path, text_of(items), len(items))


def write_citations(connection: sqlite3.Connection, directory: Path) -> int:
    """``citations.json``, ``citations.ris`` and ``citations.bib`` in ``directory``, each
    written atomically, from the same records; returns their count."""
    items = records(connection)
    # One file's text at a time: all three at once held a large crawl's citations three times.
    for name, text_of in EXPORT_TEXTS.items():
        write_items(directory / name, text_of, items)
    return len(items)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.citations",
        description="Write citations.json (CSL-JSON), citations.ris and citations.bib from a "
        "crawl's database.",
    )
    parser.add_argument("database", type=Path, help="the crawl's database (exports/caci.db)")
    parser.add_argument("--out", type=Path, help="directory to write to (default: the database's)")
    args = parser.parse_args(argv)
    database: Path = args.database
    if not database.is_file():
        print(f"ERROR: no database at {database}: give the path of a crawl's .db file",
              file=sys.stderr)  # fmt: skip
        return exitcodes.USAGE
    try:
        # Read-only: a crawl may be writing it.
        connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            if not has_table(connection, PUBLICATIONS) and not has_table(connection, STAFF):
                print(f"ERROR: {database} holds no publications nor staff_publications table: "
                      "give the path of a crawl's database", file=sys.stderr)  # fmt: skip
                return exitcodes.USAGE
            out = args.out or database.parent
            count = write_citations(connection, out)
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        print(f"ERROR: {database} cannot be read as a crawl's database ({error})", file=sys.stderr)
        return exitcodes.USAGE
    except OSError as error:
        print(f"ERROR: cannot write the citations ({error}): give a writable --out directory",
              file=sys.stderr)  # fmt: skip
        return exitcodes.USAGE
    print(f"wrote {count} citations to {out / EXPORT_NAMES['csljson']}, "
          f"{EXPORT_NAMES['ris']} and {EXPORT_NAMES['bibtex']}")  # fmt: skip
    return exitcodes.OK


if __name__ == "__main__":
    sys.exit(main())
