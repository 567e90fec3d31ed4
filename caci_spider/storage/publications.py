"""``publications`` (and ``publication_versions``, ``duplicates``): one row per ``(site, id)``.

The hot path of a crawl: a new publication is read once (:meth:`PublicationsMixin._probe`: its
stored row, the rows of the same site with its body, whether it has a duplicates entry, author
links or unresolved rejects) and written in at most four statements inside its transaction (the
row, its ``item_runs`` entry, its author links; the duplicates entry and the rejects only where
the probe found some).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from caci_spider.contract import derive, sqlite_columns
from caci_spider.items import CONTRACT_KEYS, Publication, is_empty
from caci_spider.storage.authors import AuthorsMixin
from caci_spider.storage.common import (
    DERIVED,
    JSON_COLUMNS,
    PUBLICATIONS,
    decode,
    in_sections,
    upsert_sql,
)
from caci_spider.storage.rejects import RejectsMixin
from caci_spider.storage.runs import RunsMixin
from caci_spider.versions import EXTRACTION_VERSION

# Why a publication's previous values were kept (``publication_versions.reason``).
PAGE_CHANGED = "page changed"
EXTRACTION_UPGRADE = "extraction upgrade"
# Fields of a row that say when and how it was made, not what the page says.
_STAMPS = ("fetched_at", "extraction_version")
_PUBLICATION_COLUMNS = tuple(sqlite_columns(PUBLICATIONS))
_UPSERT_PUBLICATION = upsert_sql(PUBLICATIONS, _PUBLICATION_COLUMNS, ("site", "id"))
_VERSION_COLUMNS = tuple(sqlite_columns("publication_versions"))
_UPSERT_VERSION = upsert_sql(
    "publication_versions", _VERSION_COLUMNS, ("site", "id", "content_hash", "reason")
)
_DERIVED_PUBLICATION = DERIVED[PUBLICATIONS]
# Everything storing a report needs to know, in one statement: the rows of the report's site
# that are it or hold its body (at least one row: NULLs when there are none), and whether it
# has a duplicates entry, author links, or unresolved rejects of its page. Two lookups, not one
# OR: SQLite would walk every row of the site for ``id = ? OR content_hash = ?``.
_PROBE = (
    f"WITH found AS (SELECT * FROM {PUBLICATIONS} WHERE site = :site AND id = :id"
    f" UNION ALL SELECT * FROM {PUBLICATIONS} WHERE site = :site AND content_hash = :hash"
    " AND id <> :id)"
    " SELECT found.*,"
    " (SELECT 1 FROM duplicates WHERE site = :site AND id = :id),"
    " (SELECT 1 FROM publication_authors WHERE site = :site AND publication_id = :id LIMIT 1),"
    " (SELECT 1 FROM rejects WHERE url = :url AND resolved_at IS NULL LIMIT 1)"
    " FROM (SELECT 1) LEFT JOIN found"
)


@dataclass
class Probe:
    """What :data:`_PROBE` found for one report."""

    old: dict[str, Any] | None  # its stored row, contract keys only
    lower: int | None  # the lowest id of its site with its body, below its own
    higher: list[tuple[int, str]] = field(default_factory=list)  # (id, url) above its own
    duplicate: bool = False  # it has a duplicates entry
    linked: bool = False  # it has author links
    rejected: bool = False  # its page has unresolved rejects


def is_truncated_copy(stored: str, fetched: str) -> bool:
    """A refetched body that is a proper prefix of the stored one is a cut-off page (a dropped
    connection mid-page, a server that stopped writing), not an edit: the stored row stays."""
    return len(fetched) < len(stored) and stored.startswith(fetched)


def merge_keeping_known(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with every field it lacks taken from ``old``: a known value is never lost."""
    if not old:
        return dict(new)
    return {key: (old.get(key) if is_empty(value) else value) for key, value in new.items()}


