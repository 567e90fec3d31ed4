"""SQLite storage (sqlite-utils) and atomic JSON Lines exports.

Every table, column, FTS index and view is declared in :mod:`caci_spider.contract`; this module
creates them from it and migrates an older database on open (columns, tables, FTS and author
links added and filled from the stored rows). The main tables:

* ``publications`` – one row per ``(site, id)`` (a K2 id is unique only within its site: every
  table keying a publication's rows keys them by both), columns in the data-contract order;
  FTS5 over title and body kept in sync by triggers; ``authors`` + ``publication_authors``
  many-to-many.
* ``staff_publications`` – one row per staff publication; FTS5 over title, authors and summary;
  ``staff_publication_authors`` links them to the same ``authors``, in order, with the role.
* ``author_aliases`` – every spelling of an author's name (:mod:`caci_spider.names` decides
  which spellings are one person).
* ``duplicates`` – ids whose body equals a lower id's of the same site (id, site,
  duplicate_of, url).
* ``rejects`` – what could not be stored: spider, url, reason, raw, fetched_at, status; a
  row resolved by a later run keeps ``resolved_at``.
* ``staff_ranks`` – the :class:`~caci_spider.items.SourceRank` of each ``staff_publications``
  row (id, rank), kept beside the row so that its columns stay the contract's.

Every item is written in one transaction (``Database.atomic``); the database runs in WAL mode
so that readers never block the crawl.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from caci_spider import contract, sources
from caci_spider.backoff import DEFAULT_MAX_DAYS, is_transient, next_attempt_at
from caci_spider.contract import TABLES, VIEWS, derive, json_columns, sqlite_columns
from caci_spider.dates import dates_compatible
from caci_spider.items import (
    CONTRACT_KEYS,
    STAFF_KEYS,
    FieldReport,
    Reject,
    SourceRank,
    StaffPublication,
    is_empty,
    utc_now,
)
from caci_spider.names import NameParts, fullest, group_spellings
from caci_spider.sites import SITES_TABLE
from caci_spider.sources import CACIANALYST, SILKROADSTUDIES
from caci_spider.staff.precedence import merge_observations
from caci_spider.text import PARAGRAPH_SEPARATOR, title_key
from caci_spider.urls import is_staff_listing_or_item
from caci_spider.versions import EXTRACTION_VERSION, SCHEMA_VERSION

PUBLICATIONS = "publications"
STAFF = "staff_publications"
# The site of every staff publication row where a table keys rows by (site, id).
STAFF_SITE = SILKROADSTUDIES.key
JSON_COLUMNS = json_columns()

# Every table's columns, in order, with their SQLite types: declared in caci_spider.contract.
_PUBLICATION_COLUMNS = sqlite_columns(PUBLICATIONS)
_RUN_COLUMNS = sqlite_columns("crawl_runs")
_CANARY_COLUMNS = sqlite_columns("canary_checks")
_REJECT_COLUMNS = sqlite_columns("rejects")
_STAFF_COLUMNS = sqlite_columns(STAFF)
_DERIVED = {t.name: frozenset(c.name for c in t.columns if c.derived) for t in TABLES}

# The site of the rows a database held before rows were keyed by (site, id) (issue 12), per
# table gaining ``site``: every publication was the Analyst's (field reports), every staff row
# the institute's; a staff page's reject has no site.
_ANALYST = f"'{CACIANALYST.key}'"
_BY_TABLE = f"CASE item_table WHEN '{PUBLICATIONS}' THEN {_ANALYST} ELSE '{STAFF_SITE}' END"
SITE_OF_EARLIER_ROWS: dict[str, str] = {
    PUBLICATIONS: _ANALYST,
    "publication_authors": _ANALYST,
    "duplicates": _ANALYST,
    "publication_versions": _ANALYST,
    "rejects": f"CASE spider WHEN '{STAFF}' THEN NULL ELSE {_ANALYST} END",
    "canary_checks": f"CASE spider WHEN '{STAFF}' THEN '{STAFF_SITE}' ELSE {_ANALYST} END",
    "item_runs": _BY_TABLE,
    "document_links": _BY_TABLE,
}
# What a column the contract added holds in the rows stored before it existed (besides
# ``site``): every earlier version entry was a body a refetch replaced.
FILL_EARLIER_ROWS: dict[tuple[str, str], str] = {
    ("publication_versions", "reason"): "'page changed'",
}
# Why a publication's previous values were kept (``publication_versions.reason``).
PAGE_CHANGED = "page changed"
EXTRACTION_UPGRADE = "extraction upgrade"
# Fields of a row that say when and how it was made, not what the page says.
_STAMPS = ("fetched_at", "extraction_version")


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


def category_path(category: str) -> str:
    """``/publications/<category>/item/``: what every item URL of a section holds."""
    return f"{sources.category_path(category)}/item/"


def upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """``INSERT … ON CONFLICT (key) DO UPDATE``: one statement, no schema introspection."""
    names = ", ".join(f"[{c}]" for c in columns)
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in key)
    return (
        f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_UPSERT_PUBLICATION = upsert_sql(PUBLICATIONS, tuple(_PUBLICATION_COLUMNS), ("site", "id"))
_VERSION_COLUMNS = tuple(sqlite_columns("publication_versions"))
_UPSERT_VERSION = upsert_sql(
    "publication_versions", _VERSION_COLUMNS, ("site", "id", "content_hash", "reason")
)
_UPSERT_ITEM_RUN = upsert_sql(
    "item_runs",
    ("item_table", "site", "item_id", "run_id", "change"),
    ("item_table", "site", "item_id"),
)
STAFF_RANKS = "staff_ranks"
_UPSERT_STAFF_RANK = upsert_sql(STAFF_RANKS, ("id", "rank"), ("id",))
_OUTCOME_RANK = {"unchanged": 0, "updated": 1, "new": 2}
DOCUMENTS = "documents"
_DOCUMENT_COLUMNS = tuple(sqlite_columns(DOCUMENTS))
_UPSERT_DOCUMENT = upsert_sql(DOCUMENTS, _DOCUMENT_COLUMNS, ("url",))
_UPSERT_DOCUMENT_VERSION = upsert_sql(
    "document_versions", tuple(sqlite_columns("document_versions")), ("url", "sha256")
)
_UPSERT_DOCUMENT_LINK = upsert_sql(
    "document_links",
    tuple(sqlite_columns("document_links")),
    ("document_url", "item_table", "site", "item_id"),
)


def is_truncated_copy(stored: str, fetched: str) -> bool:
    """A refetched body that is a proper prefix of the stored one is a cut-off page (a dropped
    connection mid-page, a server that stopped writing), not an edit: the stored row stays."""
    return len(fetched) < len(stored) and stored.startswith(fetched)


def merge_keeping_known(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with every field it lacks taken from ``old``: a known value is never lost."""
    if not old:
        return dict(new)
    return {key: (old.get(key) if is_empty(value) else value) for key, value in new.items()}


