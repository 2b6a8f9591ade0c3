"""What the queue's buttons do: rows first, platform second.

Each action writes a ``PlatformAction`` row (pending), a ``ModerationLabel``
where the moderator judged the classifier, and an audit event, in one
transaction. The caller commits and then performs the platform actions at
once with ``monitor.actions.process_platform_actions(ids=...)``; a failure
stays in the table with its error and the scheduler retries it.
Evidence is saved before anything is hidden or deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.outbox import enqueue, message_id
from alerts.router import category_label, resolve_role
from config.policy import SchoolPolicy
from core.models import Action, Category, Platform
from monitor.dispatch import save_evidence
from storage import repo
from storage.tables import (
    AlertRow,
    CommentRow,
    EvidenceRecord,
    ModerationLabel,
    PlatformAction,
    QueueItem,
    VerdictRow,
)
from web.permissions import is_safeguarding

ACTIONS: dict[str, str] = {
    "approve": "Approve: the comment is fine; keep it (or put it back) on the platform",
    "hide": "Hide on the platform (evidence is kept first)",
    "unhide": "Unhide: show it on the platform again",
    "delete": "Delete from the platform (evidence is kept first)",
    "escalate": "Escalate to the DSL",
    "false_positive": "Mark as a false positive (nothing wrong; restores a hidden comment)",
    "confirm": "Confirm the category (choose below)",
}
BULK_ACTIONS = ("delete", "hide")
MAX_REASON = 1000


class ModerationError(Exception):
    """The action cannot be done; the message is shown to the user."""


def _platform_action(
    session: Session,
    *,
    comment: CommentRow,
    action: Action,
    actor: str,
    reason: str,
    now: datetime,
    text: str = "",
    status: str = "pending",
) -> PlatformAction:
    if action is not Action.REPLY:
        existing = session.scalars(
            select(PlatformAction).where(
                PlatformAction.comment_id == comment.id,
                PlatformAction.action == action.value,
                PlatformAction.status == "pending",
            )
        ).first()
        if existing is not None:
            return existing
    row = PlatformAction(
        school_id=comment.school_id,
        comment_id=comment.id,
        source_id=comment.source_id,
        action=action.value,
        text=text,
        requested_by=actor,
        reason=reason,
        status=status,
        next_attempt_at=now if status == "pending" else None,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _ensure_evidence(
    session: Session,
    *,
    policy: SchoolPolicy,
    comment: CommentRow,
    verdict: VerdictRow | None,
    action: Action,
    now: datetime,
) -> None:
    found = session.scalars(
        select(EvidenceRecord.id).where(EvidenceRecord.comment_id == comment.id).limit(1)
    ).first()
    if found is None:
        save_evidence(
            session,
            policy=policy,
            comment=comment,
            verdict=verdict,
            reason=f"before {action.value} (moderator)",
            now=now,
        )


def _restore_action(comment: CommentRow, supports: frozenset[Action]) -> Action | None:
    """The action that shows a hidden or held comment again, if the platform has one."""
    if Action.UNHIDE in supports:
        return Action.UNHIDE
    if Action.APPROVE in supports:
        return Action.APPROVE
    return None


def _label(
    session: Session,
    *,
    item: QueueItem,
    comment: CommentRow,
    label: str,
    kind: str,
    actor: str,
    now: datetime,
) -> None:
    session.add(
        ModerationLabel(
            school_id=comment.school_id,
            comment_id=comment.id,
            text=comment.text,
            predicted=item.category,
            label=label,
            kind=kind,
            actor=actor,
            created_at=now,
        )
    )


def escalate(
    session: Session,
    *,
    policy: SchoolPolicy,
    item: QueueItem,
    comment: CommentRow,
    actor: str,
    reason: str,
    now: datetime,
) -> AlertRow:
    """Move an item to the DSL's queue and raise an urgent alert to the DSL."""
    item.status = "escalated"
    item.queue_role = "dsl"
    key = uuid.uuid4().hex
    day = now.astimezone(policy.tz).date()
    dsl = resolve_role("dsl", policy, day)
    try:
        category = Category(item.category)
    except ValueError:
        category = Category.SELF_HARM
    steps = [
        {
            "after_minutes": s.after_minutes,
            "notify": list(s.notify),
            "reminder": s.reminder,
            "clause": s.clause,
        }
        for s in policy.routes[category].escalation
    ]
    recipients = (
        [{"role": dsl.role, "name": dsl.name, "email": dsl.email, "fallback": dsl.is_fallback}]
        if dsl
        else []
    )
    alert = AlertRow(
        school_id=comment.school_id,
        alert_key=key,
        comment_id=comment.id,
        decision_id=item.decision_id,
        incident_key=f"{comment.platform}:escalated:{item.id}",
        category=item.category,
        severity=item.severity,
        urgent=True,
        clause="Aycliffe 6",
        recipients=recipients,
        escalation=steps,
        next_escalation_at=(now + _minutes(steps[0]["after_minutes"])) if steps else None,
        message_id=message_id(comment.school_id, "incident", key),
        created_at=now,
    )
    session.add(alert)
    session.flush()
    if dsl is not None:
        enqueue(
            session,
            policy=policy,
            alert=alert,
            recipient=dsl,
            kind="alert",
            dedupe_key=f"alert:{key}:{dsl.email}",
            urgent=True,
            now=now,
            subject=f"[Escalated] {category_label(category)}: "
            f"{comment.platform.title()} comment referred by a colleague",
            payload={"alert_key": key, "comment_id": comment.id, "category": item.category},
        )
    repo.record(
        session,
        school_id=comment.school_id,
        event="queue.escalated",
        actor=actor,
        subject_type="queue_item",
        subject_id=item.id,
        details={"alert_key": key, "category": item.category, "reason": reason[:300]},
        at=now,
    )
    return alert


