"""Tests for the text-level "Staff Publications" entry parser.

The entry strings are copied from the saved text of the sample pages listed in docs/site-notes.md
(seed item page sidebar, listing pages 060/061, item page 067, Silk Road Papers listing 034); a
few synthetic ones probe the edges.
"""

from __future__ import annotations

import pytest

from caci_spider.dates import parse_partial_date
from caci_spider.items import StaffEntry
from caci_spider.names import parse_authors
from caci_spider.staff.kinds import KIND_LABELS
from caci_spider.staff.lines import parse_venue_date_line
from caci_spider.staff.sidebar import EntryParseError, parse_sidebar_entry
from caci_spider.text import is_image_label, strip_image_label, title_key

STARR_2024 = (
    "Silk Road Paper S. Frederick Starr, Greater Central Asia as A Component of U.S. Global "
    "Strategy, October 2024."
)
LINDERMAN = (
    'Analysis Laura Linderman, "Rising Stakes in Tbilisi as Elections Approach," Civil Georgia, '
    "September 7, 2024."
)
TSERETELI = (
    'Analysis Mamuka Tsereteli, "U.S. Black Sea Strategy: The Georgian Connection", CEPA, '
    "February 9, 2024."
)
TURKIYE = (
    "Silk Road Paper Svante E. Cornell, ed., Türkiye's Return to Central Asia and the Caucasus, "
    "July 2024."
)
CHANGING_GEOPOLITICS = (
    'Book Svante E. Cornell, ed., "The Changing Geopolitics of Central Asia and the Caucasus" '
    "AFPC Press/Armin LEar, 2023."
)
AGENCY = (
    "Silk Road Paper Svante E. Cornell and S. Frederick Starr, Stepping up to the “Agency "
    "Challenge”: Central Asian Diplomacy in a Time of Troubles, July 2023."
)
STARR_2023 = (
    "Silk Road Paper S. Frederick Starr, U.S. Policy in Central Asia through Central Asian Eyes, "
    "May 2023."
)

EXPECTED: dict[str, StaffEntry] = {
    STARR_2024: StaffEntry(
        kind="Silk Road Paper",
        title="Greater Central Asia as A Component of U.S. Global Strategy",
        authors=["S. Frederick Starr"],
        date="2024-10",
    ),
    LINDERMAN: StaffEntry(
        kind="Analysis",
        title="Rising Stakes in Tbilisi as Elections Approach",
        authors=["Laura Linderman"],
        venue="Civil Georgia",
        date="2024-09-07",
    ),
    TSERETELI: StaffEntry(
        kind="Analysis",
        title="U.S. Black Sea Strategy: The Georgian Connection",
        authors=["Mamuka Tsereteli"],
        venue="CEPA",
        date="2024-02-09",
    ),
    TURKIYE: StaffEntry(
        kind="Silk Road Paper",
        title="Türkiye's Return to Central Asia and the Caucasus",
        authors=["Svante E. Cornell"],
        roles={"Svante E. Cornell": "editor"},
        date="2024-07",
    ),
    CHANGING_GEOPOLITICS: StaffEntry(
        kind="Book",
        title="The Changing Geopolitics of Central Asia and the Caucasus",
        authors=["Svante E. Cornell"],
        roles={"Svante E. Cornell": "editor"},
        venue="AFPC Press/Armin LEar",
        date="2023",
    ),
    AGENCY: StaffEntry(
        kind="Silk Road Paper",
        title=(
            "Stepping up to the “Agency Challenge”: Central Asian Diplomacy in a Time of Troubles"
        ),
        authors=["Svante E. Cornell", "S. Frederick Starr"],
        date="2023-07",
    ),
    STARR_2023: StaffEntry(
        kind="Silk Road Paper",
        title="U.S. Policy in Central Asia through Central Asian Eyes",
        authors=["S. Frederick Starr"],
        date="2023-05",
    ),
}


