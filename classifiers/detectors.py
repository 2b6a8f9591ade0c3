"""Personal-data detectors: UK phone numbers, postcodes, street addresses, emails, dates of
birth, and a child's full name beside a class or a medical or SEN detail.

They run on the original comment text, so every span is an offset into what the
person wrote. Numbers are matched in the fictional Ofcom drama ranges as well as
real ranges: the detector does not care which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

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
    r"street|st(?!\.?\s+(?-i:[A-Z])[a-z]+['’]s\b)|road|rd|lane|ln|drive|dr|close|avenue|ave|"
    r"way|crescent|cres|court|ct|gardens|"  # "St Mary's" is a school or church, not a street
    r"grove|place|pl|terrace|mews|row|walk|hill|view|rise|square|sq|green|parade|fold|croft"
)
_NOT_NAME = (
    r"the|a|an|of|to|in|on|at|and|or|my|our|your|his|her|their|times|minutes|mins|miles|hours|"
    r"days|years|weeks|months|kids|children|cars|people|more|other|different|new|old|big|little|"
    r"year|class|yr|am|pm|o'?clock|hour|minute|min|mile|second|day|week|month|someone'?s|"
    r"somebody'?s|anyone'?s"
)

ORGANISATION_NUMBER = re.compile(
    rf"(?<![\d+/=])(?:(?:{_PREFIX}|0)(?:[389](?:[\s-]?\d){{8,9}}|80[08] \d{{4}})|"
    rf"116[\s-]?\d{{3}})(?!\d)"
)
"""A number Ofcom's numbering plan gives to organisations, never to one person: 03
(national rate), 08 (freephone and special services), 09 (premium rate) and 116
(helplines such as Samaritans' 116 123). Not personal data (Aycliffe 5 and Preston
Grange 302 protect *people's* details)."""

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
        "pd.organisation_number",
        ORGANISATION_NUMBER,
        0.0,  # found so that the model's reading of the digits can be capped (rules.py)
        "an organisation's number (national-rate, freephone, premium or helpline)",
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
            rf"\b(?<!\d-)(?<!\d[.:])\d{{1,4}}[a-z]?,?\s+(?!(?:{_NOT_NAME})\b)(?:[a-z'-]+\s+){{1,3}}"
            rf"(?:{_STREET_WORDS})\b\.?",  # "the 3.15 rush on Larch Ave" is a time
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
        re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
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


_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "double": "",
}  # fmt: skip
_SPELLED_NUMBER = re.compile(r"\b(?:(?:" + "|".join(_DIGIT_WORDS) + r"|\d)[\s,.-]*){10,}\b", _I)
"""A phone number written in words to get past filters ("zero seven seven zero zero, nine
zero zero..."); "double seven" counts as two sevens."""


_PHONE_DETECTORS = {
    d.rule_id: d for d in DETECTORS if d.rule_id in ("pd.uk_mobile", "pd.uk_landline")
}


def _evidence(det: Detector, m: re.Match[str], detail: str) -> Evidence:
    """Personal-data evidence for a detector's match."""
    return Evidence(
        category=Category.PERSONAL_DATA,
        source="rule",
        rule_id=det.rule_id,
        score=det.weight,
        span=(m.start(), m.end()),
        matched=m.group(0),
        detail=detail,
    )


def _spelled_phone(text: str) -> list[Evidence]:
    found = []
    for m in _SPELLED_NUMBER.finditer(text):
        tokens = re.findall(r"[a-z]+|\d", m.group(0).lower())
        if not any(t.isalpha() for t in tokens):
            continue  # plain digits are the ordinary detectors' job
        digits, double = [], False
        for tok in tokens:
            if tok == "double":
                double = True
                continue
            d = _DIGIT_WORDS.get(tok, tok)
            digits.append(d * 2 if double else d)
            double = False
        number = "".join(digits)
        if re.fullmatch(r"(?:07\d{9}|0[12]\d{8,9})", number):
            det = _PHONE_DETECTORS["pd.uk_mobile" if number.startswith("07") else "pd.uk_landline"]
            found.append(_evidence(det, m, "a phone number written in words"))
    return found


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
            found.append(_evidence(det, m, det.detail))
    found.extend(_spelled_phone(text))
    return found


