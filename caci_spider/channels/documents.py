"""Linked PDF documents (:mod:`caci_spider.documents`): fetched once a run, after the pages, on
the allowed hosts only, their text extracted in a worker process and stored in ``documents``."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads
from twisted.python.failure import Failure

from caci_spider import documents
from caci_spider.channels import Channel
from caci_spider.failures import failed_request
from caci_spider.items import Reject, utc_now
from caci_spider.targets import on_hosts


class Documents(Channel):
    name = "documents"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Documents an incremental run need not fetch (stored, or backed off), and those asked
        # for already in this run.
        self.known: set[str] = set()
        self.requested: set[str] = set()

    def begin(self) -> None:
        if self.spider.mode == "incremental":
            self.known = self.store.database.document_urls() | self.spider.backed_off_urls()

    def document_requests(self, urls: list[str]) -> Iterator[scrapy.Request]:
        """A request per PDF not fetched yet in this run (an incremental run: never stored
        before), on the allowed hosts only; a PDF elsewhere is linked, never fetched."""
        for url in urls:
            if url in self.requested:
                continue
            self.requested.add(url)
            if not on_hosts(url, self.spider.allowed_domains):
                self.inc("caci/documents/off_site")
                self.logger.info("Document %s is off the allowed hosts: linked, not fetched", url)
                continue
            if self.spider.mode == "incremental" and url in self.known:
                continue
            self.inc("caci/documents/requested")
            yield self.request(
                url,
                "parse_document",
                "document_failed",
                meta={
                    "download_maxsize": self.settings.getint("CACI_PDF_MAXSIZE"),
                    "download_warnsize": 0,
                },
                # After the pages: a document never holds up the listing walk.
                priority=-1,
            )

    async def parse_document(self, response: Response) -> AsyncIterator[Any]:
        """Extract the PDF's text in a worker process (run from a thread: the crawl goes on
        meanwhile); a PDF without readable text is a reject and never touches stored text."""
        fallback = self.spider.fallback_of(response)
        if fallback:
            self.logger.warning("Document %s %s", response.url, fallback)
        url = response.request.url if response.request is not None else response.url
        body = response.body
        timeout = self.settings.getfloat("CACI_PDF_TIMEOUT")
        result: documents.Extracted = await maybe_deferred_to_future(
            threads.deferToThread(documents.extract_text, body, timeout)
        )
        if not result.ok:
            self.inc("caci/documents/rejected")
            yield self.spider.reject(url, result.reason, raw=result.detail or None)
            return
        row = {
            "url": url,
            "sha256": documents.sha256(body),
            "bytes": len(body),
            "pages": result.pages,
            "title": result.title,
            "author": result.author,
            "text": result.text,
            "fetched_at": utc_now(),
        }
        try:
            outcome = self.store.database.store_document(row, self.spider.name)
        except sqlite3.Error as error:
            self.store.write_failed(url, error)
            return
        self.inc(f"caci/documents/{outcome}")
        self.logger.info("Document %s (%d pages): %s", url, result.pages, outcome)

    def document_failed(self, failure: Failure) -> Iterator[Reject]:
        """A PDF that could not be fetched: over CACI_PDF_MAXSIZE, an error answer, …"""
        request = failed_request(failure)
        message = failure.getErrorMessage()
        if "max size" in message:
            self.inc("caci/documents/rejected")
            maxsize = self.settings.getint("CACI_PDF_MAXSIZE")
            yield self.spider.reject(
                request.url,
                "larger than CACI_PDF_MAXSIZE",
                raw=f"not downloaded: {maxsize} bytes at most ({message[:300]})",
            )
            return
        for reject in self.spider.fetch_failed(failure):
            self.inc("caci/documents/rejected")
            yield reject