# --- sidebar entries ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", list(EXPECTED), ids=lambda t: t[:40])
def test_seed_sidebar_entries(text: str) -> None:
    assert parse_sidebar_entry(text) == EXPECTED[text]


@pytest.mark.parametrize(
    ("glued", "plain"),
    [
        (f"2410Starr-cover{STARR_2024}", STARR_2024),
        (f"ChangingGeopolitics-cover2{CHANGING_GEOPOLITICS}", CHANGING_GEOPOLITICS),
        (f"2505-Instac-Cover{STARR_2023}", STARR_2023),
        (f"2410Starr-cover {LINDERMAN}", LINDERMAN),
        (f"Screen Shot 2023-05-08 at 10.32.15 AM{TURKIYE}", TURKIYE),
        (f"shutterstock 1148957687-2{AGENCY}", AGENCY),
    ],
    ids=["starr-cover", "geopolitics-cover2", "instac-cover", "spaced", "screenshot", "stock"],
)
def test_glued_image_label_gives_same_entry(glued: str, plain: str) -> None:
    assert parse_sidebar_entry(glued) == parse_sidebar_entry(plain) == EXPECTED[plain]


def test_seed_page_block_as_lines() -> None:
    """The whole sidebar block as stored: image-only lines are skipped, the rest parse."""
    block = f"""
2410Starr-cover{STARR_2024} \n
{LINDERMAN}\n
{TSERETELI} \n
{TURKIYE} \n
ChangingGeopolitics-cover2{CHANGING_GEOPOLITICS} \n
{AGENCY} \n
Screen Shot 2023-05-08 at 10.32.15 AM\n
{STARR_2023}
"""
    lines = [line for line in block.splitlines() if line.strip()]
    entries = [parse_sidebar_entry(line) for line in lines if not is_image_label(line)]
    assert entries == list(EXPECTED.values())
    assert sum(is_image_label(line) for line in lines) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "S. Frederick Starr, Some Title, May 2023.",
            StaffEntry(title="Some Title", authors=["S. Frederick Starr"], date="2023-05"),
        ),
        (
            "Article Svante E. Cornell, Why Central Asia Matters, The National Interest, "
            "March 4, 2020.",
            StaffEntry(
                kind="Article",
                title="Why Central Asia Matters",
                authors=["Svante E. Cornell"],
                venue="The National Interest",
                date="2020-03-04",
            ),
        ),
        (
            "Op-Ed Svante Cornell, Brenda Shaffer, and Jonathan Schanzer, "
            '"A Real Threat", RealClear World, March 4, 2020.',
            StaffEntry(
                kind="Op-ed",
                title="A Real Threat",
                authors=["Svante Cornell", "Brenda Shaffer", "Jonathan Schanzer"],
                venue="RealClear World",
                date="2020-03-04",
            ),
        ),
        (
            "Book Chapter Thomas de Waal, The Caucasus, 2019.",
            StaffEntry(
                kind="Book Chapter", title="The Caucasus", authors=["Thomas de Waal"], date="2019"
            ),
        ),
        (
            'Report Dr. S. Frederick Starr & Prof. Michael Doran "Title, With Comma" '
            "in Foreign Policy, 2021",
            StaffEntry(
                kind="Report",
                title="Title, With Comma",
                authors=["S. Frederick Starr", "Michael Doran"],
                venue="Foreign Policy",
                date="2021",
            ),
        ),
        (
            "Book Svante E. Cornell and Niklas Swantström, eds., Eurasian Security, 2006.",
            StaffEntry(
                kind="Book",
                title="Eurasian Security",
                authors=["Svante E. Cornell", "Niklas Swantström"],
                roles={"Svante E. Cornell": "editor", "Niklas Swantström": "editor"},
                date="2006",
            ),
        ),
        (
            "Interview By Mamuka Tsereteli, Energy and the U.S.",
            StaffEntry(kind="Interview", title="Energy and the U.S.", authors=["Mamuka Tsereteli"]),
        ),
        (
            "Analysis\u00a0Laura  Linderman,\u200b “Tbilisi,” Civil Georgia, Sept. 7th, 2024",
            StaffEntry(
                kind="Analysis",
                title="Tbilisi",
                authors=["Laura Linderman"],
                venue="Civil Georgia",
                date="2024-09-07",
            ),
        ),
        (
            "Monograph Kazakhstan: Vision 2030, Spring 2020.",
            StaffEntry(kind="Monograph", title="Kazakhstan: Vision 2030", date="2020"),
        ),
        (
            "Article By the Numbers, 2020.",
            StaffEntry(kind="Article", title="By the Numbers", date="2020"),
        ),
    ],
    ids=[
        "no-kind",
        "unquoted-title-venue",
        "oxford-and",
        "particle-longest-label",
        "no-comma-before-quote",
        "eds",
        "by-no-date",
        "odd-whitespace",
        "no-authors",
        "by-in-title",
    ],
)
def test_other_entry_shapes(text: str, expected: StaffEntry) -> None:
    assert parse_sidebar_entry(text) == expected


