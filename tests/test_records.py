"""The pure normalise → validate → collapse steps on hand-made pages."""

from caci_spider.items import FieldReportPage
from caci_spider.records import build_field_report, strip_featured_badge

URL = "https://www.cacianalyst.org/publications/field-reports/item/13851-x.html"


def page(**fields) -> FieldReportPage:
    values = dict(
        id=13851,
        url=URL,
        fetched_at="2026-01-01T00:00:00Z",
        section="Feature Articles",
        title="What the Extension of Transport Corridors Means for Central Asia Featured",
        date_line="Wednesday, 12 March 2025",
        byline="Nargiza Umarova",
        dated_line="March 12, 2025",
        paragraphs=[
            "In the current geopolitical realities…",
            "Screenshot 2025-03-12 at 11.11.25 AM",
        ],
        hits=20325,
        modified_line="Wednesday, 12 March 2025",
    )
    values.update(fields)
    return FieldReportPage(**values)


def test_featured_badge_and_image_label_are_removed() -> None:
    report, reason, _ = build_field_report(page())
    assert reason == ""
    assert report.title == "What the Extension of Transport Corridors Means for Central Asia"
    assert report.body == "In the current geopolitical realities…"
    assert report.authors == ["Nargiza Umarova"]
    assert report.issue_date == report.published == report.modified == "2025-03-12"


def test_strip_featured_badge_keeps_a_title_that_is_only_the_word() -> None:
    assert strip_featured_badge("Featured") == "Featured"
    assert strip_featured_badge("Title Featured") == "Title"


def test_missing_fields_give_reasons_and_raw_text() -> None:
    assert build_field_report(page(title="  "))[1] == "missing title"
    assert build_field_report(page(paragraphs=["\xa0"]))[1] == "missing body"
    report, reason, raw = build_field_report(page(date_line="Someday, 45 Smarch 2025"))
    assert (report, reason, raw) == (None, "unparseable published date", "Someday, 45 Smarch 2025")
    assert build_field_report(page(id=None))[1] == "missing id"
