"""The extraction upgrade: stored rows made by older page rules, read again from the archive.

Before anything else of an incremental or full run, each stored row of the spider's sections
made by older page rules than this release's (:data:`caci_spider.versions.EXTRACTION_VERSION`)
is read again from its archived page, never the network: the page goes through the spider's
extraction and the pipelines as in ``-a mode=reparse``, and the store keeps what changes as a
version with the reason ``extraction upgrade``. A row whose page the archive lacks keeps its
version and is re-derived when next fetched. Not in ``mode=reparse``, which reads every page of
the archive anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer
from twisted.python.failure import Failure

from caci_spider.archive import ARCHIVED_ONLY
from caci_spider.channels import Channel, channel_of
from caci_spider.failures import failed_request
from caci_spider.storage import PUBLICATIONS
from caci_spider.urls import ItemRef
from caci_spider.versions import EXTRACTION_VERSION


class Upgrade(Channel):
    name = "upgrade"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The requests not answered yet (by row), and what fires when all are.
        self.pending: set[tuple[str, int]] = set()
        self.done: defer.Deferred[None] | None = None

    def connect(self, crawler: Crawler) -> None:
        # A request the scheduler drops gets no callback: an upgrade request must still count.
        crawler.signals.connect(self.upgrade_dropped, signal=signals.request_dropped)

    async def first_requests(self) -> AsyncIterator[scrapy.Request]:
        """The upgrade's requests, then a wait until every one is answered (nothing else of the
        run is asked for before: the canaries read the rows it re-derives)."""
        requests = self.upgrade_requests()
        done = self.done
        for request in requests:
            yield request
        if requests and done is not None:
            await maybe_deferred_to_future(done)

    def upgrade_requests(self) -> list[scrapy.Request]:
        """A request per outdated stored row of the spider's sections, served by the page
        archive only (see the module's docstring); ``done`` fires when all are answered."""
        spider = self.spider
        if spider.export_table != PUBLICATIONS or spider.mode == "reparse":
            return []
        if not self.settings.getbool("HTTPCACHE_ENABLED"):
            return []  # no archive to read: the rows are re-derived as their pages are fetched
        rows = self.store.database.outdated_publications(
            (target.site, target.category) for target in spider.targets
        )
        ledger = self.ledger
        requests = []
        for row in rows:
            target = ledger.target_of_url(row["url"])
            ref = target.ref(row["url"], row["url"]) if target is not None else None
            if target is None or ref is None or ref.id != row["id"]:
                continue
            ledger.upgrading.add(spider.item_key(ref))
            requests.append(
                self.request(
                    ref.url,
                    "parse_upgrade",
                    "upgrade_failed",
                    cb_kwargs={"ref": ref, "listing_title": row["title"], "target": target.key},
                    # The archive only: a night's upgrade costs the site nothing. Not filtered:
                    # the walk may still ask the site for this page (mode=full).
                    meta={ARCHIVED_ONLY: True, "dont_obey_robotstxt": True},
                    dont_filter=True,
                    priority=3,
                )
            )
        # By row, not by request: a resumed run (JOBDIR) may hold this run's requests twice.
        self.pending = set(ledger.upgrading)
        if requests:
            self.done = defer.Deferred()
            self.logger.info(
                "Extraction upgrade: %d stored rows were made by older page rules than this "
                "release's (version %d); reading them again from the page archive first",
                len(requests), EXTRACTION_VERSION,
            )  # fmt: skip
        return requests

    def parse_upgrade(
        self, response: Response, ref: ItemRef, target: str | None = None, **context: Any
    ) -> Iterator[Any]:
        # Read from the archive, not the site: its row is not "unchanged" in the run line.
        self.ledger.archived_pages.update({response.url, ref.url})
        try:
            yield from self.spider.read_item(response, ref, self.spider.target(target), **context)
        finally:
            self.upgrade_answered(ref)

    def upgrade_failed(self, failure: Failure) -> Iterator[Any]:
        """No archived copy (or an unreadable one): the row keeps its version and is re-derived
        when next fetched."""
        request = failed_request(failure)
        self.inc("caci/upgrade/not_archived")
        # Counted on the run line; one line per page only in a debug log.
        self.logger.debug(
            "Extraction upgrade: no archived page for %s (%s): the row keeps its version until "
            "its page is fetched again",
            request.url, failure.getErrorMessage()[:200],
        )  # fmt: skip
        self.ledger.upgrading.discard(self.spider.item_key(request.cb_kwargs["ref"]))
        self.upgrade_answered(request.cb_kwargs["ref"])
        yield from ()

    def upgrade_dropped(self, request: scrapy.Request) -> None:
        if request.meta.get(ARCHIVED_ONLY) and channel_of(request) == self.name:
            self.ledger.upgrading.discard(self.spider.item_key(request.cb_kwargs["ref"]))
            self.upgrade_answered(request.cb_kwargs["ref"])

    def upgrade_answered(self, ref: ItemRef) -> None:
        self.pending.discard(self.spider.item_key(ref))
        if not self.pending and self.done is not None:
            done, self.done = self.done, None
            # On the next turn of the event loop: the last page's items are through the pipelines.
            call_later(0, done.callback, None)
