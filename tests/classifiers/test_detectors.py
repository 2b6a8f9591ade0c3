"""Personal-data detectors."""

from __future__ import annotations

import pytest

from classifiers.detectors import detect_personal_data, find_child_full_name


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
        ("she's at 14 Elm St Millbridge", "pd.street_address"),
        ("postcode is AS3 4PQ", "pd.postcode"),
        ("he lives on Kestrel Drive now", "pd.lives_on"),
        ("email me at jo.bloggs@mail.example", "pd.email"),
        ("DOB 02/09/2016", "pd.date_of_birth"),
        ("born on 3rd May 2017", "pd.date_of_birth"),
        ("her mobile: zero seven seven zero zero, nine zero zero, three five six", "pd.uk_mobile"),
        ("ring oh seven seven double oh nine oh oh one two three", "pd.uk_mobile"),
        ("home: oh one six three two nine six oh one two three", "pd.uk_landline"),
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
        "one two three four five six seven eight nine ten, coming ready or not",
        "£2,000 raised at the fair, thanks all",
        "Year 4 went 3 times down the road to the park",
        "The lads won 6-0 against St Mary's!!",  # a score and a school, not an address
        "The class of 2016 reunion",
        "Sports day is on 12/06 this year",
        "Scored 10 out of 10 in the spelling test",
        "Is it a 2 hour drive to the outdoor centre?",  # a journey, not "2 Hour Drive"
        "Can she stay at someones place after the disco?",
    ],
)
def test_no_false_hits(text: str) -> None:
    assert detect_personal_data(text) == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("If any child needs to talk, Childline is free on 0800 1111", "0800 1111"),
        ("NSPCC helpline for worried adults: 0808 800 5000", "0808 800 5000"),
        ("The council's admissions line is 0300 123 4567", "0300 123 4567"),
        ("Samaritans are there day and night on 116 123", "116 123"),
        ("You have WON! call09050000327 now", "09050000327"),
        ("uniform shop +44 (0)845 601 2345", "+44 (0)845 601 2345"),
    ],
)
def test_an_organisations_number_is_told_apart(text: str, number: str) -> None:
    """Freephone, national-rate, premium and 116 helpline numbers belong to
    organisations: found, with no weight, and never as a person's number."""
    found = detect_personal_data(text)
    assert [(e.rule_id, e.matched, e.score) for e in found] == [
        ("pd.organisation_number", number, 0.0)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Breakfast club runs 0800-0845 every day",  # times, not a freephone number
        "the book is amazon.example/dp/0830845933",  # digits inside a link
        "ring me on 07700 900155",  # a mobile is a person's
        "home number 01632 960123",  # so is a landline
    ],
)
def test_not_an_organisations_number(text: str) -> None:
    rules = [e.rule_id for e in detect_personal_data(text)]
    assert "pd.organisation_number" not in rules


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("So proud of Amelia-Rose Hartley (Year 5), she sang her solo", "Amelia-Rose Hartley"),
        ("Harvey Doyle in 4B has an EHCP and they all know it", "Harvey Doyle"),
        ("that's Alfie McBride with the ADHD, lives by the shop", "Alfie McBride"),
        ("Mia Thompson from 2C, the little girl who's deaf", "Mia Thompson"),
        ("Little Theo Grant in Year 1, the boy with the feeding tube", "Theo Grant"),
    ],
)
def test_child_full_name_with_a_class_or_condition(text: str, name: str) -> None:
    found = find_child_full_name(text)
    assert found is not None
    (start, end), _detail = found
    assert text[start:end] == name


@pytest.mark.parametrize(
    "text",
    [
        "Well done Year 5 at Sports Day!",
        "Miss Grace Bello in Year 3 is brilliant",  # a title: an adult
        "Both mine are at Millbridge High now, Mrs Hughes in Y6 was great",
        "Harvey Doyle scored the winning goal",  # a name, but nothing identifying
        "My son has ADHD and the school has been great",  # a condition, but no name
        "Year 5 had the St John Ambulance first aid session",  # an organisation
        "Black History Month display is fantastic, well done Year 5",  # an event
        "Harvey Doyle was brilliant. " + "The weather was lovely all afternoon. " * 3 + "Y5",
    ],
)
def test_no_child_name_without_both(text: str) -> None:
    assert find_child_full_name(text) is None