def report_row(report: Publication) -> dict[str, Any]:
    """The report's contract row (as ``Publication.as_row``, without its deep copy)."""
    return {key: getattr(report, key) for key in CONTRACT_KEYS}


class PublicationsMixin(AuthorsMixin, RejectsMixin, RunsMixin):
    # The last probe, while this connection has changed nothing since: (key, total_changes,
    # probe). DeduplicatePipeline's duplicate_of and StorePipeline's publication + store_report
    # of one item then read the database once.
    _probed: tuple[tuple[str, int, str, str], int, Probe] | None = None

    def _probe(self, report: Publication) -> Probe:
        key = (report.site, report.id, report.content_hash, report.url)
        cached = self._probed
        if cached is not None and cached[0] == key and cached[1] == self.db.conn.total_changes:
            return cached[2]
        cursor = self.db.conn.execute(
            _PROBE,
            {"site": report.site, "id": report.id, "hash": report.content_hash, "url": report.url},
        )
        names = [d[0] for d in cursor.description][:-3]
        probe = Probe(None, None)
        for *values, duplicate, linked, rejected in cursor.fetchall():
            probe.duplicate, probe.linked = bool(duplicate), bool(linked)
            probe.rejected = bool(rejected)
            found = dict(zip(names, values, strict=True))
            found_id = found["id"]
            if found_id is None:
                continue
            if found_id == report.id:
                probe.old = decode(
                    {k: v for k, v in found.items() if k not in _DERIVED_PUBLICATION}
                )
            elif found["content_hash"] != report.content_hash:
                continue
            elif found_id < report.id:
                probe.lower = found_id if probe.lower is None else min(probe.lower, found_id)
            else:
                probe.higher.append((found_id, found["url"]))
        probe.higher.sort()
        self._probed = (key, self.db.conn.total_changes, probe)
        return probe

    def publication(self, site: str, item_id: int) -> dict[str, Any] | None:
        """The stored row of ``(site, item_id)``, contract keys only, or ``None``."""
        cached = self._probed
        if (
            cached is not None
            and cached[0][:2] == (site, item_id)
            and cached[1] == self.db.conn.total_changes
        ):
            old = cached[2].old
            return None if old is None else dict(old)
        cursor = self.db.execute(
            f"SELECT * FROM {PUBLICATIONS} WHERE site = ? AND id = ?", [site, item_id]
        )
        row = cursor.fetchone()
        if row is None:
            return None
        found = dict(zip((d[0] for d in cursor.description), row, strict=True))
        return decode({k: v for k, v in found.items() if k not in _DERIVED_PUBLICATION})

    def duplicate_of(self, report: Publication) -> int | None:
        """Cross-id de-duplication within the report's site: the lowest id of that site with
        the same body owns it (the same text on two sites is two publications).

        Returns that lower id when ``report`` is a duplicate of it, else ``None``.
        """
        return self._probe(report).lower

    def record_duplicate(
        self, report: Publication, canonical: int, run_id: int | None = None
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
        report: Publication,
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
        site = report.site
        with self.db.atomic():
            probe = self._probe(report)
            self._probed = None
            old = probe.old
            # De-duplication stays within the site: another site's ids are other publications.
            if probe.higher and (
                old is not None
                or any(self.body_changed(site, h, run_id) for h, _url in probe.higher)
            ):
                # A stored item refetched with another stored item's body, or a new id whose
                # body a stored item changed to in this run: the pages changed (a redesign that
                # serves one text for all), not a re-import. Nothing moves.
                return "clash"
            # A new id whose body higher ids stored earlier have: they were its duplicates.
            for higher_id, higher_url in probe.higher:
                self._record_duplicate(
                    site, higher_id, report.id, higher_url, report.fetched_at, run_id
                )
                self._delete_publication(site, higher_id)
            if old is not None and is_truncated_copy(old["body"], report.body):
                return "kept"
            outcome, row = self._write_row(report, old, run_id, reason)
            self.link_authors(site, report.id, row["authors"], linked=probe.linked)
            if probe.duplicate:
                self.db.execute(
                    "DELETE FROM duplicates WHERE site = ? AND id = ?", [site, report.id]
                )
            if probe.rejected:
                self.clear_rejects(None, report.url)
        return outcome

    def _write_row(
        self, report: Publication, old: dict[str, Any] | None, run_id: int | None, reason: str
    ) -> tuple[str, dict[str, Any]]:
        """Write the report's row (kept values merged in, a previous version kept where it
        changed) and note it against the run; returns the outcome and the row."""
        site = report.site
        row = merge_keeping_known(old, report_row(report))
        if old is not None and reason == EXTRACTION_UPGRADE:
            row["fetched_at"] = old["fetched_at"]  # read from the archive, not fetched again
        changed = (
            []
            if old is None
            else [k for k in CONTRACT_KEYS if k not in _STAMPS and old.get(k) != row.get(k)]
        )
        outcome = "new" if old is None else "updated" if changed else "unchanged"
        if old is not None:
            self._keep_version(old, row, changed, reason, run_id)
        values = {
            key: json.dumps(value, ensure_ascii=False) if key in JSON_COLUMNS else value
            for key, value in row.items()
        } | derive(PUBLICATIONS, row)
        self.db.execute(_UPSERT_PUBLICATION, [values[c] for c in _PUBLICATION_COLUMNS])
        self.note_change(PUBLICATIONS, site, report.id, run_id, outcome)
        return outcome, row

    def _keep_version(
        self,
        old: dict[str, Any],
        row: dict[str, Any],
        changed: list[str],
        reason: str,
        run_id: int | None,
    ) -> None:
        """A changed body (or any change read by newer page rules) keeps the stored values in
        ``publication_versions``, with the previous values of the fields that changed."""
        body_changed = old["content_hash"] != row["content_hash"]
        if body_changed:
            self.bodies_changed.add((run_id, row["site"], row["id"]))
        if body_changed or (changed and reason == EXTRACTION_UPGRADE):
            entry = old | {
                "reason": reason,
                "previous": json.dumps({k: old[k] for k in changed}, ensure_ascii=False),
            }
            self.db.execute(_UPSERT_VERSION, [entry[k] for k in _VERSION_COLUMNS])

    # -- reading ---------------------------------------------------------------------------
    def outdated_publications(
        self, sections: Iterable[tuple[str, str]], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """``site``, ``id``, ``url`` and ``title`` of the rows of ``sections`` (``(site,
        category)`` pairs) made by older page rules than this release's (or before versions
        were recorded), in key order."""
        pairs = list(sections)
        if not pairs:
            return []
        params: list[Any] = [EXTRACTION_VERSION]
        where = in_sections(pairs, params)
        cursor = self.db.execute(
            f"SELECT site, id, url, title FROM {PUBLICATIONS}"
            f" WHERE coalesce(extraction_version, 0) < ? AND ({where}) ORDER BY site, id"
            + (f" LIMIT {int(limit)}" if limit is not None else ""),
            params,
        )
        return [dict(zip(("site", "id", "url", "title"), row, strict=True)) for row in cursor]

    def count_publications(self, site: str, category: str) -> int:
        """Stored publications of ``site`` in the K2 ``category`` (``publications.category``)."""
        (count,) = self.db.execute(
            f"SELECT count(*) FROM {PUBLICATIONS} WHERE site = ? AND category = ?",
            [site, category],
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
        paragraphs = self.rules.paragraphs
        return [url for url, body in rows if paragraph in paragraphs(body or "")][:limit]

    def known_report_ids(self, site: str) -> set[int]:
        """Ids of ``site`` already settled: stored, or recorded as a duplicate."""
        rows = self.db.execute(
            f"SELECT id FROM {PUBLICATIONS} WHERE site = ?"
            " UNION SELECT id FROM duplicates WHERE site = ?",
            [site, site],
        )
        return {item_id for (item_id,) in rows}
