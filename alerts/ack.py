"""Acknowledging an alert: signed one-click links in emails, and the button in the web app.

An acknowledgement link holds the alert's key, the recipient's email address
and an expiry time, signed with ``settings.secret_key`` (itsdangerous), so it
cannot be forged or changed, and stops working after
``policy.alerts.ack_link_hours``.

Mail scanners (Microsoft Defender Safe Links, Mimecast, ...) open links in
emails to check them. So a GET of the link must never acknowledge anything:
the web app shows a confirmation page (:func:`ack_page`) whose button POSTs
back, and only the POST calls :func:`acknowledge`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from alerts.models import rowcount
from alerts.render import alert_ref, category_name, local_time
from config.policy import SchoolPolicy
from config.settings import Settings
from core.errors import SchoolwatchError
from storage import repo
from storage.tables import AlertRow, Delivery, User

log = logging.getLogger(__name__)

_SALT = "schoolwatch.ack.v1"


class AckLinkError(SchoolwatchError):
    """An acknowledgement link is not valid: tampered with, for another site, or expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


class UnknownAlert(LookupError):
    """No alert with this key exists for the school."""


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key.get_secret_value(), salt=_SALT)


def make_ack_token(
    settings: Settings, policy: SchoolPolicy, alert_key: str, email: str, now: datetime
) -> str:
    """A signed token for one recipient of one alert, valid ``policy.alerts.ack_link_hours``."""
    expires = now + timedelta(hours=policy.alerts.ack_link_hours)
    data = {"a": alert_key, "e": email.lower(), "x": int(expires.timestamp())}
    token = _serializer(settings).dumps(data)
    return token if isinstance(token, str) else token.decode()


def make_ack_link(
    settings: Settings, policy: SchoolPolicy, alert_key: str, email: str, now: datetime
) -> str:
    """The one-click link put in an alert email: ``{web_base_url}/ack/{token}``.

    Args:
        settings: Holds the signing key and the web app's address.
        policy: Holds how long the link stays valid.
        alert_key: The alert being acknowledged.
        email: The recipient the link is for (recorded as who acknowledged).
        now: The time the link is made.

    Returns:
        An absolute URL.
    """
    base = settings.web_base_url.rstrip("/")
    return f"{base}/ack/{make_ack_token(settings, policy, alert_key, email, now)}"


def verify_ack_token(settings: Settings, token: str, now: datetime) -> tuple[str, str]:
    """Check an acknowledgement token.

    Args:
        settings: Holds the signing key.
        token: The last part of the link.
        now: The current time.

    Returns:
        ``(alert_key, email)``.

    Raises:
        AckLinkError: The token was changed, signed with another key, or has
            expired (``expired`` is True then).
    """
    try:
        data: Any = _serializer(settings).loads(token)
    except BadSignature as exc:
        raise AckLinkError("This acknowledgement link is not valid.") from exc
    if not isinstance(data, dict) or not {"a", "e", "x"} <= set(data):
        raise AckLinkError("This acknowledgement link is not valid.")
    if now.timestamp() > float(data["x"]):
        raise AckLinkError(
            "This acknowledgement link has expired. Sign in to the web app and press "
            "Acknowledge on the alert page instead.",
            expired=True,
        )
    return str(data["a"]), str(data["e"])


