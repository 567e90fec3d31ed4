"""The PDF text extraction worker: ``python -m caci_spider.pdfworker`` reads a PDF on stdin and
writes one JSON object on stdout, ``{"ok": true, "pages", "title", "author", "text"}`` or
``{"ok": false, "reason"}``.

It runs in a process of its own (:func:`caci_spider.documents.extract_text`), so that a parser
that overruns the time limit is stopped (a CPU-time alarm in the worker; the crawl kills a
worker that does not answer within the limit plus :data:`~caci_spider.documents.STARTUP_GRACE`)
and one that allocates without end hits this process's memory cap (``RLIMIT_AS``), never the
crawl's. Before pypdf reads anything, every flate stream is inflated once, counting bytes, up
to :data:`MAX_INFLATED`: a decompression bomb is refused after inflating that much, in bounded
memory. pypdf's own output limits stay on as a second
guard, and :data:`MAX_PAGES` bounds the pages read.
"""

from __future__ import annotations

import io
import json
import re
import signal
import sys
import zlib
from typing import Any

# All flate streams of one PDF together may inflate to at most this: the text of a long report
# is a few MB; a bomb is hundreds.
MAX_INFLATED = 128 * 1024 * 1024
MAX_PAGES = 5000
# The worker's address space: a parser that allocates past it gets MemoryError.
MEMORY_LIMIT = 1024 * 1024 * 1024
_STREAM = re.compile(rb"(?<!end)stream\r?\n")
_CHUNK = 1024 * 1024


def inflated_size(data: bytes, limit: int = MAX_INFLATED) -> int:
    """The bytes the flate streams of ``data`` inflate to, counted up to ``limit`` (+1 chunk):
    never more than one chunk held at a time."""
    total = 0
    for match in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        view = memoryview(data)[match.end() :]
        position = 0
        try:
            while total <= limit and not inflater.eof:
                chunk: bytes | memoryview
                if inflater.unconsumed_tail:
                    chunk = inflater.unconsumed_tail
                elif position < len(view):
                    chunk = view[position : position + _CHUNK]
                    position += len(chunk)
                else:
                    break
                total += len(inflater.decompress(chunk, _CHUNK))
        except zlib.error:
            continue  # not a flate stream (or a damaged one: pypdf will say)
        if total > limit:
            break
    return total


def _refused(reason: str, detail: str) -> dict[str, Any]:
    """A PDF without readable text: a short reason (a reject's category) and the details."""
    return {"ok": False, "reason": reason, "detail": detail[:500]}


def extract(data: bytes) -> dict[str, Any]:
    """The text of a PDF, or the reason it has none we can read."""
    if b"%PDF-" not in data[:1024]:
        start = data[:40].decode("latin-1").strip().replace("\n", " ")
        return _refused("not a PDF", f"it begins {start!r}")
    if b"%%EOF" not in data[-2048:]:
        return _refused("truncated PDF", "no %%EOF at its end")
    if inflated_size(data) > MAX_INFLATED:
        return _refused(
            "decompression bomb", f"its streams inflate to more than {MAX_INFLATED} bytes"
        )
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return _refused("encrypted PDF", "it needs a password")
        count = len(reader.pages)
        if count > MAX_PAGES:
            return _refused("too many pages", f"{count} > {MAX_PAGES}")
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else None
        author = str(meta.author).strip() if meta and meta.author else None
    except FileNotDecryptedError:
        return _refused("encrypted PDF", "it needs a password")
    except LimitReachedError as error:
        return _refused("decompression bomb", str(error))
    except MemoryError:
        return _refused("decompression bomb", "the worker's memory cap was reached")
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        return _refused("unreadable PDF", f"{type(error).__name__}: {error}")
    if not any(texts):
        return _refused("no text layer", "no page has text: a scanned or image-only PDF")
    return {
        "ok": True,
        "pages": count,
        "title": title or None,
        "author": author or None,
        "text": "\f".join(texts),
    }


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass  # not on this platform: the time limit still holds


class _TimedOut(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _TimedOut


def main(argv: list[str] | None = None) -> int:
    """``python -m caci_spider.pdfworker [SECONDS]``: the time limit is CPU time (user +
    system) from the moment the PDF is read, not wall time from the interpreter's start: a busy
    machine starts processes slowly and shares its cores, and neither is the PDF's doing."""
    arguments = sys.argv[1:] if argv is None else argv
    seconds = float(arguments[0]) if arguments else 0.0
    _limit_memory()
    import pypdf  # noqa: F401  (imported before the clock starts: a slow start is not the PDF's)
    import pypdf._crypt_providers  # noqa: F401

    data = sys.stdin.buffer.read()
    if seconds > 0 and hasattr(signal, "setitimer"):
        signal.signal(signal.SIGPROF, _alarm)
        signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        result = extract(data)
    except _TimedOut:
        result = _refused("extraction timed out", f"after {seconds:g} s (CACI_PDF_TIMEOUT)")
    except MemoryError:
        result = _refused("decompression bomb", "the worker's memory cap was reached")
    except RecursionError:
        result = _refused("unreadable PDF", "nested too deeply")
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_PROF, 0)
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
