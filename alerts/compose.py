"""Compose the email for one outbox row: links, the comment when allowed, and rendering.

Reads the alert and, only where the policy allows it, the comment from the
database, and hands them to the pure renderer (:mod:`alerts.render`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from sqlalchemy.orm import Session

from alerts.ack import make_ack_link
from alerts.email import Threading, build_message
from alerts.models import CommentView, RenderContext
from alerts.render import render_delivery
from config.policy import SchoolPolicy
from config.settings import Settings
from core.models import Category
from storage.tables import AlertRow, CommentRow, Delivery

ALERT_KINDS = ("alert", "escalation", "acknowledged")
"""Kinds of email that belong to an alert (and may carry an acknowledgement link)."""


def build_email(
    session: Session, settings: Settings, policy: SchoolPolicy, row: Delivery, now: datetime
) -> EmailMessage:
    """Render a delivery row into the email to send (reads its alert and comment)."""
    if row.kind == "digest":
        # The weekly digest has its own renderer (charts as inline images).
        from alerts.digest_job import message_for_delivery

        return message_for_delivery(row, sender=settings.mail_from)
    context = render_context(session, settings, policy, row, now)
    content = render_delivery(_with_alert_facts(session, policy, row), context)
    return build_message(
        sender=settings.mail_from,
        to_name=row.recipient_name,
        to_email=row.recipient_email,
        content=content,
        threading=Threading(row.message_id, row.in_reply_to, row.references),
        urgent=bool(row.payload.get("urgent")),
    )


@dataclass(frozen=True, slots=True)
class _RowView:
    kind: str
    recipient_role: str
    recipient_name: str
    subject: str
    payload: dict[str, Any]


def alert_facts(session: Session, policy: SchoolPolicy, alert: AlertRow) -> dict[str, Any]:
    """The facts every email about ``alert`` may show: never the comment's words or names.

    Args:
        session: An open session.
        policy: The school policy (for the channel's name).
        alert: The alert.

    Returns:
        alert_key, category, severity, urgent, clause, raised_at, safeguarding,
        and platform, posted_at and channel when the comment is still stored.
    """
    facts: dict[str, Any] = {
        "alert_key": alert.alert_key,
        "category": alert.category,
        "severity": alert.severity,
        "urgent": alert.urgent,
        "clause": alert.clause,
        "raised_at": alert.created_at.isoformat(),
        "safeguarding": alert.category in {c.value for c in Category if c.is_safeguarding},
    }
    comment = session.get(CommentRow, alert.comment_id) if alert.comment_id else None
    if comment is not None:
        facts["platform"] = comment.platform
        facts["posted_at"] = comment.created_at.isoformat()
        try:
            facts["channel"] = policy.channel(comment.source_id).name
        except KeyError:
            pass
    return facts


def _with_alert_facts(session: Session, policy: SchoolPolicy, row: Delivery) -> _RowView:
    """The row, its payload completed from its alert (for emails recorded with few facts)."""
    payload: dict[str, Any] = dict(row.payload) if isinstance(row.payload, dict) else {}
    alert = session.get(AlertRow, row.alert_id) if row.alert_id is not None else None
    if alert is not None:
        payload = {**alert_facts(session, policy, alert), **payload}
    return _RowView(row.kind, row.recipient_role, row.recipient_name, row.subject, payload)


def render_context(
    session: Session, settings: Settings, policy: SchoolPolicy, row: Delivery, now: datetime
) -> RenderContext:
    """Gather links and, only where the policy allows, the comment for one delivery."""
    base = settings.web_base_url.rstrip("/")
    common = {
        "school_name": policy.school.name,
        "timezone": policy.school.timezone,
        "web_base_url": base,
        "ack_hours": policy.alerts.ack_link_hours,
    }
    alert = session.get(AlertRow, row.alert_id) if row.alert_id is not None else None
    if alert is None or row.kind not in ALERT_KINDS:
        return RenderContext(**common)  # type: ignore[arg-type]
    ack_url = None
    if row.kind != "acknowledged":
        ack_url = make_ack_link(settings, policy, alert.alert_key, row.recipient_email, now)
    comment, withheld = _comment_for(session, policy, alert, row)
    return RenderContext(
        **common,  # type: ignore[arg-type]
        alert_url=f"{base}/alerts/{alert.alert_key}",
        ack_url=ack_url,
        comment=comment,
        withheld_reason=withheld,
        acknowledged_by=alert.acknowledged_by,
    )


def _comment_for(
    session: Session, policy: SchoolPolicy, alert: AlertRow, row: Delivery
) -> tuple[CommentView | None, str]:
    """The comment to show in the email, or None and the plain-words reason it is withheld."""
    link = "Open the alert in the web app to read it."
    if row.kind == "acknowledged":
        return None, ""
    try:
        category = Category(alert.category)
    except ValueError:
        category = Category.BENIGN
    if category.is_safeguarding and not policy.alerts.safeguarding_email_includes_text:
        return None, (
            "For confidentiality (Aycliffe 8), safeguarding emails never contain the "
            f"comment's words or anybody's name. {link}"
        )
    if not category.is_safeguarding:
        if category is Category.PERSONAL_DATA:
            return None, f"The comment contains personal details, so it is not copied here. {link}"
        if int(row.payload.get("pupils_mentioned", 0) or 0) > 0:
            return None, f"The comment names a pupil, so it is not copied here. {link}"
    comment = session.get(CommentRow, alert.comment_id) if alert.comment_id else None
    if comment is None or comment.platform_state == "purged":
        return None, "The comment is no longer stored (it was removed under the retention policy)."
    return (
        CommentView(
            text=comment.text,
            author_name=comment.author_name,
            permalink=comment.permalink,
            thread_title=comment.thread_title,
        ),
        "",
    )
