"""The section rules (caci_spider/pages/sections.py) one by one, then on whole pages: each
section's rules apply to its own pages only, picked from the item's site and category."""

from __future__ import annotations

import pytest
from lxml import etree

from caci_spider.pages.blocks import paragraphs as read_paragraphs
from caci_spider.pages.blocks import parse_html
from caci_spider.pages.item import K2ItemPage, TextItemPage, item_page
from caci_spider.pages.sections import (
    NO_RULES,
    SectionRules,
    find_pdf_link,
    image_alts,
    is_pdf_link,
    read_paper,
    rules_for,
    split_author_bio,
    unglue_image_alts,
)
from caci_spider.records import build_publication
from caci_spider.sources import (
    CACIANALYST,
    RULE_AUTHOR_BIO,
    RULE_PAPER,
    RULE_PDF_LINK,
    RULE_SECTION_LABELS,
    SILKROADSTUDIES,
    TURKEYANALYST,
)
from caci_spider.testworld.fixtures import find_fixture, read_item_as
from caci_spider.testworld.localsite.layouts import render
from caci_spider.urls import ItemRef
from tests.pages.test_routes import differences
from tests.pages.test_templates import READABLE, context_of

CACI = "https://www.cacianalyst.org"
TURKEY = "https://www.turkeyanalyst.org"
SRS = "https://www.silkroadstudies.org"


def ref(category: str, site: str = "cacianalyst", base: str = CACI, item: int = 1) -> ItemRef:
    return ItemRef(item, f"{base}/publications/{category}/item/{item}-a.html", site)


# -- which rules a page is read with -----------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "rules"),
    [
        (ref("analytical-articles"), SectionRules(author_bio=True, section_labels=True)),
        (ref("feature-articles"), SectionRules(pdf_link=True)),
        (ref("field-reports"), NO_RULES),
        (ref("news-digest"), NO_RULES),
        (ref("turkey-analyst-articles", "turkeyanalyst", TURKEY), NO_RULES),
        # a category another site has, or no site has: no rules
        (ref("feature-articles", "turkeyanalyst", TURKEY), NO_RULES),
        (ref("silkroad-papers"), NO_RULES),
        (ItemRef(1, f"{CACI}/about.html", "cacianalyst"), NO_RULES),
        # the institute's papers; its news, a top-level category, has none
        (ref("silkroad-papers-and-monographs", "silkroadstudies", SRS), SectionRules(paper=True)),
        (ItemRef(1, f"{SRS}/silkroadstudies-news/item/1-a.html", "silkroadstudies"), NO_RULES),
        # the papers' category hangs under /publications only
        (
            ItemRef(1, f"{SRS}/silkroad-papers-and-monographs/item/1-a.html", "silkroadstudies"),
            NO_RULES,
        ),
    ],
)
def test_rules_come_from_the_items_site_and_category(item: ItemRef, rules: SectionRules) -> None:
    assert rules_for(item) == rules


def test_every_rule_a_section_names_is_known() -> None:
    known = {RULE_AUTHOR_BIO, RULE_PDF_LINK, RULE_SECTION_LABELS, RULE_PAPER}
    for profile in (CACIANALYST, TURKEYANALYST, SILKROADSTUDIES):
        for section in profile.sections:
            assert section.rules <= known, section.spider


def test_item_page_and_every_route_read_with_the_sections_rules() -> None:
    document = b'<html><body><div class="itemView"><p>x</p></div></body></html>'
    analytical = ref("analytical-articles")
    assert item_page(document, analytical, "t").rules == rules_for(analytical)
    assert TextItemPage(document, analytical, "t").rules == rules_for(analytical)
    assert K2ItemPage(document, ref("field-reports"), "t").rules == NO_RULES


