"""The transactional outbox: alert emails are recorded in the database before they are sent.

Recording happens in the same transaction as the comment and its alert, so a
crash can never lose an alert or record it twice. Sending is a separate step
(:mod:`alerts.delivery`), which marks each row sent exactly once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from alerts.hours import next_working_time
from config.policy import SchoolPolicy
from core.models import Recipient
from storage.tables import AlertRow, Delivery


def message_id(school_id: str, *parts: str) -> str:
    """A stable, unique RFC 5322 Message-ID for one email."""
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]
    return f"<{digest}@{school_id}.schoolwatch.invalid>"


def enqueue(
    session: Session,
    *,
    policy: SchoolPolicy,
    alert: AlertRow | None,
    recipient: Recipient,
    kind: str,
    dedupe_key: str,
    urgent: bool,
    now: datetime,
    subject: str = "",
    payload: dict[str, object] | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
) -> Delivery:
    """Record one email to send. Non-urgent emails wait for working hours.

    ``dedupe_key`` is unique per school: recording the same email twice is a
    programming error and fails the transaction rather than sending twice.
    """
    not_before = None if urgent else next_working_time(policy, now)
    if not_before is not None and not_before <= now:
        not_before = None
    delivery = Delivery(
        school_id=policy.school.id,
        alert_id=alert.id if alert is not None else None,
        dedupe_key=dedupe_key,
        kind=kind,
        recipient_role=recipient.role,
        recipient_name=recipient.name,
        recipient_email=recipient.email,
        subject=subject,
        message_id=message_id(policy.school.id, dedupe_key),
        in_reply_to=in_reply_to,
        references=references,
        payload=dict(payload or {}),
        status="held" if not_before is not None else "pending",
        not_before=not_before,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    session.add(delivery)
    return delivery
