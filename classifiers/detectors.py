"""Personal-data detectors: UK phone numbers, postcodes, street addresses, emails, dates of birth.

They run on the original comment text, so every span is an offset into what the
person wrote. Numbers are matched in the fictional Ofcom drama ranges as well as
real ranges: the detector does not care which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.models import Category, Evidence


@dataclass(frozen=True, slots=True)
class Detector:
    """One personal-data pattern."""

    rule_id: str
    pattern: re.Pattern[str]
    weight: float
    detail: str


_I = re.IGNORECASE
_PREFIX = r"(?:(?:\+|00)\s?44\s?\(?0?\)?\s?)"
_STREET_WORDS = (
    r"street|st|road|rd|lane|ln|drive|dr|close|avenue|ave|way|crescent|cres|court|ct|gardens|"
    r"grove|place|pl|terrace|mews|row|walk|hill|view|rise|square|sq|green|parade|fold|croft"
)
_NOT_NAME = (
    r"the|a|an|of|to|in|on|at|and|or|my|our|your|his|her|their|times|minutes|mins|miles|hours|"
    r"days|years|weeks|months|kids|children|cars|people|more|other|different|new|old|big|little|"
    r"year|class|yr|am|pm|o'?clock"
)

DETECTORS: tuple[Detector, ...] = (
    Detector(
        "pd.uk_mobile",
        re.compile(rf"(?<![\d+])(?:{_PREFIX}7|07)\d{{3}}[\s-]?\d{{3}}[\s-]?\d{{3}}(?!\d)"),
        0.9,
        "a UK mobile number",
    ),
    Detector(
        "pd.uk_landline",
        re.compile(
            rf"(?<![\d+])(?:{_PREFIX}|\(?0)[12]\d{{2,4}}\)?[\s-]?\d{{3,4}}[\s-]?\d{{3,4}}(?!\d)"
        ),
        0.85,
        "a UK landline number",
    ),
    Detector(
        "pd.postcode",
        re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b"),
        0.8,
        "a postcode",
    ),
    Detector(
        "pd.street_address",
        re.compile(
            rf"\b\d{{1,4}}[a-z]?,?\s+(?!(?:{_NOT_NAME})\b)(?:[a-z'-]+\s+){{1,3}}"
            rf"(?:{_STREET_WORDS})\b\.?",
            _I,
        ),
        0.9,
        "a street address",
    ),
    Detector(
        "pd.lives_on",
        re.compile(
            rf"\b(?:lives?|living|live|stays?|moved)\s+(?:at|on|in|to)\s+(?:no\.?\s*\d+\s+)?"
            rf"(?!(?:{_NOT_NAME})\b)(?:[a-z'-]+\s+){{1,3}}(?:{_STREET_WORDS})\b",
            _I,
        ),
        0.75,
        "where someone lives",
    ),
    Detector(
        "pd.email",
        re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
        0.75,
        "an email address",
    ),
    Detector(
        "pd.date_of_birth",
        re.compile(
            r"\b(?:d\.?o\.?b\.?|date of birth|born(?: on)?|birthday is)\s*:?\s*"
            r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
            r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:\s+\d{4})?)",
            _I,
        ),
        0.85,
        "a date of birth",
    ),
)


def detect_personal_data(text: str) -> list[Evidence]:
    """Every personal-data match in ``text``, as evidence for ``personal_data``.

    Args:
        text: The original comment text.

    Returns:
        One :class:`Evidence` per match, with the span of the original text.
    """
    found: list[Evidence] = []
    taken: list[tuple[int, int]] = []
    for det in DETECTORS:
        for m in det.pattern.finditer(text):
            span = (m.start(), m.end())
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue  # a landline pattern inside a mobile number, etc.
            taken.append(span)
            found.append(
                Evidence(
                    category=Category.PERSONAL_DATA,
                    source="rule",
                    rule_id=det.rule_id,
                    score=det.weight,
                    span=span,
                    matched=m.group(0),
                    detail=det.detail,
                )
            )
    return found
