"""Mojibake of the region's letters (UTF-8 read as windows-1252 or Latin-1), repaired where ftfy
alone leaves it, in every field of a page; genuine text left as it is.

ftfy leaves ``ErdoÄŸan`` as it is when it is a paragraph's only non-ASCII word; the repair uses
the letters of the languages the sites write and the rest of the page as evidence
(caci_spider.text). The real crawl of fixture 9612 (tests/test_end_to_end.py) stores
``Aşgabat`` and ``Ålesund`` from such words.
"""

from __future__ import annotations

import re

import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1252")
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caci_spider.items import PublicationPage, StaffPublication
from caci_spider.records import build_publication, normalise_staff_publication
from caci_spider.testworld.fixtures import KINDS, find_fixture
from caci_spider.text import normalise_text, shows_mojibake

# The letters of the sites' languages beyond ASCII: Turkish, Azerbaijani, Turkmen, Kazakh and
# Karakalpak in Latin letters, Uzbek's ʻ; Kazakh, Kyrgyz, Uzbek and Tajik in Cyrillic. Not the
# capitals Â and Î, which no word ends with: ftfy itself reads "Â " as a lost no-break space
# and "Î”" as Greek Δ, genuine or not.
LATIN = "çÇğĞıİöÖşŞüÜâîûÛəƏäÄňŇýÝžŽñÑūŪáǵńóú\u02bb"
CYRILLIC = "әӘғҒқҚңҢөӨұҰүҮһҺіІўЎҳҲӣӯҷҶжЖщЩъыэюЯ"
LETTERS = LATIN + CYRILLIC
# windows-1252 as browsers and PHP read it (undefined bytes as C1 controls), and Latin-1.
READINGS = ("sloppy-windows-1252", "latin-1")


def mojibake(text: str, reading: str) -> str:
    return text.encode("utf-8").decode(reading)


def word_with(letter: str, before: str = "Ka", after: str = "ra") -> str:
    """A word holding ``letter``, in its script: ``Kağra``, ``Кақра``."""
    if letter in CYRILLIC:
        before, after = before.replace("Ka", "Ка"), after.replace("ra", "ра")
    return f"{before}{letter}{after}"


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("letter", LETTERS)
def test_a_letter_alone_in_a_paragraph_is_repaired(letter: str, reading: str) -> None:
    """The word is the paragraph's only non-ASCII one: the letter inside it, at its end, at its
    start."""
    for text in (word_with(letter), word_with(letter, after=""), word_with(letter, before="")):
        paragraph = f"The minister {text} said nothing new."
        assert normalise_text(mojibake(paragraph, reading)) == paragraph
        assert normalise_text(mojibake(f"“{text}”", reading)) == f"“{text}”"


@pytest.mark.parametrize(
    "name",
    ["Erdoğan", "Kılıçdaroğlu", "İmamoğlu", "Davutoğlu", "Şahin", "Muş", "Şuşa", "Bakı", "Iğdır",
     "Ilham Əliyev", "Gəncə", "Aşgabat", "Oʻzbekiston", "Nursultan Äbişuly", "Qazaqstan",
     "Ұлытау", "Қазақстан", "Ўзбекистон", "Хуҷанд", "Ташкент"],
)  # fmt: skip
@pytest.mark.parametrize("reading", READINGS)
def test_names_of_the_region_are_repaired(name: str, reading: str) -> None:
    for paragraph in (name, f"President {name} said nothing new.", f"{name}’s visit"):
        assert normalise_text(mojibake(paragraph, reading)) == paragraph


# Genuine text that holds an accented capital, a letter of another alphabet or a sequence that
# could be taken for UTF-8 read as windows-1252: none of it is "repaired".
GENUINE = [
    "São Paulo", "Åland", "Ärzte", "Ñ", "“Ñ”", "the letter ‘Ñ’", "AÑ”", "‘ĞAZ’", "Ā", "ł",
    "Łódź", "Dvořák", "CAFÉ’s", "ÉTÉ–ÉTÉ", "Å’s", "‘Ð’", "“GÜÇ”", "‘GÜÇ’", "ÖSTERREICH",
    "MÜNCHEN–BERLIN", "Ü–Ö", "Œuvre", "Ærø", "Þór", "Ísafjörður", "Çà et là", "Ĳssel",
    "Türkiye’s", "Erdoğan", "Qazaqstan Respublıkasy", "Нұр-Сұлтан", "Ñ–a", "Marcela Londoño",
    "10 °C ± 2", "© 2024 CACI", "½ of the ¾", "Straße»", "«Ð»",
]  # fmt: skip


@pytest.mark.parametrize("text", GENUINE)
def test_genuine_text_is_left_as_it_is(text: str) -> None:
    assert normalise_text(text) == text
    # Not even on a page whose other texts showed mojibake.
    assert normalise_text(text, mojibake_seen=True) == text
    assert not shows_mojibake([text])


# A capital Ä or Ñ before ž is what "ÄŸ"-like mojibake looks like (Ğ, ў): taken for it.
_READS_AS_MOJIBAKE = re.compile("[ÄÑ]ž")


def words_of(alphabet: str) -> st.SearchStrategy[str]:
    """Words as they are written: a letter, then two to seven small letters."""
    small = "".join(c for c in alphabet if not c.isupper())
    return st.builds(
        str.__add__, st.sampled_from(alphabet), st.text(st.sampled_from(small), min_size=1)
    ).filter(lambda word: len(word) <= 8 and not _READS_AS_MOJIBAKE.search(word))


