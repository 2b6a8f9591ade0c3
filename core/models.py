"""Core value types that flow through schoolwatch.

One direction of flow::

    connector -> Comment -> classifier -> Verdict -> policy router -> Decision
              -> alert / queue -> digest

Every type here is a frozen dataclass with no behaviour beyond small derived
properties. Nothing in ``core`` imports from any other schoolwatch package.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Platform(enum.StrEnum):
    """A social platform a school's channel lives on."""

    FACEBOOK = "facebook"
    YOUTUBE = "youtube"
    REDDIT = "reddit"


class Category(enum.StrEnum):
    """Moderation categories, declared in priority order (most serious first).

    The order is the labelling rule of ``docs/categories.md``: when several
    categories apply, the first one in this order is the primary category.
    """

    SELF_HARM = "self_harm"
    ABUSE_DISCLOSURE = "abuse_disclosure"
    SEXUAL = "sexual"
    STAFF_ALLEGATION = "staff_allegation"
    PERSONAL_DATA = "personal_data"
    THREAT = "threat"
    HATE = "hate"
    BULLYING = "bullying"
    DEFAMATION = "defamation"
    SPAM = "spam"
    CRITICISM = "criticism"
    BENIGN = "benign"

    @property
    def priority(self) -> int:
        """0 for the most serious category, 11 for ``benign``."""
        return list(Category).index(self)

    @property
    def is_harmful(self) -> bool:
        """Criticism and benign comments are not harm."""
        return self not in NOT_HARMFUL

    @property
    def is_safeguarding(self) -> bool:
        """A child may be at risk: the DSL must be told at once."""
        return self in SAFEGUARDING


SAFEGUARDING: frozenset[Category] = frozenset(
    {Category.SELF_HARM, Category.ABUSE_DISCLOSURE, Category.SEXUAL}
)
NOT_HARMFUL: frozenset[Category] = frozenset({Category.CRITICISM, Category.BENIGN})
HARMFUL: tuple[Category, ...] = tuple(c for c in Category if c not in NOT_HARMFUL)


def primary_category(categories: frozenset[Category] | tuple[Category, ...]) -> Category:
    """The most serious category among ``categories`` (``benign`` if empty)."""
    return min(categories, key=lambda c: c.priority, default=Category.BENIGN)


class Severity(enum.IntEnum):
    """How serious a decision is. Higher is more serious."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class Action(enum.StrEnum):
    """Moderation actions a connector may be able to perform on a platform."""

    HIDE = "hide"
    UNHIDE = "unhide"
    DELETE = "delete"
    APPROVE = "approve"
    HOLD_FOR_REVIEW = "hold_for_review"
    REPLY = "reply"


class Disposition(enum.StrEnum):
    """What happens to the comment itself after routing."""

    NONE = "none"  # nothing: benign, not queued
    QUEUE = "queue"  # stays visible, waits in the moderation queue
    HOLD = "hold"  # held for review where the platform supports it
    HIDE = "hide"  # hidden at once where the platform supports it


@dataclass(frozen=True, slots=True)
class Comment:
    """One comment (or Reddit submission) as fetched from a platform.

    Platform objects are normalised into this at the connector edge; no
    library object or platform JSON leaves ``connectors/``.
    """

    school_id: str
    platform: Platform
    external_id: str
    thread_id: str  # the post, video or submission it sits under
    parent_id: str | None  # parent comment id, None for a top-level comment
    author_id: str
    author_name: str
    text: str
    created_at: datetime  # timezone-aware, UTC
    permalink: str
    raw: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    thread_title: str = ""  # the post / video / submission text, for context

    @property
    def key(self) -> tuple[str, str, str]:
        """The natural key: school, platform and platform id."""
        return (self.school_id, self.platform.value, self.external_id)


@dataclass(frozen=True, slots=True)
class Context:
    """Text around a comment that a classifier may use."""

    post_text: str = ""
    parent_text: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a category scored what it did: one rule hit or one model score."""

    category: Category
    source: str  # "rule", "lexicon", "pattern", "roster", "model", "profanity"
    rule_id: str  # e.g. "pd.uk_mobile" or "minilm-heads"
    score: float
    span: tuple[int, int] | None = None  # character offsets in the comment text
    matched: str = ""  # the matched words (sensitive: never logged)
    model: str = ""  # "name@version" for model evidence
    detail: str = ""  # a short human phrase, e.g. "UK mobile number"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classifier's judgement on one comment."""

    scores: Mapping[Category, float]
    flagged: tuple[Category, ...]  # categories over threshold, most serious first
    evidence: tuple[Evidence, ...]
    classifier: str  # "name@version"
    explanation: str = ""  # one sentence for the queue and the alert
    staff_mentioned: tuple[str, ...] = ()  # roster ids of staff the comment names
    pupils_mentioned: int = 0  # how many rostered pupils it names (never the names)

    @property
    def primary(self) -> Category:
        """The most serious flagged category, or ``benign``."""
        return primary_category(self.flagged)

    @property
    def is_harmful(self) -> bool:
        """True when any flagged category is harm (not criticism or benign)."""
        return any(c.is_harmful for c in self.flagged)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A named person resolved from a policy role."""

    role: str
    name: str
    email: str
    is_fallback: bool = False  # the role holder was absent; this is their fallback


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """Tell ``notify`` roles when an alert is unacknowledged ``after_minutes``."""

    after_minutes: int
    notify: tuple[str, ...]
    reminder: str = ""  # extra advice in the escalation email (e.g. Aycliffe 8)
    clause: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy router decided for one comment."""

    category: Category
    severity: Severity
    disposition: Disposition
    notify: tuple[Recipient, ...]  # told now (urgent) or at the next working time
    inform: tuple[Recipient, ...]  # kept informed, never urgent
    queue_role: str | None  # whose moderation queue it goes to, if any
    urgent: bool  # ignores working hours and holidays
    escalation: tuple[EscalationStep, ...]
    clause: str  # the policy clauses this decision follows
    reason: str  # one plain-English sentence

    @property
    def alerts_anyone(self) -> bool:
        """True when somebody is emailed about this comment."""
        return bool(self.notify or self.inform)


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert raised for a comment: the unit that is acknowledged and escalated."""

    id: str
    school_id: str
    comment_key: tuple[str, str, str]
    category: Category
    severity: Severity
    urgent: bool
    recipients: tuple[Recipient, ...]
    incident_key: str  # comments in one incident share this
    created_at: datetime
    clause: str = ""


@dataclass(frozen=True, slots=True)
class Batch:
    """What one ``fetch_since`` call returns: comments oldest first, and the cursor after them."""

    comments: tuple[Comment, ...]
    cursor: str | None
    more: bool = False  # True when the source holds more than this batch
    removed: tuple[str, ...] = ()  # external ids the platform reports deleted


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The platform's answer to a moderation action."""

    ok: bool
    action: Action
    external_id: str
    detail: str = ""
