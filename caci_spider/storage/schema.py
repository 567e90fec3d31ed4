"""The schema, made and migrated from the contract (:mod:`caci_spider.contract`) as named steps.

Opening a database runs :data:`STEPS` in order, in one transaction (a failure leaves the file as
it was), with nothing lost; each step does nothing on a database of the current schema:

* **tables** — every table is created; a column the contract added is added and filled from the
  rows held: derived ones (year, month, a publication's ``category`` from its URL) from their
  sources, ``site`` (issue 12) with the site every row stored before sites were told apart is of
  (:data:`SITE_OF_EARLIER_ROWS`), others as :data:`FILL_EARLIER_ROWS` says; a table whose columns
  are out of the contract's order, whose primary key is another (``id`` → ``(site, id)``) or that
  holds a foreign key the contract dropped is rebuilt (sqlite-utils ``transform``: every row
  copied with its ``rowid``); indexes follow the contract;
* **staff ranks** — ``staff_ranks``, filled once for rows stored before ranks were kept;
* **views** — made again where their SQL changed;
* **authors** — aliases and staff links filled where they did not exist;
* **full-text indexes** — FTS5 tables and their triggers, rebuilt for a rebuilt table (dropping
  a table drops its triggers), here inside the transaction (sqlite-utils' ``enable_fts`` would
  commit half-way);
* **schema version** — ``PRAGMA user_version``, written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from caci_spider import contract
from caci_spider.contract import TABLES, VIEWS, Table, derive, sqlite_columns
from caci_spider.items import SourceRank
from caci_spider.storage.authors import AuthorsMixin
from caci_spider.storage.common import (
    ANALYST_SITE,
    PUBLICATIONS,
    STAFF,
    STAFF_RANKS,
    STAFF_SITE,
    schema_version_of,
    upsert_sql,
)
from caci_spider.versions import SCHEMA_VERSION

# The site of the rows a database held before rows were keyed by (site, id) (issue 12), per
# table gaining ``site``: every publication was the Analyst's (field reports), every staff row
# the institute's; a staff page's reject has no site.
_ANALYST = f"'{ANALYST_SITE}'"
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
UPSERT_STAFF_RANK = upsert_sql(STAFF_RANKS, ("id", "rank"), ("id",))


@dataclass
class Migration:
    """What the steps of one opening found and did (read by the later steps)."""

    fresh: set[str]  # the tables the database held before
    rebuilt: list[str] = field(default_factory=list)  # their FTS triggers went with the old table


class SchemaMixin(AuthorsMixin):
    """Makes and migrates the schema (:data:`STEPS`)."""

    def ensure_schema(self) -> None:
        """Run every migration step (:data:`STEPS`) in one transaction; opening a database of
        the current schema changes nothing."""
        with self.db.atomic():
            migration = Migration(fresh=set(self.db.table_names()))
            for step in STEPS:
                step.run(self, migration)

    # -- step: tables ----------------------------------------------------------------------
    def _ensure_tables(self, migration: Migration) -> None:
        for declared in TABLES:
            if declared.name == STAFF_RANKS:
                continue  # its own step: filled from the staff rows
            self._ensure_table(declared, migration)

    def _ensure_table(self, declared: Table, migration: Migration) -> None:
        table = self.db.table(declared.name)
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
        self._fill_added(declared, [c.name for c in added])
        if any(c.derived for c in added):
            self._backfill_derived(declared.name)
        order = [c.name for c in declared.columns]
        stale_keys = [
            str(fk.column)
            for fk in table.foreign_keys
            if (fk.column, fk.other_table, fk.other_column) not in declared.foreign_keys
        ]
        reordered = [c.name for c in table.columns] != order
        if reordered or tuple(table.pks) != declared.pk or stale_keys:
            table.transform(column_order=order, pk=pk, drop_foreign_keys=stale_keys or None)
            migration.rebuilt.append(declared.name)
        self._ensure_indexes(declared)

    def _fill_added(self, declared: Table, added: list[str]) -> None:
        """Added columns of the rows stored before them: ``site``, then the declared fills."""
        if "site" in added and declared.name in SITE_OF_EARLIER_ROWS:
            self.db.execute(
                f"UPDATE [{declared.name}] SET site = "
                f"{SITE_OF_EARLIER_ROWS[declared.name]} WHERE site IS NULL"
            )
        for name in added:
            fill = FILL_EARLIER_ROWS.get((declared.name, name))
            if fill is not None:
                self.db.execute(
                    f"UPDATE [{declared.name}] SET [{name}] = {fill} WHERE [{name}] IS NULL"
                )

    def _ensure_indexes(self, declared: Table) -> None:
        table = self.db.table(declared.name)
        wanted = {tuple(columns) for columns in declared.indexes}
        for found in table.indexes:
            if found.origin == "c" and tuple(found.columns) not in wanted:
                self.db.execute(f"DROP INDEX [{found.name}]")
        for columns in declared.indexes:
            table.create_index(list(columns), unique=declared.name == "authors", if_not_exists=True)

    def _backfill_derived(self, table: str) -> None:
        """Derived columns (year, month, a publication's category from its URL) of the rows
        stored before they existed."""
        sources = contract.DERIVED_FROM[table]
        selected = ", ".join(f"[{s}]" for s in sources)
        rows = self.db.execute(f"SELECT rowid, {selected} FROM [{table}]").fetchall()
        for rowid, *values in rows:
            derived = derive(table, dict(zip(sources, values, strict=True)))
            assignments = ", ".join(f"[{name}] = ?" for name in derived)
            self.db.execute(
                f"UPDATE [{table}] SET {assignments} WHERE rowid = ?", [*derived.values(), rowid]
            )

    # -- step: staff ranks -----------------------------------------------------------------
    def _ensure_staff_ranks(self, migration: Migration) -> None:
        """``staff_ranks (id, rank)``: the highest :class:`SourceRank` among the observations
        merged into each ``staff_publications`` row, which a later observation is weighed
        against. A side table, so that the row's columns (and the export) stay the contract's.

        Rows stored before ranks were kept get theirs once, here, from the pages they were seen
        on (the staff listing and its item pages, or the sidebar only).
        """
        if STAFF_RANKS in self.db.table_names():
            return
        self.db.table(STAFF_RANKS).create({"id": str, "rank": int}, pk="id")
        listed_url = self.rules.is_staff_listing_or_item
        for row in self.rows(STAFF):
            listed = any(listed_url(url) for url in row.get("sources") or [])
            rank = SourceRank.LISTING if listed else SourceRank.SIDEBAR
            self.db.execute(UPSERT_STAFF_RANK, [row["id"], int(rank)])

    # -- step: views -----------------------------------------------------------------------
    def _ensure_views(self, migration: Migration) -> None:
        for view in VIEWS:
            create = f"CREATE VIEW [{view.name}] AS {view.sql}"
            found = self.db.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", [view.name]
            ).fetchone()
            if found is None or found[0] != create:
                self.db.execute(f"DROP VIEW IF EXISTS [{view.name}]")
                self.db.execute(create)

    # -- step: authors ---------------------------------------------------------------------
    def _ensure_author_links(self, migration: Migration) -> None:
        """Every stored name becomes an alias of its author, spellings of one person are
        merged (keeping the lowest author id), and staff rows are linked to their authors."""
        if "author_aliases" in migration.fresh and "staff_publication_authors" in migration.fresh:
            return
        for author_id, name in self.db.execute("SELECT id, name FROM authors").fetchall():
            self.db.execute(
                "INSERT OR IGNORE INTO author_aliases (alias, author_id) VALUES (?, ?)",
                [name, author_id],
            )
        aliases = self.db.execute("SELECT alias FROM author_aliases").fetchall()
        keys = {self.rules.name_key(name) for (name,) in aliases}
        for key in sorted(keys):
            self.regroup(key)
        for row in self.rows(STAFF):
            self.link_staff_authors(row["id"], row.get("authors") or [], row.get("roles") or {})

    # -- step: full-text indexes -----------------------------------------------------------
    def _ensure_fts_tables(self, migration: Migration) -> None:
        for declared in TABLES:
            if declared.fts:
                self._ensure_fts(declared.name, declared.fts, declared.name in migration.rebuilt)

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

    # -- step: schema version --------------------------------------------------------------
    def _record_schema_version(self, migration: Migration) -> None:
        """In the migration's transaction: the file says which schema it holds once it holds
        it."""
        if schema_version_of(self.db.conn) != SCHEMA_VERSION:
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@dataclass(frozen=True)
class Step:
    """One named migration step: ``run(database, migration)``."""

    name: str
    run: Callable[[SchemaMixin, Migration], None]


STEPS: tuple[Step, ...] = (
    Step("tables, columns and indexes of the contract", SchemaMixin._ensure_tables),
    Step("staff ranks", SchemaMixin._ensure_staff_ranks),
    Step("views", SchemaMixin._ensure_views),
    Step("author aliases and staff author links", SchemaMixin._ensure_author_links),
    Step("full-text indexes and their triggers", SchemaMixin._ensure_fts_tables),
    Step("schema version", SchemaMixin._record_schema_version),
)
