"""Linked PDF documents: which links are documents, and their text, extracted out of process.

A stored publication links a document when

* its ``url`` is a PDF (a sidebar entry that links the paper itself): the path ends in ``.pdf``;
* its item page has a download link (:func:`download_links`): a link whose path ends in ``.pdf``,
  or whose text reads "Click Here to Download", "Download PDF", "Download the report", …

Each such URL is fetched once (on the spider's allowed hosts only), archived with the pages, and
its text extracted by :func:`extract_text`: pypdf in a worker process
(:mod:`caci_spider.pdfworker`) under a time limit (``CACI_PDF_TIMEOUT``) and a memory cap, so
that no PDF can hang or starve the crawl.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from lxml import etree

from caci_spider.pages.blocks import element_text, parse_html

DOCUMENTS = "documents"
DOCUMENT_LINKS = "document_links"
DOCUMENT_VERSIONS = "document_versions"
EXPORT_NAME = "documents.jsonl"
# document_links.role: what the link is to its row.
ROLE_URL = "url"  # the row's own url is the document
ROLE_DOWNLOAD = "download"  # a download link on the row's item page
ROLE_PAPER = "paper"  # the PDF that is the publication (a Silk Road Paper, monograph, book)
ROLE_CHAPTER = "chapter"  # one chapter's PDF of a book


_DOWNLOAD_TEXT = re.compile(
    r"^\s*(?:click\s+here\s+to\s+download|download(?:\s+(?:the\s+)?"
    r"(?:pdf|full\s+text|paper|report|publication|file|article))?)\b",
    re.IGNORECASE,
)


def is_pdf_url(url: str | None) -> bool:
    """A link to a PDF by its name: the path ends in ``.pdf`` (any case)."""
    if not url or not url.startswith(("http://", "https://")):
        return False
    return urlsplit(url).path.lower().endswith(".pdf")


def download_links(document: str | bytes, page_url: str) -> list[str]:
    """The PDF links of a page, in order, once each: links ending in ``.pdf``, and links whose
    text is a download label ("Click Here to Download", "Download PDF") to a file that is not
    an HTML page. Anchors, mail and script links are never documents."""
    root = parse_html(document)
    found: list[str] = []
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urljoin(page_url, href).split("#")[0]
        path = urlsplit(url).path.lower()
        label = element_text(anchor) if isinstance(anchor, etree._Element) else ""
        labelled = bool(_DOWNLOAD_TEXT.match(label or "")) and not path.endswith((".html", "/"))
        if (is_pdf_url(url) or labelled) and url not in found:
            found.append(url)
    return found


@dataclass(frozen=True)
class Extracted:
    """What the worker made of a PDF: its text, or the reason it has none."""

    ok: bool
    reason: str = ""  # a short category: the reject's reason
    detail: str = ""  # what exactly: the reject's raw text
    pages: int = 0
    title: str | None = None
    author: str | None = None
    text: str = ""


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# Seconds a worker may take to start and answer beyond the time limit before it is killed (the
# limit itself is kept by a CPU-time alarm inside the worker, from the moment it has read the PDF).
STARTUP_GRACE = 30.0


def extract_text(body: bytes, timeout: float) -> Extracted:
    """The text of ``body`` (a PDF), from :mod:`caci_spider.pdfworker` in a process of its own,
    stopped after ``timeout`` seconds of extraction (and killed if it does not answer within
    ``timeout + STARTUP_GRACE``). Blocking: the spider runs it in a thread."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "caci_spider.pdfworker", repr(timeout)],
            input=body,
            capture_output=True,
            timeout=timeout + STARTUP_GRACE,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Extracted(
            False,
            "extraction timed out",
            f"no answer after {timeout + STARTUP_GRACE:g} s: worker killed",
        )
    try:
        result = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return Extracted(False, "extraction failed", f"worker exited {done.returncode}: {why[0]}")
    if not result.get("ok"):
        return Extracted(
            False, str(result.get("reason") or "extraction failed"), str(result.get("detail"))
        )
    return Extracted(
        True,
        pages=int(result["pages"]),
        title=result.get("title"),
        author=result.get("author"),
        text=str(result["text"]),
    )