# -- author-bio --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paragraph", "bio"),
    [
        ("AUTHOR'S BIO: Hooman Peimani writes on energy.", "Hooman Peimani writes on energy."),
        ("AUTHOR’S BIO: Dr. Jane Roe is a fellow.", "Dr. Jane Roe is a fellow."),
        ("AUTHOR\\'S BIO: Jane Roe is a fellow.", "Jane Roe is a fellow."),
        ("Author's bio:Jane Roe is a fellow.", "Jane Roe is a fellow."),
        ("AUTHORS' BIO: Jane Roe and John Doe are fellows.", "Jane Roe and John Doe are fellows."),
        ("AUTHORS’ BIOS: Jane Roe and John Doe.", "Jane Roe and John Doe."),
        ("AUTHOR BIO: Jane Roe is a fellow.", "Jane Roe is a fellow."),
    ],
)
def test_an_authors_bio_paragraph_is_the_bio_without_its_label(paragraph: str, bio: str) -> None:
    body, found = split_author_bio(["BACKGROUND: One.", "CONCLUSIONS: Two.", paragraph])
    assert body == ["BACKGROUND: One.", "CONCLUSIONS: Two."]
    assert found == bio


def test_a_body_without_a_bio_paragraph_is_unchanged() -> None:
    paragraphs = ["BACKGROUND: One.", "The author's bio: none is given here in prose."]
    assert split_author_bio(paragraphs) == (paragraphs, None)


# -- pdf-link ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("Read Coordinating the Corridors (PDF)", "/images/a.pdf"),
        ("Read What the Extension of Transport Corridors in Afghanistan Means (PDF)", "/x"),
        ("Click here to download PDF", "/images/b.pdf"),
        ("Click Here to Download", "/images/c.pdf"),
        ("Read Crossroads of Uncertainty", "/images/Feature/Crossroads.pdf"),
    ],
)
def test_pdf_links_in_every_form(text: str, href: str) -> None:
    assert is_pdf_link(text, href)


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("Read more...", "/publications/feature-articles/item/1-a.html"),
        ("Read Crossroads of Uncertainty", "/publications/feature-articles/item/1-a.html"),
        ("the ministry’s annual report (PDF) on the region", "/report.pdf"),
        ("Click here to download PDF", ""),
    ],
)
def test_other_links_are_not_pdf_links(text: str, href: str) -> None:
    assert not is_pdf_link(text, href)


def _root(markup: str) -> etree._Element:
    return parse_html(f"<html><body>{markup}</body></html>")


def test_the_pdf_link_standing_as_a_paragraph_gives_an_absolute_url_and_leaves_the_body() -> None:
    root = _root(
        '<div id="sidebar"><a href="/images/other.pdf">Click here to download PDF</a></div>'
        '<p>Abstract.</p><p><a href="/images/Feature/a.pdf">Read A Title (PDF)</a></p>'
    )
    body, url = find_pdf_link(
        root,
        ["Abstract.", "Read A Title (PDF)"],
        f"{CACI}/publications/feature-articles/item/1-a.html",
    )
    assert body == ["Abstract."]
    assert url == f"{CACI}/images/Feature/a.pdf"


def test_a_pdf_link_outside_the_article_is_not_the_articles() -> None:
    root = _root(
        '<div id="sidebar"><a href="/images/other.pdf">Click here to download PDF</a></div>'
    )
    assert find_pdf_link(root, ["Abstract."], f"{CACI}/x") == (["Abstract."], None)


def test_a_pdf_the_abstract_cites_elsewhere_is_not_the_publications() -> None:
    """The abstract links another body's PDF before the site's own download link: the site's is
    the publication's, and the citation stays text."""
    cited = (
        "The corridors follow the CAREC Program. "
        '<a href="https://www.adb.org/sites/default/files/carec-2030.pdf">'
        "Read the CAREC 2030 strategy (PDF)</a>"
    )
    root = _root(
        f"<p>{cited}</p>"
        '<p><a href="https://elsewhere.example/a.pdf">Read Another Paper</a></p>'
        '<p><a href="/images/Feature/own.pdf">Read Coordinating the Corridors (PDF)</a></p>'
    )
    paragraphs = [
        "The corridors follow the CAREC Program. Read the CAREC 2030 strategy (PDF)",
        "Read Another Paper",
        "Read Coordinating the Corridors (PDF)",
    ]
    body, url = find_pdf_link(
        root, paragraphs, f"{CACI}/publications/feature-articles/item/1-a.html"
    )
    assert url == f"{CACI}/images/Feature/own.pdf"
    assert body == paragraphs[:2]


# -- section-labels ----------------------------------------------------------------------------


