"""The pure normalise → validate → collapse steps on hand-made pages."""

from caci_spider.items import PublicationPage
from caci_spider.records import build_publication, strip_featured_badge

URL = "https://www.cacianalyst.org/publications/field-reports/item/13851-x.html"


def page(**fields) -> PublicationPage:
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
    return PublicationPage(**values)


def test_featured_badge_and_image_label_are_removed() -> None:
    report, reason, _ = build_publication(page())
    assert reason == ""
    assert report.title == "What the Extension of Transport Corridors Means for Central Asia"
    assert report.body == "In the current geopolitical realities…"
    assert report.authors == ["Nargiza Umarova"]
    assert report.issue_date == report.published == report.modified == "2025-03-12"


def test_strip_featured_badge_keeps_a_title_that_is_only_the_word() -> None:
    assert strip_featured_badge("Featured") == "Featured"
    assert strip_featured_badge("Title Featured") == "Title"


def test_missing_fields_give_reasons_and_raw_text() -> None:
    assert build_publication(page(title="  "))[1] == "missing title"
    assert build_publication(page(paragraphs=["\xa0"]))[1] == "missing body"
    report, reason, raw = build_publication(page(date_line="Someday, 45 Smarch 2025"))
    assert (report, reason, raw) == (None, "unparseable published date", "Someday, 45 Smarch 2025")
    assert build_publication(page(id=None))[1] == "missing id"


def test_an_issue_designation_is_the_issue_and_no_issue_date() -> None:
    report, _, _ = build_publication(
        page(
            site="turkeyanalyst",
            byline="by Halil M. Karaveli (vol. 6, no.  2 of the Turkey Analyst)",
            dated_line=None,
            date_line="Wednesday, 06 February 2013",
            modified_line=None,
        )
    )
    assert report.issue == "vol. 6, no. 2"
    assert report.issue_date is None and report.published == "2013-02-06"
    assert report.authors == ["Halil M. Karaveli"] and report.site == "turkeyanalyst"


def test_a_dated_issue_is_no_issue_designation() -> None:
    report, _, _ = build_publication(
        page(byline="By Jane Roe (12/3/2003 issue of the CACI Analyst)", dated_line=None)
    )
    assert report.issue is None and report.issue_date == "2003-12-03"
    turkey, _, _ = build_publication(
        page(
            site="turkeyanalyst",
            byline="By Halil Karaveli",
            dated_line="November 3rd, 2015, The Turkey Analyst",
        )
    )
    assert turkey.issue is None and turkey.issue_date == "2015-11-03"


def test_author_bio_and_pdf_url_pass_through() -> None:
    report, _, _ = build_publication(
        page(author_bio=" Jane  Roe is a writer. ", pdf_url="https://www.cacianalyst.org/a.pdf")
    )
    assert report.author_bio == "Jane Roe is a writer."
    assert report.pdf_url == "https://www.cacianalyst.org/a.pdf"
    assert build_publication(page())[0].author_bio is None