def _minutes(value: object) -> timedelta:
    return timedelta(minutes=int(str(value)))


def moderate(
    session: Session,
    *,
    policy: SchoolPolicy,
    item: QueueItem,
    comment: CommentRow,
    verdict: VerdictRow | None,
    action: str,
    reason: str,
    category: str,
    actor: str,
    supports: frozenset[Action],
    now: datetime,
) -> tuple[list[int], str]:
    """Record one moderation action on a queue item.

    Args:
        session: The open transaction (the caller commits).
        policy: The school policy.
        item: The queue item.
        comment: Its comment.
        verdict: Its latest verdict, for the evidence snapshot.
        action: One of :data:`ACTIONS`.
        reason: The moderator's reason (required).
        category: For ``confirm``: the category the moderator confirms.
        actor: The username.
        supports: What the platform can do for this comment here.
        now: The time.

    Returns:
        The platform action ids to perform now, and a notice code for the page.

    Raises:
        ModerationError: The action is unknown, the reason is missing, or the
            platform cannot do it.
    """
    reason = reason.strip()
    if action not in ACTIONS:
        raise ModerationError("Choose one of the actions.")
    if not reason:
        raise ModerationError("Give a reason: it is kept in the audit log.")
    if len(reason) > MAX_REASON:
        raise ModerationError(f"Keep the reason under {MAX_REASON} characters.")
    ids: list[int] = []
    notice = "done"

    def platform(act: Action) -> None:
        if act in (Action.HIDE, Action.DELETE, Action.HOLD_FOR_REVIEW):
            _ensure_evidence(
                session, policy=policy, comment=comment, verdict=verdict, action=act, now=now
            )
        row = _platform_action(
            session, comment=comment, action=act, actor=actor, reason=reason, now=now
        )
        ids.append(row.id)

    if action == "approve":
        item.status = "approved"
        if comment.platform_state == "hidden":
            restore = _restore_action(comment, supports)
            if restore is not None:
                platform(restore)
        elif Action.APPROVE in supports and comment.platform == Platform.REDDIT.value:
            platform(Action.APPROVE)
    elif action == "hide":
        if Action.HIDE in supports:
            platform(Action.HIDE)
        elif Action.HOLD_FOR_REVIEW in supports:
            platform(Action.HOLD_FOR_REVIEW)
        else:
            raise ModerationError("This platform does not let the school hide this comment.")
        item.status = "hidden"
    elif action == "unhide":
        restore = _restore_action(comment, supports)
        if restore is None:
            raise ModerationError("This platform does not let the school unhide this comment.")
        platform(restore)
        item.status = "open"
    elif action == "delete":
        if Action.DELETE not in supports:
            raise ModerationError("This platform does not let the school delete this comment.")
        platform(Action.DELETE)
        item.status = "deleted"
    elif action == "escalate":
        escalate(
            session, policy=policy, item=item, comment=comment, actor=actor, reason=reason, now=now
        )
        notice = "escalated"
    elif action == "false_positive":
        _label(
            session,
            item=item,
            comment=comment,
            label=Category.BENIGN.value,
            kind="false_positive",
            actor=actor,
            now=now,
        )
        item.status = "false_positive"
        if comment.platform_state == "hidden":
            restore = _restore_action(comment, supports)
            if restore is not None:
                platform(restore)
        notice = "labelled"
    elif action == "confirm":
        try:
            chosen = Category(category)
        except ValueError as exc:
            raise ModerationError("Choose the category you confirm.") from exc
        _label(
            session,
            item=item,
            comment=comment,
            label=chosen.value,
            kind="confirmed",
            actor=actor,
            now=now,
        )
        became_safeguarding = chosen.is_safeguarding and not is_safeguarding(item.category)
        if chosen.value != item.category:
            item.category = chosen.value
            item.severity = int(policy.categories[chosen].severity)
            item.safeguarding = chosen.is_safeguarding
            comment.primary_category = chosen.value
            comment.severity = item.severity
        item.status = "confirmed"
        notice = "labelled"
        if became_safeguarding:
            escalate(
                session,
                policy=policy,
                item=item,
                comment=comment,
                actor=actor,
                reason=reason,
                now=now,
            )
            notice = "escalated"
    if action not in ("escalate",) and item.status != "open":
        item.closed_by = actor
        item.closed_reason = reason
    item.updated_at = now
    repo.record(
        session,
        school_id=comment.school_id,
        event=f"queue.{action}",
        actor=actor,
        subject_type="queue_item",
        subject_id=item.id,
        details={
            "comment_id": comment.id,
            "category": item.category,
            "platform_actions": ids,
            "reason": reason[:300],
        },
        at=now,
    )
    return ids, notice


