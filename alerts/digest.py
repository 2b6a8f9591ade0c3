"""The weekly digest: a pure function from query results to the figures the headteacher reads.

``alerts.digest_queries.gather`` reads the database for one school and one
ISO week (week boundaries in the school's time zone) and returns
:class:`DigestInputs`; :func:`build_digest` turns them into a
:class:`Digest` of figures. No I/O and no clock here, so a test can build a
digest from hand-made facts and check every figure.

The digest names no child and quotes no comment: it holds counts, times,
source health and theme labels from a fixed list (:data:`THEMES`).
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from alerts.router import category_label
from config.policy import SchoolPolicy
from core.models import SAFEGUARDING, Category, Platform, Severity

TREND_WEEKS = 12
"""Weeks shown in the trend chart (the digest's week and the eleven before it)."""

THEME_WEEKS = 4
"""Weeks looked back over when deciding whether a theme is recurring."""

OVERDUE_QUEUE_DAYS = 7
"""A moderation-queue item still open after this many days is overdue."""

THEME_CATEGORIES: frozenset[Category] = frozenset(
    {Category.CRITICISM, Category.DEFAMATION, Category.BULLYING, Category.HATE, Category.THREAT}
)
"""Categories whose comments are matched against :data:`THEMES`."""

TREND_GROUPS: tuple[str, ...] = ("Safeguarding", "Other harm", "Spam", "Criticism")
"""Stacks of the trend chart, most serious first."""

THEMES: Mapping[str, re.Pattern[str]] = {
    label: re.compile(pattern, re.IGNORECASE)
    for label, pattern in {
        "Communication with parents": r"\b(communicat\w*|newsletters?|not told|nobody told|"
        r"no one told|never told|emails?|letters?|no reply|never replied|ignored)\b",
        "Homework": r"\bhomework\b",
        "School meals": r"\b(lunch\w*|dinners?|school meals?|menu|canteen|packed lunch)\b",
        "Uniform": r"\b(uniform|blazers?|jumpers?|shoes)\b",
        "Parking and traffic": r"\b(parking|parked|traffic|car park|drop[- ]?off|pick[- ]?up|"
        r"school run|double parked)\b",
        "Behaviour and discipline": r"\b(behaviou?r|detentions?|discipline|sanctions?|"
        r"exclu(ded|sion|sions))\b",
        "How bullying is handled": r"\bbull(y|ied|ies|ying)\b",
        "Special educational needs": r"\b(senco|sendco|ehcp|special needs|send support|"
        r"autis\w*|adhd)\b",
        "Trips, clubs and costs": r"\b(trips?|clubs?|costs?|fees?|charg(e|es|ed|ing)|"
        r"expensive|voluntary contributions?)\b",
        "Staffing and supply teachers": r"\b(supply teachers?|staffing|staff turnover|"
        r"teachers? (left|leaving|keep leaving)|short[- ]staffed)\b",
        "Safety and security": r"\b(safety|unsafe|security|gates?|fences?)\b",
        "Term dates and closures": r"\b(term dates?|inset days?|closures?|closed|snow days?|"
        r"strikes?)\b",
        "Reading, phonics and results": r"\b(reading|phonics|spellings?|sats|results)\b",
        "Ofsted and standards": r"\b(ofsted|inspections?|standards)\b",
        "Buildings and facilities": r"\b(toilets?|heating|buildings?|playground|roof|"
        r"classrooms?)\b",
        "Leadership and governors": r"\b(head ?teacher|the head|leadership|governors?|"
        r"management|slt)\b",
    }.items()
}
"""Fixed theme labels and the words that signal them. Labels only ever leave this module."""


def themes_of(text: str) -> frozenset[str]:
    """The :data:`THEMES` labels a comment's text touches (the text itself is not kept)."""
    return frozenset(label for label, pattern in THEMES.items() if pattern.search(text))


# --------------------------------------------------------------------------- weeks


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO 8601 week, e.g. ``2026-W47`` (Monday to Sunday)."""

    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse ``2026-W47`` (or ``2026W47``). Raises ``ValueError`` when it is not a week."""
        match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), re.IGNORECASE)
        if not match:
            raise ValueError(f"{text!r} is not an ISO week like 2026-W47")
        year, week = int(match.group(1)), int(match.group(2))
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise ValueError(f"{text!r}: {year} has no week {week}") from exc
        return cls(year, week)

    @classmethod
    def of(cls, day: dt.date) -> IsoWeek:
        """The ISO week containing ``day``."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @property
    def label(self) -> str:
        """``2026-W47``."""
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> dt.date:
        """The first day of the week."""
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> dt.date:
        """The last day of the week."""
        return self.monday + dt.timedelta(days=6)

    def shift(self, weeks: int) -> IsoWeek:
        """The week ``weeks`` later (negative: earlier)."""
        return IsoWeek.of(self.monday + dt.timedelta(weeks=weeks))

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """Start (inclusive) and end (exclusive) in UTC: local midnight Monday to next Monday."""
        start = dt.datetime.combine(self.monday, dt.time(0), tzinfo=tz)
        end = dt.datetime.combine(self.monday + dt.timedelta(days=7), dt.time(0), tzinfo=tz)
        return start.astimezone(dt.UTC), end.astimezone(dt.UTC)

    def __str__(self) -> str:
        return self.label


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CommentFact:
    """One stored comment, reduced to what the digest counts (no text, no names)."""

    created_at: dt.datetime
    source_id: str
    platform: str
    category: str  # primary category; "benign" when unclassified
    severity: int
    themes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AlertFact:
    """One alert (incident)."""

    created_at: dt.datetime
    category: str
    severity: int
    status: str  # open | acknowledged | closed
    acknowledged_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    escalation_level: int = 0
    next_escalation_at: dt.datetime | None = None


@dataclass(frozen=True)
class QueueFact:
    """One moderation-queue item."""

    created_at: dt.datetime
    updated_at: dt.datetime
    status: str  # open, or what the moderator decided
    category: str
    queue_role: str


@dataclass(frozen=True)
class SourceFact:
    """The health row of one watched source."""

    source_id: str
    platform: str
    paused: bool = False
    last_success_at: dt.datetime | None = None
    last_error_at: dt.datetime | None = None
    consecutive_failures: int = 0
    quota_used: int = 0
    quota_day: str | None = None


@dataclass(frozen=True)
class DigestInputs:
    """Everything :func:`build_digest` needs, as read from the database."""

    week: IsoWeek
    now: dt.datetime
    comments: Sequence[CommentFact]  # the trend window: TREND_WEEKS weeks ending with ``week``
    alerts: Sequence[AlertFact]  # raised, acknowledged or closed in ``week`` or the one before,
    # and every alert still open
    queue: Sequence[QueueFact]  # decided in ``week``, and every item still open
    sources: Sequence[SourceFact]


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Count:
    """A figure this week and last week."""

    key: str
    label: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        """This week minus last week."""
        return self.count - self.previous


@dataclass(frozen=True)
class PlatformCount:
    """Comments and flagged comments on one platform, this week and last."""

    platform: str
    label: str
    comments: int
    comments_previous: int
    flagged: int
    flagged_previous: int


@dataclass(frozen=True)
class TrendWeek:
    """One bar of the trend chart: flagged comments by group in one week."""

    week: str
    monday: dt.date
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """All flagged comments that week."""
        return sum(self.counts.values())


@dataclass(frozen=True)
class OpenItems:
    """What is still waiting at the time the digest was made."""

    queue_open: int
    queue_overdue: int
    alerts_unacknowledged: int
    alerts_overdue: int
    oldest_open_days: int | None
    by_queue: tuple[Count, ...]  # key = queue role; count = open, previous = overdue


@dataclass(frozen=True)
class SourceStatus:
    """Health of one watched channel."""

    source_id: str
    name: str
    platform: str
    status: str  # ok | failing | paused | not checked yet | disabled
    last_success_at: dt.datetime | None
    consecutive_failures: int
    comments_this_week: int
    quota_used: int | None  # YouTube only
    quota_limit: int | None
    quota_day: str | None


@dataclass(frozen=True)
class Theme:
    """A recurring topic of critical comments, by label only."""

    label: str
    count: int  # comments this week touching it
    weeks_seen: int  # of the last THEME_WEEKS weeks, including this one
    previous: int  # comments the week before


@dataclass(frozen=True)
class ReviewReminder:
    """The policy's yearly review is near or overdue."""

    due: dt.date
    days_left: int  # negative: overdue
    last_reviewed: dt.date
    clause: str


