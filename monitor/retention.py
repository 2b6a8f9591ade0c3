"""Retention: delete what the school's policy says it no longer needs (UK GDPR storage limitation).

What goes, each time :func:`purge` runs (daily from the scheduler, or by hand
with ``schoolwatch purge``):

* **comments** older than ``policy.retention.comment_days[category]`` for
  their primary category (a comment never classified counts as benign),
  with their verdicts, routing decisions, queue items and pending platform
  actions. A comment still being dealt with (an open queue item, an alert
  nobody has acknowledged, or a platform action not yet done) is *held*
  until it is dealt with, and counted as held;
* **evidence records** whose ``keep_until`` has passed. Until then they are
  kept even when their comment goes (the record's link to the comment is
  cleared; the snapshot inside it is the school's record);
* **audit events** and **alerts** older than ``policy.retention.audit_days``;
* **moderators' judgements** (training labels, which hold a copy of the
  comment's text) older than ``policy.retention.training_label_days``;
* **web sessions** that have expired;
* **outbox emails** sent (or given up on) more than :data:`DELIVERY_DAYS` ago.

Every run writes one ``retention.purged`` audit event with the counts (never
any text). A dry run counts the same things and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from config.policy import SchoolPolicy
from core.clock import utc_now
from core.models import Category
from storage import repo
from storage.db import session_scope
from storage.tables import (
    AlertRow,
    AuditEvent,
    CommentRow,
    DecisionRow,
    Delivery,
    EvidenceRecord,
    ModerationLabel,
    PlatformAction,
    QueueItem,
    VerdictRow,
    WebSession,
)

log = logging.getLogger(__name__)

DELIVERY_DAYS = 90
"""Days a sent (or abandoned) outbox email row is kept: long enough to answer "was I told?"."""

_CHUNK = 500
_DONE_DELIVERY = ("sent", "failed", "summarised")
_OPEN_ACTIONS = ("pending", "awaiting_approval")


@dataclass
class PurgeReport:
    """What a purge removed (or, in a dry run, would remove). Counts only, never text."""

    school_id: str
    now: datetime
    dry_run: bool
    comments: dict[str, int] = field(default_factory=dict)  # per primary category
    held: dict[str, int] = field(default_factory=dict)  # past retention but still open
    evidence_unlinked: int = 0  # evidence kept while its comment goes
    evidence: int = 0  # evidence records past keep_until
    alerts: int = 0
    audit_events: int = 0
    web_sessions: int = 0
    deliveries: int = 0
    training_labels: int = 0
    cutoffs: dict[str, str] = field(default_factory=dict)  # category -> ISO cut-off time

    @property
    def comments_total(self) -> int:
        """All comments removed."""
        return sum(self.comments.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (the audit event's details)."""
        return {
            "dry_run": self.dry_run,
            "comments": dict(self.comments),
            "comments_total": self.comments_total,
            "held": dict(self.held),
            "evidence_unlinked": self.evidence_unlinked,
            "evidence": self.evidence,
            "alerts": self.alerts,
            "audit_events": self.audit_events,
            "web_sessions": self.web_sessions,
            "deliveries": self.deliveries,
            "training_labels": self.training_labels,
        }


