"""The feed-first decision: a night reads each section's K2 feed, not its whole listing.

The section's feed (:mod:`caci_spider.sitefeed`) says which ids are new; the listing is walked
only when the feed cannot say (it fails, or every id in it is new), on every run but an
incremental one, on ``-a walk=listing``, for a section that does not read its feed, and when the
section's last complete walk is ``CACI_LISTING_WALK_DAYS`` old. The decision and its reason go
to the ledger's ``sources`` (``crawl_runs.sources``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from caci_spider.channels import Channel
from caci_spider.failures import failed_request, failure_reason, http_status
from caci_spider.middlewares import HostDidNotAnswer
from caci_spider.sitefeed import FeedRefused, feed_path, parse_feed
from caci_spider.urls import ItemRef

if TYPE_CHECKING:
    from caci_spider.targets import Target


class FeedFirst(Channel):
    name = "feed"

    def target_requests(self, target: Target) -> list[scrapy.Request]:
        """Where the crawl of ``target`` begins: its feed, or its first listing page."""
        decided = self.ledger.sources[target.key]
        spider = self.spider
        if decided.source == "listing":
            # A resumed run (JOBDIR) that walks the listing goes on walking it, from the saved
            # queue (this request is a duplicate the scheduler drops), with its reason.
            return [spider.listing_request(0, target.key)]
        if decided.source == "feed":
            return [self.feed_request(target.key)]  # resumed after its feed was asked for
        reason = self.listing_reason(target.key)
        if reason is None:
            return [self.feed_request(target.key)]
        return spider.walk_requests(reason, target)

    def listing_reason(self, key: str | None = None) -> str | None:
        """Why this run walks the target's listing rather than reading its feed first
        (``None``: the feed first). The listing is walked by every run but an incremental one,
        on ``-a walk=listing``, for a section that does not read its feed, and when the
        section's last complete walk (in the database) is missing or ``CACI_LISTING_WALK_DAYS``
        old: items that never reach the top of the feed (back-dated, moved between sections)
        are found within that many days."""
        spider = self.spider
        target = spider.target(key)
        if spider.mode != "incremental":
            return f"mode={spider.mode} walks the listing"
        if spider.walk == "listing":
            return "-a walk=listing"
        if not target.policy.feed_first:
            return target.policy.listing_only_reason
        last = self.store.database.last_listing_walk(
            (spider.name, *spider.sister_spiders), target.category
        )
        if last is None:
            return "no complete listing walk recorded yet"
        days = self.settings.getfloat("CACI_LISTING_WALK_DAYS")
        walked = datetime.fromisoformat(last["walked_at"].replace("Z", "+00:00"))
        age = datetime.now(UTC) - walked
        if age.total_seconds() >= days * 86400:
            return (
                f"the last complete listing walk (run {last['run_id']}, {last['walked_at']}) is "
                f"{age.total_seconds() / 86400:.1f} days old, CACI_LISTING_WALK_DAYS is {days:g}"
            )
        return None

    # -- the feed: a couple of requests for a night with nothing new ---------------------------
    def feed_request(self, key: str | None = None) -> scrapy.Request:
        target = self.spider.target(key)
        url = f"{target.base_url}/{feed_path(target.section.path)}"
        source = self.ledger.sources[target.key]
        source.source = "feed"
        source.feed_url = url
        return self.request(
            url,
            "parse_feed",
            "feed_failed",
            cb_kwargs={"target": target.key},
            meta={
                # Today's feed, never the archive's copy, and never archived.
                "dont_cache": True,
                # 10 items of intro text are a few KiB: more is junk, refused unread.
                "download_maxsize": self.settings.getint("CACI_FEED_MAXSIZE"),
                "download_warnsize": 0,
            },
            priority=2,
        )

    def parse_feed(self, response: Response, target: str | None = None) -> Iterator[Any]:
        spider = self.spider
        section = spider.target(target)
        source = self.ledger.sources[section.key]
        try:
            entries = parse_feed(
                response.body,
                response.url,
                section.base_url,
                section.section.path,
                max_size=self.settings.getint("CACI_FEED_MAXSIZE"),
            )
        except FeedRefused as refused:
            yield from self.fall_back_to_listing(str(refused), key=section.key)
            return
        unique = list({entry.ref.id: entry for entry in reversed(entries)}.values())[::-1]
        refs = [ItemRef(entry.ref.id, entry.ref.url, section.site) for entry in unique]
        new = [
            (entry, ref)
            for entry, ref in zip(unique, refs, strict=True)
            if spider.needs_fetch(spider.item_key(ref))
        ]
        source.feed_items, source.feed_new = len(unique), len(new)
        self.inc("caci/feed/items", len(unique))
        if len(new) == len(unique):
            # Nothing in the feed is known: more may be new than the feed holds.
            yield from self.fall_back_to_listing(
                f"all {len(unique)} ids in the feed are new: more may be new than it holds",
                warn=False,
                key=section.key,
            )
            return
        source.reason = f"{len(unique)} items in the feed, {len(new)} new"
        self.logger.info("Feed %s: %s", response.url, source.reason)
        requested = self.ledger.requested_keys
        for entry, ref in new:
            if spider.item_key(ref) in requested:
                continue
            requested.add(spider.item_key(ref))
            # The feed's title only stands in for an empty one on the page (as the listing's).
            yield spider.item_request(ref, entry.title, section.key)

    def feed_failed(self, failure: Failure) -> Iterator[Any]:
        key = failed_request(failure).cb_kwargs.get("target")
        if failure.check(HostDidNotAnswer):
            # Its listing would be dropped too: nothing to fall back to this run.
            source = self.ledger.sources[self.spider.target(key).key]
            source.reason = f"not read: {failure.getErrorMessage()}"
            return
        code = http_status(failure)
        message = failure.getErrorMessage()
        if code is not None:
            reason = f"the feed answered HTTP {code}"
        elif "max size" in message:
            reason = (
                "the feed is larger than CACI_FEED_MAXSIZE "
                f"({self.settings.getint('CACI_FEED_MAXSIZE')} bytes), refused unread"
            )
        else:
            reason = f"the feed could not be fetched ({failure_reason(failure)})"
        yield from self.fall_back_to_listing(reason, key=key)

    def fall_back_to_listing(
        self, reason: str, warn: bool = True, key: str | None = None
    ) -> Iterator[scrapy.Request]:
        target = self.spider.target(key)
        (self.logger.warning if warn else self.logger.info)(
            "Feed of %s not used: %s; walking the listing", target.category, reason
        )
        self.ledger.sources[target.key].use_listing(
            reason if not warn else f"feed failed: {reason}"
        )
        yield self.spider.listing_request(0, target.key)
