"""SQLite storage (sqlite-utils) and atomic JSON Lines exports.

Tables:

* ``publications`` – one row per K2 id, columns in the data-contract order; FTS5 over title and
  body kept in sync by triggers; ``authors`` + ``publication_authors`` many-to-many.
* ``duplicates`` – ids whose body equals a lower id's (id, duplicate_of, url).
* ``rejects`` – what could not be stored: spider, url, reason, raw, fetched_at, status.
* ``staff_ranks`` – the :class:`~caci_spider.items.SourceRank` of each ``staff_publications``
  row (id, rank), kept beside the row so that its columns stay the contract's.

Every item is written in one transaction (``Database.atomic``); the database runs in WAL mode
so that readers never block the crawl.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from caci_spider.backoff import DEFAULT_MAX_DAYS, is_transient, next_attempt_at
from caci_spider.dates import dates_compatible
from caci_spider.items import (
    CONTRACT_KEYS,
    STAFF_KEYS,
    FieldReport,
    Reject,
    SourceRank,
    StaffPublication,
    is_empty,
)
from caci_spider.sites import SITES_TABLE
from caci_spider.staff.precedence import merge_observations
from caci_spider.text import title_key
from caci_spider.urls import is_staff_listing_or_item

PUBLICATIONS = "publications"
STAFF = "staff_publications"
JSON_COLUMNS = frozenset(
    {"authors", "tags", "roles", "sources", "responses_by_status", "coverage", "problems",
     "canaries", "missing", "differing"}
)  # fmt: skip

_PUBLICATION_COLUMNS: dict[str, type] = {
    "id": int,
    "url": str,
    "section": str,
    "title": str,
    "authors": str,
    "published": str,
    "issue_date": str,
    "byline": str,
    "body": str,
    "hits": int,
    "modified": str,
    "tags": str,
    "word_count": int,
    "content_hash": str,
    "fetched_at": str,
}


_RUN_COLUMNS: dict[str, type] = {
    "id": int,
    "spider": str,
    "mode": str,
    "started_at": str,
    "finished_at": str,
    "finish_reason": str,
    "requests": int,
    "responses_by_status": str,
    "items_new": int,
    "items_updated": int,
    "items_unchanged": int,
    "items_rejected": int,
    "items_duplicate": int,
    "coverage": str,
    "self_check": str,
    "problems": str,
    "listing_pages": int,
    "listing_entries": int,
    "canaries": str,
    # Per section: whether the feed or the listing was read, and why (JSON).
    "sources": str,
}

_CANARY_COLUMNS: dict[str, type] = {
    "spider": str,
    "item_key": str,
    "url": str,
    "checked_at": str,
    "run_id": int,
    "outcome": str,
    "missing": str,
    "differing": str,
}

_REJECT_COLUMNS: dict[str, type] = {
    "spider": str,
    "url": str,
    "reason": str,
    "raw": str,
    "status": int,
    "fetched_at": str,
    "raw_key": str,
    "attempts": int,
    "next_attempt_at": str,
}

_STAFF_COLUMNS: dict[str, type] = {
    "id": str,
    "kind": str,
    "title": str,
    "authors": str,
    "roles": str,
    "venue": str,
    "date": str,
    "url": str,
    "summary": str,
    "sources": str,
    "fetched_at": str,
}


def upsert_sql(table: str, columns: tuple[str, ...], key: tuple[str, ...]) -> str:
    """``INSERT … ON CONFLICT (key) DO UPDATE``: one statement, no schema introspection."""
    names = ", ".join(f"[{c}]" for c in columns)
    updates = ", ".join(f"[{c}] = excluded.[{c}]" for c in columns if c not in key)
    return (
        f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


_UPSERT_PUBLICATION = upsert_sql(PUBLICATIONS, tuple(_PUBLICATION_COLUMNS), ("id",))
_UPSERT_VERSION = upsert_sql(
    "publication_versions", ("id", "content_hash", "body", "fetched_at"), ("id", "content_hash")
)
_UPSERT_ITEM_RUN = upsert_sql(
    "item_runs", ("item_table", "item_id", "run_id", "change"), ("item_table", "item_id")
)
STAFF_RANKS = "staff_ranks"
_UPSERT_STAFF_RANK = upsert_sql(STAFF_RANKS, ("id", "rank"), ("id",))
_OUTCOME_RANK = {"unchanged": 0, "updated": 1, "new": 2}


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
        # What each run did to the rows it touched: (run id, table, key) → new / updated /
        # unchanged, in the order it first touched them.
        self.run_outcomes: dict[tuple[int | None, str, str], str] = {}
        # (run id, publication id) of rows whose body a refetch changed in that run.
        self.bodies_changed: set[tuple[int | None, int]] = set()
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
        db = self.db
        with db.atomic():
            db.table(PUBLICATIONS).create(_PUBLICATION_COLUMNS, pk="id", if_not_exists=True)
            db.table(PUBLICATIONS).create_index(["content_hash"], if_not_exists=True)
            db.table(STAFF).create(_STAFF_COLUMNS, pk="id", if_not_exists=True)
            self._ensure_staff_ranks()
            db.table("authors").create({"id": int, "name": str}, pk="id", if_not_exists=True)
            db.table("authors").create_index(["name"], unique=True, if_not_exists=True)
            db.table("publication_authors").create(
                {"publication_id": int, "position": int, "author_id": int},
                pk=("publication_id", "position"),
                foreign_keys=[
                    ("publication_id", PUBLICATIONS, "id"),
                    ("author_id", "authors", "id"),
                ],
                if_not_exists=True,
            )
            db.table("duplicates").create(
                {"id": int, "duplicate_of": int, "url": str, "recorded_at": str, "run_id": int},
                pk="id",
                if_not_exists=True,
            )
            # raw_key (a hash of raw) keeps two bad entries of one page apart.
            db.table("rejects").create(
                _REJECT_COLUMNS, pk=("spider", "url", "reason", "raw_key"), if_not_exists=True
            )
            # History: earlier versions of changed rows, every run, and who changed what last.
            db.table("publication_versions").create(
                {"id": int, "content_hash": str, "body": str, "fetched_at": str},
                pk=("id", "content_hash"),
                if_not_exists=True,
            )
            db.table("staff_publication_versions").create(
                {"id": str, "row": str, "fetched_at": str},
                pk=("id", "fetched_at"),
                if_not_exists=True,
            )
            db.table("crawl_runs").create(_RUN_COLUMNS, pk="id", if_not_exists=True)
            # The last complete listing walk of each section: feed-first nights walk it again
            # when it is older than CACI_LISTING_WALK_DAYS.
            db.table("listing_walks").create(
                {"spider": str, "section": str, "walked_at": str, "run_id": int, "entries": int},
                pk=("spider", "section"),
                if_not_exists=True,
            )
            db.table(SITES_TABLE).create(
                {"setting": str, "base_url": str, "recorded_at": str},
                pk="setting",
                if_not_exists=True,
            )
            db.table("canary_checks").create(
                _CANARY_COLUMNS, pk=("spider", "item_key"), if_not_exists=True
            )
            db.table("item_runs").create(
                {"item_table": str, "item_id": str, "run_id": int, "change": str},
                pk=("item_table", "item_id"),
                if_not_exists=True,
            )
            # A database written by an earlier version gains the columns added since.
            for table, columns in (
                ("crawl_runs", _RUN_COLUMNS),
                ("rejects", _REJECT_COLUMNS),
                ("canary_checks", _CANARY_COLUMNS),
            ):
                present = {c.name for c in db.table(table).columns}
                for name, kind in columns.items():
                    if name not in present:
                        db.table(table).add_column(name, kind)
        if f"{PUBLICATIONS}_fts" not in db.table_names():
            db.table(PUBLICATIONS).enable_fts(
                ["title", "body"], fts_version="FTS5", create_triggers=True
            )

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

    def _note_change(self, table: str, item_id: int | str, run_id: int | None, change: str) -> None:
        """Tally what this run did to a row, once per row: a row created earlier in the same
        run stays ``new`` however often it is merged again, and a row changed once stays
        ``updated`` when a later observation leaves it as it is."""
        key = (run_id, table, str(item_id))
        earlier = self.run_outcomes.get(key)
        if earlier is None or _OUTCOME_RANK[change] > _OUTCOME_RANK[earlier]:
            self.run_outcomes[key] = change
        outcome = self.run_outcomes[key]
        if run_id is not None and outcome in ("new", "updated"):
            self.db.execute(_UPSERT_ITEM_RUN, [table, str(item_id), run_id, outcome])

    def run_counts(self, run_id: int | None) -> dict[str, int]:
        """Rows this run created, changed, left as they were, or found to be duplicates."""
        counts = {"new": 0, "updated": 0, "unchanged": 0}
        for (run, _table, _key), outcome in self.run_outcomes.items():
            if run == run_id:
                counts[outcome] += 1
        duplicates = self.db.execute(
            "SELECT count(*) FROM duplicates WHERE run_id = ?", [run_id]
        ).fetchone()[0]
        return {**counts, "duplicate": duplicates}

    def run_keys(self, table: str, run_id: int | None) -> list[str]:
        """Keys of the rows of ``table`` the run stored (new, updated or unchanged), in the
        order it first stored them."""
        return [key for (run, name, key) in self.run_outcomes if run == run_id and name == table]

    def body_changed(self, publication_id: int, run_id: int | None) -> bool:
        """True when a refetch in run ``run_id`` changed the publication's body."""
        return (run_id, publication_id) in self.bodies_changed

    def _changed_in_run(self, table: str, item_id: int | str, run_id: int | None) -> bool:
        return self.run_outcomes.get((run_id, table, str(item_id))) in ("new", "updated")

    def previous_listing_entries(self, spider: str, run_id: int | None) -> tuple[int, int] | None:
        """``(run id, listing entries)`` of the spider's last run that passed its self-check."""
        row = self.db.execute(
            "SELECT id, listing_entries FROM crawl_runs WHERE spider = ? AND id < ?"
            " AND self_check = 'ok' AND listing_entries > 0 ORDER BY id DESC LIMIT 1",
            [spider, run_id if run_id is not None else 2**62],
        ).fetchone()
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

    def last_listing_walk(self, spider: str, section: str) -> dict[str, Any] | None:
        """The section's last complete listing walk (walked_at, run_id, entries), if any."""
        cursor = self.db.execute(
            "SELECT walked_at, run_id, entries FROM listing_walks WHERE spider = ? AND section = ?",
            [spider, section],
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
    def canary_candidates(self, spider: str, table: str, count: int) -> list[dict[str, Any]]:
        """The ``count`` stored rows checked longest ago (never checked first), in key order.

        Field reports rotate through every row; staff publications through the rows whose own
        page was read (their ``url`` is among their ``sources``: an item page of the listing).
        """
        if count <= 0:
            return []
        where = (
            "1"
            if table == PUBLICATIONS
            else "EXISTS (SELECT 1 FROM json_each(t.sources) WHERE value = t.url)"
        )
        order = "t.id" if table == PUBLICATIONS else "t.url"
        cursor = self.db.execute(
            f"SELECT t.* FROM [{table}] t LEFT JOIN canary_checks c"
            " ON c.spider = ? AND c.item_key = CAST(t.id AS TEXT)"
            f" WHERE {where} ORDER BY c.checked_at IS NOT NULL, c.checked_at, {order} LIMIT ?",
            [spider, count],
        )
        names = [d[0] for d in cursor.description]
        return [_decode(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]

    def record_canary(
        self, spider: str, key: str, url: str, run_id: int | None, outcome: str,
        missing: list[str], when: str, differing: list[dict[str, str]] | None = None,
    ) -> None:  # fmt: skip
        """The canary's last check: ``missing`` fields, ``differing`` ones (field, stored, new,
        why: :class:`caci_spider.quality.FieldDifference`)."""
        with self.db.atomic():
            self.db.table("canary_checks").upsert(
                {"spider": spider, "item_key": key, "url": url, "checked_at": when,
                 "run_id": run_id, "outcome": outcome, "missing": json.dumps(missing),
                 "differing": json.dumps(differing or [], ensure_ascii=False)},
                pk=("spider", "item_key"),
            )  # fmt: skip

    def stored_rows(self, table: str, keys: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The stored rows of ``keys`` (in that order, in contract key order); gone ones skipped."""
        contract = EXPORTS[table]
        for key in keys:
            cursor = self.db.execute(f"SELECT * FROM [{table}] WHERE id = ?", [key])
            row = cursor.fetchone()
            if row is not None:
                decoded = _decode(dict(zip((d[0] for d in cursor.description), row, strict=True)))
                yield {name: decoded.get(name) for name in contract}

    def count(self, table: str) -> int:
        return self.db.table(table).count

    def known_report_ids(self) -> set[int]:
        """Ids already settled: stored, or recorded as a duplicate."""
        rows = self.db.execute(f"SELECT id FROM {PUBLICATIONS} UNION SELECT id FROM duplicates")
        return {item_id for (item_id,) in rows}

    def known_staff_sources(self) -> set[str]:
        """Every page URL a stored staff publication was seen on."""
        rows = self.db.execute(f"SELECT DISTINCT value FROM {STAFF}, json_each({STAFF}.sources)")
        return {url for (url,) in rows}

    # -- rejects ---------------------------------------------------------------------------
    def record_reject(self, reject: Reject, max_days: int = DEFAULT_MAX_DAYS) -> None:
        """Store the reject with its attempt count and when to try its page again."""
        with self.db.atomic():
            (previous,) = self.db.execute(
                "SELECT max(attempts) FROM rejects WHERE spider = ? AND url = ?",
                [reject.spider, reject.url],
            ).fetchone()
            attempts = (previous or 0) + 1
            transient = is_transient(reject.reason, reject.status)
            self.db.table("rejects").upsert(
                {
                    "spider": reject.spider,
                    "url": reject.url,
                    "reason": reject.reason,
                    "raw": reject.raw,
                    "status": reject.status,
                    "fetched_at": reject.fetched_at,
                    "raw_key": hashlib.sha256((reject.raw or "").encode()).hexdigest()[:12],
                    "attempts": attempts,
                    "next_attempt_at": next_attempt_at(
                        reject.fetched_at, attempts, transient, max_days
                    ),
                },
                pk=("spider", "url", "reason", "raw_key"),
            )
            # Every reason recorded for the page waits as long as its latest failure says.
            self.db.execute(
                "UPDATE rejects SET attempts = ? WHERE spider = ? AND url = ?",
                [attempts, reject.spider, reject.url],
            )

    def backed_off_urls(self, spider: str, now: str) -> set[str]:
        """Rejected pages not to fetch before their next attempt is due."""
        rows = self.db.execute(
            "SELECT url FROM rejects WHERE spider = ? GROUP BY url"
            " HAVING max(fetched_at) = max(CASE WHEN next_attempt_at > ? THEN fetched_at END)",
            [spider, now],
        )
        return {url for (url,) in rows}

    def clear_rejects(self, spider: str, url: str) -> None:
        """A URL that now yields a stored row is no longer a reject."""
        self.db.execute("DELETE FROM rejects WHERE spider = ? AND url = ?", [spider, url])

    # -- publications ------------------------------------------------------------------------
    def publication(self, item_id: int) -> dict[str, Any] | None:
        cursor = self.db.execute(f"SELECT * FROM {PUBLICATIONS} WHERE id = ?", [item_id])
        row = cursor.fetchone()
        if row is None:
            return None
        return _decode(dict(zip((d[0] for d in cursor.description), row, strict=True)))

    def duplicate_of(self, report: FieldReport) -> int | None:
        """Cross-id de-duplication: the lowest id with the same body owns it.

        Returns that lower id when ``report`` is a duplicate of it, else ``None``.
        """
        row = self.db.execute(
            f"SELECT min(id) FROM {PUBLICATIONS} WHERE content_hash = ? AND id < ?",
            [report.content_hash, report.id],
        ).fetchone()
        return row[0] if row else None

    def record_duplicate(
        self, report: FieldReport, canonical: int, run_id: int | None = None
    ) -> None:
        """Record ``report`` as a duplicate; a row it had from an earlier body goes too."""
        with self.db.atomic():
            self._record_duplicate(report.id, canonical, report.url, report.fetched_at, run_id)
            self._delete_publication(report.id)

    def _record_duplicate(
        self, item_id: int, canonical: int, url: str, when: str, run_id: int | None
    ) -> None:
        self.db.table("duplicates").upsert(
            {"id": item_id, "duplicate_of": canonical, "url": url, "recorded_at": when,
             "run_id": run_id},
            pk="id",
        )  # fmt: skip

    def _delete_publication(self, item_id: int) -> None:
        for key in [k for k in self.run_outcomes if k[1:] == (PUBLICATIONS, str(item_id))]:
            del self.run_outcomes[key]
        self.db.execute("DELETE FROM publication_authors WHERE publication_id = ?", [item_id])
        self.db.execute(f"DELETE FROM {PUBLICATIONS} WHERE id = ?", [item_id])
        self.db.execute(
            "DELETE FROM item_runs WHERE item_table = ? AND item_id = ?",
            [PUBLICATIONS, str(item_id)],
        )

    def store_report(self, report: FieldReport, spider: str, run_id: int | None = None) -> str:
        """Upsert one report and its authors in one transaction.

        Returns ``"new"``, ``"updated"``, ``"unchanged"``, ``"kept"`` (a truncated refetch:
        nothing written) or ``"clash"`` (a refetch whose body is now another stored row's:
        nothing written). Fields the new fetch lacks keep their stored values, so a worse page
        never erases a good row; a changed body keeps the previous one in
        ``publication_versions``.
        """
        new = report.as_row()
        with self.db.atomic():
            old = self.publication(report.id)
            higher = self.db.execute(
                f"SELECT id, url FROM {PUBLICATIONS} WHERE content_hash = ? AND id > ?",
                [report.content_hash, report.id],
            ).fetchall()
            if higher and (
                old is not None or any(self.body_changed(h, run_id) for h, _url in higher)
            ):
                # A stored item refetched with another stored item's body, or a new id whose
                # body a stored item changed to in this run: the pages changed (a redesign that
                # serves one text for all), not a re-import. Nothing moves.
                return "clash"
            # A new id whose body higher ids stored earlier have: they were its duplicates.
            for higher_id, higher_url in higher:
                self._record_duplicate(higher_id, report.id, higher_url, report.fetched_at, run_id)
                self._delete_publication(higher_id)
            if old is not None and is_truncated_copy(old["body"], report.body):
                return "kept"
            row = merge_keeping_known(old, new)
            if old is not None and all(
                old.get(key) == row.get(key) for key in CONTRACT_KEYS if key != "fetched_at"
            ):
                outcome = "unchanged"
            else:
                outcome = "new" if old is None else "updated"
            if old is not None and old["content_hash"] != row["content_hash"]:
                self.bodies_changed.add((run_id, report.id))
                self.db.execute(
                    _UPSERT_VERSION, [old[k] for k in ("id", "content_hash", "body", "fetched_at")]
                )
            encoded = _encode(row)
            self.db.execute(_UPSERT_PUBLICATION, [encoded[c] for c in _PUBLICATION_COLUMNS])
            self._note_change(PUBLICATIONS, report.id, run_id, outcome)
            self._link_authors(report.id, row["authors"])
            self.db.execute("DELETE FROM duplicates WHERE id = ?", [report.id])
            self.clear_rejects(spider, report.url)
        return outcome

    def _link_authors(self, publication_id: int, names: Iterable[str]) -> None:
        self.db.execute(
            "DELETE FROM publication_authors WHERE publication_id = ?", [publication_id]
        )
        for position, name in enumerate(names):
            self.db.execute("INSERT OR IGNORE INTO authors (name) VALUES (?)", [name])
            author_id = self.db.execute("SELECT id FROM authors WHERE name = ?", [name]).fetchone()[
                0
            ]
            self.db.execute(
                "INSERT INTO publication_authors (publication_id, position, author_id)"
                " VALUES (?, ?, ?)",
                [publication_id, position, author_id],
            )

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
                self._note_change(STAFF, base_id, run_id, "unchanged")
                return "unchanged"
            # Observations of one run (sidebar, listing, item page) merge into one row; only a
            # row from an earlier run is a previous version worth keeping.
            if old is not None and not self._changed_in_run(STAFF, base_id, run_id):
                self.db.table("staff_publication_versions").upsert(
                    {"id": old["id"], "row": json.dumps(old, ensure_ascii=False),
                     "fetched_at": old["fetched_at"]},
                    pk=("id", "fetched_at"),
                )  # fmt: skip
            self.db.table(STAFF).upsert(_encode(row), pk="id")
            outcome = "new" if old is None else "updated"
            self._note_change(STAFF, base_id, run_id, outcome)
        return outcome

    def _staff_row(self, staff_row_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table(STAFF).rows_where("id = ?", [staff_row_id]))
        return _decode(rows[0]) if rows else None

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

    def rows(self, table: str, order_by: str = "id") -> Iterator[dict[str, Any]]:
        if table not in self.db.table_names():
            return iter(())
        return (_decode(row) for row in self.db.table(table).rows_where(order_by=order_by))


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


def write_jsonl_atomic(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON Lines via a temporary file and a rename; returns the row count.

    Readers see either the previous complete file or the new complete file, never a part.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then renamed)
        "w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    try:
        with handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
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


EXPORTS = {PUBLICATIONS: CONTRACT_KEYS, STAFF: STAFF_KEYS}


def export_table(database: CaciDatabase, table: str, path: str | os.PathLike[str]) -> int:
    """Every stored row of ``table``, ordered by id, keys in its contract's order."""
    keys = EXPORTS[table]
    rows = ({key: row.get(key) for key in keys} for row in database.rows(table))
    return write_jsonl_atomic(path, rows)
