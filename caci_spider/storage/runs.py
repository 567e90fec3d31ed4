"""What runs did and checked: ``crawl_runs``, ``item_runs`` (and the process's own tally of the
rows each run touched), ``listing_walks``, the ``sites`` claim and ``canary_checks``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from caci_spider.storage.common import (
    ANALYST_SITE,
    EXPORTS,
    PUBLICATIONS,
    SITES_TABLE,
    STAFF_SITE,
    StorageBase,
    decode,
    decoded_rows,
    encode,
    in_sections,
    marks,
    upsert_sql,
)
from caci_spider.versions import EXTRACTION_VERSION

UPSERT_ITEM_RUN = upsert_sql(
    "item_runs",
    ("item_table", "site", "item_id", "run_id", "change"),
    ("item_table", "site", "item_id"),
)
_OUTCOME_RANK = {"unchanged": 0, "updated": 1, "new": 2}


class RunsMixin(StorageBase):
    def start_run(self, spider: str, mode: str, started_at: str) -> int:
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO crawl_runs (spider, mode, started_at) VALUES (?, ?, ?)",
                [spider, mode, started_at],
            )
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, values: dict[str, Any]) -> None:
        with self.db.atomic():
            self.db.table("crawl_runs").update(run_id, encode(values))

    def note_change(
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
            self.db.execute(UPSERT_ITEM_RUN, [table, site, str(item_id), run_id, outcome])

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

    def changed_in_run(self, table: str, site: str, item_id: int | str, run_id: int | None) -> bool:
        return self.run_outcomes.get((run_id, table, site, str(item_id))) in ("new", "updated")

    def stored_rows(self, table: str, keys: Iterable[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        """The stored rows of ``keys`` (``(site, id)`` as :meth:`run_keys` gives them; a staff
        row's id alone is its key), in that order, in contract key order; gone ones skipped."""
        exported = EXPORTS[table]
        for site, key in keys:
            if table == PUBLICATIONS:
                cursor = self.db.execute(
                    f"SELECT * FROM [{table}] WHERE site = ? AND id = ?", [site, key]
                )
            else:
                cursor = self.db.execute(f"SELECT * FROM [{table}] WHERE id = ?", [key])
            row = cursor.fetchone()
            if row is not None:
                decoded = decode(dict(zip((d[0] for d in cursor.description), row, strict=True)))
                yield {name: decoded.get(name) for name in exported}

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
            f" WHERE spider IN ({marks(names)}) AND section = ? ORDER BY walked_at DESC LIMIT 1",
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
            if pairs is not None and not pairs:
                return []
            where = "1" if pairs is None else in_sections(pairs, params, "t.")
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
        return decoded_rows(cursor)

    def record_canary(
        self, spider: str, key: str, url: str, run_id: int | None, outcome: str,
        missing: list[str], when: str, differing: list[dict[str, str]] | None = None,
        site: str = ANALYST_SITE,
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