def test_an_image_alt_glued_before_a_label_is_dropped() -> None:
    root = _root('<img src="/k.jpg" alt="karachag" /><img src="/l.png" alt="silkroad" />')
    assert image_alts(root) == ["karachag", "silkroad"]
    paragraphs = ["Summary.", "karachagBACKGROUND: Joining KPO.", "IMPLICATIONS: Two."]
    assert unglue_image_alts(paragraphs, image_alts(root)) == [
        "Summary.",
        "BACKGROUND: Joining KPO.",
        "IMPLICATIONS: Two.",
    ]


@pytest.mark.parametrize(
    "paragraph",
    [
        "karachaganak BACKGROUND: not an alt of the page",  # the page has no such alt
        "karachag deposits grew.",  # an alt, but no label follows
        "BACKGROUND: kept as published.",
        "CONCLUSIONS:Glued label kept as published.",
    ],
)
def test_text_that_only_looks_glued_is_kept(paragraph: str) -> None:
    assert unglue_image_alts([paragraph], ["karachag", "isdp"]) == [paragraph]


# -- whole pages: each rule on its section only ---------------------------------------------------

_PAGE = """<html><head><title>{title}</title></head><body>
<div id="k2Container" class="itemView">
<span class="itemDateCreated">Wednesday, 03 December 2003</span>
<h2 class="itemTitle">{title}</h2>
<div class="itemCategory"><span>Published in</span> <a href="/x.html">{section}</a></div>
<div class="itemFullText">{text}</div>
<span class="itemHits">Read <b>10</b> times</span>
</div>
<div id="sidebar"><h3>Visit also</h3>
<p><a href="/images/brochure.pdf">Click here to download PDF</a></p></div>
</body></html>"""


def _row(category: str, section: str, text: str, site: str = "cacianalyst") -> dict:
    base = TURKEY if site == "turkeyanalyst" else CACI
    page = _PAGE.format(title="A TITLE", section=section, text=text).encode()
    report, reason, _raw = build_publication(
        item_page(page, ref(category, site, base), "t").extract()
    )
    assert report is not None, reason
    return report.as_row()


_LEGACY = (
    "<p>By Jane Roe (12/3/2003 issue of the CACI Analyst)</p>"
    "<p>BACKGROUND: One thing happened.</p><p>CONCLUSIONS: Another will.</p>"
    "<p>AUTHOR'S BIO: Jane Roe is a writer.</p>"
)


def test_an_analytical_article_takes_its_bio_out_of_the_body() -> None:
    row = _row("analytical-articles", "Analytical Articles", _LEGACY)
    assert row["author_bio"] == "Jane Roe is a writer."
    assert row["body"] == "BACKGROUND: One thing happened.\n\nCONCLUSIONS: Another will."


def test_a_field_report_keeps_author_bio_null_and_its_text_in_the_body() -> None:
    row = _row("field-reports", "Field Reports", _LEGACY)
    assert row["author_bio"] is None
    assert row["body"].endswith("AUTHOR'S BIO: Jane Roe is a writer.")


def test_an_analytical_article_mentioning_a_pdf_in_prose_has_no_pdf_url() -> None:
    text = _LEGACY + "<p>The report (PDF) was <a href='/r.pdf'>published</a> in May.</p>"
    row = _row("analytical-articles", "Analytical Articles", text)
    assert row["pdf_url"] is None and "(PDF)" in row["body"]
    fixture = read_item_as(item_page, *_fixture("analytical-articles-item", "13659-"))
    assert fixture["pdf_url"] is None and "annual report (PDF)" in fixture["body"]


def test_a_feature_articles_pdf_link_in_the_sidebar_is_not_its_pdf() -> None:
    text = "<p>By Jane Roe</p><p>March 7, 2022</p><p>An abstract of the article.</p>"
    row = _row("feature-articles", "Feature Articles", text)
    assert row["pdf_url"] is None


def test_a_feature_articles_pdf_link_is_its_pdf_url_in_every_section_of_its_site_only() -> None:
    text = (
        "<p>By Jane Roe</p><p>March 7, 2022</p><p>An abstract of the article.</p>"
        '<p><a href="/images/f.pdf">Click Here to Download</a></p>'
    )
    feature = _row("feature-articles", "Feature Articles", text)
    assert feature["pdf_url"] == f"{CACI}/images/f.pdf"
    assert feature["body"] == "An abstract of the article."
    report = _row("field-reports", "Field Reports", text)
    assert report["pdf_url"] is None


