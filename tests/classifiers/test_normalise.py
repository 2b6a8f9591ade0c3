"""Text normalisation: obfuscation undone, innocent words left alone, spans map back."""

from __future__ import annotations

import pytest

from classifiers.normalise import model_text, normalise
from classifiers.rules import RuleClassifier
from config.policy import SchoolPolicy
from core.models import Category


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("s.h.o.o.t", "shoot"),
        ("k i l l", "kill"),
        ("r3t4rds", "retards"),
        ("d!e", "die"),
        ("Lіѕtеn", "listen"),  # Cyrillic look-alikes
        ("𝐤𝐢𝐥𝐥", "kill"),  # mathematical bold
        ("ＫＩＬＬ", "kill"),  # full width
        ("soooooo", "soo"),
        ("k\u200bill", "kill"),  # zero-width space
        ("m r  o s e i", "mr osei"),  # a spaced-out title as well as a name
        ("m s  j o n e s", "ms jones"),
        ("🍆🍆🍆", " aubergine aubergine aubergine "),  # one space between emoji words
        ("want to\n\nend it", "want to end it"),  # a phrase broken across lines
        ("at the gates :knife: :drop_of_blood:", "at the gates knife drop of blood "),
        (":eggplant::peach:", " aubergine peach "),  # emoji shortcodes
    ],
)
def test_obfuscation_is_undone(raw: str, expected: str) -> None:
    assert normalise(raw).text == expected


@pytest.mark.parametrize(
    "raw", ["Y3", "4O", "2:10", "£5", "07700 900155", "10am", "hi!", "Scunthorpe", "2nd"]
)
def test_innocent_tokens_are_left_alone(raw: str) -> None:
    assert normalise(raw).text == raw.lower()


def test_emoji_become_words() -> None:
    assert "knife" in model_text("🔪")
    assert "pig" in model_text("🐷")


def test_span_maps_back_to_original() -> None:
    raw = "I'll  s.h.o.o.t  you"
    norm = normalise(raw)
    start = norm.text.index("shoot")
    assert norm.original_text(start, start + 5) == "s.h.o.o.t"


@pytest.mark.parametrize(
    "text",
    [
        "We had a lovely day out in Scunthorpe",
        "A classic nativity, well done",
        "The teachers assess reading every term",
        "Penistone under-9s won the cup",
        "Cockermouth trip next week",
        "My son is analysing the data for his project",
        "Grape juice and a cocktail sausage roll",
        "Shoot me a message if you need a lift",
        "The kids were killing it on stage",
        "I'm dying to see the photos",
    ],
)
def test_scunthorpe_type_words_are_not_flagged(policy: SchoolPolicy, text: str) -> None:
    verdict = RuleClassifier(policy).classify_text(text)
    assert verdict.flagged == (Category.BENIGN,), verdict.explanation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mrs Patel locks the toilets", "mrs teacher locks the toilets"),
        ("mrs P throws pens at us", "mrs teacher throws pens at us"),
        ("miss d.g shouts", "miss teacher shouts"),
        ("I will miss u all", "i will miss u all"),
    ],
)
def test_model_text_replaces_a_title_and_surname_or_initials(raw: str, expected: str) -> None:
    from classifiers.features import prepare

    assert prepare(raw) == expected
