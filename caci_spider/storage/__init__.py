"""SQLite storage (sqlite-utils) and atomic JSON Lines exports.

Every table, column, FTS index and view is declared in :mod:`caci_spider.contract`; the schema
is made and an older database migrated on open by named steps (:mod:`.schema`). One module per
table family, each a mixin of :class:`PublicationsDatabase`, the thin facade a crawl opens:

* :mod:`.publications` – ``publications`` (one row per ``(site, id)``: a K2 id is unique only
  within its site), ``publication_versions``, ``duplicates``; the crawl's hot path;
* :mod:`.staff` – ``staff_publications``, their versions, ranks and ``staff_papers``;
* :mod:`.authors` – ``authors``, ``author_aliases`` and both tables' author links;
* :mod:`.runs` – ``crawl_runs``, ``item_runs``, ``listing_walks``, ``sites``, ``canary_checks``;
* :mod:`.rejects` – what could not be stored, and when to try its page again;
* :mod:`.documents` – linked PDFs and their links;
* :mod:`.exports` – :func:`write_atomic`, :func:`write_jsonl_atomic`, :func:`export_table`,
  :func:`export_publications`.

Storage makes no domain decision: which spellings are one author, which staff observations are
one publication and how they merge, a title's key are the caller's rules
(:class:`.rules.StorageRules`, a required argument; the project's are
:data:`caci_spider.records.STORAGE_RULES`, which :func:`caci_spider.records.open_database`
gives). Every item is written in one transaction (``Database.atomic``); the database runs in
WAL mode so that readers never block the crawl.
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlite_utils

from caci_spider.items import CONTRACT_KEYS  # re-exported: other modules import it from here
from caci_spider.storage.common import (
    DOCUMENTS,
    EXPORTS,
    JSON_COLUMNS,
    PUBLICATIONS,
    STAFF,
    STAFF_RANKS,
    STAFF_SITE,
    NewerDatabase,
    refuse_newer,
    schema_version_of,
    upsert_sql,
)
from caci_spider.storage.documents import DocumentsMixin
from caci_spider.storage.exports import (
    export_publications,
    export_table,
    write_atomic,
    write_jsonl_atomic,
)
from caci_spider.storage.publications import (
    EXTRACTION_UPGRADE,
    PAGE_CHANGED,
    PublicationsMixin,
    is_truncated_copy,
    merge_keeping_known,
)
from caci_spider.storage.rules import StorageRules
from caci_spider.storage.schema import FILL_EARLIER_ROWS, SITE_OF_EARLIER_ROWS, STEPS, SchemaMixin
from caci_spider.storage.staff import StaffMixin

__all__ = [
    "CONTRACT_KEYS",
    "DOCUMENTS",
    "EXPORTS",
    "EXTRACTION_UPGRADE",
    "FILL_EARLIER_ROWS",
    "JSON_COLUMNS",
    "PAGE_CHANGED",
    "PUBLICATIONS",
    "SITE_OF_EARLIER_ROWS",
    "STAFF",
    "STAFF_RANKS",
    "STAFF_SITE",
    "STEPS",
    "PublicationsDatabase",
    "NewerDatabase",
    "StorageRules",
    "export_publications",
    "export_table",
    "is_truncated_copy",
    "merge_keeping_known",
    "refuse_newer",
    "schema_version_of",
    "upsert_sql",
    "write_atomic",
    "write_jsonl_atomic",
]


class PublicationsDatabase(PublicationsMixin, StaffMixin, DocumentsMixin, SchemaMixin):
    """The crawl's database; one instance per crawl, shared by the pipelines. ``rules``: the
    domain decisions storage applies, given by the caller (the project's:
    :func:`caci_spider.records.open_database`), so that storage imports no rule module."""

    def __init__(self, path: str | os.PathLike[str], rules: StorageRules) -> None:
        self.rules = rules
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
        self.run_outcomes = {}
        self.bodies_changed = set()
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