def test_a_by_line_in_prose_is_not_a_byline() -> None:
    text = (
        "<p>By Jane Roe</p><p>January 28, 2021, the CACI Analyst</p><p>Summary.</p>"
        "<p>By contrast with the 1990s, the movements are weak.</p>"
    )
    row = _row("analytical-articles", "Analytical Articles", text)
    assert row["byline"] == "By Jane Roe" and row["authors"] == ["Jane Roe"]
    assert row["body"] == "Summary.\n\nBy contrast with the 1990s, the movements are weak."


def _fixture(kind: str, prefix: str) -> tuple[bytes, str]:
    page = find_fixture(kind, prefix)
    return page.html.read_bytes(), page.url


# -- the Turkey Analyst --------------------------------------------------------------------------


def test_a_turkey_byline_glued_to_the_lead_by_one_break_is_split() -> None:
    text = (
        "<p>by Halil M. Karaveli (vol. 6, no. 2 of the Turkey Analyst)<br />"
        "Turkey will continue to privilege its relations with the West.</p>"
    )
    row = _row("turkey-analyst-articles", "Articles", text, site="turkeyanalyst")
    assert row["byline"] == "by Halil M. Karaveli (vol. 6, no. 2 of the Turkey Analyst)"
    assert row["authors"] == ["Halil M. Karaveli"]
    assert row["issue"] == "vol. 6, no. 2" and row["issue_date"] is None
    assert row["body"] == "Turkey will continue to privilege its relations with the West."
    assert row["site"] == "turkeyanalyst" and row["section"] == "Articles"


def test_the_turkey_footer_and_sidebar_stay_out_of_every_route() -> None:
    for prefix in ("12996-", "12997-", "13005-", "13372-", "13481-"):
        document, url = _fixture("turkey-analyst-item", prefix)
        for route in (item_page, TextItemPage):
            body = read_item_as(route, document, url)["body"]
            for chrome in ("Latest Articles", "Turkey Analyst is a biweekly", "Newsletter"):
                assert chrome not in body, (prefix, route)


def test_a_turkey_title_falls_back_on_the_page_title_without_the_site_name() -> None:
    document, url = _fixture("turkey-analyst-item", "13005-")
    assert b'<h2 class="itemTitle">\n\t\t\t\n' in document  # the item's own title is empty
    assert read_item_as(item_page, document, url)["title"] == (
        "Erdoğan’s SCO Talk Is No Strategic Pivot"
    )


def test_the_same_k2_id_on_two_sites_is_two_items() -> None:
    caci = read_item_as(item_page, *_fixture("item", "12997-"))
    turkey = read_item_as(item_page, *_fixture("turkey-analyst-item", "12997-"))
    assert caci["id"] == turkey["id"] == 12997
    assert (caci["site"], turkey["site"]) == ("cacianalyst", "turkeyanalyst")
    assert caci["url"].startswith(CACI) and turkey["url"].startswith(TURKEY)
    assert caci["body"] != turkey["body"]


def test_a_turkey_name_line_glued_to_its_dated_line_is_split() -> None:
    text = (
        "<p>By Halil Karaveli<br />November 3rd, 2015, The Turkey Analyst</p>"
        "<p>The combination of military and deep state operations has rescued the AKP.</p>"
    )
    row = _row("turkey-analyst-articles", "Articles", text, site="turkeyanalyst")
    assert row["byline"] == "By Halil Karaveli" and row["authors"] == ["Halil Karaveli"]
    assert row["issue_date"] == "2015-11-03" and row["issue"] is None
    assert (
        row["body"] == "The combination of military and deep state operations has rescued the AKP."
    )


# -- variants of the rules' markup, through every route and template --------------------------

