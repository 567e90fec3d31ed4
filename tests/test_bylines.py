"""Byline → authors on every byline form of docs/site-notes.md, "Bylines and dates"."""

import pytest

from caci_spider.names import byline_authors as parse_authors
from caci_spider.names import looks_like_name_line


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)", ["Fariz Ismailzade"]),
        # Two-letter initials of transliterated names, and "And" capitalised.
        (
            "By Akhmed Kh. Yarlykapov (4/6/2005 issue of the CACI Analyst)",
            ["Akhmed Kh. Yarlykapov"],
        ),
        ("By Yu. Zh. Ivanov and Sh. Karimov", ["Yu. Zh. Ivanov", "Sh. Karimov"]),
        ("By Sergei Blagov And Richard Weitz", ["Sergei Blagov", "Richard Weitz"]),
        (
            "By Marat Yermukanov is a correspondent for the Petropavlosk city funded newspaper "
            '"Tribuna" a (2/16/2000 issue of the CACI Analyst)',
            ["Marat Yermukanov"],
        ),
        (
            "By Nurbubu Moldogazieva is a member of the National Academy of Sciences of the "
            "Kyrgyz Republic (2/2/2000 issue of the CACI Analyst)",
            ["Nurbubu Moldogazieva"],
        ),
        (
            "By By Gulnara Ismailova, a freelance journalist based in Baku, Azerbaijan "
            "(10/24/2001 issue of the CACI Analyst)",
            ["Gulnara Ismailova"],
        ),
        ("By By Andrei Emelin (11/7/2001 issue of the CACI Analyst)", ["Andrei Emelin"]),
        (
            "By Marat Yermukanov, Kazakhstan (3/13/2002 issue of the CACI Analyst)",
            ["Marat Yermukanov"],
        ),
        (
            "By Aziz Soltobaev, American University in Kyrgyzstan (1/9/2002 issue)",
            ["Aziz Soltobaev"],
        ),
        (
            "By Sergei Vorsin, Youth Ecological Center (2/16/2000 issue of the CACI Analyst)",
            ["Sergei Vorsin"],
        ),
        ("By Dr. Robert M. Cutler (2/2/2000 issue of the CACI Analyst)", ["Robert M. Cutler"]),
        ("By empty (6/29/2001 issue of the CACI Analyst)", []),
        ("By Alima Bissenova (4/23/2009 issue of the CACI Analyst)", ["Alima Bissenova"]),
        ("By Svante Cornell and Marcela Londoño", ["Svante Cornell", "Marcela Londoño"]),
        (
            "By William D. O’Malley & Roger N. McDermott",
            ["William D. O’Malley", "Roger N. McDermott"],
        ),
        ("By Roger N. McDermott & Farkhad Tolipov", ["Roger N. McDermott", "Farkhad Tolipov"]),
        ("By Alexander Yeo and Dr. Emil A. Souleimanov", ["Alexander Yeo", "Emil A. Souleimanov"]),
        ("By Najia Badykova", ["Najia Badykova"]),
        ("Nargiza Umarova", ["Nargiza Umarova"]),
        ("Michael Hikari Cecire and Laura Linderman", ["Michael Hikari Cecire", "Laura Linderman"]),
        ("By S. Frederick Starr, S. Enders Wimbush", ["S. Frederick Starr", "S. Enders Wimbush"]),
        (
            "Svante Cornell, Brenda Shaffer, and Jonathan Schanzer",
            ["Svante Cornell", "Brenda Shaffer", "Jonathan Schanzer"],
        ),
        ("By Prof. Farkhod Tolipov", ["Farkhod Tolipov"]),
        ("", []),
        (None, []),
    ],
)
def test_parse_authors(byline, authors) -> None:
    assert parse_authors(byline) == authors


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Michael Hikari Cecire and Laura Linderman", True),
        ("S. Frederick Starr", True),
        ("The recent civil protests against the draft law raised serious questions.", False),
        ("Click here to download PDF", False),
    ],
)
def test_looks_like_name_line(line, expected) -> None:
    assert looks_like_name_line(line) is expected


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("By Rovshan Ibrahimov, Senior Fellow", ["Rovshan Ibrahimov"]),
        ("By John Daly, Washington DC", ["John Daly"]),
        ("By Richard Weitz of the Hudson Institute", ["Richard Weitz"]),
        ("By Farkhod Tolipov; Tashkent", ["Farkhod Tolipov"]),
    ],
)
def test_bios_and_places_after_the_name(byline, authors) -> None:
    assert parse_authors(byline) == authors


# -- the other sections and the Turkey Analyst (docs/site-notes.md, "Sections and the Turkey …") --


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("By Gareth Jenkins (vol. 2, no. 3 of the Turkey Analyst)", ["Gareth Jenkins"]),
        ("by Halil M. Karaveli (vol. 6, no. 2 of the Turkey Analyst)", ["Halil M. Karaveli"]),
        (
            "By M. K. Kaya and Halil M. Karaveli (vol. 2, no. 3 of the Turkey Analyst)",
            ["M. K. Kaya", "Halil M. Karaveli"],
        ),
        ("By Halil Karaveli", ["Halil Karaveli"]),
        ("By Gareth H. Jenkins", ["Gareth H. Jenkins"]),
        # feature articles: a name line without "By"
        ("Nargiza Umarova", ["Nargiza Umarova"]),
        ("S. Frederick Starr", ["S. Frederick Starr"]),
        # analytical articles: co-authors with an honorific
        ("By Alexander Yeo and Dr. Emil A. Souleimanov", ["Alexander Yeo", "Emil A. Souleimanov"]),
        # news digests of 2001-06
        ("By empty (6/29/2001 issue of the CACI Analyst)", []),
    ],
)
def test_bylines_of_the_other_sections_and_site(byline: str, authors: list[str]) -> None:
    assert parse_authors(byline) == authors


@pytest.mark.parametrize("line", ["Nargiza Umarova", "S. Frederick Starr"])
def test_a_feature_articles_name_line_without_by_is_a_name_line(line: str) -> None:
    assert looks_like_name_line(line)


@pytest.mark.parametrize(
    "line",
    ["Click here to download PDF", "Read Coordinating the Corridors (PDF)", "10 April"],
)
def test_a_pdf_link_or_a_digest_date_is_not_a_name_line(line: str) -> None:
    assert not looks_like_name_line(line)
