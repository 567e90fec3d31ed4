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
from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, TypeVar

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import Response, TextResponse
from scrapy.settings import Settings
from twisted.python.failure import Failure

from caci_spider.items import Reject
from caci_spider.ledger import RunLedger
from caci_spider.store import DatabaseStore, ledger_of, store_of
from caci_spider.targets import Target
from caci_spider.urls import ItemRef

# Request meta: (channel name, method for the answer, method for a failure).
CHANNEL = "caci_channel"
ChannelT = TypeVar("ChannelT", bound="Channel")


class Walker(Protocol):
    """What a channel sees of the spider it is part of
    (:class:`caci_spider.spiders.base.K2CategorySpider`): its run, its targets and its walk."""

    @property
    def crawler(self) -> Crawler: ...
    @property
    def logger(self) -> logging.LoggerAdapter[logging.Logger]: ...
    @property
    def name(self) -> str: ...
    @property
    def mode(self) -> str: ...
    @property
    def walk(self) -> str: ...
    @property
    def export_table(self) -> str: ...
    @property
    def targets(self) -> list[Target]: ...
    @property
    def allowed_domains(self) -> list[str]: ...
    @property
    def sister_spiders(self) -> tuple[str, ...]: ...
    def target(self, key: str | None = None) -> Target: ...
    def channel(self, kind: type[ChannelT]) -> ChannelT: ...
    def channel_answered(self, response: Response, **kwargs: Any) -> Any: ...
    def channel_failed(self, failure: Failure) -> Any: ...
    def item_key(self, ref: ItemRef) -> tuple[str, int]: ...
    def needs_fetch(self, key: Any) -> bool: ...
    def backed_off_urls(self) -> set[str]: ...
    def fallback_of(self, response: Response) -> str: ...
    def listing_request(self, start: int, key: str | None = None) -> scrapy.Request: ...
    def walk_requests(self, reason: str, target: Target) -> list[scrapy.Request]: ...
    def item_request(
        self, ref: ItemRef, listing_title: str | None, key: str | None = None, **extra: Any
    ) -> scrapy.Request: ...
    def read_item(
        self, response: Response, ref: ItemRef, section: Target, **context: Any
    ) -> Iterator[Any]: ...
    def reextract(self, response: TextResponse, row: dict[str, Any]) -> dict[str, Any]: ...
    def fetch_failed(self, failure: Failure) -> Iterator[Reject]: ...
    def reject(
        self, url: str, reason: str, raw: str | None = None, status: int | None = None
    ) -> Reject: ...


class Channel:
    """One way of learning items, composed into a spider (see the module's docstring)."""

    name: ClassVar[str] = ""

    def __init__(self, spider: Walker) -> None:
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
