"""``staff_publications`` (with ``staff_publication_versions``, ``staff_ranks`` and
``staff_papers``): one row per staff publication, merged from every page it was seen on.

Which stored row an observation is (its title key, compatible dates) and how the two merge
(source precedence) are the caller's rules (:class:`~caci_spider.storage.rules.StorageRules`);
this module reads the stored row and writes the merged one.
"""

from __future__ import annotations

import json
from typing import Any

from caci_spider.contract import derive
from caci_spider.items import SourceRank, StaffPublication
from caci_spider.storage.authors import AuthorsMixin
from caci_spider.storage.common import (
    STAFF,
    STAFF_RANKS,
    STAFF_SITE,
    decode,
    encode,
    without_derived,
)
from caci_spider.storage.rejects import RejectsMixin
from caci_spider.storage.runs import RunsMixin
from caci_spider.storage.schema import UPSERT_STAFF_RANK


class StaffMixin(AuthorsMixin, RejectsMixin, RunsMixin):
    def store_staff(self, publication: StaffPublication, run_id: int | None = None) -> str:
        """Merge one observation into its row (matched on title key + compatible date).

        Returns ``"new"``, ``"updated"`` or ``"unchanged"`` and sets ``publication.id``.
        """
        with self.db.atomic():
            base_id, old = self._matching_staff_row(publication)
            publication.id = base_id
            # An item page that now yields a row is no longer a reject (listing pages keep
            # theirs: their other entries may still be bad).
            for url in publication.sources:
                if "/item/" in url:
                    self.clear_rejects("staff_publications", url)
            rank = self._staff_rank(base_id)
            stored = None if old is None else StaffPublication.from_row(old, rank)
            merged = self.rules.merge_staff(stored, publication)
            if merged.rank != rank or old is None:
                self.db.execute(UPSERT_STAFF_RANK, [base_id, int(merged.rank)])
            row = merged.as_row()
            if old is not None and _same_but_fetched(old, row):
                self.note_change(STAFF, STAFF_SITE, base_id, run_id, "unchanged")
                return "unchanged"
            # Observations of one run (sidebar, listing, item page) merge into one row; only a
            # row from an earlier run is a previous version worth keeping.
            if old is not None and not self.changed_in_run(STAFF, STAFF_SITE, base_id, run_id):
                self.db.table("staff_publication_versions").upsert(
                    {"id": old["id"], "row": json.dumps(old, ensure_ascii=False),
                     "fetched_at": old["fetched_at"]},
                    pk=("id", "fetched_at"),
                )  # fmt: skip
            self.db.table(STAFF).upsert(encode(row) | derive(STAFF, row), pk="id")
            self.link_staff_authors(base_id, row["authors"] or [], row["roles"] or {})
            outcome = "new" if old is None else "updated"
            self.note_change(STAFF, STAFF_SITE, base_id, run_id, outcome)
        return outcome

    def _matching_staff_row(
        self, publication: StaffPublication
    ) -> tuple[str, dict[str, Any] | None]:
        """The id of the row the observation belongs to, and that row if stored."""
        title = publication.title or ""
        base_id = self.rules.staff_id(title)
        old = self._staff_row(base_id)
        if old is not None and not self.rules.dates_compatible(old.get("date"), publication.date):
            # Same title, another date: a different publication under its own stable id.
            base_id = self.rules.staff_id(title, publication.date)
            old = self._staff_row(base_id)
        return base_id, old

    def _staff_row(self, staff_row_id: str) -> dict[str, Any] | None:
        rows = list(self.db.table(STAFF).rows_where("id = ?", [staff_row_id]))
        return decode(without_derived(STAFF, rows[0])) if rows else None

    def _staff_rank(self, staff_row_id: str) -> SourceRank:
        found = self.db.execute(
            f"SELECT rank FROM {STAFF_RANKS} WHERE id = ?", [staff_row_id]
        ).fetchone()
        return SourceRank(found[0]) if found else SourceRank.SIDEBAR

    def known_staff_sources(self) -> set[str]:
        """Every page URL a stored staff publication was seen on."""
        rows = self.db.execute(f"SELECT DISTINCT value FROM {STAFF}, json_each({STAFF}.sources)")
        return {url for (url,) in rows}

    def link_staff_papers(self, when: str) -> int:
        """Make ``staff_papers`` again: each paper (a ``publications`` row with a ``kind``)
        whose title is a staff publication's (the staff id is the rules' key of the title) and
        whose ``issue_date`` or ``published`` agrees with its date. Returns the links."""
        papers = self.db.execute(
            "SELECT site, id, title, issue_date, published FROM publications WHERE kind IS NOT NULL"
        ).fetchall()
        compatible = self.rules.dates_compatible
        links = []
        for site, paper_id, title, issue_date, published in papers:
            found = self.db.execute(
                "SELECT id, date FROM staff_publications WHERE id = ?", [self.rules.staff_id(title)]
            ).fetchone()
            if found and (compatible(found[1], issue_date) or compatible(found[1], published)):
                links.append((found[0], site, paper_id, when))
        with self.db.atomic():
            self.db.execute("DELETE FROM staff_papers")
            self.db.conn.executemany(
                "INSERT INTO staff_papers (staff_id, site, paper_id, linked_at)"
                " VALUES (?, ?, ?, ?)",
                links,
            )
        return len(links)


def _same_but_fetched(old: dict[str, Any], row: dict[str, Any]) -> bool:
    """Two staff rows that differ at most in when they were fetched."""
    return {k: v for k, v in old.items() if k != "fetched_at"} == {
        k: v for k, v in row.items() if k != "fetched_at"
    }
