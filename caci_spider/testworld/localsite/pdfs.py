"""Test PDFs, written by hand: the local site serves them and the tests and the PDF benchmark
read them (:mod:`benchmarks.pdf`).

:func:`write_pdf` is a minimal PDF writer (one standard font, ``BT``/``ET`` text objects, an
xref table): every good test PDF has a text layer whose words are known (:data:`GOOD`), so that
extraction can be checked word for word. :func:`test_pdfs` builds every good and bad case the
crawler must survive (:data:`BAD_REASONS` names the reject each bad one must end in).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

PDF_PATH = "/images/pdf/"
# The bomb's content stream inflates to this many bytes (zeros; about 250 KiB compressed).
BOMB_INFLATED = 256 * 1024 * 1024
# Text operators in the slow PDF's pages: extraction takes seconds (see SLOW_PAGES).
SLOW_PAGES = 40
SLOW_LINES_PER_PAGE = 2500


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_content(lines: Sequence[str]) -> bytes:
    """A page's content stream: one text object, a line per string."""
    shown = b" T*\n".join(b"(" + _escape(line) + b") Tj" for line in lines)
    return b"BT\n/F1 11 Tf\n14 TL\n72 760 Td\n" + shown + b"\nET\n"


def write_pdf(
    pages: Sequence[bytes],
    info: dict[str, str] | None = None,
    compress: bool = False,
    image_pages: Sequence[int] = (),
    raw_streams: dict[int, bytes] | None = None,
) -> bytes:
    """A PDF whose pages draw the given content streams with Helvetica (``/F1``).

    ``compress`` flate-encodes the streams; a page index in ``image_pages`` also gets a 1×1
    image XObject (``/Im1``); ``raw_streams`` gives a page an already flate-encoded stream.
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    tree = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = add(
        b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream"
    )
    kids = []
    for index, content in enumerate(pages):
        if raw_streams and index in raw_streams:
            data, extra = raw_streams[index], b" /Filter /FlateDecode"
        elif compress:
            data, extra = zlib.compress(content), b" /Filter /FlateDecode"
        else:
            data, extra = content, b""
        stream = add(b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream")
        xobject = b" /XObject << /Im1 %d 0 R >>" % image if index in image_pages else b""
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792]"
                b" /Resources << /Font << /F1 %d 0 R >>%s >> /Contents %d 0 R >>"
                % (tree, font, xobject, stream)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % tree
    objects[tree - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info_ref = None
    if info:
        entries = b" ".join(b"/%s (%s)" % (k.encode(), _escape(v)) for k, v in info.items())
        info_ref = add(b"<< " + entries + b" >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info_ref:
        trailer += b" /Info %d 0 R" % info_ref
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


@dataclass(frozen=True)
class GoodPdf:
    name: str
    title: str
    author: str
    pages: tuple[tuple[str, ...], ...]

    @property
    def text(self) -> str:
        """The text a faithful extraction gives: lines joined by newlines, pages by \\f."""
        return "\f".join("\n".join(lines) for lines in self.pages)


GOOD = (
    GoodPdf(
        "caspian-energy-paper",
        "Caspian Energy after the War",
        "Svante E. Cornell",
        (
            (
                "Caspian Energy after the War",
                "The Middle Corridor carries oil and gas from Baku to the Black Sea.",
                "Kazakhstan's exports now travel across the Caspian by tanker.",
            ),
            (
                "Pipelines through Georgia remain the backbone of the route.",
                "Investors weigh the costs of a trans-Caspian pipeline carefully.",
            ),
        ),
    ),
    GoodPdf(
        "central-asia-pandemic-report",
        "Central Asia after the Pandemic",
        "S. Frederick Starr",
        (
            (
                "Remittances from Russia fell sharply in the spring of 2020.",
                "Uzbekistan reopened its borders to regional trade within months.",
                "The report finds that regional cooperation deepened during the crisis.",
            ),
        ),
    ),
)

# The reject reason (its beginning) each bad test PDF must end in.
BAD_REASONS = {
    "not-a-pdf": "not a PDF",
    "truncated": "truncated PDF",
    "encrypted": "encrypted PDF",
    "scanned": "no text layer",
    "bomb": "decompression bomb",
    "oversized": "larger than CACI_PDF_MAXSIZE",
    "slow": "extraction timed out",
}
# Bytes of the oversized PDF: over the tests' -s CACI_PDF_MAXSIZE (1 MiB), under the default.
OVERSIZED_BYTES = 2 * 1024 * 1024
TEST_MAXSIZE = 1024 * 1024


def good_pdf(pdf: GoodPdf) -> bytes:
    return write_pdf(
        [text_content(lines) for lines in pdf.pages],
        {"Title": pdf.title, "Author": pdf.author, "Producer": "caci_spider test PDF"},
        compress=True,
    )


def _bomb() -> bytes:
    compressor = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(BOMB_INFLATED // len(chunk))]
    parts.append(compressor.flush())
    return write_pdf([b""], raw_streams={0: b"".join(parts)})


def _encrypted() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(good_pdf(GOOD[0]))))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def slow_pdf(pages: int = SLOW_PAGES, lines_per_page: int = SLOW_LINES_PER_PAGE) -> bytes:
    lines = [f"Line {n} of a long table of figures" for n in range(lines_per_page)]
    return write_pdf([text_content(lines)] * pages, compress=True)


@cache
@cache
def section_pdf(lines: tuple[str, ...]) -> bytes:
    """The PDF an article section's item links (a feature article's full text): one page with
    ``lines`` (its title and authors) as its text."""
    printable = tuple(line.encode("cp1252", "replace").decode("cp1252") for line in lines)
    return write_pdf([text_content(printable)], info={"Title": printable[0]})


def test_pdfs() -> dict[str, bytes]:
    """Every test PDF by name (``<name>.pdf`` on the local site), built once a process."""
    good = {pdf.name: good_pdf(pdf) for pdf in GOOD}
    first = good[GOOD[0].name]
    # Comment lines in a content stream: still a well-formed PDF, only too large.
    padding = b"%" + b"x" * 78 + b"\n"
    oversized = write_pdf([text_content(["A large annex."]) + padding * (OVERSIZED_BYTES // 80)])
    return {
        **good,
        "not-a-pdf": (
            b"<!DOCTYPE html><html><head><title>404 - Error</title></head><body>"
            b"<h1>404 - Article not found</h1><p>The requested page cannot be found.</p>"
            b"</body></html>"
        ),
        "truncated": first[: len(first) // 2],
        "encrypted": _encrypted(),
        "scanned": write_pdf([b"q 100 0 0 100 72 600 cm /Im1 Do Q\n"], image_pages=(0,)),
        "bomb": _bomb(),
        "oversized": oversized,
        "slow": slow_pdf(),
    }