@dataclass(frozen=True)
class Digest:
    """Every figure of one week's digest for one school."""

    school_id: str
    school_name: str
    timezone: str
    week: str
    start: dt.date
    end: dt.date  # last day (Sunday), inclusive
    generated_at: dt.datetime
    web_url: str
    clause: str
    comments: Count
    flagged: Count
    safeguarding: Count
    by_category: tuple[Count, ...]
    by_platform: tuple[PlatformCount, ...]
    by_severity: tuple[Count, ...]
    trend: tuple[TrendWeek, ...]
    incidents_opened: Count
    incidents_closed: Count
    incidents_escalated: int
    ack_median_minutes: float | None
    ack_count: int
    act_median_minutes: float | None
    act_count: int
    open: OpenItems
    sources: tuple[SourceStatus, ...]
    themes: tuple[Theme, ...]
    review: ReviewReminder | None

    @property
    def title(self) -> str:
        """``Weekly digest 16–22 November 2026``."""
        return f"Weekly digest {date_range(self.start, self.end)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (dates as ISO strings) for the outbox payload."""
        out: dict[str, Any] = _jsonable(asdict(self))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Digest:
        """Rebuild a digest stored with :meth:`to_dict`."""
        return _digest_from_dict(data)


def date_range(start: dt.date, end: dt.date) -> str:
    """``16–22 November 2026``, ``30 November – 6 December 2026`` or across years."""
    if start.year != end.year:
        return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day}–{end.day} {end:%B %Y}"


