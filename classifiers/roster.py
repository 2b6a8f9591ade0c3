"""Recognise staff and pupils named in a comment, from the policy roster and generic forms.

A staff member is *identifiable* when the comment names them ("Mr Osei", "Daniel
Osei", an alias from the roster such as "Mr O"), uses a title with a surname
("Mrs Patel"), or uses a one-person role ("the Year 4 teacher", "the head",
"the deputy head"). "A dinner lady" or "one of the TAs" is not identifiable.
Pupils are recognised only from the roster; their names are never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from classifiers.normalise import Normalised
from config.policy import Roster

TITLE_WORDS = ("mr", "mrs", "miss", "ms", "mx", "dr", "mister", "sir")
"""Titles that, before a surname or initials, name a member of staff. Not "madam": "a
cheeky little madam" is a girl and "hello madam how are you" a greeting."""
TITLES = rf"(?:{'|'.join(TITLE_WORDS)})"
_TITLE_WORDS = frozenset({*TITLE_WORDS, "madam"})  # left out of a roster name's surname

# one-person roles; the value is the policy role a roster member may hold
GENERIC_ROLES: tuple[tuple[str, str | None], ...] = (
    (r"the (?:head ?teacher|head|headmaster|headmistress|head of school|principal)", "headteacher"),
    (r"the (?:deputy head|deputy|assistant head)", "deputy_dsl"),
    (r"the (?:dsl|safeguarding lead|designated safeguarding lead)", "dsl"),
    (r"the (?:senco|sendco|caretaker|site manager|office manager|business manager)", None),
    (
        # not the lollipop lady: crossing patrols work for the council, not the school
        r"the (?:breakfast club|after ?school club|wraparound(?: care)?) "
        r"(?:manager|lead|leader|supervisor)",
        None,
    ),
    (
        r"the (?:year|yr|y) ?(?:\d|r|reception|one|two|three|four|five|six) "
        r"(?:class )?(?:teacher|ta|teaching assistant)",
        None,
    ),
    (r"the (?:reception|nursery|pe|music|football|swimming|forest school) (?:teacher|coach)", None),
    (r"(?:his|her|their|my|our|my son'?s|my daughter'?s) (?:class )?teacher", None),
    (r"the chair of (?:the )?governors", "chair_of_governors"),
)

GENERIC_STAFF = re.compile(r"(?<![a-z])(?:" + "|".join(p for p, _ in GENERIC_ROLES) + r")(?![a-z])")
SURNAME = r"(?:[a-z][a-z'-]+|(?![aiu]\b)[a-z](?:\.[a-z])*\b\.?)"
"""A surname after a title, or initials ("mrs p", "mrs d.g"): docs/categories.md counts
a title with initials as identifiable. "a", "i" and "u" are left out ("I'll miss u")."""
_TITLE_NAME = re.compile(rf"(?<![a-z]){TITLES}\.?\s+{SURNAME}(?![a-z])")
_DINNER_LADY = r"dinner lad(?:y|ys|ies)"
_UNIDENTIFIED = re.compile(
    r"(?<![a-z])(?:a|one of the|some of the|one|some|the) "
    rf"(?:{_DINNER_LADY}|lunchtime supervisors?|tas?|teaching assistants?|teachers?|"
    r"supply teachers?|members? of staff|staff members?|staff)(?![a-z])"
)
_UNNAMED = re.compile(
    rf"(?<![a-z])(?:(?:a|an|one of the|some of the|one|some|another) (?:{_DINNER_LADY}|"
    r"lunchtime supervisors?|tas?|teaching assistants?|teachers?|supply teachers?|members? of "
    rf"staff|staff members?)|the (?:{_DINNER_LADY}|lunchtime supervisors?|supply teachers?))"
    r"(?![a-z])"
)
_COMMON_WORDS = frozenset(
    {"will", "may", "bell", "hill", "green", "white", "black", "brown", "long", "young", "king"}
)


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in a comment (``start``/``end`` index the normalised text)."""

    kind: str  # "staff" (rostered), "generic_staff" (identifiable, not rostered), "pupil"
    person_id: str  # roster staff id, pupil index ("pupil:3") or "" for generic staff
    start: int
    end: int
    via: str  # "name", "alias", "role", "title"


def _phrase(text: str) -> str:
    words = [re.escape(w) for w in re.split(r"[\s.]+", text.casefold().strip()) if w]
    return r"\.?\s+".join(words)


@lru_cache(maxsize=16)
def _compile(roster: Roster) -> tuple[tuple[re.Pattern[str], str, str, str], ...]:
    patterns: list[tuple[re.Pattern[str], str, str, str]] = []
    for staff in roster.staff:
        parts = [p for p in re.split(r"\s+", staff.name.strip()) if p]
        forms: list[tuple[str, str]] = [(_phrase(staff.name), "name")]
        names = [p for p in parts if p.casefold().rstrip(".") not in _TITLE_WORDS]
        if names:
            surname = names[-1]
            forms.append((rf"{TITLES}\.?\s+{_phrase(surname)}", "name"))
            if len(names) > 1:
                forms.append((_phrase(" ".join(names)), "name"))
            if len(surname) >= 4 and surname.casefold() not in _COMMON_WORDS:
                forms.append((_phrase(surname), "name"))
        forms.extend((_phrase(alias), "alias") for alias in staff.aliases)
        for form, via in forms:
            pat = re.compile(rf"(?<![a-z]){form}(?![a-z])")
            patterns.append((pat, "staff", staff.id, via))
        if staff.role is not None:
            for role_pat, role in GENERIC_ROLES:
                if role == staff.role:
                    patterns.append(
                        (re.compile(rf"(?<![a-z]){role_pat}(?![a-z])"), "staff", staff.id, "role")
                    )
    for n, pupil in enumerate(roster.pupils):
        for form in (pupil.name, *pupil.aliases):
            pat = re.compile(rf"(?<![a-z]){_phrase(form)}(?![a-z])")
            patterns.append((pat, "pupil", f"pupil:{n}", "name"))
    return tuple(patterns)


def find_mentions(norm: Normalised, roster: Roster) -> list[Mention]:
    """Staff and pupils named in a normalised comment.

    Args:
        norm: The normalised comment.
        roster: The school's roster from its policy.

    Returns:
        Mentions in text order; rostered matches win over generic ones at the same place.
    """
    text = norm.text
    found: list[Mention] = []
    for pat, kind, pid, via in _compile(roster):
        found.extend(Mention(kind, pid, m.start(), m.end(), via) for m in pat.finditer(text))
    taken = [(m.start, m.end) for m in found]
    for pat, via in ((GENERIC_STAFF, "role"), (_TITLE_NAME, "title")):
        for m in pat.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append(Mention("generic_staff", "", m.start(), m.end(), via))
    found.sort(key=lambda m: (m.start, -m.end))
    kept: list[Mention] = []
    for mention in found:  # one mention per place: the longest match wins
        if kept and mention.start < kept[-1].end and mention.kind == kept[-1].kind:
            continue
        kept.append(mention)
    return kept


def unidentified_staff(norm: Normalised) -> re.Match[str] | None:
    """A reference to staff that does not identify one person ("a dinner lady")."""
    return _UNIDENTIFIED.search(norm.text)


def unnamed_staff_spans(norm: Normalised) -> list[tuple[int, int]]:
    """Where the comment refers to a member of staff who cannot be identified ("a TA",
    "the dinner lady", "a supply teacher"); "the teacher" is left out, because a
    parent usually means their child's own teacher."""
    return [m.span() for m in _UNNAMED.finditer(norm.text)]
