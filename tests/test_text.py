"""Normalisation rules, each on the real examples of docs/site-notes.md, "Text quirks"."""

import pytest

from caci_spider.text import (
    collapse_repeated_paragraphs,
    collapse_whitespace,
    normalise_paragraphs,
    normalise_text,
    repair_mojibake,
    undo_php_escapes,
    word_count,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (r"Georgia\'s", "Georgia's"),
        (r"\"procedural\"", '"procedural"'),
        (r"Iraq \'s", "Iraq 's"),
        (r"the \"Moscow declaration\", which", 'the "Moscow declaration", which'),
        ("no escapes here", "no escapes here"),
    ],
)
def test_undo_php_escapes(raw: str, expected: str) -> None:
    assert undo_php_escapes(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Georgiaâ€™s", "Georgia’s"),
        ("the â€œnew ideologyâ€\x9d in", "the “new ideology” in"),
        # Lossy form stored in pages 009 and 065: the closing quote became a dagger.
        (
            "what he called the “new ideology†in Turkmenistan",
            "what he called the “new ideology” in Turkmenistan",
        ),
        ("a “mug’s game.†", "a “mug’s game.”"),
        # Correct typography as published stays.
        (
            "“curly” quotes, ‘single’ ones — and dashes – stay",
            "“curly” quotes, ‘single’ ones — and dashes – stay",
        ),
        ("Marcela Londoño", "Marcela Londoño"),
        ("a dagger† footnote with no open quote", "a dagger† footnote with no open quote"),
    ],
)
def test_repair_mojibake(raw: str, expected: str) -> None:
    assert repair_mojibake(raw) == expected


def test_collapse_whitespace_handles_nbsp_and_newlines() -> None:
    assert collapse_whitespace("  Sadjaya\xa0 exercised\n considerable\tcontrol  ") == (
        "Sadjaya exercised considerable control"
    )


def test_normalise_text_strips_controls_and_is_idempotent() -> None:
    raw = "Georgia\\'s\x00 power\u200b ministries\x07 \xa0"
    once = normalise_text(raw)
    assert once == "Georgia's power ministries"
    assert normalise_text(once) == once


def test_normalise_paragraphs_drops_nbsp_only_paragraphs() -> None:
    assert normalise_paragraphs(["\xa0", "  ", "March 28, 2022", "\xa0\xa0 "]) == ["March 28, 2022"]


SEED_INTRO = "During his three-day visit, Aliyev met with Russian President Vladimir Putin."
SEED_FULL = SEED_INTRO + " As a result of these negotiations, four agreements were signed."


def test_intro_repeated_as_prefix_of_fulltext_is_dropped() -> None:
    assert collapse_repeated_paragraphs([SEED_INTRO, SEED_FULL, "Next."]) == [SEED_FULL, "Next."]


def test_equal_adjacent_paragraphs_collapse() -> None:
    assert collapse_repeated_paragraphs(["Lead.", "Lead.", "More."]) == ["Lead.", "More."]


def test_later_exact_repeat_is_dropped() -> None:
    assert collapse_repeated_paragraphs(["A one.", "B two.", "A one.", "C three."]) == [
        "A one.",
        "B two.",
        "C three.",
    ]


def test_heading_and_lead_repeated_collapse_to_longer_form() -> None:
    paragraphs = ["HEADING", "Lead sentence.", "HEADING", "Lead sentence. More sentences."]
    assert collapse_repeated_paragraphs(paragraphs) == ["HEADING", "Lead sentence. More sentences."]


def test_prefix_inside_a_word_is_not_a_repeat() -> None:
    assert collapse_repeated_paragraphs(["Yes", "Yesterday it rained."]) == [
        "Yes",
        "Yesterday it rained.",
    ]


def test_word_count() -> None:
    assert word_count("one two\n\nthree") == 3
    assert word_count("") == 0


def test_a_heading_followed_by_a_possessive_is_not_a_repeat() -> None:
    assert collapse_repeated_paragraphs(["Georgia", "Georgia's government fell."]) == [
        "Georgia",
        "Georgia's government fell.",
    ]
