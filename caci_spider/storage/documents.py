"""``documents``, ``document_versions`` and ``document_links``: linked PDFs
(:mod:`caci_spider.documents`) and the rows that link them."""

from __future__ import annotations

from typing import Any

from caci_spider.contract import sqlite_columns
from caci_spider.storage.common import DOCUMENTS, upsert_sql
from caci_spider.storage.rejects import RejectsMixin

_DOCUMENT_COLUMNS = tuple(sqlite_columns(DOCUMENTS))
_UPSERT_DOCUMENT = upsert_sql(DOCUMENTS, _DOCUMENT_COLUMNS, ("url",))
_UPSERT_DOCUMENT_VERSION = upsert_sql(
    "document_versions", tuple(sqlite_columns("document_versions")), ("url", "sha256")
)
_UPSERT_DOCUMENT_LINK = upsert_sql(
    "document_links",
    tuple(sqlite_columns("document_links")),
    ("document_url", "item_table", "site", "item_id"),
)


class DocumentsMixin(RejectsMixin):
    def document(self, url: str) -> dict[str, Any] | None:
        rows = list(self.db.table(DOCUMENTS).rows_where("url = ?", [url]))
        return rows[0] if rows else None

    def document_urls(self) -> set[str]:
        """Every document whose text is stored: an incremental run does not fetch them again."""
        return {url for (url,) in self.db.execute(f"SELECT url FROM {DOCUMENTS}").fetchall()}

    def store_document(self, row: dict[str, Any], spider: str) -> str:
        """Upsert a document's extracted text; ``new``, ``updated`` or ``unchanged``.

        New bytes (another sha256) keep the previous text in ``document_versions``; only a
        successful extraction is ever stored, so a failed one never replaces stored text.
        """
        with self.db.atomic():
            old = self.document(row["url"])
            if old is not None and old["sha256"] == row["sha256"] and old["text"] == row["text"]:
                outcome = "unchanged"
            else:
                outcome = "new" if old is None else "updated"
            if old is not None and old["sha256"] != row["sha256"]:
                self.db.execute(
                    _UPSERT_DOCUMENT_VERSION,
                    [old[k] for k in ("url", "sha256", "pages", "text", "fetched_at")],
                )
            if outcome != "unchanged":
                self.db.execute(_UPSERT_DOCUMENT, [row[c] for c in _DOCUMENT_COLUMNS])
            self.clear_rejects(spider, row["url"])
        return outcome

    def link_document(
        self, document_url: str, item_table: str, site: str, item_id: str, role: str, when: str
    ) -> None:
        """Record that a row (``item_table``, ``site``, ``item_id``: a staff row's site is
        ``silkroadstudies``) links a document (its own url, a download link, a ``pdf_url``)."""
        self.db.execute(
            _UPSERT_DOCUMENT_LINK, [document_url, item_table, site, item_id, role, when]
        )
