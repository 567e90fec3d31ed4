"""What every table family of :mod:`caci_spider.storage` shares: table names, the upsert
statement builder, JSON encoding of rows, the schema-version guard and the state of one open
database (:class:`StorageBase`)."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from typing import Any

import sqlite_utils

from caci_spider.contract import TABLES, export_keys, json_columns
from caci_spider.items import CONTRACT_KEYS, STAFF_KEYS
from caci_spider.sources import CACIANALYST, SILKROADSTUDIES
from caci_spider.storage.rules import StorageRules
from caci_spider.versions import SCHEMA_VERSION

PUBLICATIONS = "publications"
STAFF = "staff_publications"
STAFF_RANKS = "staff_ranks"
# The base URLs a database was first crawled from (caci_spider.sites checks them).
SITES_TABLE = "sites"
DOCUMENTS = "documents"
# The site of every staff publication row where a table keys rows by (site, id).
STAFF_SITE = SILKROADSTUDIES.key
ANALYST_SITE = CACIANALYST.key
JSON_COLUMNS = json_columns()
# The keys of an exported row of each exported table, in the contract's order.
EXPORTS: dict[str, tuple[str, ...]] = {
    PUBLICATIONS: CONTRACT_KEYS,
    STAFF: STAFF_KEYS,
    DOCUMENTS: export_keys(DOCUMENTS),
}
DERIVED = {t.name: frozenset(c.name for c in t.columns if c.derived) for t in TABLES}


class NewerDatabase(Exception):
    """The database was written by a newer release (its schema version is higher than this
    release's): this one must not write rows of its older shape into it."""


def schema_version_of(connection: sqlite3.Connection) -> int:
    """The schema version of the newest release that wrote the database (``PRAGMA
    user_version``; 0: written before schema versions were recorded)."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    return int(version)


def refuse_newer(path: str | os.PathLike[str], version: int) -> None:
    """Raise :class:`NewerDatabase` when ``version`` (the database's) is above this release's."""
    if version > SCHEMA_VERSION:
        raise NewerDatabase(
            f"{path} was written by a newer release of caci_spider (schema {version}; this "
            f"release reads schema {SCHEMA_VERSION} and older): run the newer release, or "
            "restore the copy kept before the upgrade (docs/upgrading.md)"
        )


def upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """``INSERT … ON CONFLICT (key) DO UPDATE``: one statement, no schema introspection."""
    names = ", ".join(f"[{c}]" for c in columns)
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in key)
    return (
        f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


def without_derived(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the contract's keys: derived columns (year, month, category) left out."""
    return {key: value for key, value in row.items() if key not in DERIVED[table]}


def marks(values: Iterable[object]) -> str:
    return ", ".join("?" for _ in values)


def encode(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: json.dumps(value, ensure_ascii=False) if key in JSON_COLUMNS else value
        for key, value in row.items()
    }


def decode(row: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(row)
    for key in JSON_COLUMNS & decoded.keys():
        if isinstance(decoded[key], str):
            decoded[key] = json.loads(decoded[key])
    return decoded


def decoded_rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Every row of ``cursor`` as a dict, JSON columns decoded."""
    names = [d[0] for d in cursor.description]
    return [decode(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def in_sections(pairs: list[tuple[str, str]], params: list[Any], prefix: str = "") -> str:
    """``(site = ? AND category = ?) OR …`` for ``(site, category)`` pairs (the stored
    ``publications.category``), their values appended to ``params``."""
    for site, category in pairs:
        params += [site, category]
    return " OR ".join([f"({prefix}site = ? AND {prefix}category = ?)"] * len(pairs))


class StorageBase:
    """The state of one open database that the table families share: the connection, the
    domain rules the caller decided with (:class:`StorageRules`) and what the current process's
    runs did to the rows they touched."""

    db: sqlite_utils.Database
    rules: StorageRules
    # What each run did to the rows it touched: (run id, table, site, key) → new / updated /
    # unchanged, in the order it first touched them.
    run_outcomes: dict[tuple[int | None, str, str, str], str]
    # (run id, site, publication id) of rows whose body a refetch changed in that run.
    bodies_changed: set[tuple[int | None, str, int]]

    def rows(self, table: str, order_by: str = "id") -> Any:
        """Every row of ``table`` (JSON decoded), ordered; nothing when the table is missing."""
        if table not in self.db.table_names():
            return iter(())
        return (decode(row) for row in self.db.table(table).rows_where(order_by=order_by))

    def count(self, table: str) -> int:
        return self.db.table(table).count