def test_kind_labels_are_case_sensitive_whole_words() -> None:
    entry = parse_sidebar_entry("analysis of Things, 2020.")
    assert entry.kind is None
    assert entry.title == "analysis of Things"
    assert parse_sidebar_entry("Bookish Title, 2020.").kind is None
    assert set(KIND_LABELS.values()) >= {"Silk Road Paper", "Analysis", "Book", "Op-ed"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Read more", "no type label, author or date"),
        ("Read More", "no type label, author or date"),
        ("Read at The Hill", "no type label, author or date"),
        ("", "empty entry"),
        ("   \u00a0 ", "empty entry"),
        ("2023.", "no title"),
        ("Silk Road Paper", "no title"),
        ("Book 2023.", "no title"),
        ('Analysis Laura Linderman, "", 2024.', "no title"),
        ("Svante E. Cornell, ed.", "no title"),
        ("Screen Shot 2023-05-08 at 10.32.15 AM", "image label"),
        ("2410Starr-cover", "image label"),
    ],
)
def test_garbage_raises_entry_parse_error(text: str, reason: str) -> None:
    with pytest.raises(EntryParseError, match=reason):
        parse_sidebar_entry(text)


def test_entry_parse_error_is_value_error() -> None:
    assert issubclass(EntryParseError, ValueError)


ODD_STRINGS = [
    ",",
    ",,,",
    ".",
    '"',
    '""',
    "“”",
    "“",
    "”",
    "«»",
    "ed.",
    "eds., eds.",
    "By",
    "By ,",
    "and",
    "& ,",
    "Book ,,,",
    "Analysis , , 2024",
    'Analysis A B, "Unclosed title, Venue, 2024',
    'Laura Linderman, "',
    "Laura Linderman, “Title” ",
    "S. , S. , S.",
    "Jr., Jr.",
    "February 30, 2024",
    "Title, February 30, 2024",
    "9999",
    "-cover",
    "2410Starr-cover2",
    "Screenshot",
    "\u200b\u200b",
    "\ufeffBook X Y, Z, 2020",
    "Op-ed",
    "S. Frederick Starr,",
    "S. Frederick Starr, , , May 2023.",
    "Title: “Quoted” and more, 2020",
    "x" * 5000,
    ", ".join(["Svante E. Cornell"] * 200),
    "\x00\x01\x02",
    "🙂 Title, 2020",
]


@pytest.mark.parametrize("text", ODD_STRINGS)
def test_odd_strings_only_raise_entry_parse_error(text: str) -> None:
    try:
        entry = parse_sidebar_entry(text)
    except EntryParseError as exc:
        assert str(exc)
    else:
        assert isinstance(entry, StaffEntry)
        assert entry.title and any(ch.isalnum() for ch in entry.title)
        assert entry.kind is not None or entry.authors or entry.date is not None


def test_parse_is_deterministic() -> None:
    assert all(parse_sidebar_entry(t) == parse_sidebar_entry(t) for t in EXPECTED)


