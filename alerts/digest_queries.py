"""Read the facts a weekly digest needs from the database (SQLAlchemy 2).

Only what is counted leaves the database: comment text is read solely to
match it against the fixed theme list, inside :func:`gather`, and is never
returned, stored or logged.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerts.digest import (
    THEME_CATEGORIES,
    THEME_WEEKS,
    TREND_WEEKS,
    AlertFact,
    CommentFact,
    Digest,
    DigestInputs,
    IsoWeek,
    QueueFact,
    SourceFact,
    build_digest,
    themes_of,
)
from config.policy import SchoolPolicy
from core.models import Category
from storage.tables import AlertRow, CommentRow, ConnectorCursor, QueueItem


def gather(session: Session, policy: SchoolPolicy, week: IsoWeek, now: dt.datetime) -> DigestInputs:
    """Read the facts for ``week`` (and the weeks the trend and comparisons need).

    Args:
        session: An open session (read only).
        policy: The school policy; its time zone sets the week boundaries.
        week: The week the digest reports on.
        now: When the digest is made: "still open" and "overdue" are as at this time.

    Returns:
        The inputs for :func:`alerts.digest.build_digest`.
    """
    tz = policy.tz
    school_id = policy.school.id
    window_start, _ = week.shift(-(TREND_WEEKS - 1)).bounds(tz)
    theme_start, _ = week.shift(-(THEME_WEEKS - 1)).bounds(tz)
    prev_start, _ = week.shift(-1).bounds(tz)
    _, end = week.bounds(tz)
    theme_cats = [c.value for c in THEME_CATEGORIES]

    comments: list[CommentFact] = []
    rows = session.execute(
        select(
            CommentRow.id,
            CommentRow.created_at,
            CommentRow.source_id,
            CommentRow.platform,
            CommentRow.primary_category,
            CommentRow.severity,
        ).where(
            CommentRow.school_id == school_id,
            CommentRow.created_at >= window_start,
            CommentRow.created_at < end,
        )
    ).all()
    theme_ids = [
        r.id for r in rows if r.primary_category in theme_cats and r.created_at >= theme_start
    ]
    themes: dict[int, frozenset[str]] = {}
    for chunk_start in range(0, len(theme_ids), 500):
        chunk = theme_ids[chunk_start : chunk_start + 500]
        for cid, text in session.execute(
            select(CommentRow.id, CommentRow.text).where(CommentRow.id.in_(chunk))
        ):
            themes[cid] = themes_of(text)
    for r in rows:
        comments.append(
            CommentFact(
                created_at=r.created_at,
                source_id=r.source_id,
                platform=r.platform,
                category=r.primary_category or Category.BENIGN.value,
                severity=int(r.severity or 0),
                themes=themes.get(r.id, frozenset()),
            )
        )

    alert_rows = session.scalars(
        select(AlertRow).where(
            AlertRow.school_id == school_id,
            AlertRow.created_at < end,
            or_(
                AlertRow.status == "open",
                AlertRow.created_at.between(prev_start, end),
                AlertRow.acknowledged_at.between(prev_start, end),
                AlertRow.closed_at.between(prev_start, end),
            ),
        )
    ).all()
    alerts = [
        AlertFact(
            created_at=a.created_at,
            category=a.category,
            severity=a.severity,
            status=a.status,
            acknowledged_at=a.acknowledged_at,
            closed_at=a.closed_at,
            escalation_level=a.escalation_level,
            next_escalation_at=a.next_escalation_at,
        )
        for a in alert_rows
    ]
    queue_rows = session.scalars(
        select(QueueItem).where(
            QueueItem.school_id == school_id,
            or_(QueueItem.status == "open", QueueItem.updated_at.between(prev_start, end)),
        )
    ).all()
    queue = [
        QueueFact(
            created_at=q.created_at,
            updated_at=q.updated_at,
            status=q.status,
            category=q.category,
            queue_role=q.queue_role,
        )
        for q in queue_rows
    ]
    sources = [
        SourceFact(
            source_id=s.source_id,
            platform=s.platform,
            paused=s.paused,
            last_success_at=s.last_success_at,
            last_error_at=s.last_error_at,
            consecutive_failures=s.consecutive_failures,
            quota_used=s.quota_used,
            quota_day=s.quota_day,
        )
        for s in session.scalars(
            select(ConnectorCursor).where(ConnectorCursor.school_id == school_id)
        )
    ]
    return DigestInputs(
        week=week, now=now, comments=comments, alerts=alerts, queue=queue, sources=sources
    )


def digest_for_week(
    session: Session, policy: SchoolPolicy, week: IsoWeek, now: dt.datetime
) -> Digest:
    """Gather and build the digest for ``week`` in one call."""
    return build_digest(gather(session, policy, week, now), policy)


def last_full_week(policy: SchoolPolicy, now: dt.datetime) -> IsoWeek:
    """The most recent week that has ended (in the school's time zone) at ``now``."""
    return IsoWeek.of(now.astimezone(policy.tz).date()).shift(-1)