_BIO = "<p><strong>AUTHOR'S BIO:</strong> Hooman Peimani"
_CLICK_PDF = '<a href="/images/Feature_Articles/2022/2203Engvall-CentralAsia.pdf">'
_READ_PDF = '<p><a href="/images/Feature_Articles/2025/2503Starr-Corridors.pdf">'
_SPACED = "/images/Feature Articles/2022/2203Engvall Central Asia.pdf"
# (name, fixture kind, fixture prefix, (old, new) markup, oracle fields that change)
VARIANTS = [
    (
        "bio-label-alone",
        "analytical-articles-item",
        "8101-",
        (_BIO, "<p><strong>AUTHOR'S BIO:</strong></p><p>Hooman Peimani"),
        {},
    ),
    (
        "bio-label-in-last-paragraph",
        "analytical-articles-item",
        "8101-",
        ("</p>\n" + _BIO, " <strong>AUTHOR'S BIO:</strong> Hooman Peimani"),
        {},
    ),
    (
        "pdf-click-here",
        "feature-articles-item",
        "13770-",
        (
            _CLICK_PDF + "Click here to download PDF</a>",
            "Click " + _CLICK_PDF + "here</a> to download PDF",
        ),
        {},
    ),
    (
        "pdf-link-ending-a-paragraph",
        "feature-articles-item",
        "13853-",
        ("Program.</p>\n" + _READ_PDF, "Program. " + _READ_PDF[3:]),
        {},
    ),
    (
        "pdf-href-with-spaces",
        "feature-articles-item",
        "13770-",
        ("/images/Feature_Articles/2022/2203Engvall-CentralAsia.pdf", _SPACED),
        {"pdf_url": f"{CACI}/images/Feature%20Articles/2022/2203Engvall%20Central%20Asia.pdf"},
    ),
]
ROUTES = ["item_page", "TextItemPage", *READABLE]
VARIANT_CASES = [(variant, route) for variant in VARIANTS for route in ROUTES]


@pytest.mark.parametrize(
    ("variant", "route"),
    VARIANT_CASES,
    ids=[f"{variant[0]}-{route}" for variant, route in VARIANT_CASES],
)
def test_a_rules_markup_variant_gives_the_fixtures_oracle(variant: tuple, route: str) -> None:
    _name, kind, prefix, (old, new), changed = variant
    page = find_fixture(kind, prefix)
    original = page.html.read_bytes()
    assert original.count(old.encode()) == 1
    document = original.replace(old.encode(), new.encode())
    if route == "item_page":
        got = read_item_as(item_page, document, page.url)
    elif route == "TextItemPage":
        got = read_item_as(TextItemPage, document, page.url)
    else:
        got = page.kind.read(render(route, document, context_of(page)), page.url)
    want = {**page.expected(), **changed}
    assert not differences(got, want), differences(got, want)


@pytest.mark.parametrize(
    "paragraphs",
    [
        ["BACKGROUND: One.", "She wrote it. The author's bio: none is given here in prose."],
        ["BACKGROUND: One.", "The AUTHOR'S BIO: field of the form is left empty."],
        ["One. AUTHOR'S BIO: Jane Roe is a fellow.", "CONCLUSIONS: the article goes on."],
    ],
)
def test_a_bio_is_never_cut_from_prose_or_the_middle_of_the_body(paragraphs: list[str]) -> None:
    assert split_author_bio(paragraphs) == (paragraphs, None)


def test_a_bio_label_alone_or_after_the_last_sentence() -> None:
    alone = ["BACKGROUND: One.", "AUTHOR'S BIO:", "Jane Roe is a fellow.", "Notes."]
    assert split_author_bio(alone) == (["BACKGROUND: One.", "Notes."], "Jane Roe is a fellow.")
    inline = ["BACKGROUND: One.", "It ended “well.” AUTHOR'S BIO: Jane Roe is a fellow."]
    assert split_author_bio(inline) == (
        ["BACKGROUND: One.", "It ended “well.”"],
        "Jane Roe is a fellow.",
    )


@pytest.mark.parametrize(
    ("markup", "body", "url"),
    [
        (
            '<p>Abstract.</p><p>Click <a href="/images/x.pdf">here</a> to download PDF</p>',
            ["Abstract."],
            f"{CACI}/images/x.pdf",
        ),
        (
            '<p>The full paper is available. <a href="/images/a b.pdf">Read A Title (PDF)</a></p>',
            ["The full paper is available."],
            f"{CACI}/images/a%20b.pdf",
        ),
        (
            '<p>The U.S. paper is out. Click <a href="/images/x.pdf">here</a> to download PDF.</p>',
            ["The U.S. paper is out."],
            f"{CACI}/images/x.pdf",
        ),
        # prose mentioning a PDF, or a link ending a paragraph without a PDF link's words
        ('<p>The report (PDF) was <a href="/r.pdf">published</a> in May.</p>', None, None),
        ('<p>It said so. <a href="/r.pdf">Read the report</a></p>', None, None),
        ('<p>Abstract. <a href="/x.html">Read A Title</a></p>', None, None),
        ('<p>Abstract.</p><p>Click <a href="/x.html">here</a> to register</p>', None, None),
    ],
)
def test_a_pdf_link_in_any_part_of_its_paragraph(
    markup: str, body: list[str] | None, url: str | None
) -> None:
    root = _root(markup)
    found = read_paragraphs(root.find("body"))
    assert find_pdf_link(root, found, f"{CACI}/x") == (found if body is None else body, url)