def bulk(
    session: Session,
    *,
    policy: SchoolPolicy,
    items: list[tuple[QueueItem, CommentRow]],
    action: str,
    reason: str,
    actor: str,
    supports_for: Callable[[str], frozenset[Action]],
    now: datetime,
) -> tuple[list[int], int]:
    """Hide or delete many spam items at once. Items that are not spam are skipped.

    Returns:
        The platform action ids to perform, and how many items were skipped.
    """
    if action not in BULK_ACTIONS:
        raise ModerationError("Bulk actions are hide and delete.")
    ids: list[int] = []
    skipped = 0
    for item, comment in items:
        if item.category != Category.SPAM.value:
            skipped += 1
            continue
        verdict = session.scalars(
            select(VerdictRow)
            .where(VerdictRow.comment_id == comment.id)
            .order_by(VerdictRow.id.desc())
            .limit(1)
        ).first()
        try:
            more, _ = moderate(
                session,
                policy=policy,
                item=item,
                comment=comment,
                verdict=verdict,
                action=action,
                reason=reason,
                category="",
                actor=actor,
                supports=supports_for(comment.source_id),
                now=now,
            )
        except ModerationError:
            skipped += 1
            continue
        ids.extend(more)
    return ids, skipped


def request_reply(
    session: Session,
    *,
    policy: SchoolPolicy,
    item: QueueItem,
    comment: CommentRow,
    text: str,
    actor: str,
    supports: frozenset[Action],
    now: datetime,
) -> PlatformAction:
    """Draft a public reply; it waits for a second colleague when the policy says so."""
    if not policy.public_replies.enabled:
        raise ModerationError("Public replies are turned off in the school's policy.")
    if Action.REPLY not in supports:
        raise ModerationError("schoolwatch cannot post replies on this platform.")
    text = text.strip()
    if not text or len(text) > 2000:
        raise ModerationError("Write a reply of up to 2,000 characters.")
    waiting = policy.public_replies.second_approver
    row = _platform_action(
        session,
        comment=comment,
        action=Action.REPLY,
        actor=actor,
        reason="public reply",
        now=now,
        text=text,
        status="awaiting_approval" if waiting else "pending",
    )
    repo.record(
        session,
        school_id=comment.school_id,
        event="reply.requested",
        actor=actor,
        subject_type="platform_action",
        subject_id=row.id,
        details={"comment_id": comment.id, "queue_item": item.id, "needs_approval": waiting},
        at=now,
    )
    return row


def decide_reply(
    session: Session, *, row: PlatformAction, approve: bool, actor: str, now: datetime
) -> None:
    """Approve (post) or reject a waiting reply. The author cannot approve their own reply."""
    if row.action != Action.REPLY.value or row.status != "awaiting_approval":
        raise ModerationError("This reply is not waiting for approval.")
    if approve and row.requested_by == actor:
        raise ModerationError("A reply needs a different colleague's approval (Aycliffe 5).")
    if approve:
        row.status = "pending"
        row.approved_by = actor
        row.next_attempt_at = now
    else:
        row.status = "abandoned"
        row.last_error = f"rejected by {actor}"
    repo.record(
        session,
        school_id=row.school_id,
        event="reply.approved" if approve else "reply.rejected",
        actor=actor,
        subject_type="platform_action",
        subject_id=row.id,
        details={"comment_id": row.comment_id, "requested_by": row.requested_by},
        at=now,
    )