# --- image labels ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2410Starr-cover",
        "ChangingGeopolitics-cover2",
        "Screen Shot 2023-05-08 at 10.32.15 AM",
        "Screenshot 2025-03-12 at 11.11.25 AM",
        "shutterstock 1148957687-2",
        "2505-Instac-Cover",
        "  2410Starr-cover \n",
        "Screen Shot 2023-05-08 at 10.32.15\u202fAM",
        "IMG_1234",
        "region-map.jpg",
    ],
)
def test_is_image_label_true(text: str) -> None:
    assert is_image_label(text)


@pytest.mark.parametrize(
    "text",
    [
        STARR_2024,
        "Greater Central Asia as A Component of U.S. Global Strategy",
        "Hard-cover edition",
        "Cover Story",
        "Screen Shots of the Caucasus",
        "Staff Publications",
        "Read more",
        "",
        "2410Starr-coverSilk Road Paper",
        "2410Starr-covered",
    ],
)
def test_is_image_label_false(text: str) -> None:
    assert not is_image_label(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"2410Starr-cover{STARR_2024}", STARR_2024),
        (f"ChangingGeopolitics-cover2{CHANGING_GEOPOLITICS}", CHANGING_GEOPOLITICS),
        (
            "2505-Instac-CoverThe post-Soviet landscape of Central Asia",
            "The post-Soviet landscape of Central Asia",
        ),
        ("Screenshot 2025-03-12 at 11.11.25 AM Nargiza Umarova", "Nargiza Umarova"),
        (STARR_2024, STARR_2024),
        ("Hard-cover edition", "Hard-cover edition"),
        ("2410Starr-cover", ""),
        ("  Plain   text ", "Plain text"),
    ],
)
def test_strip_image_label(text: str, expected: str) -> None:
    assert strip_image_label(text) == expected


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("October 2024", "2024-10"),
        ("September 7, 2024", "2024-09-07"),
        ("2023", "2023"),
        ("January 2020", "2020-01"),
        ("March 13, 2020", "2020-03-13"),
        ("June 2025", "2025-06"),
        ("May 31, 2020.", "2020-05-31"),
        ("Sept. 7th, 2024", "2024-09-07"),
        ("Thursday, 24 January 2019 00:00", "2019-01-24"),
        ("Monday, 06 November 2017 00:00", "2017-11-06"),
        ("2024-09-07", "2024-09-07"),
        ("2024-09", "2024-09"),
        ("Spring 2023", "2023"),
        ("February 30, 2024", "2024-02"),
        ("", None),
        ("Read more", None),
        ("The American Interest, March 13, 2020", None),
        ("Vision 2030 and beyond", None),
        ("31", None),
    ],
)
def test_parse_partial_date(text: str, expected: str | None) -> None:
    assert parse_partial_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The American Interest, March 13, 2020", ("The American Interest", "2020-03-13")),
        ("Wall Street Journal, July 11, 2021", ("Wall Street Journal", "2021-07-11")),
        ("RealClear World, March 4, 2020", ("RealClear World", "2020-03-04")),
        ("AFPC Defense Dossier, May 31, 2020", ("AFPC Defense Dossier", "2020-05-31")),
        ("Americanl Interest, January 24, 2019", ("Americanl Interest", "2019-01-24")),
        ("January 2020", (None, "2020-01")),
        (" Read at The Hill", ("The Hill", None)),
        ("Read at Diplomat website", ("Diplomat website", None)),
        (
            "Stockholm Institute European Policy Studies",
            ("Stockholm Institute European Policy Studies", None),
        ),
        ("The Hill, 2017", ("The Hill", "2017")),
        ("Vision 2030", ("Vision 2030", None)),
        ("", (None, None)),
    ],
)
def test_parse_venue_date_line(text: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_venue_date_line(text) == expected


# --- authors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "authors", "roles"),
    [
        (
            "Svante Cornell, Brenda Shaffer, and Jonathan Schanzer",
            ["Svante Cornell", "Brenda Shaffer", "Jonathan Schanzer"],
            {},
        ),
        ("S. Frederick Starr & Michael Doran", ["S. Frederick Starr", "Michael Doran"], {}),
        (
            "By S. Frederick Starr, S. Enders Wimbush",
            ["S. Frederick Starr", "S. Enders Wimbush"],
            {},
        ),
        (" By Mamuka Tsereteli", ["Mamuka Tsereteli"], {}),
        ("Svante E. Cornell", ["Svante E. Cornell"], {}),
        (
            "Svante E. Cornell and Niklas Swantström",
            ["Svante E. Cornell", "Niklas Swantström"],
            {},
        ),
        ("Svante E. Cornell, ed.", ["Svante E. Cornell"], {"Svante E. Cornell": "editor"}),
        (
            "Svante E. Cornell and S. Frederick Starr, eds.",
            ["Svante E. Cornell", "S. Frederick Starr"],
            {"Svante E. Cornell": "editor", "S. Frederick Starr": "editor"},
        ),
        ("Svante E. Cornell (ed.)", ["Svante E. Cornell"], {"Svante E. Cornell": "editor"}),
        (
            "Dr. Mamuka Tsereteli, Prof. S. Frederick Starr",
            ["Mamuka Tsereteli", "S. Frederick Starr"],
            {},
        ),
        ("Nargiza Umarova", ["Nargiza Umarova"], {}),
        ("John Smith, Jr.", ["John Smith Jr."], {}),
        ("John Smith et al.", ["John Smith"], {}),
        ("", [], {}),
        ("By", [], {}),
    ],
)
def test_parse_authors(text: str, authors: list[str], roles: dict[str, str]) -> None:
    assert parse_authors(text) == (authors, roles)


