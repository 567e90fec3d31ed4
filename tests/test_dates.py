from datetime import date

import pytest

from caci_spider.dates import (
    is_dated_line,
    parse_dated_line,
    parse_issue_date,
    parse_k2_date,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wednesday, 11 February 2004", date(2004, 2, 11)),
        ("Wednesday, 02 July 2014 12:32", date(2014, 7, 2)),
        ("Last modified on Wednesday, 12 March 2025", date(2025, 3, 12)),
        ("Saturday, 01 January 2011 00:00", date(2011, 1, 1)),
        ("no date here", None),
        ("Monday, 31 February 2015", None),
        (None, None),
    ],
)
def test_parse_k2_date(text, expected) -> None:
    assert parse_k2_date(text) == expected


@pytest.mark.parametrize(
    ("byline", "published", "expected"),
    [
        (
            "By Fariz Ismailzade (2/11/2004 issue of the CACI Analyst)",
            date(2004, 2, 11),
            date(2004, 2, 11),
        ),
        ("By X Y (9/5/2012 issue of the CACI Analyst)", date(2012, 9, 5), date(2012, 9, 5)),
        ("By X Y (06/18/2014 issue of the CACI Analyst)", date(2014, 6, 18), date(2014, 6, 18)),
        # "the DD/MM/YYYY" forms are day-first.
        ("By X Y (the 05/02/2014 issue of the CACI Analyst)", date(2014, 2, 5), date(2014, 2, 5)),
        ("By X Y (the 22/01/2014 issue of the CACI Analyst)", date(2014, 1, 22), date(2014, 1, 22)),
        ("By X Y (the 13/11/2013 issue of the CACI Analyst)", None, date(2013, 11, 13)),
        # Ambiguous: the reading nearest the published date wins.
        ("By X Y (3/2/2005 issue of the CACI Analyst)", date(2005, 2, 3), date(2005, 2, 3)),
        ("By X Y (3/2/2005 issue of the CACI Analyst)", date(2005, 3, 2), date(2005, 3, 2)),
        ("By X Y (3/2/2005 issue of the CACI Analyst)", None, date(2005, 3, 2)),
        ("By empty (6/29/2001 issue of the CACI Analyst)", date(2001, 6, 29), date(2001, 6, 29)),
        ("By Najia Badykova", date(2015, 11, 16), None),
    ],
)
def test_parse_issue_date(byline, published, expected) -> None:
    assert parse_issue_date(byline, published) == expected


@pytest.mark.parametrize(
    ("line", "published", "expected"),
    [
        ("November 16th, 2015, The CACI Analyst", date(2015, 11, 16), date(2015, 11, 16)),
        ("October 22nd, 2015, The CACI Analyst", None, date(2015, 10, 22)),
        ("January 28, 2021, the CACI Analyst", date(2021, 1, 28), date(2021, 1, 28)),
        ("March 28, 2022", date(2022, 3, 28), date(2022, 3, 28)),
        ("May 6th, the CACI Analyst", date(2016, 5, 6), date(2016, 5, 6)),
        ("October 1st, the CACI Analyst", date(2015, 10, 1), date(2015, 10, 1)),
        # Year-less, published just after New Year: the nearest reading is the previous year.
        ("December 30th, the CACI Analyst", date(2016, 1, 4), date(2015, 12, 30)),
        ("May 6th, the CACI Analyst", None, None),
    ],
)
def test_parse_dated_line(line, published, expected) -> None:
    assert is_dated_line(line)
    assert parse_dated_line(line, published) == expected


@pytest.mark.parametrize(
    "line",
    ["By Najia Badykova", "March is a month", "In March 2022, the war began.", ""],
)
def test_not_a_dated_line(line) -> None:
    assert not is_dated_line(line)
