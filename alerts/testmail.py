"""``schoolwatch test-alert``: send one test email to a role holder and say what happened.

The test email is recorded in the outbox table (kind ``test``) and audited like
any other email, but it is sent at once, here, so the outcome can be reported
in plain words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from alerts.compose import build_email
from alerts.email import EmailNotifier
from alerts.outbox import message_id
from alerts.router import role_label
from config.policy import ROLES, SchoolPolicy
from config.settings import Settings
from core.errors import ConfigError, DeliveryError
from storage import repo
from storage.db import session_scope
from storage.tables import Delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """What happened to a test email."""

    ok: bool
    message: str  # one or two plain-English sentences
    permanent: bool = False


def send_test_email(
    factory: sessionmaker[Session],
    settings: Settings,
    policy: SchoolPolicy,
    role: str,
    *,
    now: datetime,
    notifier: EmailNotifier | None = None,
) -> TestOutcome:
    """Send a test email to whoever holds ``role`` and describe the outcome.

    Args:
        factory: Session factory (the email and its outcome are recorded).
        settings: Mail settings.
        policy: Who holds each role.
        role: A policy role, e.g. ``"dsl"``.
        now: The current time.
        notifier: The sender (defaults to one built from ``settings``).

    Returns:
        The outcome, e.g. "Sent to Mr Tom Brennan (dsl) via smtp.example:587
        with STARTTLS - accepted."

    Raises:
        ConfigError: ``role`` is not a role in the policy.
    """
    if role not in policy.roles:
        raise ConfigError(f"unknown role {role!r}; the roles are: {', '.join(ROLES)}")
    notifier = notifier or EmailNotifier(settings)
    holder = policy.roles[role]
    key = f"test:{role}:{now.isoformat()}"
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id=policy.school.id, name=policy.school.name)
        row = Delivery(
            school_id=policy.school.id,
            alert_id=None,
            dedupe_key=key,
            kind="test",
            recipient_role=role,
            recipient_name=holder.name,
            recipient_email=holder.email,
            subject=f"schoolwatch test email for {role_label(role)}",
            message_id=message_id(policy.school.id, key),
            payload={"sent_at": now.isoformat(), "transport": notifier.transport},
            status="sending",
            attempts=1,
            next_attempt_at=None,
            created_at=now,
        )
        session.add(row)
        session.flush()
        message = build_email(session, settings, policy, row, now)
        delivery_id = row.id
    who = f"{holder.name} ({role})"
    try:
        notifier.send(message)
    except DeliveryError as exc:
        _finish(factory, policy, delivery_id, now, error=str(exc), permanent=exc.permanent)
        return TestOutcome(False, str(exc), permanent=exc.permanent)
    _finish(factory, policy, delivery_id, now, error=None, permanent=False)
    absent = (
        " Note: the policy says they are away today."
        if holder.is_absent(now.astimezone(policy.tz).date())
        else ""
    )
    if notifier.transport == "outbox":
        return TestOutcome(
            True,
            f"Written for {who} to {notifier.describe()} - no email left this computer, because "
            "SCHOOLWATCH_MAIL_TRANSPORT is 'outbox'. Set it to 'smtp' to send real email." + absent,
        )
    return TestOutcome(True, f"Sent to {who} via {notifier.describe()} - accepted." + absent)


def _finish(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    delivery_id: int,
    now: datetime,
    *,
    error: str | None,
    permanent: bool,
) -> None:
    with session_scope(factory) as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        row.status = "failed" if error else "sent"
        row.sent_at = None if error else now
        row.last_error = error[:1000] if error else None
        repo.record(
            session,
            school_id=policy.school.id,
            event="delivery.failed" if error else "delivery.sent",
            subject_type="delivery",
            subject_id=row.id,
            details={"kind": "test", "role": row.recipient_role, "permanent": permanent},
            at=now,
        )