# --- title keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (
            "Türkiye's Return to Central Asia and the Caucasus",
            "TÜRKIYE’S RETURN TO CENTRAL ASIA AND THE CAUCASUS",
        ),
        (
            "Stepping up to the “Agency Challenge”: Central Asian Diplomacy",
            'Stepping up to the "Agency Challenge" - Central Asian  Diplomacy',
        ),
        (
            "Rising Stakes in Tbilisi as Elections Approach,",
            "rising stakes in tbilisi as elections approach",
        ),
        ("U.S. Policy", "US Policy"),
        ("Tu\u0308rkiye", "Türkiye"),
        ("ﬁnance", "finance"),
    ],
)
def test_title_key_equal(left: str, right: str) -> None:
    assert title_key(left) == title_key(right)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Türkiye's Return", "türkiyes return"),
        ("Central Asia-Caucasus  Analyst", "central asia caucasus analyst"),
        (
            "U.S. Black Sea Strategy: The Georgian Connection",
            "us black sea strategy the georgian connection",
        ),
        ("", ""),
    ],
)
def test_title_key_value(text: str, expected: str) -> None:
    assert title_key(text) == expected


def test_title_key_keeps_accents() -> None:
    assert title_key("Türkiye") != title_key("Turkiye")
    assert title_key("Swantström") == "swantström"


@pytest.mark.parametrize(
    ("text", "title", "authors", "venue"),
    [
        (
            "Silk Road Paper Svante E. Cornell, Kazakhstan, Uzbekistan and the Future of "
            "Central Asia, March 2022.",
            "Kazakhstan, Uzbekistan and the Future of Central Asia",
            ["Svante E. Cornell"],
            None,
        ),
        (
            "Book S. Frederick Starr, Lost Enlightenment, Princeton University Press, 2013.",
            "Lost Enlightenment",
            ["S. Frederick Starr"],
            "Princeton University Press",
        ),
    ],
)
def test_unquoted_titles_with_commas_and_one_author(text, title, authors, venue) -> None:
    entry = parse_sidebar_entry(text)
    assert (entry.title, entry.authors, entry.venue) == (title, authors, venue)
