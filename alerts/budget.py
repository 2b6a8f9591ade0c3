"""The hourly email budget: a burst of non-urgent alerts to one person becomes one summary.

When someone has been sent ``policy.alerts.hourly_budget_per_recipient``
emails in the last hour, further non-urgent, non-safeguarding alert emails
to them are marked ``summarised`` and listed in one summary email sent at the
end of the hour. Safeguarding and other urgent alerts are never held back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.outbox import message_id
from config.policy import SchoolPolicy
from storage import repo
from storage.tables import Delivery


def budgeted(row: Delivery) -> bool:
    """Only non-urgent, non-safeguarding alert emails count against the hourly budget."""
    payload = row.payload or {}
    return row.kind == "alert" and not payload.get("safeguarding") and not payload.get("urgent")


def over_budget(session: Session, policy: SchoolPolicy, row: Delivery, now: datetime) -> bool:
    """True when ``row`` counts against the budget and its recipient has used it up this hour."""
    if not budgeted(row):
        return False
    sent = session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.school_id == row.school_id,
            func.lower(Delivery.recipient_email) == row.recipient_email.lower(),
            Delivery.status == "sent",
            Delivery.kind != "test",
            Delivery.sent_at > now - timedelta(hours=1),
        )
    )
    return int(sent or 0) >= policy.alerts.hourly_budget_per_recipient


def fold_into_summary(session: Session, policy: SchoolPolicy, row: Delivery, now: datetime) -> None:
    """Mark ``row`` summarised and add it to this hour's summary email for its recipient."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    key = f"summary:{row.recipient_email.lower()}:{hour:%Y%m%d%H}"
    summary = session.scalars(
        select(Delivery).where(Delivery.school_id == row.school_id, Delivery.dedupe_key == key)
    ).one_or_none()
    if summary is not None and summary.status != "pending":
        key = f"{key}:{now:%M%S%f}"
        summary = None
    item = {
        "delivery_id": row.id,
        "alert_key": str(row.payload.get("alert_key", "")),
        "category": str(row.payload.get("category", "")),
        "platform": str(row.payload.get("platform", "")),
        "posted_at": str(row.payload.get("posted_at", "")),
    }
    if summary is None:
        summary = Delivery(
            school_id=row.school_id,
            alert_id=None,
            dedupe_key=key,
            kind="summary",
            recipient_role=row.recipient_role,
            recipient_name=row.recipient_name,
            recipient_email=row.recipient_email,
            subject="schoolwatch: summary of recent alerts",
            message_id=message_id(row.school_id, key),
            payload={"items": [item]},
            status="pending",
            next_attempt_at=max(hour + timedelta(hours=1), now),
            created_at=now,
        )
        session.add(summary)
    else:
        summary.payload = {**summary.payload, "items": [*summary.payload.get("items", []), item]}
    row.status = "summarised"
    row.last_error = None
    session.flush()
    repo.record(
        session,
        school_id=row.school_id,
        event="delivery.summarised",
        subject_type="delivery",
        subject_id=row.id,
        details={"summary_id": summary.id, "kind": row.kind, "role": row.recipient_role},
        at=now,
    )