class CaciDatabase:
    """The crawl's database; one instance per crawl, shared by the pipelines."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite_utils.Database(self.path)
        # Before anything writes to the file (even the switch to WAL): a newer release's
        # database is left exactly as it is.
        try:
            refuse_newer(self.path, schema_version_of(self.db.conn))
        except NewerDatabase:
            self.db.close()
            raise
        # What each run did to the rows it touched: (run id, table, site, key) → new / updated /
        # unchanged, in the order it first touched them.
        self.run_outcomes: dict[tuple[int | None, str, str, str], str] = {}
        # (run id, site, publication id) of rows whose body a refetch changed in that run.
        self.bodies_changed: set[tuple[int | None, str, int]] = set()
        # A reader (sqlite-utils, Datasette) may hold the file briefly: wait instead of failing.
        self.db.execute("PRAGMA busy_timeout = 10000")
        self.db.enable_wal()
        # WAL with synchronous=NORMAL: every commit survives a killed crawl and the file is never
        # corrupt; only a power loss can roll back the last commits (pages the next run fetches
        # again). FULL would wait for an fsync per item.
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.ensure_schema()

    def close(self) -> None:
        self.db.close()

    # -- schema ----------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Every table, index, FTS table and view of the contract; a database written by an
        earlier version is migrated in place, in one transaction (a failure leaves it as it
        was), with nothing lost:

        * a column the contract added is added and filled from the rows held: derived ones
          (year, month) from their source, ``site`` (issue 12) with the site every row stored
          before sites were told apart is of (:data:`SITE_OF_EARLIER_ROWS`);
        * a table whose columns are out of the contract's order, whose primary key is another
          (``id`` → ``(site, id)``) or that holds a foreign key the contract dropped is rebuilt
          (sqlite-utils ``transform``: a new table, every row copied with its ``rowid``, the
          old one dropped) and its indexes follow the contract;
        * a rebuilt table's full-text index is rebuilt from its rows and its triggers created
          again (dropping a table drops its triggers), here too inside the transaction
          (:meth:`_ensure_fts`; sqlite-utils' ``enable_fts`` would commit half-way);
        * authors' aliases and links are filled where they did not exist.

        Opening a database of the current schema changes nothing.
        """
        db = self.db
        with db.atomic():
            fresh = set(db.table_names())
            rebuilt: list[str] = []  # their FTS triggers went with the old table
            for declared in TABLES:
                table = db.table(declared.name)
                if declared.name == STAFF_RANKS:
                    self._ensure_staff_ranks()
                    continue
                pk: str | tuple[str, ...] = declared.pk[0] if len(declared.pk) == 1 else declared.pk
                table.create(
                    sqlite_columns(declared.name),
                    pk=pk,
                    foreign_keys=list(declared.foreign_keys) or None,
                    if_not_exists=True,
                )
                present = {c.name for c in table.columns}
                added = [c for c in declared.columns if c.name not in present]
                for column in added:
                    table.add_column(column.name, column.type)
                if any(c.name == "site" for c in added) and declared.name in SITE_OF_EARLIER_ROWS:
                    db.execute(
                        f"UPDATE [{declared.name}] SET site = "
                        f"{SITE_OF_EARLIER_ROWS[declared.name]} WHERE site IS NULL"
                    )
                for column in added:
                    fill = FILL_EARLIER_ROWS.get((declared.name, column.name))
                    if fill is not None:
                        db.execute(
                            f"UPDATE [{declared.name}] SET [{column.name}] = {fill}"
                            f" WHERE [{column.name}] IS NULL"
                        )
                if any(c.derived for c in added):
                    self._backfill_derived(declared.name)
                order = [c.name for c in declared.columns]
                stale_keys = [
                    str(fk.column)
                    for fk in table.foreign_keys
                    if (fk.column, fk.other_table, fk.other_column) not in declared.foreign_keys
                ]
                if (
                    [c.name for c in table.columns] != order
                    or tuple(table.pks) != declared.pk
                    or stale_keys
                ):
                    table.transform(column_order=order, pk=pk, drop_foreign_keys=stale_keys or None)
                    rebuilt.append(declared.name)
                wanted = {tuple(columns) for columns in declared.indexes}
                for found in table.indexes:
                    if found.origin == "c" and tuple(found.columns) not in wanted:
                        db.execute(f"DROP INDEX [{found.name}]")
                for columns in declared.indexes:
                    table.create_index(
                        list(columns), unique=declared.name == "authors", if_not_exists=True
                    )
            for view in VIEWS:
                create = f"CREATE VIEW [{view.name}] AS {view.sql}"
                found = db.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", [view.name]
                ).fetchone()
                if found is None or found[0] != create:
                    db.execute(f"DROP VIEW IF EXISTS [{view.name}]")
                    db.execute(create)
            if "author_aliases" not in fresh or "staff_publication_authors" not in fresh:
                self._backfill_authors()
            for declared in TABLES:
                if declared.fts:
                    self._ensure_fts(declared.name, declared.fts, declared.name in rebuilt)
            # In the same transaction: the file says which schema it holds once it holds it.
            if schema_version_of(db.conn) != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _ensure_fts(self, name: str, columns: tuple[str, ...], rebuilt: bool) -> None:
        """The FTS5 index of ``name`` over ``columns`` (external content, the rows' ``rowid``)
        with the triggers that keep it in sync, as sqlite-utils' ``enable_fts(…,
        create_triggers=True)`` makes them, in the open transaction. An index that exists is
        left alone unless its table was ``rebuilt`` or a trigger is missing: then the index is
        rebuilt from the rows and the triggers made again."""
        fts = f"{name}_fts"
        triggers = {f"{name}_{suffix}" for suffix in ("ai", "ad", "au")}
        exists = fts in self.db.table_names()
        present = {t.name for t in self.db.table(name).triggers}
        if exists and not rebuilt and triggers <= present:
            return
        quoted = ", ".join(f'"{c}"' for c in columns)
        if not exists:
            self.db.execute(
                f'CREATE VIRTUAL TABLE "{fts}" USING FTS5 (\n    {quoted},\n    content="{name}"\n)'
            )
        self.db.execute(f'INSERT INTO "{fts}" ("{fts}") VALUES (\'rebuild\')')
        for trigger in sorted(triggers):
            self.db.execute(f'DROP TRIGGER IF EXISTS "{trigger}"')
        old = ", ".join(f'old."{c}"' for c in columns)
        new = ", ".join(f'new."{c}"' for c in columns)
        insert = f'INSERT INTO "{fts}" (rowid, {quoted}) VALUES (new.rowid, {new});'
        delete = (
            f'INSERT INTO "{fts}" ("{fts}", rowid, {quoted}) VALUES(\'delete\', old.rowid, {old});'
        )
        self.db.execute(
            f'CREATE TRIGGER "{name}_ai" AFTER INSERT ON "{name}" BEGIN\n  {insert}\nEND'
        )
        self.db.execute(
            f'CREATE TRIGGER "{name}_ad" AFTER DELETE ON "{name}" BEGIN\n  {delete}\nEND'
        )
        self.db.execute(
            f'CREATE TRIGGER "{name}_au" AFTER UPDATE ON "{name}" BEGIN\n  {delete}\n'
            f"  {insert}\nEND"
        )

    def _backfill_derived(self, table: str) -> None:
        """Derived columns (year, month) of the rows stored before they existed."""
        source = contract.YEAR_MONTH_FROM[table]
        rows = self.db.execute(f"SELECT rowid, [{source}] FROM [{table}]").fetchall()
        for rowid, value in rows:
            derived = derive(table, {source: value})
            self.db.execute(
                f"UPDATE [{table}] SET year = ?, month = ? WHERE rowid = ?",
                [derived["year"], derived["month"], rowid],
            )

    def _backfill_authors(self) -> None:
        """Every stored name becomes an alias of its author, spellings of one person are
        merged (keeping the lowest author id), and staff rows are linked to their authors."""
        for author_id, name in self.db.execute("SELECT id, name FROM authors").fetchall():
            self.db.execute(
                "INSERT OR IGNORE INTO author_aliases (alias, author_id) VALUES (?, ?)",
                [name, author_id],
            )
        aliases = self.db.execute("SELECT alias FROM author_aliases").fetchall()
        keys = {NameParts.of(name).key for (name,) in aliases}
        for key in sorted(keys):
            self._regroup(key)
        for row in self.rows(STAFF):
            self._link_staff_authors(row["id"], row.get("authors") or [], row.get("roles") or {})

    # -- runs --------------------------------------------------------------------------------
    def start_run(self, spider: str, mode: str, started_at: str) -> int:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO crawl_runs (spider, mode, started_at) VALUES (?, ?, ?)",
                [spider, mode, started_at],
            )
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, values: dict[str, Any]) -> None:
        with self.db.atomic():
            self.db.table("crawl_runs").update(run_id, _encode(values))

    def _note_change(
        self, table: str, site: str, item_id: int | str, run_id: int | None, change: str
    ) -> None:
        """Tally what this run did to a row (``site`` and id: its identity), once per row: a row
        created earlier in the same run stays ``new`` however often it is merged again, and a
        row changed once stays ``updated`` when a later observation leaves it as it is."""
        key = (run_id, table, site, str(item_id))
        earlier = self.run_outcomes.get(key)
        if earlier is None or _OUTCOME_RANK[change] > _OUTCOME_RANK[earlier]:
            self.run_outcomes[key] = change
        outcome = self.run_outcomes[key]
        if run_id is not None and outcome in ("new", "updated"):
            self.db.execute(_UPSERT_ITEM_RUN, [table, site, str(item_id), run_id, outcome])

    def run_counts(self, run_id: int | None) -> dict[str, int]:
        """Rows this run created, changed, left as they were, or found to be duplicates."""
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        for (run, _table, _site, _key), outcome in self.run_outcomes.items():
            if run == run_id:
                counts[outcome] += 1
        duplicates = self.db.execute(
            "SELECT count(*) FROM duplicates WHERE run_id = ?", [run_id]
        ).fetchone()[0]
        return {**counts, "duplicate": duplicates}

    def run_keys(self, table: str, run_id: int | None) -> list[tuple[str, str]]:
        """``(site, id)`` of the rows of ``table`` the run stored (new, updated or unchanged),
        in the order it first stored them (a staff row's site is ``silkroadstudies``)."""
        return [
            (site, key)
            for (run, name, site, key) in self.run_outcomes
            if run == run_id and name == table
        ]

    def body_changed(self, site: str, publication_id: int, run_id: int | None) -> bool:
        """True when a refetch in run ``run_id`` changed the body of ``(site, publication_id)``."""
        return (run_id, site, publication_id) in self.bodies_changed

    def _changed_in_run(
        self, table: str, site: str, item_id: int | str, run_id: int | None
    ) -> bool:
        return self.run_outcomes.get((run_id, table, site, str(item_id))) in ("new", "updated")

    def previous_listing_entries(self, spider: str, run_id: int | None) -> tuple[int, int] | None:
        """``(run id, listing entries)`` of the spider's last run that passed its self-check."""
        row = self.db.execute(
            "SELECT id, listing_entries FROM crawl_runs WHERE spider = ? AND id < ?"
            " AND self_check = 'ok' AND listing_entries > 0 ORDER BY id DESC LIMIT 1",
            [spider, run_id if run_id is not None else 2**62],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def previous_section_entries(
        self, spider: str, section: str, run_id: int | None
    ) -> tuple[int, int] | None:
        """``(run id, listing entries of section)`` of the spider's last run that passed its
        self-check and walked that section (``crawl_runs.sections``: spiders of several
        sections)."""
        cursor = self.db.execute(
            "SELECT id, json_extract(sections, '$.\"' || ? || '\".listing_entries') AS entries"
            " FROM crawl_runs WHERE spider = ? AND id < ? AND self_check = 'ok'"
            " AND entries > 0 ORDER BY id DESC LIMIT 1",
            [section, spider, run_id if run_id is not None else 2**62],
        )
        row = cursor.fetchone()
        return (row[0], row[1]) if row else None

    # -- listing walks -----------------------------------------------------------------------
    def record_listing_walk(
        self, spider: str, section: str, run_id: int, when: str, entries: int
    ) -> None:
        """A complete walk of the section's listing, finished at ``when`` (UTC, ISO 8601)."""
        with self.db.atomic():
            self.db.table("listing_walks").upsert(
                {"spider": spider, "section": section, "walked_at": when, "run_id": run_id,
                 "entries": entries},
                pk=("spider", "section"),
            )  # fmt: skip

    def last_listing_walk(
        self, spiders: str | Iterable[str], section: str
    ) -> dict[str, Any] | None:
        """The section's last complete listing walk (walked_at, run_id, entries) by any of
        ``spiders`` (a spider and its sisters: sources.sister_spiders), if any."""
        names = [spiders] if isinstance(spiders, str) else list(spiders)
        cursor = self.db.execute(
            "SELECT walked_at, run_id, entries FROM listing_walks"
            f" WHERE spider IN ({_marks(names)}) AND section = ? ORDER BY walked_at DESC LIMIT 1",
            [*names, section],
        )
        row = cursor.fetchone()
        return dict(zip(("walked_at", "run_id", "entries"), row, strict=True)) if row else None

    # -- sites -------------------------------------------------------------------------------
    def record_sites(self, base_urls: dict[str, str], when: str) -> None:
        """Claim the database for these base URLs (a first claim stays: see caci_spider.sites)."""
        with self.db.atomic():
            for setting, url in base_urls.items():
                self.db.execute(
                    f"INSERT OR IGNORE INTO {SITES_TABLE} (setting, base_url, recorded_at)"
                    " VALUES (?, ?, ?)",
                    [setting, url, when],
                )

    # -- canaries ----------------------------------------------------------------------------
    def canary_candidates(
        self,
        spider: str,
        table: str,
        count: int,
        sections: Iterable[tuple[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """The ``count`` stored rows checked longest ago (never checked first), in key order.

        Publications rotate through the rows of ``sections`` (``(site, category)`` pairs: the
        spider's own; every row when ``None``); staff publications through the rows whose own
        page was read (their ``url`` is among their ``sources``: an item page of the listing).
        A publication made by older page rules than this release's (one the extraction upgrade
        found no archived page for) comes last: a canary compares a page read by today's rules
        with a row read by today's rules wherever there is one.
        """
        if count <= 0:
            return []
        params: list[Any] = [spider]
        outdated = ""  # ORDER BY terms before the checks' own
        if table == PUBLICATIONS:
            site = "t.site"
            order = "t.site, t.id"
            outdated = f"coalesce(t.extraction_version, 0) < {int(EXTRACTION_VERSION)}, "
            pairs = None if sections is None else list(sections)
            if pairs is None:
                where = "1"
            elif not pairs:
                return []
            else:
                where = " OR ".join(["(t.site = ? AND instr(t.url, ?) > 0)"] * len(pairs))
                for pair_site, category in pairs:
                    params += [pair_site, category_path(category)]
        else:
            site = "'" + STAFF_SITE + "'"
            order = "t.url"
            where = "EXISTS (SELECT 1 FROM json_each(t.sources) WHERE value = t.url)"
        cursor = self.db.execute(
            f"SELECT t.* FROM [{table}] t LEFT JOIN canary_checks c"
            f" ON c.spider = ? AND c.site = {site} AND c.item_key = CAST(t.id AS TEXT)"
            f" WHERE ({where}) ORDER BY {outdated}c.checked_at IS NOT NULL, c.checked_at, {order}"
            " LIMIT ?",
            [*params, count],
        )
        names = [d[0] for d in cursor.description]
        return [_decode(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    def record_canary(
        self, spider: str, key: str, url: str, run_id: int | None, outcome: str,
        missing: list[str], when: str, differing: list[dict[str, str]] | None = None,
        site: str = CACIANALYST.key,
    ) -> None:  # fmt: skip
        """The canary's last check of ``(site, key)``: ``missing`` fields, ``differing`` ones
        (field, stored, new, why: :class:`caci_spider.quality.FieldDifference`)."""
        with self.db.atomic():
            self.db.table("canary_checks").upsert(
                {"spider": spider, "site": site, "item_key": key, "url": url,
                 "checked_at": when, "run_id": run_id, "outcome": outcome,
                 "missing": json.dumps(missing),
                 "differing": json.dumps(differing or [], ensure_ascii=False)},
                pk=("spider", "site", "item_key"),
            )  # fmt: skip

    def stored_rows(self, table: str, keys: Iterable[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        """The stored rows of ``keys`` (``(site, id)`` as :meth:`run_keys` gives them; a staff
        row's id alone is its key), in that order, in contract key order; gone ones skipped."""
        contract = EXPORTS[table]
        for site, key in keys:
            if table == PUBLICATIONS:
                cursor = self.db.execute(
                    f"SELECT * FROM [{table}] WHERE site = ? AND id = ?", [site, key]
                )
            else:
                cursor = self.db.execute(f"SELECT * FROM [{table}] WHERE id = ?", [key])
            row = cursor.fetchone()
            if row is not None:
                decoded = _decode(dict(zip((d[0] for d in cursor.description), row, strict=True)))
                yield {name: decoded.get(name) for name in contract}

    def count(self, table: str) -> int:
        return self.db.table(table).count

    def count_publications(self, site: str, category: str) -> int:
        """Stored publications of ``site`` whose URL is an item of the K2 ``category``."""
        (count,) = self.db.execute(
            f"SELECT count(*) FROM {PUBLICATIONS} WHERE site = ? AND instr(url, ?) > 0",
            [site, category_path(category)],
        ).fetchone()
        return int(count)

    def publications_holding(self, paragraph: str, limit: int) -> list[str]:
        """URLs of up to ``limit`` stored publications, of any site (a URL names its site),
        whose body has ``paragraph`` as one of its paragraphs (found through the full-text
        index, then checked exactly)."""
        phrase = '"' + paragraph.replace('"', '""') + '"'
        try:
            rows = self.db.execute(
                f"SELECT p.url, p.body FROM {PUBLICATIONS}_fts f JOIN {PUBLICATIONS} p"
                f" ON p.rowid = f.rowid WHERE {PUBLICATIONS}_fts MATCH ? LIMIT ?",
                [f"body : {phrase}", limit * 10],
            ).fetchall()
        except sqlite3.OperationalError:  # a paragraph without a word FTS5 can search for
            return []
        return [url for url, body in rows if paragraph in (body or "").split(PARAGRAPH_SEPARATOR)][
            :limit
        ]

    def known_report_ids(self, site: str) -> set[int]:
        """Ids of ``site`` already settled: stored, or recorded as a duplicate."""
        rows = self.db.execute(
            f"SELECT id FROM {PUBLICATIONS} WHERE site = ?"
            " UNION SELECT id FROM duplicates WHERE site = ?",
            [site, site],
        )
        return {item_id for (item_id,) in rows}

    def known_staff_sources(self) -> set[str]:
        """Every page URL a stored staff publication was seen on."""
        rows = self.db.execute(f"SELECT DISTINCT value FROM {STAFF}, json_each({STAFF}.sources)")
        return {url for (url,) in rows}

    # -- rejects ---------------------------------------------------------------------------
    def record_reject(
        self, reject: Reject, max_days: int = DEFAULT_MAX_DAYS, run_started_at: str | None = None
    ) -> None:
        """Store the reject with its attempt count and when to try its page again. A
        publication's page (``reject.site`` set) counts the attempts of every spider that
        fetches it (a section spider and ``publications``): its backoff grows across them.

        A page has one current reason: the current rejects of the page recorded before
        ``run_started_at`` (earlier runs') are resolved by this one (kept as history), except
        its own row, which is current again. Rejects of one run stay side by side (several bad
        entries of one listing page)."""
        # Which earlier rejects of the page count: the spider's, or any spider's of that site.
        scope, scope_values = (
            ("site = ?", [reject.site]) if reject.site else ("spider = ?", [reject.spider])
        )
        raw_key = hashlib.sha256((reject.raw or "").encode()).hexdigest()[:12]
        with self.db.atomic():
            (previous,) = self.db.execute(
                f"SELECT max(attempts) FROM rejects WHERE {scope} AND url = ?"
                " AND resolved_at IS NULL",
                [*scope_values, reject.url],
            ).fetchone()
            attempts = (previous or 0) + 1
            transient = is_transient(reject.reason, reject.status)
            if run_started_at is not None:
                self.db.execute(
                    f"UPDATE rejects SET resolved_at = ? WHERE {scope} AND url = ?"
                    " AND resolved_at IS NULL AND fetched_at < ?"
                    " AND NOT (spider = ? AND reason = ? AND raw_key = ?)",
                    [reject.fetched_at, *scope_values, reject.url, run_started_at,
                     reject.spider, reject.reason, raw_key],
                )  # fmt: skip
            self.db.table("rejects").upsert(
                {
                    "spider": reject.spider,
                    "site": reject.site,
                    "url": reject.url,
                    "reason": reject.reason,
                    "raw": reject.raw,
                    "status": reject.status,
                    "fetched_at": reject.fetched_at,
                    "raw_key": raw_key,
                    "attempts": attempts,
                    "next_attempt_at": next_attempt_at(
                        reject.fetched_at, attempts, transient, max_days
                    ),
                    "resolved_at": None,
                },
                pk=("spider", "url", "reason", "raw_key"),
            )
            # Every current reason recorded for the page waits as long as its latest failure
            # says.
            self.db.execute(
                f"UPDATE rejects SET attempts = ? WHERE {scope} AND url = ?"
                " AND resolved_at IS NULL",
                [attempts, *scope_values, reject.url],
            )

    def backed_off_urls(self, spiders: str | Iterable[str], now: str) -> set[str]:
        """Rejected pages not to fetch before their next attempt is due: the latest reject of a
        URL by any of ``spiders`` (a spider and its sisters, which fetch the same pages)
        decides."""
        names = [spiders] if isinstance(spiders, str) else list(spiders)
        rows = self.db.execute(
            f"SELECT url FROM rejects WHERE spider IN ({_marks(names)})"
            " AND resolved_at IS NULL GROUP BY url"
            " HAVING max(fetched_at) = max(CASE WHEN next_attempt_at > ? THEN fetched_at END)",
            [*names, now],
        )
        return {url for (url,) in rows}

    def clear_rejects(self, spider: str | None, url: str) -> None:
        """A URL that now yields a stored row is no longer a reject: ``spider``'s, or every
        spider's (``None``: a publication's page, which a section spider and ``publications``
        both fetch), resolved now and kept as history."""
        scope, values = ("", []) if spider is None else (" AND spider = ?", [spider])
        self.db.execute(
            f"UPDATE rejects SET resolved_at = ? WHERE url = ?{scope} AND resolved_at IS NULL",
            [utc_now(), url, *values],
        )

    def resolve_read_pages(self, urls: Iterable[str], before: str, when: str) -> int:
        """Pages read fine in a run that began at ``before``: their current rejects recorded
        earlier (a listing entry of a night the template was unreadable, a connection that
        failed) no longer describe the site and are resolved at ``when``. Returns how many."""
        resolved = 0
        with self.db.atomic():
            for url in urls:
                cursor = self.db.execute(
                    "UPDATE rejects SET resolved_at = ? WHERE url = ? AND resolved_at IS NULL"
                    " AND fetched_at < ?",
                    [when, url, before],
                )
                resolved += cursor.rowcount
        return resolved

    # -- publications ------------------------------------------------------------------------
    def publication(self, site: str, item_id: int) -> dict[str, Any] | None:
        """The stored row of ``(site, item_id)``, contract keys only, or ``None``."""
        cursor = self.db.execute(
            f"SELECT * FROM {PUBLICATIONS} WHERE site = ? AND id = ?", [site, item_id]
        )
        row = cursor.fetchone()
        if row is None:
            return None
        found = dict(zip((d[0] for d in cursor.description), row, strict=True))
        return _decode(_without_derived(PUBLICATIONS, found))

    def duplicate_of(self, report: FieldReport) -> int | None:
        """Cross-id de-duplication within the report's site: the lowest id of that site with
        the same body owns it (the same text on two sites is two publications).

        Returns that lower id when ``report`` is a duplicate of it, else ``None``.
        """
        row = self.db.execute(
            f"SELECT min(id) FROM {PUBLICATIONS} WHERE site = ? AND content_hash = ? AND id < ?",
            [report.site, report.content_hash, report.id],
        ).fetchone()
        return row[0] if row else None

    def record_duplicate(
        self, report: FieldReport, canonical: int, run_id: int | None = None
    ) -> None:
        """Record ``report`` as a duplicate; a row it had from an earlier body goes too."""
        with self.db.atomic():
            self._record_duplicate(
                report.site, report.id, canonical, report.url, report.fetched_at, run_id
            )
            self._delete_publication(report.site, report.id)

    def _record_duplicate(
        self, site: str, item_id: int, canonical: int, url: str, when: str, run_id: int | None
    ) -> None:
        self.db.table("duplicates").upsert(
            {"id": item_id, "site": site, "duplicate_of": canonical, "url": url,
             "recorded_at": when, "run_id": run_id},
            pk=("site", "id"),
        )  # fmt: skip

    def outdated_publications(
        self, sections: Iterable[tuple[str, str]], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """``site``, ``id``, ``url`` and ``title`` of the rows of ``sections`` (``(site,
        category)`` pairs) made by older page rules than this release's (or before versions
        were recorded), in key order."""
        pairs = list(sections)
        if not pairs:
            return []
        where = " OR ".join(["(site = ? AND instr(url, ?) > 0)"] * len(pairs))
        params: list[Any] = [EXTRACTION_VERSION]
        for site, category in pairs:
            params += [site, category_path(category)]
        cursor = self.db.execute(
            f"SELECT site, id, url, title FROM {PUBLICATIONS}"
            f" WHERE coalesce(extraction_version, 0) < ? AND ({where}) ORDER BY site, id"
            + (f" LIMIT {int(limit)}" if limit is not None else ""),
            params,
        )
        return [dict(zip(("site", "id", "url", "title"), row, strict=True)) for row in cursor]

    def _delete_publication(self, site: str, item_id: int) -> None:
        gone = (PUBLICATIONS, site, str(item_id))
        for key in [k for k in self.run_outcomes if k[1:] == gone]:
            del self.run_outcomes[key]
        self.db.execute(
            "DELETE FROM publication_authors WHERE site = ? AND publication_id = ?",
            [site, item_id],
        )
        self.db.execute(f"DELETE FROM {PUBLICATIONS} WHERE site = ? AND id = ?", [site, item_id])
        self.db.execute(
            "DELETE FROM item_runs WHERE item_table = ? AND site = ? AND item_id = ?",
            [PUBLICATIONS, site, str(item_id)],
        )

    def store_report(
        self,
        report: FieldReport,
        spider: str,
        run_id: int | None = None,
        reason: str = PAGE_CHANGED,
    ) -> str:
        """Upsert one report and its authors in one transaction.

        Returns ``"new"``, ``"updated"``, ``"unchanged"``, ``"kept"`` (a truncated refetch:
        nothing written) or ``"clash"`` (a refetch whose body is now another stored row's:
        nothing written). Fields the new fetch lacks keep their stored values, so a worse page
        never erases a good row; a changed body keeps the previous one in
        ``publication_versions`` (with the previous values of the fields that changed), and so
        does any change when ``reason`` is :data:`EXTRACTION_UPGRADE` (the row read again from
        its archived page by a release with newer page rules).
        """
        new = report.as_row()
        site = report.site
        with self.db.atomic():
            old = self.publication(site, report.id)
            # De-duplication stays within the site: another site's ids are other publications.
            higher = self.db.execute(
                f"SELECT id, url FROM {PUBLICATIONS} WHERE site = ? AND content_hash = ?"
                " AND id > ?",
                [site, report.content_hash, report.id],
            ).fetchall()
            if higher and (
                old is not None or any(self.body_changed(site, h, run_id) for h, _url in higher)
            ):
                # A stored item refetched with another stored item's body, or a new id whose
                # body a stored item changed to in this run: the pages changed (a redesign that
                # serves one text for all), not a re-import. Nothing moves.
                return "clash"
            # A new id whose body higher ids stored earlier have: they were its duplicates.
            for higher_id, higher_url in higher:
                self._record_duplicate(
                    site, higher_id, report.id, higher_url, report.fetched_at, run_id
                )
                self._delete_publication(site, higher_id)
            if old is not None and is_truncated_copy(old["body"], report.body):
                return "kept"
            row = merge_keeping_known(old, new)
            if old is not None and reason == EXTRACTION_UPGRADE:
                row["fetched_at"] = old["fetched_at"]  # read from the archive, not fetched again
            changed = (
                []
                if old is None
                else [k for k in CONTRACT_KEYS if k not in _STAMPS and old.get(k) != row.get(k)]
            )
            if old is not None and not changed:
                outcome = "unchanged"
            else:
                outcome = "new" if old is None else "updated"
            body_changed = old is not None and old["content_hash"] != row["content_hash"]
            if body_changed:
                self.bodies_changed.add((run_id, site, report.id))
            if old is not None and (body_changed or (changed and reason == EXTRACTION_UPGRADE)):
                entry = old | {
                    "reason": reason,
                    "previous": json.dumps({k: old[k] for k in changed}, ensure_ascii=False),
                }
                self.db.execute(_UPSERT_VERSION, [entry[k] for k in _VERSION_COLUMNS])
            encoded = _encode(row) | derive(PUBLICATIONS, row)
            self.db.execute(_UPSERT_PUBLICATION, [encoded[c] for c in _PUBLICATION_COLUMNS])
            self._note_change(PUBLICATIONS, site, report.id, run_id, outcome)
            self._link_authors(site, report.id, row["authors"])
            self.db.execute("DELETE FROM duplicates WHERE site = ? AND id = ?", [site, report.id])
            self.clear_rejects(None, report.url)
        return outcome

    def _link_authors(self, site: str, publication_id: int, names: Iterable[str]) -> None:
        self.db.execute(
            "DELETE FROM publication_authors WHERE site = ? AND publication_id = ?",
            [site, publication_id],
        )
        for position, name in enumerate(names):
            self.db.execute(
                "INSERT INTO publication_authors (publication_id, site, position, author_id)"
                " VALUES (?, ?, ?, ?)",
                [publication_id, site, position, self.author_id(name)],
            )

    def _link_staff_authors(
        self, staff_row_id: str, names: Iterable[str], roles: dict[str, str]
    ) -> None:
        self.db.execute(
            "DELETE FROM staff_publication_authors WHERE staff_publication_id = ?",
            [staff_row_id],
        )
        for position, name in enumerate(names):
            self.db.execute(
                "INSERT INTO staff_publication_authors"
                " (staff_publication_id, position, author_id, role) VALUES (?, ?, ?, ?)",
                [staff_row_id, position, self.author_id(name), roles.get(name, "author")],
            )

    # -- authors -----------------------------------------------------------------------------
    def author_id(self, name: str) -> int:
        """The author a printed name belongs to (caci_spider.names: one person, many
        spellings); a new spelling may merge authors or, where it makes an earlier merge
        ambiguous, part them: links follow their printed names."""
        found = self.db.execute(
            "SELECT author_id FROM author_aliases WHERE alias = ?", [name]
        ).fetchone()
        if found is None:
            self._regroup(NameParts.of(name).key, name)
            found = self.db.execute(
                "SELECT author_id FROM author_aliases WHERE alias = ?", [name]
            ).fetchone()
        return int(found[0])

    def _regroup(self, key: tuple[str, str], new: str | None = None) -> None:
        """Group every known spelling with this given + family name (and ``new``) into
        authors again: each group keeps the lowest author id among its spellings', is named by
        its fullest spelling, and the links of the changed authors follow their printed
        names."""
        known = {
            alias: author_id
            for alias, author_id in self.db.execute(
                "SELECT alias, author_id FROM author_aliases"
            ).fetchall()
            if NameParts.of(alias).key == key
        }
        names = sorted(known) + ([new] if new is not None and new not in known else [])
        before = set(known.values())
        # Names are unique: park the affected authors' names while they are reassigned.
        self.db.execute(
            f"UPDATE authors SET name = char(0) || id WHERE id IN ({_marks(before)})",
            list(before),
        )
        claimed: list[int] = []
        for group in group_spellings(names):
            ids = sorted({known[n] for n in group if n in known} - set(claimed))
            if ids:
                author = ids[0]
            else:
                cursor = self.db.execute("INSERT INTO authors (name) VALUES (?)", ["\0" + group[0]])
                author = int(cursor.lastrowid or 0)
            claimed.append(author)
            self.db.execute("UPDATE authors SET name = ? WHERE id = ?", [fullest(group), author])
            for alias in group:
                self.db.execute(
                    "INSERT INTO author_aliases (alias, author_id) VALUES (?, ?)"
                    " ON CONFLICT (alias) DO UPDATE SET author_id = excluded.author_id",
                    [alias, author],
                )
        moved = list(before)
        if moved:
            # A link names its author through the spelling printed at its position.
            for link, owner, owner_table, same_site in (
                ("publication_authors", "publication_id", PUBLICATIONS, True),
                ("staff_publication_authors", "staff_publication_id", STAFF, False),
            ):
                site = f" AND o.site = {link}.site" if same_site else ""
                self.db.execute(
                    f"UPDATE {link} SET author_id = coalesce((SELECT a.author_id FROM"
                    f" author_aliases a, {owner_table} o WHERE o.id = {link}.{owner}{site}"
                    f" AND a.alias = json_extract(o.authors, '$[' || {link}.position || ']')),"
                    f" author_id) WHERE author_id IN ({_marks(moved)})",
                    moved,
                )
        orphans = before - set(claimed)
        if orphans:
            self.db.execute(f"DELETE FROM authors WHERE id IN ({_marks(orphans)})", list(orphans))

    # -- staff publications ----------------------------------------------------------------------
    def store_staff(self, publication: StaffPublication, run_id: int | None = None) -> str:
        """Merge one observation into its row (matched on title key + compatible date).

        Returns ``"new"``, ``"updated"`` or ``"unchanged"`` and sets ``publication.id``.
        """
        with self.db.atomic():
            base_id = staff_id(publication.title or "")
            old = self._staff_row(base_id)
            if old is not None and not dates_compatible(old.get("date"), publication.date):
                # Same title, another date: a different publication under its own stable id.
                base_id = staff_id(publication.title or "", publication.date)
                old = self._staff_row(base_id)
            publication.id = base_id
            # An item page that now yields a row is no longer a reject (listing pages keep
            # theirs: their other entries may still be bad).
            for url in publication.sources:
                if "/item/" in url:
                    self.clear_rejects("staff_publications", url)
            rank = self._staff_rank(base_id)
            stored = None if old is None else StaffPublication.from_row(old, rank)
            merged = merge_observations(stored, publication)
            if merged.rank != rank or old is None:
                self.db.execute(_UPSERT_STAFF_RANK, [base_id, int(merged.rank)])
            row = merged.as_row()
            if old is not None and {k: v for k, v in old.items() if k != "fetched_at"} == {
                k: v for k, v in row.items() if k != "fetched_at"
            }:
                self._note_change(STAFF, STAFF_SITE, base_id, run_id, "unchanged")
                return "unchanged"
            # Observations of one run (sidebar, listing, item page) merge into one row; only a
            # row from an earlier run is a previous version worth keeping.
            if old is not None and not self._changed_in_run(STAFF, STAFF_SITE, base_id, run_id):
                self.db.table("staff_publication_versions").upsert(
                    {"id": old["id"], "row": json.dumps(old, ensure_ascii=False),
                     "fetched_at": old["fetched_at"]},
                    pk=("id", "fetched_at"),
                )  # fmt: skip
            self.db.table(STAFF).upsert(_encode(row) | derive(STAFF, row), pk="id")
            self._link_staff_authors(base_id, row["authors"] or [], row["roles"] or {})
            outcome = "new" if old is None else "updated"
            self._note_change(STAFF, STAFF_SITE, base_id, run_id, outcome)
        return outcome

    def _staff_row(self, staff_row_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table(STAFF).rows_where("id = ?", [staff_row_id]))
        return _decode(_without_derived(STAFF, rows[0])) if rows else None

    def _staff_rank(self, staff_row_id: str) -> SourceRank:
        found = self.db.execute(
            f"SELECT rank FROM {STAFF_RANKS} WHERE id = ?", [staff_row_id]
        ).fetchone()
        return SourceRank(found[0]) if found else SourceRank.SIDEBAR

    def _ensure_staff_ranks(self) -> None:
        """``staff_ranks (id, rank)``: the highest :class:`SourceRank` among the observations
        merged into each ``staff_publications`` row, which a later observation is weighed
        against. A side table, so that the row's columns (and the export) stay the contract's.

        Rows stored before ranks were kept get theirs once, here, from the pages they were seen
        on (the staff listing and its item pages, or the sidebar only).
        """
        if STAFF_RANKS in self.db.table_names():
            return
        self.db.table(STAFF_RANKS).create({"id": str, "rank": int}, pk="id")
        for row in self.rows(STAFF):
            listed = any(is_staff_listing_or_item(url) for url in row.get("sources") or [])
            rank = SourceRank.LISTING if listed else SourceRank.SIDEBAR
            self.db.execute(_UPSERT_STAFF_RANK, [row["id"], int(rank)])

    # -- documents (linked PDFs: caci_spider.documents) ------------------------------------------
    def document(self, url: str) -> dict[str, Any] | None:
        rows = list(self.db.table(DOCUMENTS).rows_where("url = ?", [url]))
        return rows[0] if rows else None

    def document_urls(self) -> set[str]:
        """Every document whose text is stored: an incremental run does not fetch them again."""
        return {url for (url,) in self.db.execute(f"SELECT url FROM {DOCUMENTS}").fetchall()}

    def store_document(self, row: dict[str, Any], spider: str) -> str:
        """Upsert a document's extracted text; ``new``, ``updated`` or ``unchanged``.

        New bytes (another sha256) keep the previous text in ``document_versions``; only a
        successful extraction is ever stored, so a failed one never replaces stored text.
        """
        with self.db.atomic():
            old = self.document(row["url"])
            if old is not None and old["sha256"] == row["sha256"] and old["text"] == row["text"]:
                outcome = "unchanged"
            else:
                outcome = "new" if old is None else "updated"
            if old is not None and old["sha256"] != row["sha256"]:
                self.db.execute(
                    _UPSERT_DOCUMENT_VERSION,
                    [old[k] for k in ("url", "sha256", "pages", "text", "fetched_at")],
                )
            if outcome != "unchanged":
                self.db.execute(_UPSERT_DOCUMENT, [row[c] for c in _DOCUMENT_COLUMNS])
            self.clear_rejects(spider, row["url"])
        return outcome

    def link_document(
        self, document_url: str, item_table: str, site: str, item_id: str, role: str, when: str
    ) -> None:
        """Record that a row (``item_table``, ``site``, ``item_id``: a staff row's site is
        ``silkroadstudies``) links a document (its own url, a download link, a ``pdf_url``)."""
        self.db.execute(
            _UPSERT_DOCUMENT_LINK, [document_url, item_table, site, item_id, role, when]
        )

    def link_staff_papers(self, when: str) -> int:
        """Make ``staff_papers`` again: each paper (a ``publications`` row with a ``kind``)
        whose title is a staff publication's (the staff id is the hash of the normalised title)
        and whose ``issue_date`` or ``published`` agrees with its date. Returns the links."""
        papers = self.db.execute(
            "SELECT site, id, title, issue_date, published FROM publications WHERE kind IS NOT NULL"
        ).fetchall()
        links = []
        for site, paper_id, title, issue_date, published in papers:
            found = self.db.execute(
                "SELECT id, date FROM staff_publications WHERE id = ?", [staff_id(title)]
            ).fetchone()
            if found and (
                dates_compatible(found[1], issue_date) or dates_compatible(found[1], published)
            ):
                links.append((found[0], site, paper_id, when))
        with self.db.atomic():
            self.db.execute("DELETE FROM staff_papers")
            self.db.conn.executemany(
                "INSERT INTO staff_papers (staff_id, site, paper_id, linked_at)"
                " VALUES (?, ?, ?, ?)",
                links,
            )
        return len(links)

    def rows(self, table: str, order_by: str = "id") -> Iterator[dict[str, Any]]:
        if table not in self.db.table_names():
            return iter(())
        return (_decode(row) for row in self.db.table(table).rows_where(order_by=order_by))


def _without_derived(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the contract's keys: derived columns (year, month) left out."""
    return {key: value for key, value in row.items() if key not in _DERIVED[table]}


def _marks(values: Iterable[object]) -> str:
    return ", ".join("?" for _ in values)


def staff_id(title: str, date: str | None = None) -> str:
    """Stable id: a hash of the normalised title (plus the date for a same-titled namesake)."""
    key = title_key(title) + (f"|{date}" if date else "")
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: json.dumps(value, ensure_ascii=False) if key in JSON_COLUMNS else value
        for key, value in row.items()
    }


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    decoded = dict(row)
    for key in JSON_COLUMNS & decoded.keys():
        if isinstance(decoded[key], str):
            decoded[key] = json.loads(decoded[key])
    return decoded


def write_atomic(path: str | os.PathLike[str], write: Callable[[IO[str]], int]) -> int:
    """Write a text file via a temporary file and a rename; ``write`` fills the open file and
    returns what it counted (rows), which this returns.

    Readers see either the previous complete file or the new complete file, never a part.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then renamed)
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            count = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600; an export is for sharing: the usual mode under the umask.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(handle.name, 0o666 & ~umask)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


def write_jsonl_atomic(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines atomically (:func:`write_atomic`); returns the row count."""

    def write(handle: IO[str]) -> int:
        count = 0
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count

    return write_atomic(path, write)


EXPORTS = {
    PUBLICATIONS: CONTRACT_KEYS,
    STAFF: STAFF_KEYS,
    DOCUMENTS: contract.export_keys(DOCUMENTS),
}


def export_table(database: CaciDatabase, table: str, path: str | os.PathLike[str]) -> int:
    """Every stored row of ``table``, ordered by its key (publications: site, then id; a staff
    row's id; a document's url), keys in its contract's order."""
    if table == PUBLICATIONS:
        return export_publications(database, path)
    keys = EXPORTS[table]
    order = ", ".join(contract.table(table).pk)
    rows = ({key: row.get(key) for key in keys} for row in database.rows(table, order))
    return write_jsonl_atomic(path, rows)


def export_publications(
    database: CaciDatabase,
    path: str | os.PathLike[str],
    site: str | None = None,
    category: str | None = None,
) -> int:
    """Publications as JSON Lines, written atomically (:func:`write_jsonl_atomic`), keys in the
    contract's order; returns the row count.

    A section's export (``site`` and ``category`` given) holds exactly the rows of that site
    whose URL is an item of that K2 category (``/publications/<category>/item/``), ordered by
    id; the aggregate (neither given) every row, ordered by site, then id.
    """
    where: list[str] = []
    params: list[Any] = []
    if site is not None:
        where.append("site = ?")
        params.append(site)
    if category is not None:
        where.append("instr(url, ?) > 0")
        params.append(category_path(category))
    order = "id" if site is not None else "site, id"
    sql = f"SELECT * FROM [{PUBLICATIONS}]"
    if where:
        sql += " WHERE " + " AND ".join(where)
    cursor = database.db.execute(f"{sql} ORDER BY {order}", params)
    names = [d[0] for d in cursor.description]
    rows = (
        {key: decoded.get(key) for key in CONTRACT_KEYS}
        for decoded in (_decode(dict(zip(names, row, strict=True))) for row in cursor)
    )
    return write_jsonl_atomic(path, rows)
