"""Roster and generic staff mentions."""

from __future__ import annotations

from classifiers.normalise import normalise
from classifiers.roster import find_mentions, unidentified_staff
from config.policy import SchoolPolicy


def _kinds(text: str, policy: SchoolPolicy) -> list[tuple[str, str, str]]:
    return [(m.kind, m.person_id, m.via) for m in find_mentions(normalise(text), policy.roster)]


def test_rostered_staff_by_name_title_alias_and_role(policy: SchoolPolicy) -> None:
    assert ("staff", "mr_reeve", "name") in _kinds("mr reeve was brilliant", policy)
    assert ("staff", "mr_reeve", "name") in _kinds("Tom Reeve again", policy)
    assert ("staff", "mr_reeve", "alias") in _kinds("the year 5 teacher is off", policy)
    assert ("staff", "head", "role") in _kinds("the headteacher never replies", policy)
    assert ("staff", "miss_bello", "alias") in _kinds("Miss B said so", policy)


def test_generic_staff_not_on_roster(policy: SchoolPolicy) -> None:
    kinds = _kinds("Mrs Kowalski shouted at the kids", policy)
    assert kinds == [("generic_staff", "", "title")]
    assert _kinds("the PE teacher", policy) == [("generic_staff", "", "role")]
    # a title with initials is identifiable (docs/categories.md, staff_allegation)
    assert _kinds("mrs P throws pens at us", policy) == [("generic_staff", "", "title")]
    assert _kinds("mrs d.g locks the toilets", policy) == [("generic_staff", "", "title")]
    assert _kinds("I'll miss u all, miss a day and it's chaos", policy) == []


def test_unidentified_staff(policy: SchoolPolicy) -> None:
    assert unidentified_staff(normalise("a dinner lady grabbed him")) is not None
    assert unidentified_staff(normalise("Mr Reeve grabbed him")) is None


def test_pupils_counted_not_named(policy: SchoolPolicy) -> None:
    kinds = _kinds("Pops Lindqvist and Poppy Lindqvist", policy)
    assert [k for k in kinds if k[0] == "pupil"] == [
        ("pupil", "pupil:0", "name"),
        ("pupil", "pupil:0", "name"),
    ]


def test_ordinary_words_are_not_staff(policy: SchoolPolicy) -> None:
    assert _kinds("We carted the bags to the car", policy) == []
    # "madam" before a word is a girl or a greeting, not a teacher's name
    assert _kinds("she's a spiteful little madam and her mum's no better", policy) == []
    assert _kinds("Hello madam how are you", policy) == []


def test_one_mention_per_place(policy: SchoolPolicy) -> None:
    kinds = _kinds("Mr Tom Reeve and Mrs C", policy)
    assert kinds == [("staff", "mr_reeve", "name"), ("staff", "head", "alias")]
