"""The data contract, declared once: every table's and view's columns, types, order and meaning.

Everything else is derived from :data:`TABLES` and :data:`VIEWS`:

* the SQLite schema (:mod:`caci_spider.storage` creates and migrates tables from
  :func:`sqlite_columns`, :attr:`Table.pk`, :attr:`Table.fts`, :attr:`View.sql`);
* the JSON Lines key order (:func:`export_keys`; ``items.CONTRACT_KEYS`` and
  ``items.STAFF_KEYS`` are checked against it);
* the contract tables of the documentation's data page, ``docs/data.md`` (:func:`page_block`,
  written between ``<!-- contract: … -->`` markers);
* the Datasette configuration and metadata (:func:`datasette_config`,
  :func:`datasette_metadata`): descriptions, facets, default sort, hidden columns, canned
  queries.

``python -m caci_spider.contract --datasette datasette --page docs/data.md`` rewrites the
generated files; ``--check`` exits 1 naming every file that drifted (``tests/test_contract.py``
runs it). Adding a column is one :class:`Column` in its table: a ``facet`` on it makes it a
Datasette facet, ``derived`` computes it in SQLite only (:func:`derive`), ``hidden`` hides it in
Datasette's table view.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

Facet = Literal["column", "array"]

SOURCE_URL = "https://www.cacianalyst.org"
STAFF_SOURCE_URL = "https://www.silkroadstudies.org"
DATABASE = "caci"  # Datasette names a database after its file: exports/caci.db


@dataclass(frozen=True)
class Column:
    name: str
    type: type  # int, str or float: the SQLite column type
    meaning: str  # one line: the data page's rule and Datasette's column description
    shape: str = ""  # what a reader gets, if not the type: "list[str]", "object"
    nullable: bool = False
    facet: Facet | None = None  # a Datasette facet by default
    derived: bool = False  # computed in SQLite from other columns (derive()); not exported
    hidden: bool = False  # left out of Datasette's table view (still in JSON, CSV, row pages)

    @property
    def is_json(self) -> bool:
        return self.shape.startswith(("list", "object"))

    @property
    def label(self) -> str:
        shape = self.shape or self.type.__name__
        return f"{shape} or null" if self.nullable else shape


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    pk: tuple[str, ...]
    fts: tuple[str, ...] = ()  # FTS5 columns, kept in sync by triggers
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    export: str = ""  # the JSON Lines file holding its rows
    sort_desc: str = ""  # Datasette's default order: newest first
    label_column: str = ""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class View:
    name: str
    description: str
    columns: tuple[Column, ...]
    sql: str
    sort_desc: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    description: str
    sql: str
    params: tuple[str, ...] = field(default=())


def _year_month(value: Any) -> tuple[int | None, int | None]:
    """``2024`` → (2024, None), ``2024-07`` and ``2024-07-15`` → (2024, 7)."""
    text = str(value or "")
    year = int(text[:4]) if text[:4].isdigit() else None
    month = int(text[5:7]) if year and text[4:5] == "-" and text[5:7].isdigit() else None
    return year, month


YEAR_MONTH_FROM: dict[str, str] = {"publications": "published", "staff_publications": "date"}


# An item URL's K2 category: the path segment before ``/item/`` (``…/publications/field-reports
# /item/7315-….html`` → ``field-reports``; ``…/forums-and-events/item/…`` → ``forums-and-events``).
_ITEM_CATEGORY = re.compile(r"/([\w-]+)/item/")
# The columns each table's derived columns are computed from (derive()).
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "publications": ("published", "url"),
    "staff_publications": ("date",),
}


def item_category(url: str | None) -> str | None:
    """The K2 category of an item URL (its section's), or None for a URL of no category."""
    found = _ITEM_CATEGORY.search(url or "")
    return found[1] if found else None


def derive(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """The derived columns of a row (year and month of its date; a publication's category), from
    its other columns."""
    source = YEAR_MONTH_FROM.get(table)
    if source is None:
        return {}
    year, month = _year_month(row.get(source))
    if table == "publications":
        return {"year": year, "month": month, "category": item_category(row.get("url"))}
    return {"year": year, "month": month}


def _year(source: str) -> Column:
    return Column(
        "year", int, f"the year of `{source}`, for sorting and facets", nullable=True,
        facet="column", derived=True,
    )  # fmt: skip


def _month(source: str) -> Column:
    return Column(
        "month", int, f"the month (1–12) of `{source}` where it gives one", nullable=True,
        derived=True,
    )  # fmt: skip


PUBLICATIONS = Table(
    "publications",
    "Publications of the Central Asia-Caucasus Analyst (field reports, analytical articles, "
    "feature articles, news digests), The Turkey Analyst and the institute's silkroadstudies.org "
    "(Silk Road Papers and Monographs, news, events): one row per site and K2 item.",
    (
        Column("id", int, "K2 item id from the URL (`/item/7315-…` → 7315); with `site`, the identity of a publication"),
        Column("site", str, "the site's profile key (`caci_spider/sources.py`): `cacianalyst`, `turkeyanalyst` or `silkroadstudies`; a K2 id is unique only within its site", facet="column"),
        Column("url", str, "the site's base URL (`CACI_BASE_URL`, `TURKEY_ANALYST_BASE_URL`, `SILKROAD_BASE_URL`) + `/publications/<category>/item/<id>-<alias>.html` of the item's own section (`/<category>/item/…` for silkroadstudies.org's news and events), no query, no fragment"),
        Column("section", str, 'the K2 category, from "Published in …" on the item page: "Field Reports", "Analytical Articles", "Feature Articles", "News Digest"; the Turkey Analyst\'s "Articles"', nullable=True, facet="column"),
        Column("kind", str, 'the type label a Silk Road Paper, monograph or book prints ("Silk Road Paper", "Book", "Monograph", "Policy Paper", as printed); null for every other section', nullable=True, facet="column"),
        Column("title", str, "as published (uppercase stays), whitespace collapsed, escapes fixed, mojibake repaired, \"Featured\" badge removed; an empty `itemTitle` falls back to `og:title`, then `<title>`, then the listing's title"),
        Column("authors", str, "person names only, in byline order (docs/data.md, “Authors”); `By empty` → `[]`", shape="list[str]", facet="array"),
        Column("published", str, "`YYYY-MM-DD` from the item's date line", nullable=True),
        Column("issue_date", str, "the date the byline gives (docs/data.md, “Issue date”); a paper's printed month as `YYYY-MM`", nullable=True),
        Column("issue", str, "an issue designation that is not a date: `(vol. 2, no. 3 of the Turkey Analyst)` → `vol. 2, no. 3`; null elsewhere", nullable=True),
        Column("byline", str, "as published: for 2000–14 items the whole `By … (… issue of the CACI Analyst)` paragraph (the Turkey Analyst's `By … (vol. 2, no. 3 of the Turkey Analyst)`); for 2015+ the name line only, with or without \"By\"", nullable=True),
        Column("body", str, "paragraphs joined by one blank line (`\\n\\n`)"),
        Column("author_bio", str, "an `AUTHOR'S BIO:` paragraph without its label (older analytical articles); not in `body`", nullable=True),
        Column("pdf_url", str, "the absolute URL of the publication's PDF (\"Read <title> (PDF)\", \"Click here to download PDF\"); the link's text is not in `body`", nullable=True),
        Column("hits", int, '"Read 4672 times" → 4672', nullable=True),
        Column("modified", str, '`YYYY-MM-DD` from "Last modified on …"', nullable=True),
        Column("tags", str, "K2 tags where shown, else `[]`", shape="list[str]", facet="array"),
        Column("word_count", int, "whitespace-separated tokens in body"),
        Column("content_hash", str, "sha256 hex digest of the UTF-8 body", hidden=True),
        Column("fetched_at", str, "ISO 8601 UTC time of the fetch (`2026-11-27T17:49:47Z`)"),
        Column("extraction_version", int, "the version of the page rules that made the row (`caci_spider/versions.py`); a newer release reads an older row again from its archived page; null: made before versions were recorded", nullable=True, hidden=True),
        _year("published"),
        _month("published"),
        Column("category", str, "the K2 category of the item's own section, from `url` (`/publications/field-reports/item/…` → `field-reports`): a section's rows are the rows of its site and category", nullable=True, derived=True),
    ),
    pk=("site", "id"),
    fts=("title", "body"),
    indexes=(("site", "content_hash"),),
    export="field_reports.jsonl",
    sort_desc="published",
    label_column="title",
)  # fmt: skip

STAFF_PUBLICATIONS = Table(
    "staff_publications",
    "Publications of the institute's staff: the Analyst's sidebar and the institute's full "
    "listing, one row per publication.",
    (
        Column("id", str, "12 hex digits of sha256 of the normalised title (case, quotes, punctuation, whitespace folded); stable across runs. A different publication with the same title but an incompatible date gets the hash of title + date"),
        Column("kind", str, 'the sidebar\'s type label ("Silk Road Paper", "Analysis", "Book", …), else null', nullable=True, facet="column"),
        Column("title", str, "without wrapping quotes or trailing comma"),
        Column("authors", str, 'in order; "ed." marks an editor (see roles)', shape="list[str]", facet="array"),
        Column("roles", str, '`{"Svante E. Cornell": "editor"}`, may be empty', shape="object"),
        Column("venue", str, '"Civil Georgia", "The American Interest", …', nullable=True),
        Column("date", str, "as precise as the source: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; from the listing's venue line, else the item page's venue line, else its K2 date line", nullable=True),
        Column("url", str, "the staff listing's item page where there is one, else the entry's own link", nullable=True),
        Column("summary", str, "paragraphs joined by a blank line", nullable=True),
        Column("sources", str, "the page URLs (sidebar page, listing page, item page) it was seen on", shape="list[str]"),
        Column("fetched_at", str, "ISO 8601 UTC time of the latest observation"),
        _year("date"),
        _month("date"),
    ),
    pk=("id",),
    fts=("title", "authors", "summary"),
    export="staff_publications.jsonl",
    sort_desc="date",
    label_column="title",
)  # fmt: skip

AUTHORS = Table(
    "authors",
    "One row per person, whatever the spelling: the authors of every section, site and staff publication alike. "
    "Every publication of an author: the `author_publications` view.",
    (
        Column("id", int, "the author's id"),
        Column("name", str, "the fullest spelling seen (most words, diacritics kept); every spelling is in `author_aliases`"),
    ),
    pk=("id",),
    indexes=(("name",),),
    label_column="name",
)  # fmt: skip

AUTHOR_ALIASES = Table(
    "author_aliases",
    "Every spelling of an author's name as printed, with the author it was merged into "
    "(same given and family name, differing only in middle names or initials, case or "
    "diacritics, where unambiguous).",
    (
        Column("alias", str, "the name as printed in a byline or a staff author line"),
        Column("author_id", int, "the author (`authors.id`)"),
    ),
    pk=("alias",),
    foreign_keys=(("author_id", "authors", "id"),),
    indexes=(("author_id",),),
)  # fmt: skip

PUBLICATION_AUTHORS = Table(
    "publication_authors",
    "Publications and their authors, in byline order.",
    (
        Column("publication_id", int, "the publication (`publications.id`)"),
        Column("site", str, "its site (`publications.site`)", facet="column"),
        Column("position", int, "0 for the first author of the byline, 1 for the next, …"),
        Column("author_id", int, "the author (`authors.id`)"),
    ),
    pk=("site", "publication_id", "position"),
    foreign_keys=(("author_id", "authors", "id"),),
    indexes=(("author_id",),),
)  # fmt: skip

STAFF_PUBLICATION_AUTHORS = Table(
    "staff_publication_authors",
    "Staff publications and their authors, in the order printed, with their role.",
    (
        Column("staff_publication_id", str, "the staff publication (`staff_publications.id`)"),
        Column("position", int, "0 for the first author printed, 1 for the next, …"),
        Column("author_id", int, "the author (`authors.id`)"),
        Column("role", str, '"author", or "editor" where "ed."/"eds." follows the name', facet="column"),
    ),
    pk=("staff_publication_id", "position"),
    foreign_keys=(
        ("staff_publication_id", "staff_publications", "id"),
        ("author_id", "authors", "id"),
    ),
    indexes=(("author_id",),),
)  # fmt: skip

DUPLICATES = Table(
    "duplicates",
    "K2 ids whose body equals a lower id's of the same site: the lower id is the publication, "
    "the higher one is recorded here, not in `publications` nor the exports.",
    (
        Column("id", int, "the duplicate K2 id"),
        Column("site", str, "the site of both (`publications.site`): ids of two sites never duplicate each other", facet="column"),
        Column("duplicate_of", int, "the publication it duplicates (`publications.id` of the same site)"),
        Column("url", str, "its item page"),
        Column("recorded_at", str, "ISO 8601 UTC time it was recorded"),
        Column("run_id", int, "the run that recorded it (`crawl_runs.id`)", nullable=True),
    ),
    pk=("site", "id"),
    sort_desc="recorded_at",
)  # fmt: skip

REJECTS = Table(
    "rejects",
    "What could not be stored, one row per spider, URL, reason and offending text; a row whose page later reads fine, or fails for another reason, is kept as history with `resolved_at` (current rejects: `resolved_at` is null).",
    (
        Column("spider", str, "the spider (`field_reports`, `publications`, `staff_publications`, …)", facet="column"),
        Column("site", str, "the site of the publication the page is (`publications.site`); null for staff publications' pages", nullable=True, facet="column"),
        Column("url", str, "the page"),
        Column("reason", str, 'why: "missing body", "quality: …", "HTTP 404", …', facet="column"),
        Column("raw", str, "the offending text, where there is one", nullable=True),
        Column("status", int, "the HTTP status, for a page that answered an error", nullable=True),
        Column("fetched_at", str, "ISO 8601 UTC time of the failure"),
        Column("raw_key", str, "12 hex digits of sha256 of `raw`: two bad entries of one page stay apart", hidden=True),
        Column("attempts", int, "failures of this page so far"),
        Column("next_attempt_at", str, "when an incremental run tries the page again", nullable=True),
        Column("resolved_at", str, "when a later run read the page fine or recorded a newer reason for it; null: a current reject", nullable=True),
    ),
    pk=("spider", "url", "reason", "raw_key"),
    sort_desc="fetched_at",
)  # fmt: skip

PUBLICATION_VERSIONS = Table(
    "publication_versions",
    "The previous body of every publication whose body changed on a refetch, and the previous values of every row a newer release's page rules read otherwise.",
    (
        Column("id", int, "the publication (`publications.id`)"),
        Column("site", str, "its site (`publications.site`)"),
        Column("content_hash", str, "sha256 hex digest of that body", hidden=True),
        Column("body", str, "the earlier body"),
        Column("fetched_at", str, "when the earlier body was fetched"),
        Column("reason", str, "`page changed` (a refetch brought another body) or `extraction upgrade` (a newer release read the archived page otherwise)", facet="column"),
        Column("previous", str, "the earlier values of the fields that changed, by field (`fetched_at` aside); null in entries kept before it was recorded", shape="object", nullable=True),
    ),
    pk=("site", "id", "content_hash", "reason"),
    sort_desc="fetched_at",
)  # fmt: skip

STAFF_PUBLICATION_VERSIONS = Table(
    "staff_publication_versions",
    "The previous row of every staff publication a later run changed.",
    (
        Column("id", str, "the staff publication (`staff_publications.id`)"),
        Column("row", str, "the whole earlier row, its contract keys as JSON"),
        Column("fetched_at", str, "when the earlier row was observed"),
    ),
    pk=("id", "fetched_at"),
    sort_desc="fetched_at",
)  # fmt: skip

CRAWL_RUNS = Table(
    "crawl_runs",
    "Every run of a spider: what it fetched, stored and rejected, and its self-check.",
    (
        Column("id", int, "the run's number"),
        Column("spider", str, "the spider's name (`publications`, a section spider, `staff_publications`)", facet="column"),
        Column("mode", str, "`incremental`, `full` or `reparse`", facet="column"),
        Column("started_at", str, "ISO 8601 UTC start"),
        Column("finished_at", str, "ISO 8601 UTC end", nullable=True),
        Column("finish_reason", str, "Scrapy's finish reason (`finished`, `banned`, `shutdown`, …)", nullable=True),
        Column("requests", int, "requests sent over the network", nullable=True),
        Column("responses_by_status", str, "responses per HTTP status", shape="object", nullable=True),
        Column("items_new", int, "rows created", nullable=True),
        Column("items_updated", int, "rows changed", nullable=True),
        Column("items_unchanged", int, "rows read again unchanged", nullable=True),
        Column("items_rejected", int, "rejects recorded", nullable=True),
        Column("items_duplicate", int, "duplicates recorded", nullable=True),
        Column("coverage", str, "share of extracted items with a non-empty value of each coverage field (title, authors, published, issue_date, body, hits; issue and pdf_url where a section counts them)", shape="object", nullable=True),
        Column("self_check", str, "`ok` or `failed`", nullable=True, facet="column"),
        Column("problems", str, "the self-check's sentences", shape="list[str]", nullable=True),
        Column("listing_pages", int, "listing pages read live", nullable=True),
        Column("listing_entries", int, "entries on them", nullable=True),
        Column("canaries", str, "each canary's site, key, url, outcome, missing and differing fields", shape="list[object]", nullable=True),
        Column("sources", str, "per section: whether the feed or the listing was read, and why", shape="object", nullable=True),
        Column("sections", str, "per section (by K2 category): site, section spider, source, items new, updated, unchanged and rejected, listing pages and entries, canaries, coverage per field, that section's coverage problems and, in a run of several sections, its read problems (none of its item pages gave a row)", shape="object", nullable=True),
    ),
    pk=("id",),
    sort_desc="id",
)  # fmt: skip

LISTING_WALKS = Table(
    "listing_walks",
    "The last complete walk of each section's listing; feed-first nights walk it again when it is older than `CACI_LISTING_WALK_DAYS`.",
    (
        Column("spider", str, "the spider's name (`publications` walks every section)"),
        Column("section", str, "the K2 category"),
        Column("walked_at", str, "ISO 8601 UTC end of the walk"),
        Column("run_id", int, "the run (`crawl_runs.id`)"),
        Column("entries", int, "distinct entries the walk found"),
    ),
    pk=("spider", "section"),
    sort_desc="walked_at",
)  # fmt: skip

SITES = Table(
    "sites",
    "The sites the database was built from; a crawl of another site into it is refused.",
    (
        Column("setting", str, "`CACI_BASE_URL`, `SILKROAD_BASE_URL` or `TURKEY_ANALYST_BASE_URL`"),
        Column("base_url", str, "the site's base URL"),
        Column("recorded_at", str, "when it was first crawled into this database"),
    ),
    pk=("setting",),
)  # fmt: skip

CANARY_CHECKS = Table(
    "canary_checks",
    "The last canary check of each stored item; the oldest is checked next.",
    (
        Column("spider", str, "the spider that checked it"),
        Column("site", str, "the item's site (`publications.site`; `silkroadstudies` for a staff publication)"),
        Column("item_key", str, "the item's id"),
        Column("url", str, "its page"),
        Column("checked_at", str, "ISO 8601 UTC time of the check"),
        Column("run_id", int, "the run (`crawl_runs.id`)"),
        Column("outcome", str, "`ok`, `changed` or `fetch failed: …`", facet="column"),
        Column("missing", str, "fields the stored row has and the page no longer yields", shape="list[str]", nullable=True),
        Column("differing", str, "fields that read otherwise: field, stored and new value, why", shape="list[object]", nullable=True),
    ),
    pk=("spider", "site", "item_key"),
    sort_desc="checked_at",
)  # fmt: skip

ITEM_RUNS = Table(
    "item_runs",
    "The run that last created or changed each row.",
    (
        Column("item_table", str, "`publications` or `staff_publications`", facet="column"),
        Column("site", str, "the row's site (`publications.site`; `silkroadstudies` for a staff publication)", facet="column"),
        Column("item_id", str, "the row's id"),
        Column("run_id", int, "the run (`crawl_runs.id`)"),
        Column("change", str, "`new`, `updated` or `unchanged`", facet="column"),
    ),
    pk=("item_table", "site", "item_id"),
    sort_desc="run_id",
)  # fmt: skip

STAFF_RANKS = Table(
    "staff_ranks",
    "The best source each staff row was merged from, so that a lesser source only fills gaps.",
    (
        Column("id", str, "the staff publication (`staff_publications.id`)"),
        Column("rank", int, "0 sidebar, 1 item page, 2 listing"),
    ),
    pk=("id",),
)  # fmt: skip

DOCUMENTS = Table(
    "documents",
    "The text of every PDF a stored row links as its document (a staff publication's url, a "
    "download link on its item page, a publication's `pdf_url`), one row per URL. Rows that "
    "link a document: `document_links`.",
    (
        Column("url", str, "the PDF's URL, as linked (on the spider's allowed hosts)"),
        Column("sha256", str, "sha256 hex digest of the PDF's bytes", hidden=True),
        Column("bytes", int, "the PDF's size in bytes"),
        Column("pages", int, "pages in the PDF"),
        Column("title", str, "the PDF's metadata title, where it has one", nullable=True),
        Column("author", str, "the PDF's metadata author, as written there", nullable=True),
        Column("text", str, "the extracted text (pypdf), pages separated by a form feed (`\\f`)"),
        Column("fetched_at", str, "ISO 8601 UTC time of the fetch that gave these bytes"),
    ),
    pk=("url",),
    fts=("title", "text"),
    export="documents.jsonl",
    sort_desc="fetched_at",
    label_column="title",
)  # fmt: skip

DOCUMENT_LINKS = Table(
    "document_links",
    "Which row links which document: the row's own url (`url`) or a download link on its item "
    "page (`download`: a staff item page's link, or a publication's `pdf_url`). Recorded for every PDF link, fetched or not: a link without a "
    "`documents` row is off the allowed hosts, or its PDF is in `rejects`.",
    (
        Column("document_url", str, "the document (`documents.url`)"),
        Column("item_table", str, "`staff_publications`, or `publications` (a feature article's or a paper's `pdf_url`, a book's chapters)", facet="column"),
        Column("site", str, "the row's site (`publications.site`; `silkroadstudies` for a staff publication)"),
        Column("item_id", str, "the row's id"),
        Column("role", str, "`url`, `download`, `paper` (a paper's `pdf_url`: the publication itself) or `chapter` (a book's chapter)", facet="column"),
        Column("linked_at", str, "ISO 8601 UTC time the link was last seen"),
    ),
    pk=("document_url", "item_table", "site", "item_id"),
    indexes=(("item_table", "site", "item_id"),),
    sort_desc="linked_at",
)  # fmt: skip

DOCUMENT_VERSIONS = Table(
    "document_versions",
    "The previous text of every document whose bytes changed on a refetch (`-a mode=full`).",
    (
        Column("url", str, "the document (`documents.url`)"),
        Column("sha256", str, "sha256 hex digest of the earlier bytes", hidden=True),
        Column("pages", int, "pages in the earlier PDF"),
        Column("text", str, "the earlier text"),
        Column("fetched_at", str, "when the earlier bytes were fetched"),
    ),
    pk=("url", "sha256"),
    sort_desc="fetched_at",
)  # fmt: skip

STAFF_PAPERS = Table(
    "staff_papers",
    "One work, one identity: a staff publication that is one of the Silk Road Papers, monographs "
    "or books (`publications` rows with a `kind`), by the same normalised title and a compatible "
    "date (its `date` agrees with the paper's `issue_date` or `published`). Both rows stay; join "
    "either way. Made again at the end of every run.",
    (
        Column("staff_id", str, "the staff publication (`staff_publications.id`)"),
        Column("site", str, "the paper's site (`publications.site`)"),
        Column("paper_id", int, "the paper's K2 id (`publications.id`)"),
        Column("linked_at", str, "ISO 8601 UTC time the link was made"),
    ),
    pk=("staff_id", "site", "paper_id"),
    indexes=(("site", "paper_id"),),
    sort_desc="linked_at",
)  # fmt: skip

TABLES: tuple[Table, ...] = (
    PUBLICATIONS,
    STAFF_PUBLICATIONS,
    AUTHORS,
    AUTHOR_ALIASES,
    PUBLICATION_AUTHORS,
    STAFF_PUBLICATION_AUTHORS,
    DUPLICATES,
    REJECTS,
    PUBLICATION_VERSIONS,
    STAFF_PUBLICATION_VERSIONS,
    CRAWL_RUNS,
    LISTING_WALKS,
    SITES,
    CANARY_CHECKS,
    ITEM_RUNS,
    STAFF_RANKS,
    DOCUMENTS,
    DOCUMENT_LINKS,
    DOCUMENT_VERSIONS,
    STAFF_PAPERS,
)

AUTHOR_PUBLICATIONS = View(
    "author_publications",
    "Every publication (every section of both sites) and staff publication of every author, newest first: filter on "
    "`author` for one person's work.",
    (
        Column("author_id", int, "the author (`authors.id`)"),
        Column("author", str, "the author's name (the fullest spelling)"),
        Column("printed_as", str, "the spelling printed on this publication"),
        Column("kind", str, '"publication" (a row of `publications`) or "staff publication"'),
        Column("site", str, "`publications.site`, or `silkroadstudies` for a staff publication"),
        Column("publication_id", str, "`publications.id` or `staff_publications.id`"),
        Column("title", str, "the publication's title"),
        Column("date", str, "`published`, or the staff publication's `date`", nullable=True),
        Column("year", int, "the year of `date`", nullable=True),
        Column("section", str, "the publication's section (\"Analytical Articles\", …), or the staff publication's kind", nullable=True),
        Column("position", int, "0 for the first author, 1 for the next, …"),
        Column("role", str, '"author" or "editor"'),
        Column("url", str, "the publication's page", nullable=True),
    ),
    """
SELECT a.id AS author_id, a.name AS author,
       json_extract(p.authors, '$[' || pa.position || ']') AS printed_as,
       'publication' AS kind, p.site, CAST(p.id AS TEXT) AS publication_id, p.title,
       p.published AS date, p.year, p.section, pa.position, 'author' AS role, p.url
FROM publication_authors pa
JOIN authors a ON a.id = pa.author_id
JOIN publications p ON p.site = pa.site AND p.id = pa.publication_id
UNION ALL
SELECT a.id, a.name, json_extract(s.authors, '$[' || spa.position || ']'),
       'staff publication', 'silkroadstudies', s.id, s.title, s.date, s.year, s.kind,
       spa.position, spa.role, s.url
FROM staff_publication_authors spa
JOIN authors a ON a.id = spa.author_id
JOIN staff_publications s ON s.id = spa.staff_publication_id
""".strip(),
    sort_desc="date",
)  # fmt: skip

VIEWS: tuple[View, ...] = (AUTHOR_PUBLICATIONS,)


def tables_and_views() -> tuple[Table | View, ...]:
    return (*TABLES, *VIEWS)


QUERIES: tuple[Query, ...] = (
    Query(
        "by_author",
        "Everything by an author",
        "Publications of every section and site and staff publications of one person, newest first; any spelling of "
        "the name finds them (`author_aliases`).",
        "SELECT kind, title, date, section, role, printed_as, url FROM author_publications\n"
        "WHERE author_id IN (SELECT author_id FROM author_aliases WHERE alias = :author\n"
        "                    UNION SELECT id FROM authors WHERE name = :author)\n"
        "ORDER BY date DESC",
        ("author",),
    ),
    Query(
        "per_year_and_section",
        "Publications per year and section",
        "Publications per year, site and section, staff publications per year and kind.",
        "SELECT year, 'publication' AS kind, site, section, count(*) AS publications\n"
        "FROM publications GROUP BY year, site, section\n"
        "UNION ALL\n"
        "SELECT year, 'staff publication', 'silkroadstudies', coalesce(kind, '(no kind)'),\n"
        "       count(*)\n"
        "FROM staff_publications GROUP BY year, kind\n"
        "ORDER BY year DESC, kind, site, publications DESC",
    ),
    Query(
        "last_run_added",
        "What the last run added",
        "The rows the last run of each spider created or changed.",
        "SELECT r.spider, r.id AS run_id, r.finished_at, i.change, i.site, i.item_id,\n"
        "       coalesce(p.title, s.title) AS title, coalesce(p.url, s.url) AS url\n"
        "FROM item_runs i JOIN crawl_runs r ON r.id = i.run_id\n"
        "LEFT JOIN publications p ON i.item_table = 'publications' AND p.site = i.site\n"
        "  AND p.id = CAST(i.item_id AS INTEGER)\n"
        "LEFT JOIN staff_publications s ON i.item_table = 'staff_publications' AND s.id = i.item_id\n"
        "WHERE i.change IN ('new', 'updated')\n"
        "  AND r.id IN (SELECT max(id) FROM crawl_runs GROUP BY spider)\n"
        "ORDER BY r.id DESC, i.change, title",
    ),
)

# -- derived: schema ---------------------------------------------------------------------------


def table(name: str) -> Table:
    return next(t for t in TABLES if t.name == name)


def sqlite_columns(name: str) -> dict[str, type]:
    """The columns of a table in order, with their SQLite types (for sqlite-utils)."""
    return {c.name: c.type for c in table(name).columns}


def export_keys(name: str) -> tuple[str, ...]:
    """The keys of an exported row, in order: the table's columns but the derived ones."""
    return tuple(c.name for c in table(name).columns if not c.derived)


def json_columns() -> frozenset[str]:
    """Columns (of any table) that hold JSON text."""
    return frozenset(c.name for t in TABLES for c in t.columns if c.is_json)


def schema_drift(connection: Any) -> list[str]:
    """Where a database's tables and views differ from the contract (a ``sqlite3``
    connection): missing or extra columns, another order or type, another primary key."""
    problems = []
    sqlite_type = {int: "INTEGER", str: "TEXT", float: "FLOAT"}
    for item in tables_and_views():
        info = connection.execute(f"PRAGMA table_info([{item.name}])").fetchall()
        names = tuple(row[1] for row in info)
        if names != item.names:
            problems.append(f"{item.name}: columns {names} != contract {item.names}")
            continue
        if isinstance(item, Table):
            types = tuple(row[2] for row in info)
            declared = tuple(sqlite_type[c.type] for c in item.columns)
            if types != declared:
                problems.append(f"{item.name}: types {types} != contract {declared}")
            pk = tuple(row[1] for row in sorted(info, key=lambda r: r[5]) if row[5])
            if pk != item.pk:
                problems.append(f"{item.name}: primary key {pk} != contract {item.pk}")
    return problems


# -- derived: the data page (docs/data.md) ---------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def page_table(name: str) -> str:
    """The Markdown table of one table's or view's columns."""
    found = next(t for t in tables_and_views() if t.name == name)
    lines = [f"`{name}`: {found.description}", "", "| column | type | meaning |", "|---|---|---|"]
    for column in found.columns:
        note = " *(SQLite only)*" if getattr(column, "derived", False) else ""
        lines.append(f"| {column.name} | {_cell(column.label)} | {_cell(column.meaning)}{note} |")
    return "\n".join(lines)


PAGE_BLOCKS: dict[str, tuple[str, ...]] = {
    "publications": ("publications",),
    "staff_publications": ("staff_publications",),
    "authors": (
        "authors",
        "author_aliases",
        "publication_authors",
        "staff_publication_authors",
        "author_publications",
    ),
    "documents": ("documents", "document_links", "document_versions"),
    "history": (
        "publication_versions",
        "staff_publication_versions",
        "crawl_runs",
        "canary_checks",
        "sites",
        "item_runs",
        "staff_ranks",
        "duplicates",
        "rejects",
    ),
}


def page_block(block: str) -> str:
    return "\n\n".join(page_table(name) for name in PAGE_BLOCKS[block])


def _markers(block: str) -> tuple[str, str]:
    return (
        f"<!-- contract: {block} (generated by python -m caci_spider.contract) -->",
        f"<!-- /contract: {block} -->",
    )


def readme_with_tables(text: str) -> str:
    """``text`` (the data page) with every generated block rewritten from the contract."""
    for block in PAGE_BLOCKS:
        start, end = _markers(block)
        head, found, rest = text.partition(start)
        if not found:
            raise ValueError(f"the data page has no marker {start!r}")
        _old, found, tail = rest.partition(end)
        if not found:
            raise ValueError(f"the data page has no marker {end!r}")
        text = f"{head}{start}\n{page_block(block)}\n{end}{tail}"
    return text


# -- derived: Datasette ------------------------------------------------------------------------

TRUNCATE_CELLS_HTML = 160


def _facets(columns: Sequence[Column]) -> list[Any]:
    return [c.name if c.facet == "column" else {"array": c.name} for c in columns if c.facet]


def _stylesheet() -> str:
    """Hash columns out of the table views; column descriptions in three compact columns
    above a table, so that its rows stay on the first screen."""
    hidden = [f"body.table-{t.name} .col-{c.name}" for t in TABLES for c in t.columns if c.hidden]
    return (
        ",".join(hidden) + "{display:none}"
        "dl.column-descriptions{columns:3;font-size:.8em;margin:.5em 0}"
        "dl.column-descriptions dt{break-after:avoid}"
        "dl.column-descriptions dd{margin:0 0 .4em 1em;break-inside:avoid}"
    )


def _plain(text: str) -> str:
    """A meaning as Datasette shows it: plain text, without Markdown's backticks."""
    return text.replace("`", "")


def datasette_config() -> dict[str, Any]:
    """``datasette.json`` (``-c``): settings, per-table options, canned queries."""
    tables: dict[str, Any] = {}
    for item in tables_and_views():
        options: dict[str, Any] = {}
        if item.sort_desc:
            options["sort_desc"] = item.sort_desc
        facets = _facets(item.columns)
        if facets:
            options["facets"] = facets
        if isinstance(item, Table) and item.label_column:
            options["label_column"] = item.label_column
        if options:
            tables[item.name] = options
    queries = {
        q.name: {"title": q.title, "description": q.description, "sql": q.sql}
        | ({"params": list(q.params)} if q.params else {})
        for q in QUERIES
    }
    return {
        "settings": {
            # Long text (bodies, summaries, raw rejects) shortened in table views; row pages
            # show it whole.
            "truncate_cells_html": TRUNCATE_CELLS_HTML,
            "default_facet_size": 10,
            # Facets are declared; suggestions (such as a date facet on year-only dates) mislead.
            "suggest_facets": False,
        },
        # Hash columns out of the table views (they stay in JSON, CSV and row pages).
        "extra_css_urls": ["data:text/css," + quote(_stylesheet())],
        "databases": {DATABASE: {"tables": tables, "queries": queries}},
    }


def datasette_metadata() -> dict[str, Any]:
    """``metadata.json`` (``-m``): title, licence and source, table and column descriptions."""
    tables: dict[str, Any] = {}
    for item in tables_and_views():
        tables[item.name] = {
            "description": _plain(item.description),
            "columns": {c.name: _plain(c.meaning) for c in item.columns},
        }
    return {
        "title": "Central Asia-Caucasus Analyst and Turkey Analyst: publications and staff publications",
        "description": (
            "Every section of the Central Asia-Caucasus Analyst (field reports, analytical and "
            "feature articles, news digests), The Turkey Analyst's articles and the publications of the "
            "institute's staff, collected by caci_spider. Cite a publication by its url."
        ),
        "license": (
            "© the Central Asia-Caucasus Institute & Silk Road Studies Program Joint Center; "
            "collected for research"
        ),
        "license_url": SOURCE_URL,
        "source": "Central Asia-Caucasus Analyst (cacianalyst.org) and silkroadstudies.org",
        "source_url": SOURCE_URL,
        "databases": {DATABASE: {"tables": tables}},
    }


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


DATASETTE_FILES: dict[str, Callable[[], dict[str, Any]]] = {
    "datasette.json": datasette_config,
    "metadata.json": datasette_metadata,
}


def generated_files(datasette_dir: Path, readme: Path) -> dict[Path, str]:
    """Every file derived from the contract, with the text it must hold."""
    files = {datasette_dir / name: _json(make()) for name, make in DATASETTE_FILES.items()}
    files[readme] = readme_with_tables(readme.read_text("utf-8"))
    return files


def drifted(datasette_dir: Path, readme: Path) -> list[Path]:
    """The generated files whose committed text differs from the contract's."""
    return [
        path
        for path, text in generated_files(datasette_dir, readme).items()
        if not path.exists() or path.read_text("utf-8") != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(
        prog="python -m caci_spider.contract",
        description="Write (or --check) the files derived from the data contract.",
    )
    parser.add_argument("--datasette", type=Path, default=root / "datasette",
                        help="directory of datasette.json and metadata.json (default: datasette/)")  # fmt: skip
    parser.add_argument("--page", type=Path, default=root / "docs" / "data.md",
                        help="the Markdown page holding the contract tables between their "
                        "markers (default: docs/data.md)")  # fmt: skip
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on drift")
    args = parser.parse_args(argv)
    if args.check:
        stale = drifted(args.datasette, args.page)
        for path in stale:
            print(f"{path} differs from the contract: run python -m caci_spider.contract")
        return 1 if stale else 0
    for path, text in generated_files(args.datasette, args.page).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