# --------------------------------------------------------------------------- build


def build_digest(inputs: DigestInputs, policy: SchoolPolicy) -> Digest:
    """Work out every figure of the digest for ``inputs.week``.

    Args:
        inputs: Facts read from the database (see :mod:`alerts.digest_queries`).
        policy: The school policy (time zone, channels, severities, review dates).

    Returns:
        The digest. Counts compare the week with the week before it.
    """
    tz = policy.tz
    week, prev = inputs.week, inputs.week.shift(-1)
    start, end = week.bounds(tz)
    pstart, pend = prev.bounds(tz)

    def in_week(t: dt.datetime | None) -> bool:
        return t is not None and start <= t < end

    def in_prev(t: dt.datetime | None) -> bool:
        return t is not None and pstart <= t < pend

    this = [c for c in inputs.comments if in_week(c.created_at)]
    last = [c for c in inputs.comments if in_prev(c.created_at)]
    flagged_this = [c for c in this if c.category != Category.BENIGN.value]
    flagged_last = [c for c in last if c.category != Category.BENIGN.value]
    cats_this = Counter(c.category for c in this)
    cats_last = Counter(c.category for c in last)
    by_category = tuple(
        Count(cat.value, category_label(cat), cats_this[cat.value], cats_last[cat.value])
        for cat in Category
    )
    sev_this = Counter(c.severity for c in flagged_this)
    sev_last = Counter(c.severity for c in flagged_last)
    by_severity = tuple(
        Count(sev.name.lower(), sev.name.capitalize(), sev_this[int(sev)], sev_last[int(sev)])
        for sev in sorted(Severity, reverse=True)
    )
    safe_values = {c.value for c in SAFEGUARDING}
    return Digest(
        school_id=policy.school.id,
        school_name=policy.school.name,
        timezone=policy.school.timezone,
        week=week.label,
        start=week.monday,
        end=week.sunday,
        generated_at=inputs.now,
        web_url=policy.school.web_url.rstrip("/"),
        clause=policy.digest.clause,
        comments=Count("comments", "Comments read", len(this), len(last)),
        flagged=Count("flagged", "Comments flagged", len(flagged_this), len(flagged_last)),
        safeguarding=Count(
            "safeguarding",
            "Safeguarding concerns",
            sum(c.category in safe_values for c in this),
            sum(c.category in safe_values for c in last),
        ),
        by_category=by_category,
        by_platform=_platforms(this, last, policy),
        by_severity=by_severity,
        trend=_trend(inputs.comments, week, tz),
        incidents_opened=Count(
            "opened",
            "Incidents opened",
            sum(in_week(a.created_at) for a in inputs.alerts),
            sum(in_prev(a.created_at) for a in inputs.alerts),
        ),
        incidents_closed=Count(
            "closed",
            "Incidents closed",
            sum(in_week(a.closed_at) for a in inputs.alerts),
            sum(in_prev(a.closed_at) for a in inputs.alerts),
        ),
        incidents_escalated=sum(
            in_week(a.created_at) and a.escalation_level > 0 for a in inputs.alerts
        ),
        ack_median_minutes=_median_minutes(
            (a.created_at, a.acknowledged_at) for a in inputs.alerts if in_week(a.acknowledged_at)
        ),
        ack_count=sum(in_week(a.acknowledged_at) for a in inputs.alerts),
        act_median_minutes=_median_minutes(
            (q.created_at, q.updated_at)
            for q in inputs.queue
            if q.status != "open" and in_week(q.updated_at)
        ),
        act_count=sum(q.status != "open" and in_week(q.updated_at) for q in inputs.queue),
        open=_open_items(inputs),
        sources=_sources(inputs, policy, this),
        themes=_themes(inputs.comments, week, tz),
        review=_review(policy, inputs.now.astimezone(tz).date()),
    )


