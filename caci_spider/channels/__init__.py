"""The spider's channels: ways of learning a section's items besides walking its listing.

The base spider (:class:`caci_spider.spiders.base.K2CategorySpider`) walks targets, listings and
items; everything else a run fetches is a :class:`Channel` the spider is composed of
(``K2CategorySpider.channel_types``): the feed-first decision (:mod:`.feedfirst`), the canaries
(:mod:`.canaries`), linked PDF documents (:mod:`.documents`), the extraction upgrade
(:mod:`.upgrade`) and the JSON listing (:mod:`.jsonlisting`). A new channel is one more module
and one more entry there, not more spider.

A channel's requests are answered through the spider (:meth:`Channel.request`): their callback
and errback are the spider's ``channel_answered`` and ``channel_failed``, which hand the answer to
the channel's method named in the request's meta. So they stay spider methods, as Scrapy needs
to keep a stopped run's queue in its ``JOBDIR``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from scrapy.crawler import Crawler
from scrapy.settings import Settings

from caci_spider.ledger import RunLedger
from caci_spider.store import DatabaseStore, ledger_of, store_of

if TYPE_CHECKING:
    from caci_spider.spiders.base import K2CategorySpider
    from caci_spider.spiders.targets import Target

# Request meta: (channel name, method for the answer, method for a failure).
CHANNEL = "caci_channel"


class Channel:
    """One way of learning items, composed into a spider (see the module's docstring)."""

    name: ClassVar[str] = ""

    def __init__(self, spider: K2CategorySpider) -> None:
        self.spider = spider

    def connect(self, crawler: Crawler) -> None:
        """Connect the channel's own signals (once the spider has its crawler)."""

    def begin(self) -> None:
        """Called when the spider starts, before any request (an incremental run knows what it
        has stored by then)."""

    def walk_requests(self, reason: str, target: Target) -> list[scrapy.Request] | None:
        """The first requests of a due walk of ``target``'s whole listing read this channel's
        way (``None``: not this channel's; the spider walks the HTML listing)."""
        return None

    @property
    def crawler(self) -> Crawler:
        return self.spider.crawler

    @property
    def settings(self) -> Settings:
        return self.spider.crawler.settings

    @property
    def ledger(self) -> RunLedger:
        return ledger_of(self.spider.crawler)

    @property
    def store(self) -> DatabaseStore:
        return store_of(self.spider.crawler)

    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]:
        return self.spider.logger

    def inc(self, stat: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(stat, count)

    def request(self, url: str, answered: str, failed: str, **kwargs: Any) -> scrapy.Request:
        """A request whose answer goes to this channel's ``answered`` method (with the
        request's ``cb_kwargs``) and whose failure to its ``failed`` method."""
        meta = {**kwargs.pop("meta", {}), CHANNEL: (self.name, answered, failed)}
        return scrapy.Request(
            url,
            callback=self.spider.channel_answered,
            errback=self.spider.channel_failed,
            meta=meta,
            **kwargs,
        )


def channel_of(request: scrapy.Request) -> str:
    """The name of the channel ``request`` is for (``""``: the walk's own)."""
    route = request.meta.get(CHANNEL)
    return str(route[0]) if route else ""


def route_of(meta: dict[str, Any]) -> tuple[str, str, str]:
    """(channel, method for the answer, method for a failure) of a request's ``meta``."""
    name, answered, failed = meta[CHANNEL]
    return str(name), str(answered), str(failed)