def test_a_feature_articles_pdf_link_ending_a_paragraph_leaves_the_rest_of_it_in_the_body() -> None:
    text = (
        "<p>By Jane Roe</p><p>March 7, 2022</p><p>An abstract of the article.</p>"
        '<p>The full paper is available. <a href="/images/f g.pdf">Read The Title (PDF)</a></p>'
    )
    for category, section, pdf_url in (
        ("feature-articles", "Feature Articles", f"{CACI}/images/f%20g.pdf"),
        ("field-reports", "Field Reports", None),
    ):
        row = _row(category, section, text)
        assert row["pdf_url"] == pdf_url
        assert row["body"].startswith("An abstract of the article.\n\nThe full paper is available.")
        assert ("Read The Title" in row["body"]) is (pdf_url is None)


def test_a_bio_label_alone_or_inline_is_read_in_analytical_articles_only() -> None:
    legacy = "<p>By Jane Roe (12/3/2003 issue of the CACI Analyst)</p><p>BACKGROUND: One.</p>"
    for bio in (
        "<p><strong>AUTHOR'S BIO:</strong></p><p>Jane Roe is a writer.</p>",
        "<p>CONCLUSIONS: Two. <strong>AUTHOR'S BIO:</strong> Jane Roe is a writer.</p>",
    ):
        analytical = _row("analytical-articles", "Analytical Articles", legacy + bio)
        assert analytical["author_bio"] == "Jane Roe is a writer."
        assert "Jane Roe is a writer" not in analytical["body"]
        assert "AUTHOR'S BIO" not in analytical["body"]
        report = _row("field-reports", "Field Reports", legacy + bio)
        assert report["author_bio"] is None
        assert "AUTHOR'S BIO:" in report["body"]
        assert report["body"].endswith("Jane Roe is a writer.")


# -- paper ---------------------------------------------------------------------------------------

PAPER_PAGE = """<html><body><div class="itemIntroText">
<p><a href="https://www.amazon.com/dp/1">Buy on Amazon</a></p>
<p>Silk Road Paper</p><p>May 2024</p>
<p><a href="/resources/pdf/publications/2405.pdf">Click Here to Download</a></p>
<p><img src="/c.jpg" alt="2405-cover" /></p>
<p>Executive Summary</p>
<p>2405-coverThe summary starts here.</p>
<p>May 2024</p>
<p>2405-cover-like words that are text.</p>
<p>Individual chapters:</p>
<ul><li><a href="/resources/pdf/ch1.pdf">One</a></li>
<li><a href="/resources/pdf/ch2.pdf">Two</a></li></ul>
</div></body></html>"""


def test_a_papers_chrome_is_read_and_leaves_its_body() -> None:
    root = parse_html(PAPER_PAGE)
    url = f"{SRS}/publications/silkroad-papers-and-monographs/item/1-a.html"
    parts = read_paper(root, read_paragraphs(root), url, SILKROADSTUDIES.site_names)
    # the external "Buy on Amazon" link comes first and is never the paper's PDF
    assert parts.pdf_url == f"{SRS}/resources/pdf/publications/2405.pdf"
    assert (parts.kind, parts.month) == ("Silk Road Paper", "May 2024")
    # a month after the summary has started is text; an alt is dropped only before a capital
    assert parts.body == [
        "The summary starts here.",
        "May 2024",
        "2405-cover-like words that are text.",
    ]
    assert parts.chapters == (f"{SRS}/resources/pdf/ch1.pdf", f"{SRS}/resources/pdf/ch2.pdf")