def _platforms(
    this: Sequence[CommentFact], last: Sequence[CommentFact], policy: SchoolPolicy
) -> tuple[PlatformCount, ...]:
    watched = {c.platform.value for c in policy.channels if c.enabled}
    seen = {c.platform for c in (*this, *last)}
    rows = []
    for platform in Platform:
        if platform.value not in watched | seen:
            continue

        def count(rows: Sequence[CommentFact], flagged: bool, p: str = platform.value) -> int:
            return sum(
                c.platform == p and (not flagged or c.category != Category.BENIGN.value)
                for c in rows
            )

        rows.append(
            PlatformCount(
                platform=platform.value,
                label=platform.value.capitalize().replace("Youtube", "YouTube"),
                comments=count(this, False),
                comments_previous=count(last, False),
                flagged=count(this, True),
                flagged_previous=count(last, True),
            )
        )
    return tuple(rows)


def trend_group(category: str) -> str | None:
    """The trend-chart stack a category belongs to (``None`` for benign)."""
    if category == Category.BENIGN.value:
        return None
    if category in {c.value for c in SAFEGUARDING}:
        return "Safeguarding"
    if category == Category.SPAM.value:
        return "Spam"
    if category == Category.CRITICISM.value:
        return "Criticism"
    return "Other harm"


def _trend(comments: Iterable[CommentFact], week: IsoWeek, tz: ZoneInfo) -> tuple[TrendWeek, ...]:
    weeks = [week.shift(-i) for i in range(TREND_WEEKS - 1, -1, -1)]
    counts: dict[IsoWeek, Counter[str]] = {w: Counter() for w in weeks}
    for c in comments:
        group = trend_group(c.category)
        if group is None:
            continue
        w = IsoWeek.of(c.created_at.astimezone(tz).date())
        if w in counts:
            counts[w][group] += 1
    return tuple(
        TrendWeek(w.label, w.monday, {g: counts[w][g] for g in TREND_GROUPS}) for w in weeks
    )


def _median_minutes(pairs: Iterable[tuple[dt.datetime, dt.datetime | None]]) -> float | None:
    minutes = [(b - a).total_seconds() / 60 for a, b in pairs if b is not None and b >= a]
    return round(statistics.median(minutes), 1) if minutes else None


def _open_items(inputs: DigestInputs) -> OpenItems:
    now = inputs.now
    overdue_before = now - dt.timedelta(days=OVERDUE_QUEUE_DAYS)
    open_queue = [q for q in inputs.queue if q.status == "open"]
    unacked = [a for a in inputs.alerts if a.status == "open"]
    overdue_alerts = [
        a
        for a in unacked
        if a.escalation_level > 0
        or (a.next_escalation_at is not None and a.next_escalation_at <= now)
    ]
    roles = sorted({q.queue_role for q in open_queue})
    by_queue = tuple(
        Count(
            role,
            role.replace("_", " "),
            sum(q.queue_role == role for q in open_queue),
            sum(q.queue_role == role and q.created_at <= overdue_before for q in open_queue),
        )
        for role in roles
    )
    oldest = min((q.created_at for q in open_queue), default=None)
    return OpenItems(
        queue_open=len(open_queue),
        queue_overdue=sum(q.created_at <= overdue_before for q in open_queue),
        alerts_unacknowledged=len(unacked),
        alerts_overdue=len(overdue_alerts),
        oldest_open_days=None if oldest is None else max((now - oldest).days, 0),
        by_queue=by_queue,
    )


