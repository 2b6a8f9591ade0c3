"""Personal-data detectors."""

from __future__ import annotations

import pytest

from classifiers.detectors import detect_personal_data


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("ring me on 07700 900155 tonight", "pd.uk_mobile"),
        ("ring me on 07700900155", "pd.uk_mobile"),
        ("call +44 7700 900155", "pd.uk_mobile"),
        ("home number 01632 960123", "pd.uk_landline"),
        ("landline (0113) 496 0999", "pd.uk_landline"),
        ("she lives at 22 Larch Drive", "pd.street_address"),
        ("drop it round to 7a mill lane", "pd.street_address"),
        ("postcode is AS3 4PQ", "pd.postcode"),
        ("he lives on Kestrel Drive now", "pd.lives_on"),
        ("email me at jo.bloggs@mail.example", "pd.email"),
        ("DOB 02/09/2016", "pd.date_of_birth"),
        ("born on 3rd May 2017", "pd.date_of_birth"),
    ],
)
def test_detects(text: str, rule: str) -> None:
    found = detect_personal_data(text)
    assert rule in [e.rule_id for e in found]
    ev = next(e for e in found if e.rule_id == rule)
    assert ev.span is not None
    assert text[ev.span[0] : ev.span[1]] == ev.matched


@pytest.mark.parametrize(
    "text",
    [
        "See you at 3:15 on Friday",
        "£2,000 raised at the fair, thanks all",
        "Year 4 went 3 times down the road to the park",
        "The class of 2016 reunion",
        "Sports day is on 12/06 this year",
        "Scored 10 out of 10 in the spelling test",
    ],
)
def test_no_false_hits(text: str) -> None:
    assert detect_personal_data(text) == []