@given(
    st.lists(
        words_of(LATIN + "abcdeghiklmnoprstuyz") | words_of(CYRILLIC + "абвгдеклмнорст"),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from(READINGS),
)
@settings(max_examples=300, deadline=None)
def test_any_words_of_the_region_come_back(words: list[str], reading: str) -> None:
    """Words of the region's letters, read byte by byte, come back as they were."""
    paragraph = "In " + ", ".join(words) + " and elsewhere."
    assert normalise_text(mojibake(paragraph, reading)) == paragraph


# -- the whole page as evidence ------------------------------------------------------------------
def page(**fields: object) -> PublicationPage:
    values: dict = {
        "id": 1,
        "url": "https://www.cacianalyst.org/publications/field-reports/item/1-x.html",
        "fetched_at": "2026-01-01T00:00:00Z",
        "title": "A title",
        "date_line": "Wednesday, 23 January 2008 00:00",
        "paragraphs": ["A body."],
    }
    return PublicationPage(**(values | fields))


def test_other_letters_are_repaired_when_the_page_shows_mojibake() -> None:
    """Ålesund and Čapek are not the region's: repaired only with the page as evidence."""
    alone = "A course in Ã…lesund, with ÄŒapek."
    report, _reason, _raw = build_publication(page(paragraphs=[alone]))
    assert report is not None and report.body == alone  # no evidence: could be genuine
    evidence = ["Georgiaâ€™s government fell.", "TÃ¼rkiye", "ErdoÄŸan", "Ò›"]
    for shown in evidence[:3]:
        for fields in ({"paragraphs": [alone, shown]}, {"paragraphs": [alone], "title": shown}):
            report, _reason, _raw = build_publication(page(**fields))
            assert report is not None
            assert report.body.split("\n\n")[0] == "A course in Ålesund, with Čapek."
    # A lone letter with no word around it is no evidence.
    report, _reason, _raw = build_publication(page(paragraphs=[alone, evidence[3]]))
    assert report is not None and report.body.startswith(alone)


# -- every field, through the page objects and the records ---------------------------------------
def read_item(kind: str, prefix: str, replacements: dict[str, str]) -> dict:
    fixture = find_fixture(kind, prefix)
    document = fixture.html.read_text("utf-8")
    for old, new in replacements.items():
        assert old in document, old
        document = document.replace(old, new)
    return KINDS[kind].read(document.encode("utf-8"), fixture.url)


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("letter", LETTERS)
def test_every_field_of_an_item_page(letter: str, reading: str) -> None:
    """Title, byline (authors), tags, body (Turkey Analyst 13372) and author bio (analytical
    article 8101), each with the word as its only mojibake."""
    word = word_with(letter)
    name = f"Halil {word if letter in LATIN else 'Kağra'}"
    fields = {
        "Restoration and": f"Restoration and {word}",  # the title
        "By Halil Karaveli</p>": f"By {name}</p>",
        ">Kurds<": f">{word}<",  # a tag
        "deep state operations": f"deep state {word} operations",
    }
    correct = read_item("turkey-analyst-item", "13372-", fields)
    assert word in correct["title"] and word in correct["body"] and word in correct["tags"]
    assert correct["authors"] == [name]
    moji = {old: mojibake(new, reading) for old, new in fields.items()}
    assert read_item("turkey-analyst-item", "13372-", moji) == correct

    bio = {"Hooman Peimani writes": f"Hooman Peimani ({word}) writes"}
    correct = read_item("analytical-articles-item", "8101-", bio)
    assert f"({word})" in correct["author_bio"]
    moji = {old: mojibake(new, reading) for old, new in bio.items()}
    assert read_item("analytical-articles-item", "8101-", moji) == correct


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("letter", LETTERS)
def test_every_field_of_a_staff_publication(letter: str, reading: str) -> None:
    word = word_with(letter)
    fields = {
        "Central Asia After the Pandemic:": f"Central Asia After the Pandemic in {word}:",
        "S. Frederick Starr</p>": f"S. Frederick {word if letter in LATIN else 'Kağra'}</p>",
        "AFPC Defense Dossier,": f"AFPC Defense {word},",
        "closing borders": f"closing {word} borders",
    }
    correct = read_item("staff-item", "13338-", fields)
    moji = {old: mojibake(new, reading) for old, new in fields.items()}
    assert read_item("staff-item", "13338-", moji) == correct
    assert word in correct["title"] and word in correct["venue"] and word in correct["summary"]

    # What the spider then applies to every observation: its fields are one document.
    observation = StaffPublication(
        title=mojibake(f"{word} and ÄŒapek", reading),
        authors=[mojibake(f"S. {word}", reading), "Ã…sa Larsson"],
        venue=mojibake(f"{word} Review", reading),
        summary=mojibake(f"A paper on {word}.\n\nIn Ã…lesund.", reading),
        roles={mojibake(f"S. {word}", reading): "editor"},
        sources=["x"],
        fetched_at="2026-01-01T00:00:00Z",
    )
    normalised = normalise_staff_publication(observation)
    assert normalised.title == f"{word} and Čapek"
    assert normalised.authors == [f"S. {word}", "Åsa Larsson"]
    assert normalised.venue == f"{word} Review"
    assert normalised.summary == f"A paper on {word}.\n\nIn Ålesund."
    assert normalised.roles == {f"S. {word}": "editor"}
