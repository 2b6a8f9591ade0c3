"""Carry out a routing decision inside the cycle's transaction.

Everything here writes rows only: the decision, the queue item, the evidence
record and the platform action (evidence first, then hide), the alert and
its outbox deliveries, and audit events. Talking to platforms and to the
mail server happens after commit, from the rows, so a crash never loses or
repeats anything.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from alerts.outbox import enqueue, message_id
from alerts.render import alert_subject
from alerts.router import role_label
from config.policy import SchoolPolicy
from core.models import Action, Decision, Disposition, Recipient
from storage import repo
from storage.tables import (
    AlertRow,
    CommentRow,
    DecisionRow,
    EvidenceRecord,
    PlatformAction,
    QueueItem,
    VerdictRow,
)


@dataclass
class DispatchResult:
    """What dispatching one decision produced."""

    queued: bool = False
    alert_raised: bool = False
    alert_joined: bool = False
    action: str | None = None
    emails: int = 0


def dispatch(
    session: Session,
    *,
    policy: SchoolPolicy,
    comment: CommentRow,
    verdict: VerdictRow,
    decision: Decision,
    now: datetime,
) -> DispatchResult:
    """Write the rows that carry out ``decision`` for ``comment``."""
    result = DispatchResult()
    row = _decision_row(comment, verdict, decision)
    session.add(row)
    session.flush()
    if decision.queue_role is not None:
        _enqueue(session, comment=comment, row=row, decision=decision, now=now)
        result.queued = True
    if decision.disposition in (Disposition.HIDE, Disposition.HOLD):
        action = Action.HIDE if decision.disposition is Disposition.HIDE else Action.HOLD_FOR_REVIEW
        save_evidence(
            session,
            policy=policy,
            comment=comment,
            verdict=verdict,
            reason="before " + action,
            now=now,
        )
        session.add(
            PlatformAction(
                school_id=comment.school_id,
                comment_id=comment.id,
                source_id=comment.source_id,
                action=action.value,
                requested_by="system",
                reason=decision.reason,
                next_attempt_at=now,
                created_at=now,
            )
        )
        result.action = action.value
    if decision.alerts_anyone:
        _alert(
            session,
            policy=policy,
            comment=comment,
            verdict=verdict,
            row=row,
            decision=decision,
            now=now,
            out=result,
        )
    return result


def _enqueue(
    session: Session, *, comment: CommentRow, row: DecisionRow, decision: Decision, now: datetime
) -> None:
    """Put the comment in a queue, or re-open its item when an edit made it more serious."""
    item = session.scalars(
        select(QueueItem).where(
            QueueItem.school_id == comment.school_id, QueueItem.comment_id == comment.id
        )
    ).one_or_none()
    if item is None:
        session.add(
            QueueItem(
                school_id=comment.school_id,
                comment_id=comment.id,
                decision_id=row.id,
                queue_role=decision.queue_role,
                category=decision.category.value,
                severity=int(decision.severity),
                safeguarding=decision.category.is_safeguarding,
                created_at=now,
                updated_at=now,
            )
        )
        return
    item.decision_id = row.id
    item.queue_role = decision.queue_role or item.queue_role
    item.category = decision.category.value
    item.severity = int(decision.severity)
    item.safeguarding = decision.category.is_safeguarding
    item.status = "open"
    item.updated_at = now


def _decision_row(comment: CommentRow, verdict: VerdictRow, decision: Decision) -> DecisionRow:
    def people(recipients: tuple[Recipient, ...]) -> list[Any]:
        return [
            {"role": r.role, "name": r.name, "email": r.email, "fallback": r.is_fallback}
            for r in recipients
        ]

    return DecisionRow(
        school_id=comment.school_id,
        comment_id=comment.id,
        verdict_id=verdict.id,
        category=decision.category.value,
        severity=int(decision.severity),
        disposition=decision.disposition.value,
        notify=people(decision.notify),
        inform=people(decision.inform),
        queue_role=decision.queue_role,
        urgent=decision.urgent,
        escalation=[
            {
                "after_minutes": s.after_minutes,
                "notify": list(s.notify),
                "reminder": s.reminder,
                "clause": s.clause,
            }
            for s in decision.escalation
        ],
        clause=decision.clause[:300],
        reason=decision.reason,
    )


def save_evidence(
    session: Session,
    *,
    policy: SchoolPolicy,
    comment: CommentRow,
    verdict: VerdictRow | None,
    reason: str,
    now: datetime,
) -> EvidenceRecord:
    """Snapshot the comment, its thread context, author, permalink and verdict.

    The record outlives the comment: it is kept for the policy's evidence
    retention even after the platform (or the purge) removes the comment.
    """
    parent_text = ""
    if comment.parent_id:
        parent_text = repo.texts_by_external_id(
            session,
            school_id=comment.school_id,
            platform=comment.platform,
            external_ids=[comment.parent_id],
        ).get(comment.parent_id, "")
    snapshot = {
        "comment": {
            "platform": comment.platform,
            "external_id": comment.external_id,
            "text": comment.text,
            "created_at": comment.created_at.isoformat(),
            "permalink": comment.permalink,
        },
        "author": {"id": comment.author_id, "name": comment.author_name},
        "thread": {
            "id": comment.thread_id,
            "title": comment.thread_title,
            "parent_text": parent_text,
        },
        "verdict": None
        if verdict is None
        else {
            "classifier": verdict.classifier,
            "primary": verdict.primary_category,
            "scores": verdict.scores,
            "explanation": verdict.explanation,
            "evidence": verdict.evidence,
        },
        "captured_at": now.isoformat(),
    }
    body = json.dumps(snapshot, sort_keys=True, ensure_ascii=False)
    record = EvidenceRecord(
        school_id=comment.school_id,
        reference=f"EV-{now:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}",
        comment_id=comment.id,
        platform=comment.platform,
        external_id=comment.external_id,
        category=comment.primary_category or (verdict.primary_category if verdict else "benign"),
        snapshot=snapshot,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
        reason=reason[:300],
        created_at=now,
        keep_until=now + timedelta(days=365 * policy.retention.evidence_years),
    )
    session.add(record)
    session.flush()
    repo.record(
        session,
        school_id=comment.school_id,
        event="evidence.saved",
        subject_type="comment",
        subject_id=comment.id,
        details={"reference": record.reference, "reason": reason},
        at=now,
    )
    return record


def _open_incident(
    session: Session,
    *,
    policy: SchoolPolicy,
    comment: CommentRow,
    decision: Decision,
    now: datetime,
) -> AlertRow | None:
    """An open alert this comment joins, if any.

    It joins when an open (unacknowledged) alert of the same category was
    raised within ``policy.alerts.incident_window_minutes`` for a comment in
    the same thread, or by the same author, on the same platform. A more
    serious category is never hidden inside a lesser incident: categories
    must match.
    """
    window = timedelta(minutes=policy.alerts.incident_window_minutes)
    if window <= timedelta(0):
        return None
    stmt = (
        select(AlertRow)
        .join(CommentRow, CommentRow.id == AlertRow.comment_id)
        .where(
            AlertRow.school_id == comment.school_id,
            AlertRow.status == "open",
            AlertRow.category == decision.category.value,
            AlertRow.created_at >= now - window,
            CommentRow.platform == comment.platform,
            CommentRow.id != comment.id,
            or_(
                CommentRow.thread_id == comment.thread_id,
                CommentRow.author_id == comment.author_id,
            ),
        )
        .order_by(AlertRow.created_at.desc())
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def _escalation_text(decision: Decision) -> str:
    """ "the deputy DSL is reminded after 15 minutes and ..." for the alert email."""
    parts = []
    for step in decision.escalation:
        if step.notify:
            who = " and ".join(role_label(r) for r in step.notify)
            parts.append(f"{who} will be emailed after {step.after_minutes} minutes")
    return ("; ".join(parts) + ".") if parts else ""


def _alert(
    session: Session,
    *,
    policy: SchoolPolicy,
    comment: CommentRow,
    verdict: VerdictRow,
    row: DecisionRow,
    decision: Decision,
    now: datetime,
    out: DispatchResult,
) -> None:
    existing = _open_incident(session, policy=policy, comment=comment, decision=decision, now=now)
    if existing is not None:
        existing.comment_count += 1
        repo.record(
            session,
            school_id=comment.school_id,
            event="alert.joined",
            subject_type="alert",
            subject_id=existing.alert_key,
            details={"comment_id": comment.id, "comments": existing.comment_count},
            at=now,
        )
        out.alert_joined = True
        return
    key = uuid.uuid4().hex
    first_step = decision.escalation[0].after_minutes if decision.escalation else None
    alert = AlertRow(
        school_id=comment.school_id,
        alert_key=key,
        comment_id=comment.id,
        decision_id=row.id,
        incident_key=f"{comment.platform}:thread:{comment.thread_id}",
        category=decision.category.value,
        severity=int(decision.severity),
        urgent=decision.urgent,
        clause=decision.clause[:300],
        recipients=row.notify + row.inform,
        escalation=row.escalation,
        next_escalation_at=now + timedelta(minutes=first_step) if first_step else None,
        message_id=message_id(comment.school_id, "incident", key),
        created_at=now,
    )
    session.add(alert)
    session.flush()
    try:
        channel = policy.channel(comment.source_id).name
    except KeyError:
        channel = comment.source_id
    # Facts only: the comment's words and names are never stored in the outbox.
    payload: dict[str, object] = {
        "alert_key": key,
        "comment_id": comment.id,
        "category": decision.category.value,
        "severity": int(decision.severity),
        "platform": comment.platform,
        "channel": channel,
        "posted_at": comment.created_at.isoformat(),
        "raised_at": now.isoformat(),
        "safeguarding": decision.category.is_safeguarding,
        "disposition": decision.disposition.value,
        "reason": decision.reason,
        "clause": decision.clause,
        "pupils_mentioned": int(verdict.pupils_mentioned or 0),
        "escalation": _escalation_text(decision),
    }
    for recipients, urgent in ((decision.notify, decision.urgent), (decision.inform, False)):
        for person in recipients:
            personal = {**payload, "urgent": urgent, "fallback": person.is_fallback}
            enqueue(
                session,
                policy=policy,
                alert=alert,
                recipient=person,
                kind="alert",
                dedupe_key=f"alert:{key}:{person.email.lower()}",
                urgent=urgent,
                now=now,
                subject=alert_subject(personal),
                payload=personal,
                references=alert.message_id,
            )
            out.emails += 1
    repo.record(
        session,
        school_id=comment.school_id,
        event="alert.raised",
        subject_type="alert",
        subject_id=key,
        details={
            "comment_id": comment.id,
            "category": decision.category.value,
            "severity": int(decision.severity),
            "urgent": decision.urgent,
            "recipients": [r["role"] for r in alert.recipients],
            "clause": decision.clause,
        },
        at=now,
    )
    out.alert_raised = True
