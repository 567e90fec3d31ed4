"""Canaries: a few stored items fetched again each run, to see that their pages still read the
same (:func:`caci_spider.selfcheck.canary_problems` judges them).

Incremental runs only: ``full`` refetches every item (and judges their coverage), ``reparse``
reads the archive that the rows came from. Each target has its own ``CACI_CANARY_ITEMS``
canaries, among its own site's and section's rows, compared by its spider class's
``canary_fields`` and ``canary_compared``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from caci_spider.channels import Channel
from caci_spider.failures import failed_request, failure_reason, http_status
from caci_spider.items import is_empty, utc_now
from caci_spider.ledger import CanaryResult
from caci_spider.middlewares import HostDidNotAnswer
from caci_spider.quality import FieldDifference, differences
from caci_spider.storage import PUBLICATIONS, STAFF_SITE

if TYPE_CHECKING:
    from caci_spider.targets import Target

# Canary pages tried in turn when the site no longer has one (404/410).
CANARY_ATTEMPTS = 3


class Canaries(Channel):
    name = "canaries"

    def canary_requests(self) -> list[scrapy.Request]:
        count = self.settings.getint("CACI_CANARY_ITEMS")
        if self.spider.mode != "incremental" or count <= 0:
            return []
        requests = []
        for target in self.spider.targets:
            if not target.policy.canary_fields:
                continue
            for row in self.canary_candidates(target, count):
                request = self.canary_request(row, 1, target.key)
                if request is not None:
                    requests.append(request)
        return requests

    def canary_candidates(self, target: Target, count: int) -> list[dict[str, Any]]:
        """Stored rows of the target's site and section to check, oldest check first."""
        spider = self.spider
        scope = [(target.site, target.category)] if spider.export_table == PUBLICATIONS else None
        return self.store.database.canary_candidates(spider.name, spider.export_table, count, scope)

    def canary_request(
        self, row: dict[str, Any], attempt: int, key: str | None = None
    ) -> scrapy.Request | None:
        target = self.spider.target(key)
        ref = target.ref(row.get("url") or "", row.get("url") or "")
        if ref is None:
            return None
        # The walk must not ask for the same page again: the duplicate filter would drop that
        # request without an answer.
        self.ledger.requested_keys.add(self.spider.item_key(ref))
        for tally in self.ledger.fetch_tallies(target.key):
            tally.requested += 1
        return self.request(
            ref.url,
            "parse_canary",
            "canary_failed",
            cb_kwargs={"row": row, "attempt": attempt, "target": target.key},
            # Today's page, not the archive's: a 304 would re-read yesterday's copy, and a
            # canary's page must not replace the archived one either.
            meta={"dont_cache": True},
            # Before the walk's item pages: a long walk need not end for the verdict.
            priority=1,
        )

    def parse_canary(
        self, response: Response, row: dict[str, Any], attempt: int = 1, target: str | None = None
    ) -> Iterator[Any]:
        spider = self.spider
        policy = spider.target(target).policy
        fallback = spider.fallback_of(response)
        tallies = self.ledger.fetch_tallies(spider.target(target).key)
        if fallback:
            for tally in tallies:
                tally.failed(fallback)
                tally.not_read += 1
            self.note_canary(row, f"fetch failed: {fallback}", [])
            return
        for tally in tallies:
            tally.read += 1
        if not isinstance(response, TextResponse) or response.status != 200:
            self.note_canary(row, f"fetch failed: not a text page ({response.status})", [])
            return
        fresh = spider.reextract(response, row)
        missing = [
            name
            for name in policy.canary_fields
            if not is_empty(row.get(name)) and is_empty(fresh.get(name))
        ]
        differing = differences(
            row,
            fresh,
            policy.canary_compared,
            self.settings.getfloat("CACI_CANARY_MIN_SIMILARITY"),
        )
        self.note_canary(row, "changed" if missing or differing else "ok", missing, differing)
        yield from ()  # a canary never yields an item: its stored row is never overwritten

    def canary_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """A canary that cannot be fetched says nothing about the layout; it is logged and
        recorded, not a reject. One the site no longer has (404/410: removed) is replaced by
        the next candidate, up to ``CANARY_ATTEMPTS`` pages; the last failure counts as an
        item page that could not be read."""
        request = failed_request(failure)
        status = failure_reason(failure)
        if failure.check(HostDidNotAnswer):
            status = "its host did not answer"
        self.note_canary(request.cb_kwargs["row"], f"fetch failed: {status}", [])
        attempt = request.cb_kwargs.get("attempt", 1)
        target = self.spider.target(request.cb_kwargs.get("target"))
        tallies = self.ledger.fetch_tallies(target.key)
        for tally in tallies:
            tally.requested -= 1  # counted again below, as a failure or a new canary
        if http_status(failure) in (404, 410) and attempt < CANARY_ATTEMPTS:
            rows = self.canary_candidates(target, 1)
            replacement = self.canary_request(rows[0], attempt + 1, target.key) if rows else None
            if replacement is not None:
                yield replacement
                return
        for tally in tallies:
            tally.requested += 1
            tally.failed(status)
            if http_status(failure) is None:
                tally.not_read += 1

    def note_canary(
        self,
        row: dict[str, Any],
        outcome: str,
        missing: list[str],
        differing: list[FieldDifference] | None = None,
    ) -> None:
        site = row.get("site") or STAFF_SITE
        result = CanaryResult(str(row["id"]), row["url"], outcome, missing, differing or [], site)
        self.ledger.canary_results.append(result)
        self.inc(f"caci/canary/{outcome.split(':')[0].replace(' ', '_')}")
        if outcome.startswith("fetch failed") and "its host did not answer" not in outcome:
            self.logger.warning("Canary %s (%s): %s", result.key, result.url, outcome)
        store = self.store
        try:
            store.database.record_canary(
                self.spider.name, result.key, result.url, store.run_id, outcome, missing,
                utc_now(), differing=[difference.as_dict() for difference in result.differing],
                site=site,
            )  # fmt: skip
        except sqlite3.Error as error:
            store.write_failed(result.url, error)