def purge(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
) -> PurgeReport:
    """Delete everything past its retention period for the policy's school.

    Args:
        factory: Session factory.
        policy: The school policy (``retention`` section).
        now: The time to measure ages from (defaults to the clock).
        dry_run: Count what would go and change nothing.

    Returns:
        The counts. One transaction: either everything listed goes, or nothing.
    """
    now = now or utc_now()
    school_id = policy.school.id
    report = PurgeReport(school_id=school_id, now=now, dry_run=dry_run)
    with session_scope(factory) as session:
        ids_by_category = _expired_comments(session, policy, now, report)
        ids = [i for group in ids_by_category.values() for i in group]
        report.comments = {cat: len(group) for cat, group in ids_by_category.items() if group}
        for chunk in _chunks(ids):
            report.evidence_unlinked += _count(
                session, EvidenceRecord, EvidenceRecord.comment_id.in_(chunk)
            )
        audit_cutoff = now - timedelta(days=policy.retention.audit_days)
        evidence_where = (EvidenceRecord.school_id == school_id, EvidenceRecord.keep_until < now)
        alert_where = (AlertRow.school_id == school_id, AlertRow.created_at < audit_cutoff)
        audit_where = (AuditEvent.school_id == school_id, AuditEvent.created_at < audit_cutoff)
        session_where = (WebSession.school_id == school_id, WebSession.expires_at < now)
        delivery_where = (
            Delivery.school_id == school_id,
            Delivery.status.in_(_DONE_DELIVERY),
            func.coalesce(Delivery.sent_at, Delivery.created_at)
            < now - timedelta(days=DELIVERY_DAYS),
        )
        report.evidence = _count(session, EvidenceRecord, *evidence_where)
        report.alerts = _count(session, AlertRow, *alert_where)
        report.audit_events = _count(session, AuditEvent, *audit_where)
        report.web_sessions = _count(session, WebSession, *session_where)
        report.deliveries = _count(session, Delivery, *delivery_where)
        label_where = (
            ModerationLabel.school_id == school_id,
            ModerationLabel.created_at < now - timedelta(days=policy.retention.training_label_days),
        )
        report.training_labels = _count(session, ModerationLabel, *label_where)
        if dry_run:
            return report  # read only: the transaction ends with nothing written
        for chunk in _chunks(ids):
            _delete_comments(session, chunk)
        session.execute(delete(EvidenceRecord).where(*evidence_where))
        old_alerts = select(AlertRow.id).where(*alert_where).scalar_subquery()
        session.execute(
            update(Delivery).where(Delivery.alert_id.in_(old_alerts)).values(alert_id=None)
        )
        session.execute(delete(AlertRow).where(*alert_where))
        session.execute(delete(AuditEvent).where(*audit_where))
        session.execute(delete(WebSession).where(*session_where))
        session.execute(delete(Delivery).where(*delivery_where))
        session.execute(delete(ModerationLabel).where(*label_where))
        repo.record(
            session,
            school_id=school_id,
            event="retention.purged",
            subject_type="retention",
            subject_id=now.date().isoformat(),
            details={**report.as_dict(), "clause": policy.retention.clause},
            at=now,
        )
    log.info(
        "retention: removed %d comment(s) (%d held), %d evidence record(s), %d audit event(s)",
        report.comments_total,
        sum(report.held.values()),
        report.evidence,
        report.audit_events,
    )
    return report


def _expired_comments(
    session: Session, policy: SchoolPolicy, now: datetime, report: PurgeReport
) -> dict[str, list[int]]:
    """Ids of comments past their category's retention, less those still being dealt with."""
    school_id = policy.school.id
    category = func.coalesce(CommentRow.primary_category, Category.BENIGN.value)
    open_queue = select(QueueItem.comment_id).where(
        QueueItem.school_id == school_id, QueueItem.status == "open"
    )
    open_alert = select(AlertRow.comment_id).where(
        AlertRow.school_id == school_id, AlertRow.status == "open", AlertRow.comment_id.is_not(None)
    )
    open_action = select(PlatformAction.comment_id).where(
        PlatformAction.school_id == school_id, PlatformAction.status.in_(_OPEN_ACTIONS)
    )
    still_open = or_(
        CommentRow.id.in_(open_queue), CommentRow.id.in_(open_alert), CommentRow.id.in_(open_action)
    )
    out: dict[str, list[int]] = {}
    for cat, days in sorted(policy.retention.comment_days.items(), key=lambda kv: kv[0].priority):
        cutoff = now - timedelta(days=days)
        report.cutoffs[cat.value] = cutoff.isoformat()
        base = (
            CommentRow.school_id == school_id,
            category == cat.value,
            CommentRow.created_at < cutoff,
        )
        out[cat.value] = list(
            session.scalars(select(CommentRow.id).where(*base, ~still_open).order_by(CommentRow.id))
        )
        held = _count(session, CommentRow, *base, still_open)
        if held:
            report.held[cat.value] = held
    return out


def _delete_comments(session: Session, ids: Sequence[int]) -> None:
    """Delete comments and everything hanging off them; keep evidence, alerts and labels."""
    decisions = select(DecisionRow.id).where(DecisionRow.comment_id.in_(ids)).scalar_subquery()
    session.execute(
        update(EvidenceRecord).where(EvidenceRecord.comment_id.in_(ids)).values(comment_id=None)
    )
    session.execute(
        update(AlertRow)
        .where(or_(AlertRow.comment_id.in_(ids), AlertRow.decision_id.in_(decisions)))
        .values(comment_id=None, decision_id=None)
    )
    session.execute(
        update(ModerationLabel).where(ModerationLabel.comment_id.in_(ids)).values(comment_id=None)
    )
    session.execute(
        delete(QueueItem).where(
            or_(QueueItem.comment_id.in_(ids), QueueItem.decision_id.in_(decisions))
        )
    )
    session.execute(delete(PlatformAction).where(PlatformAction.comment_id.in_(ids)))
    session.execute(delete(DecisionRow).where(DecisionRow.comment_id.in_(ids)))
    session.execute(delete(VerdictRow).where(VerdictRow.comment_id.in_(ids)))
    session.execute(delete(CommentRow).where(CommentRow.id.in_(ids)))


def _count(session: Session, model: type[Any], *where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
