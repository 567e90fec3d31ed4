"""``rejects``: what could not be stored, with its attempts and when to try the page again."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from caci_spider.backoff import DEFAULT_MAX_DAYS, is_transient, next_attempt_at
from caci_spider.items import Reject, utc_now
from caci_spider.storage.common import StorageBase, marks


class RejectsMixin(StorageBase):
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
            f"SELECT url FROM rejects WHERE spider IN ({marks(names)})"
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
