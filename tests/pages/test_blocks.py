"""Block-aware text: blocks never glue, <br><br> is a paragraph break, images give no text."""

from caci_spider.pages.blocks import element_text, paragraphs, parse_html


def body_paragraphs(html: str) -> list[str]:
    return paragraphs(parse_html(html).find("body"))


def test_adjacent_blocks_do_not_glue() -> None:
    assert body_paragraphs("<p>war on terrorism</p><p>10 January</p><div>The</div>") == [
        "war on terrorism",
        "10 January",
        "The",
    ]


def test_two_br_separate_paragraphs_and_one_br_is_a_space() -> None:
    html = "<div>first line<br/>same paragraph<br /> <br />second<br><br><br>third</div>"
    assert body_paragraphs(html) == ["first line same paragraph", "second", "third"]


def test_images_scripts_and_comments_give_no_text() -> None:
    html = (
        '<p><img alt="karachag" src="k.jpg"/>BACKGROUND: Joining</p>'
        "<script>var x = 1;</script><!-- note --><style>p{}</style><p>end</p>"
    )
    assert body_paragraphs(html) == ["BACKGROUND: Joining", "end"]


def test_nbsp_only_blocks_vanish() -> None:
    assert body_paragraphs("<p>&nbsp;</p><p> \xa0 </p><p>text&nbsp;here</p>") == ["text here"]


def test_skip_predicate_drops_subtrees_but_keeps_tails() -> None:
    root = parse_html('<div><span class="cap">Caption</span> kept <b>bold</b></div>').find("body")
    assert paragraphs(root, skip=lambda e: e.get("class") == "cap") == ["kept bold"]


def test_deep_nesting_does_not_overflow() -> None:
    html = "<div>" * 1500 + "deep" + "</div>" * 1500  # deeper than Python's recursion limit
    assert body_paragraphs(html) == ["deep"]


def test_empty_and_garbage_documents() -> None:
    assert paragraphs(parse_html("")) == []
    assert paragraphs(parse_html("   ")) == []
    assert paragraphs(parse_html(b"\x00\x01not html"))[0].endswith("not html")
    assert element_text(None) == ""


def test_xml_declaration_in_a_str_document() -> None:
    root = parse_html('<?xml version="1.0" encoding="utf-8"?><html><body><p>a</p></body></html>')
    assert paragraphs(root) == ["a"]


def test_one_break_per_paragraph_for_line_lists() -> None:
    root = parse_html("<p>first<br/>second<br/><br/>third</p>").find("body")
    assert paragraphs(root, breaks_per_paragraph=1) == ["first", "second", "third"]