def _sources(
    inputs: DigestInputs, policy: SchoolPolicy, this: Sequence[CommentFact]
) -> tuple[SourceStatus, ...]:
    facts = {s.source_id: s for s in inputs.sources}
    per_source = Counter(c.source_id for c in this)
    out = []
    for channel in policy.channels:
        fact = facts.get(channel.id)
        if not channel.enabled:
            status = "disabled"
        elif fact is None or fact.last_success_at is None and fact.consecutive_failures == 0:
            status = "not checked yet"
        elif fact.paused:
            status = "paused"
        elif fact.consecutive_failures > 0:
            status = "failing"
        else:
            status = "ok"
        youtube = channel.platform is Platform.YOUTUBE
        out.append(
            SourceStatus(
                source_id=channel.id,
                name=channel.name,
                platform=channel.platform.value,
                status=status,
                last_success_at=fact.last_success_at if fact else None,
                consecutive_failures=fact.consecutive_failures if fact else 0,
                comments_this_week=per_source[channel.id],
                quota_used=(fact.quota_used if fact else 0) if youtube else None,
                quota_limit=channel.daily_quota if youtube else None,
                quota_day=fact.quota_day if fact and youtube else None,
            )
        )
    return tuple(out)


def _themes(comments: Iterable[CommentFact], week: IsoWeek, tz: ZoneInfo) -> tuple[Theme, ...]:
    window = [week.shift(-i) for i in range(THEME_WEEKS)]
    per_week: dict[IsoWeek, Counter[str]] = {w: Counter() for w in window}
    for c in comments:
        if not c.themes:
            continue
        w = IsoWeek.of(c.created_at.astimezone(tz).date())
        if w in per_week:
            per_week[w].update(c.themes)
    labels = set().union(*(set(counter) for counter in per_week.values()))
    themes = []
    for label in labels:
        count = per_week[week][label]
        seen = sum(per_week[w][label] > 0 for w in window)
        # Recurring: at least twice this week, or this week and in an earlier week too.
        if count >= 2 or (count >= 1 and seen >= 2):
            themes.append(Theme(label, count, seen, per_week[week.shift(-1)][label]))
    return tuple(sorted(themes, key=lambda t: (-t.count, -t.weeks_seen, t.label)))


def _review(policy: SchoolPolicy, today: dt.date) -> ReviewReminder | None:
    review = policy.review
    days_left = (review.next_review - today).days
    if days_left > review.remind_days_before:
        return None
    return ReviewReminder(review.next_review, days_left, review.last_reviewed, review.clause)


# --------------------------------------------------------------------------- (de)serialise


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _dtm(value: Any) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(str(value))


def _count(d: Mapping[str, Any]) -> Count:
    return Count(str(d["key"]), str(d["label"]), int(d["count"]), int(d["previous"]))


def _digest_from_dict(d: Mapping[str, Any]) -> Digest:
    op = d["open"]
    review = d.get("review")
    generated = _dtm(d["generated_at"])
    assert generated is not None
    return Digest(
        school_id=d["school_id"],
        school_name=d["school_name"],
        timezone=d["timezone"],
        week=d["week"],
        start=dt.date.fromisoformat(d["start"]),
        end=dt.date.fromisoformat(d["end"]),
        generated_at=generated,
        web_url=d["web_url"],
        clause=d["clause"],
        comments=_count(d["comments"]),
        flagged=_count(d["flagged"]),
        safeguarding=_count(d["safeguarding"]),
        by_category=tuple(_count(c) for c in d["by_category"]),
        by_platform=tuple(PlatformCount(**p) for p in d["by_platform"]),
        by_severity=tuple(_count(c) for c in d["by_severity"]),
        trend=tuple(
            TrendWeek(t["week"], dt.date.fromisoformat(t["monday"]), dict(t["counts"]))
            for t in d["trend"]
        ),
        incidents_opened=_count(d["incidents_opened"]),
        incidents_closed=_count(d["incidents_closed"]),
        incidents_escalated=int(d["incidents_escalated"]),
        ack_median_minutes=d["ack_median_minutes"],
        ack_count=int(d["ack_count"]),
        act_median_minutes=d["act_median_minutes"],
        act_count=int(d["act_count"]),
        open=OpenItems(
            queue_open=op["queue_open"],
            queue_overdue=op["queue_overdue"],
            alerts_unacknowledged=op["alerts_unacknowledged"],
            alerts_overdue=op["alerts_overdue"],
            oldest_open_days=op["oldest_open_days"],
            by_queue=tuple(_count(c) for c in op["by_queue"]),
        ),
        sources=tuple(
            SourceStatus(**{**s, "last_success_at": _dtm(s["last_success_at"])})
            for s in d["sources"]
        ),
        themes=tuple(Theme(**t) for t in d["themes"]),
        review=None
        if review is None
        else ReviewReminder(
            due=dt.date.fromisoformat(review["due"]),
            days_left=int(review["days_left"]),
            last_reviewed=dt.date.fromisoformat(review["last_reviewed"]),
            clause=review["clause"],
        ),
    )