# A child's full name with identifying details (docs/categories.md, personal_data;
# Aycliffe 5 and Preston Grange 302: data protection) for children who are not on
# the roster. A name is two capitalised words; the words below are capitalised
# often without being a first name or surname (sentence openers, titles, places,
# events, platforms), and a title before the name means an adult.
_NOT_A_NAME = frozenset(
    """
    i the this that these those my our your his her their its we you he she they it a an
    well thank thanks happy merry good great so very please year class sports red blue green
    yellow house mill oak st saint christmas easter harvest reception nursery monday tuesday
    wednesday thursday friday saturday sunday january february march april may june july
    august september october november december mr mrs miss ms mx dr sir head deputy school
    primary academy facebook youtube reddit roblox snapchat discord xbox tiktok instagram
    whatsapp ofsted camhs sen senco pta pe god jesus mum dad nan nanna grandma grandad lol omg
    bless just not no yes oh love lovely amazing brilliant bravo congratulations congrats big
    little new old shout sorry does can could would will is are was why what when where who how
    do did has have had hope hi hello dear morning afternoon evening night day week term half
    summer autumn spring winter world book science maths english art music forest nativity
    assembly trip club general hospital road lane street park church community county council
    children kids parents team mental health safer internet anti odd socks comic relief in on
    at for from with and but or if as all some every any one two three four five six seven
    eight nine ten also after before again still then there here now today tomorrow yesterday
    tonight last next first second third fab fantastic super proud free click dm earn win visit
    call text message join follow like share watch check see look get best top cheap only quick
    high juniors junior infants infant college fc centre center library hall trust grammar
    secondary united city town rovers leisure pool gardens close avenue drive way ambulance
    history month week
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
_NAME_WORD = r"(?:Mc|Mac|O')?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
_FULL_NAME = re.compile(  # a lookahead, so "Little Theo Grant" also tries "Theo Grant"
    rf"(?<![\w'’.])(?<!Mr )(?<!Mrs )(?<!Miss )(?<!Ms )(?<!Mx )(?<!Dr )(?<!Sir )"
    rf"(?=({_NAME_WORD})\s+({_NAME_WORD})(?![\w'’]))"
)
_CONDITION_WORDS = (
    r"autis\w*|adhd|epilep\w*|diabet\w*|asthma\w*|allerg\w*|ehcp|dyslex\w*|epipen|foster\w*|"
    r"in care|social worker|free school meals|pupil premium|deaf|hearing aids?|feeding tube|"
    r"wheelchair|cerebral palsy|down'?s syndrome"
)
CHILD_DETAIL_WORDS = rf"year ?\d|yr ?\d|y\d|(?:in|from) \d[a-z]|{_CONDITION_WORDS}"
"""Words that place a child in a class or name a medical, SEN or care detail (lower case;
the roster's pupil rule adds addresses and other details to them)."""
_MORE_CONDITIONS = r"(?i:chemo\w*|leukaemia)|SEND|SEN|ASD"  # in capitals only: "send", "sen"
_CHILD_DETAIL = re.compile(
    rf"(?<![A-Za-z])(?:(?i:{CHILD_DETAIL_WORDS}|class \d[a-z]|class [a-z]\d|reception class|"
    rf"in reception)|{_MORE_CONDITIONS})(?![A-Za-z])"
)
CHILD_DETAIL_REACH = 80
"""How near (in characters) a class or condition must be to a name to be about it."""
_CONDITION = re.compile(rf"(?<![A-Za-z])(?:(?i:{_CONDITION_WORDS})|{_MORE_CONDITIONS})(?![A-Za-z])")
"""The medical, SEN and care details of :data:`_CHILD_DETAIL` (not a class or year)."""
_LOWER_NAME = re.compile(
    r"(?<![\w'’.@#-])([a-z]{2,}(?:-[a-z]{2,})?) ([a-z]{2,})(?=,? (?:(?:from|in) )?(?i:\d[a-z]\b|"
    r"year ?\d|yr ?\d|y\d\b|class \d[a-z]\b))"
)
"""Two lower-case words just before a class ("amelia-rose duffy from 6H"): a name typed
without capitals, when neither word is a common word and a condition is near."""
_COMMON_WORDS = _NOT_A_NAME | frozenset(ENGLISH_STOP_WORDS)
_NOT_NAME_ENDINGS = ("ing", "ly", "ful", "ed", "ous", "est")
"""Endings of adjectives, adverbs and verbs ("beautiful singing from year 2", "really
settled in 6H"); the price is that lower-case names with these endings ("emily", "fred",
"west") are not found, as before this rule."""


def _lower_case_name(text: str) -> tuple[tuple[int, int], str] | None:
    conditions = list(_CONDITION.finditer(text))
    if not conditions:
        return None
    for m in _LOWER_NAME.finditer(text):
        if any(w in _COMMON_WORDS or w.endswith(_NOT_NAME_ENDINGS) for w in m.group(1, 2)):
            continue
        for d in conditions:
            if abs(d.start() - m.start()) <= CHILD_DETAIL_REACH:
                return (m.start(1), m.end(2)), d.group(0)
    return None


def find_child_full_name(text: str) -> tuple[tuple[int, int], str] | None:
    """The first full name in ``text`` with a class, year group, medical or SEN detail
    near it, as (span of the name, the detail's kind); None when there is none.

    A name is two capitalised words; two lower-case words count only when a class
    follows them at once and a medical, SEN or care detail is near ("kayden brooks
    6H has a hearing aid"). Words that are part of the detail itself ("Pupil
    Premium") are not a name. Used for children who are not on the roster
    (rostered pupils are found by the roster). The name itself is never copied into
    evidence.
    """
    details = list(_CHILD_DETAIL.finditer(text))
    if not details:
        return None
    for m in _FULL_NAME.finditer(text):
        if m.group(1).lower() in _NOT_A_NAME or m.group(2).lower() in _NOT_A_NAME:
            continue
        for d in details:
            if m.start(1) < d.end() and d.start() < m.end(2):
                continue  # the "name" is the detail's own words
            if abs(d.start() - m.start()) <= CHILD_DETAIL_REACH:
                return (m.start(1), m.end(2)), d.group(0)
    return _lower_case_name(text)
