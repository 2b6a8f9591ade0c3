"""Send the emails recorded in the outbox, each exactly once.

Each delivery goes through three short transactions::

    claim:  pending/held (due) -> sending   attempts+1, lease for SENDING_LEASE
    send:   (no transaction)    EmailNotifier.send(...)
    finish: sending -> sent                 or back to pending with backoff,
                                            or failed when retrying cannot help

A crash after the claim leaves the row ``sending``; once its lease runs out
the next run claims it again and sends it with the *same* Message-ID, so the
one remaining duplicate window (the server accepted the email but we crashed
before recording it) shows up in mail clients as one email. Several workers
may run this at once: the claim is a conditional UPDATE, so only one wins.

Budget: when a person has been sent ``policy.alerts.hourly_budget_per_recipient``
emails in the last hour, further non-urgent alert emails to them are folded
into one summary email sent at the end of the hour. Safeguarding and other
urgent alerts are never folded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.budget import fold_into_summary, over_budget
from alerts.compose import ALERT_KINDS, build_email
from alerts.email import EmailNotifier
from alerts.models import DeliveryStats, rowcount
from alerts.outbox import message_id
from config.policy import SchoolPolicy
from config.settings import Settings
from core.clock import utc_now
from core.errors import DeliveryError
from storage import repo
from storage.db import session_scope
from storage.tables import AlertRow, Delivery

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=5)
"""How long a claimed delivery stays claimed; after that a crashed send is retried."""
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(minutes=30)
MAX_ATTEMPTS = 40
"""Transient failures are retried this many times (about 18 hours at the 30-minute cap)."""
DUE_STATUSES = ("pending", "held", "sending")

CrashHook = Callable[[str], None]
"""Test hook, called with "claimed" (before sending) and "sent" (before recording it)."""


@dataclass(frozen=True, slots=True)
class _Prepared:
    delivery_id: int
    kind: str
    message: EmailMessage


def backoff(attempts: int) -> timedelta:
    """Wait before retry number ``attempts`` (1, 2, 4, ... minutes, at most 30)."""
    return min(BACKOFF_FIRST * (1 << min(max(attempts - 1, 0), 20)), BACKOFF_MAX)


def deliver_pending(
    factory: sessionmaker[Session],
    settings: Settings,
    policy: SchoolPolicy,
    *,
    now: datetime | None = None,
    limit: int = 100,
    notifier: EmailNotifier | None = None,
    crash: CrashHook | None = None,
) -> DeliveryStats:
    """Send every due email in the outbox of ``policy``'s school.

    Args:
        factory: Session factory.
        settings: Mail transport, sender, web address and signing key.
        policy: The school's policy (budget, time zone, ack link lifetime).
        now: The time to act at (defaults to the clock).
        limit: Most deliveries handled in this run.
        notifier: The sender to use (defaults to one built from ``settings``).
        crash: Test hook, see :data:`CrashHook`.

    Returns:
        Counts of what was sent, retried, failed and folded into summaries.
    """
    now = now or utc_now()
    notifier = notifier or EmailNotifier(settings)
    stats = DeliveryStats(started_at=now)
    school_id = policy.school.id
    with session_scope(factory) as session:
        # Urgent alerts first, so a backlog (held emails released at 08:00) never delays one.
        ids = list(
            session.scalars(
                select(Delivery.id)
                .outerjoin(AlertRow, AlertRow.id == Delivery.alert_id)
                .where(
                    Delivery.school_id == school_id,
                    Delivery.status.in_(DUE_STATUSES),
                    Delivery.next_attempt_at <= now,
                )
                .order_by(
                    case((AlertRow.urgent.is_(True), 0), else_=1),
                    Delivery.next_attempt_at,
                    Delivery.id,
                )
                .limit(limit)
            )
        )
    for delivery_id in ids:
        try:
            prepared = _claim(factory, settings, policy, delivery_id, now, stats)
        except Exception as exc:  # noqa: BLE001 - one unbuildable email must not stop the rest
            log.exception("delivery %d could not be built", delivery_id)
            _unbuildable(factory, policy, delivery_id, exc, now, stats)
            continue
        if prepared is None:
            continue
        stats.claimed += 1
        if crash:
            crash("claimed")
        try:
            notifier.send(prepared.message)
        except DeliveryError as exc:
            _failed(factory, policy, prepared, exc, now, stats)
            continue
        if crash:
            crash("sent")
        _sent(factory, policy, prepared, notifier, now)
        stats.sent += 1
    if ids:
        log.info(
            "outbox: %d sent, %d retrying, %d failed, %d summarised",
            stats.sent,
            stats.retrying,
            stats.failed,
            stats.summarised,
        )
    return stats


def _claim(
    factory: sessionmaker[Session],
    settings: Settings,
    policy: SchoolPolicy,
    delivery_id: int,
    now: datetime,
    stats: DeliveryStats,
) -> _Prepared | None:
    """Claim one delivery and build its email, or fold it into a summary. None: nothing to send."""
    with session_scope(factory) as session:
        won = rowcount(
            session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.status.in_(DUE_STATUSES),
                    Delivery.next_attempt_at <= now,
                )
                .values(
                    status="sending",
                    attempts=Delivery.attempts + 1,
                    next_attempt_at=now + SENDING_LEASE,
                )
                .execution_options(synchronize_session=False)
            )
        )
        if not won:
            return None  # another worker has it, or it was cancelled
        row = session.get(Delivery, delivery_id)
        assert row is not None
        session.refresh(row)
        if over_budget(session, policy, row, now):
            fold_into_summary(session, policy, row, now)
            stats.summarised += 1
            return None
        message = build_email(session, settings, policy, row, now)
        return _Prepared(row.id, row.kind, message)


def _sent(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    prepared: _Prepared,
    notifier: EmailNotifier,
    now: datetime,
) -> None:
    with session_scope(factory) as session:
        row = session.get(Delivery, prepared.delivery_id)
        assert row is not None
        row.status = "sent"
        row.sent_at = now
        row.next_attempt_at = None
        row.last_error = None
        repo.record(
            session,
            school_id=row.school_id,
            event="delivery.sent",
            subject_type="delivery",
            subject_id=row.id,
            details={
                "kind": row.kind,
                "role": row.recipient_role,
                "alert_id": row.alert_id,
                "attempts": row.attempts,
                "transport": notifier.transport,
            },
            at=now,
        )
    log.info("delivery %d (%s) sent", prepared.delivery_id, prepared.kind)


def _failed(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    prepared: _Prepared,
    exc: DeliveryError,
    now: datetime,
    stats: DeliveryStats,
) -> None:
    with session_scope(factory) as session:
        row = session.get(Delivery, prepared.delivery_id)
        assert row is not None
        give_up = exc.permanent or row.attempts >= MAX_ATTEMPTS
        row.last_error = str(exc)[:1000]
        if give_up:
            row.status = "failed"
            row.next_attempt_at = None
            stats.failed += 1
        else:
            row.status = "pending"
            row.next_attempt_at = now + backoff(row.attempts)
            stats.retrying += 1
        stats.errors.append(str(exc))
        repo.record(
            session,
            school_id=row.school_id,
            event="delivery.failed",
            subject_type="delivery",
            subject_id=row.id,
            details={
                "kind": row.kind,
                "role": row.recipient_role,
                "alert_id": row.alert_id,
                "attempts": row.attempts,
                "permanent": exc.permanent,
                "gave_up": give_up,
                "retry_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
                "error": str(exc)[:300],
            },
            at=now,
        )
        if give_up and row.kind in ALERT_KINDS:
            _tell_admin_failed(session, policy, row, now)
    log.warning(
        "delivery %d (%s) failed, attempt %d%s",
        prepared.delivery_id,
        prepared.kind,
        row.attempts,
        " (giving up)" if give_up else "",
    )


def _unbuildable(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    delivery_id: int,
    exc: Exception,
    now: datetime,
    stats: DeliveryStats,
) -> None:
    """Mark a delivery failed because its email could not be built (a bug, not an outage)."""
    message = f"The email could not be built ({type(exc).__name__}); see the log."
    with session_scope(factory) as session:
        row = session.get(Delivery, delivery_id)
        if row is None:
            return
        row.status = "failed"
        row.attempts += 1
        row.next_attempt_at = None
        row.last_error = message
        stats.failed += 1
        stats.errors.append(message)
        repo.record(
            session,
            school_id=row.school_id,
            event="delivery.failed",
            subject_type="delivery",
            subject_id=row.id,
            details={
                "kind": row.kind,
                "role": row.recipient_role,
                "alert_id": row.alert_id,
                "attempts": row.attempts,
                "permanent": True,
                "gave_up": True,
                "error": message,
            },
            at=now,
        )
        if row.kind in ALERT_KINDS:
            _tell_admin_failed(session, policy, row, now)


def _tell_admin_failed(
    session: Session, policy: SchoolPolicy, row: Delivery, now: datetime
) -> None:
    """Record an urgent email to the admin: an alert email could not be delivered."""
    admin = policy.roles["admin"]
    if admin.email.lower() == row.recipient_email.lower():
        return
    key = f"failed:{row.id}"
    session.add(
        Delivery(
            school_id=row.school_id,
            alert_id=None,
            dedupe_key=key,
            kind="admin",
            recipient_role="admin",
            recipient_name=admin.name,
            recipient_email=admin.email,
            subject="schoolwatch could not deliver an alert email: action needed",
            message_id=message_id(row.school_id, key),
            payload={
                "problem": (
                    f"An alert email to {row.recipient_name} ({row.recipient_role}) could not be "
                    f"delivered after {row.attempts} attempts: {row.last_error}"
                ),
                "fix": (
                    "Fix the problem above, then check the alert in the web app. If the address "
                    "is wrong, correct it in the policy file and run `schoolwatch check-config`."
                ),
            },
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
    )