def acknowledge(
    session: Session,
    *,
    school_id: str,
    alert_key: str,
    actor: str,
    via: str,
    now: datetime,
) -> bool:
    """Acknowledge an alert: stop its escalation and record who did it.

    Idempotent: acknowledging an acknowledged (or closed) alert changes
    nothing and returns False. Escalation emails recorded but not yet sent
    are cancelled. Those who were told about the alert are sent a short
    follow-up in the same email thread saying who acknowledged it.

    Args:
        session: The caller's transaction.
        school_id: The school.
        alert_key: The alert's key.
        actor: Who acknowledged (username or email address).
        via: "email" or "web".
        now: The current time.

    Returns:
        True when this call acknowledged the alert.

    Raises:
        UnknownAlert: No such alert for this school.
    """
    alert = session.scalars(
        select(AlertRow).where(AlertRow.school_id == school_id, AlertRow.alert_key == alert_key)
    ).one_or_none()
    if alert is None:
        raise UnknownAlert(alert_key)
    changed = rowcount(
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert.id, AlertRow.status == "open")
            .values(
                status="acknowledged",
                acknowledged_at=now,
                acknowledged_by=actor[:120],
                next_escalation_at=None,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if not changed:
        return False
    session.refresh(alert)
    cancelled = rowcount(
        session.execute(
            update(Delivery)
            .where(
                Delivery.alert_id == alert.id,
                Delivery.kind == "escalation",
                Delivery.status.in_(("pending", "held")),
            )
            .values(status="cancelled", last_error="alert acknowledged before it was sent")
            .execution_options(synchronize_session=False)
        )
    )
    told = _tell_acknowledged(session, alert, actor, now)
    repo.record(
        session,
        school_id=school_id,
        event="alert.acknowledged",
        actor=actor[:120],
        subject_type="alert",
        subject_id=alert_key,
        details={
            "via": via,
            "minutes_after_alert": round((now - alert.created_at).total_seconds() / 60, 1),
            "escalation_level": alert.escalation_level,
            "escalations_cancelled": cancelled,
            "follow_ups": told,
        },
        at=now,
    )
    log.info("alert %s acknowledged via %s", alert_ref(alert_key), via)
    return True


def _actor(session: Session, school_id: str, actor: str) -> tuple[str, set[str]]:
    """A display name for who acknowledged, and their email addresses (to skip them)."""
    user = session.scalars(
        select(User).where(
            User.school_id == school_id,
            or_(User.username == actor, func.lower(User.email) == actor.lower()),
        )
    ).first()
    emails = {actor.lower()}
    if user is None:
        return actor, emails
    if user.email:
        emails.add(user.email.lower())
    return user.display_name or actor, emails


def _tell_acknowledged(session: Session, alert: AlertRow, actor: str, now: datetime) -> int:
    """Record a threaded "acknowledged by" email to everyone already sent an urgent alert."""
    if not alert.urgent:
        return 0
    label, actor_emails = _actor(session, alert.school_id, actor)
    sent = session.scalars(
        select(Delivery)
        .where(
            Delivery.alert_id == alert.id,
            Delivery.kind.in_(("alert", "escalation")),
            Delivery.status == "sent",
        )
        .order_by(Delivery.id)
    ).all()
    latest: dict[str, Delivery] = {}
    for d in sent:
        latest[d.recipient_email.lower()] = d
    count = 0
    for email, prev in latest.items():
        if email in actor_emails:
            continue
        session.add(
            Delivery(
                school_id=alert.school_id,
                alert_id=alert.id,
                dedupe_key=f"ack:{alert.alert_key}:{email}",
                kind="acknowledged",
                recipient_role=prev.recipient_role,
                recipient_name=prev.recipient_name,
                recipient_email=prev.recipient_email,
                subject=_reply_subject(prev.subject),
                message_id=_ack_message_id(prev.message_id),
                in_reply_to=prev.message_id,
                references=_references(alert.message_id, prev),
                payload={
                    **prev.payload,
                    "acknowledged_by": label,
                    "acknowledged_at": now.isoformat(),
                },
                status="pending",
                next_attempt_at=now,
                created_at=now,
            )
        )
        count += 1
    return count


def _ack_message_id(previous: str) -> str:
    local, _, domain = previous.strip("<>").partition("@")
    return f"<ack-{local}@{domain}>"


def _reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def _references(root: str, prev: Delivery) -> str:
    refs = (prev.references or "").split()
    for mid in (root, prev.message_id):
        if mid not in refs:
            refs.append(mid)
    return " ".join(refs)


@dataclass(frozen=True, slots=True)
class AckPage:
    """What the web app shows for ``GET /ack/{token}`` (never acknowledges by itself)."""

    status_code: int  # 200 valid, 400 invalid, 410 expired, 404 unknown alert
    title: str
    message: str
    can_confirm: bool  # show a "Yes, I acknowledge" button that POSTs back
    alert_key: str = ""
    email: str = ""
    facts: tuple[tuple[str, str], ...] = ()


def ack_page(
    session: Session, settings: Settings, policy: SchoolPolicy, token: str, now: datetime
) -> AckPage:
    """The confirmation page for an acknowledgement link (GET: read only).

    The page shows only category, platform, time and reference (no comment
    text or names: the link needs no sign-in) and a button that POSTs to the
    same address; :func:`handle_ack_post` does the acknowledging.
    """
    try:
        alert_key, email = verify_ack_token(settings, token, now)
    except AckLinkError as exc:
        code = 410 if exc.expired else 400
        title = "Link expired" if exc.expired else "Link not valid"
        return AckPage(code, title, str(exc), can_confirm=False)
    alert = session.scalars(
        select(AlertRow).where(
            AlertRow.school_id == policy.school.id, AlertRow.alert_key == alert_key
        )
    ).one_or_none()
    if alert is None:
        return AckPage(404, "Alert not found", "This alert no longer exists.", can_confirm=False)
    facts = (
        ("What", category_name(alert.category)),
        ("Raised", local_time(alert.created_at, policy.school.timezone)),
        ("Ref", alert_ref(alert.alert_key)),
    )
    if alert.status != "open":
        who = alert.acknowledged_by or "someone"
        when = local_time(alert.acknowledged_at, policy.school.timezone)
        return AckPage(
            200,
            "Already acknowledged",
            f"This alert was already acknowledged by {who} ({when}).",
            can_confirm=False,
            alert_key=alert_key,
            email=email,
            facts=facts,
        )
    return AckPage(
        200,
        "Acknowledge this alert?",
        "Press the button to confirm you have seen this alert and are dealing with it. "
        "This stops the reminders to other people.",
        can_confirm=True,
        alert_key=alert_key,
        email=email,
        facts=facts,
    )


def handle_ack_post(
    session: Session, settings: Settings, policy: SchoolPolicy, token: str, now: datetime
) -> AckPage:
    """Carry out ``POST /ack/{token}``: acknowledge as the link's recipient."""
    try:
        alert_key, email = verify_ack_token(settings, token, now)
    except AckLinkError as exc:
        code = 410 if exc.expired else 400
        title = "Link expired" if exc.expired else "Link not valid"
        return AckPage(code, title, str(exc), can_confirm=False)
    try:
        done = acknowledge(
            session,
            school_id=policy.school.id,
            alert_key=alert_key,
            actor=email,
            via="email",
            now=now,
        )
    except UnknownAlert:
        return AckPage(404, "Alert not found", "This alert no longer exists.", can_confirm=False)
    if done:
        return AckPage(
            200,
            "Acknowledged",
            "Thank you. The alert is acknowledged and nobody else will be reminded about it.",
            can_confirm=False,
            alert_key=alert_key,
            email=email,
        )
    return AckPage(
        200,
        "Already acknowledged",
        "This alert had already been acknowledged. Nothing more is needed from this link.",
        can_confirm=False,
        alert_key=alert_key,
        email=email,
    )


__all__ = [
    "AckLinkError",
    "AckPage",
    "UnknownAlert",
    "ack_page",
    "acknowledge",
    "handle_ack_post",
    "make_ack_link",
    "make_ack_token",
    "verify_ack_token",
]
