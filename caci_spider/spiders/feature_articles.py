"""``scrapy crawl feature_articles``: the Analyst's Feature Articles (2022–): abstracts, each
with the PDF of the article (its ``pdf_url`` is linked in ``document_links`` and fetched)."""

from __future__ import annotations

from caci_spider.spiders.sections import K2PublicationsSpider


class FeatureArticlesSpider(K2PublicationsSpider):
    # Its site and section come from sources.py (category, export file, coverage minimums).
    name = "feature_articles"
    # Feed first (K2PublicationsSpider's default): the section's feed is live; a row is its item
    # page (abstract, name line, date, PDF link).

    # Feature articles print no hits counter and no issue date other than their dated line.
    coverage_fields = ("title", "authors", "published", "issue_date", "body", "pdf_url")
    canary_fields = ("title", "authors", "published", "body", "pdf_url")
    # Its rows link PDFs (caci_spider.documents): exports/documents.jsonl is written too.
    links_documents = True
