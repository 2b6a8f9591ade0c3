"""Reading one alert (incident) for one user: what they may see of it and of its comments.

The rules are the queue's (:mod:`web.permissions`), applied to the alert's
category, plus one: a role the policy's route *told* about the alert (as a
recipient, or by an escalation step already reached) sees what it was told
about. The headteacher never sees an allegation about the headteacher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.incidents import incident_comment_ids
from config.policy import SchoolPolicy
from core.models import Category
from storage.tables import AlertRow, CommentRow, QueueItem
from web.permissions import FULL, NONE, is_safeguarding, visibility
from web.queue_data import headteacher_subjects


def told_roles(alert: AlertRow) -> set[str]:
    """Roles the alert was sent to: its recipients and the escalation steps already reached."""
    roles = {str(r.get("role", "")) for r in alert.recipients or [] if isinstance(r, dict)}
    for step in (alert.escalation or [])[: alert.escalation_level]:
        if isinstance(step, dict):
            roles.update(str(r) for r in step.get("notify", []) or [])
    roles.discard("")
    return roles


def alert_view(session: Session, policy: SchoolPolicy, role: str, alert: AlertRow) -> str:
    """How much of ``alert`` the ``role`` may see: ``full``, ``referred`` or ``none``."""
    subject = False
    if role == "headteacher" and alert.category == Category.STAFF_ALLEGATION.value:
        subject = bool(alert.comment_id) and alert.comment_id in headteacher_subjects(
            session, policy, [alert.comment_id or 0]
        )
    return visibility(
        role, alert.category, headteacher_subject=subject, told=role in told_roles(alert)
    )


@dataclass
class IncidentComment:
    """One comment of an incident as the user may see it."""

    comment: CommentRow
    item_id: int | None
    category: str
    view: str  # full | referred
    safeguarding: bool


@dataclass
class Step:
    """One escalation step and where it stands."""

    number: int
    after_minutes: int
    roles: list[str]
    state: str  # done | next | waiting | stopped
    due: datetime | None


@dataclass
class AlertPage:
    """Everything the alert page shows (``view`` decides how much of it)."""

    alert: AlertRow
    view: str
    platform: str = ""
    response: timedelta | None = None
    told: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    comments: list[IncidentComment] = field(default_factory=list)
    not_shown: int = 0

    @property
    def safeguarding_shown(self) -> bool:
        """True when this page shows a safeguarding item in full (the view must be audited)."""
        if self.view != FULL:
            return False
        return is_safeguarding(self.alert.category) or any(
            c.safeguarding and c.view == FULL for c in self.comments
        )


def find_alert(session: Session, policy: SchoolPolicy, alert_key: str) -> AlertRow | None:
    """The school's alert with this key, or ``None``."""
    if not alert_key or len(alert_key) > 64:
        return None
    return session.scalars(
        select(AlertRow).where(
            AlertRow.school_id == policy.school.id, AlertRow.alert_key == alert_key
        )
    ).one_or_none()


def _steps(alert: AlertRow) -> list[Step]:
    out: list[Step] = []
    for n, step in enumerate(alert.escalation or []):
        if not isinstance(step, dict):
            continue
        after = int(step.get("after_minutes", 0) or 0)
        if n < alert.escalation_level:
            state = "done"
        elif alert.status != "open":
            state = "stopped"
        elif n == alert.escalation_level:
            state = "next"
        else:
            state = "waiting"
        due = alert.next_escalation_at if state == "next" else None
        out.append(Step(n + 1, after, [str(r) for r in step.get("notify", []) or []], state, due))
    return out


def load_alert_page(
    session: Session, policy: SchoolPolicy, role: str, alert_key: str
) -> AlertPage | None:
    """The alert page for ``role``, or ``None`` when there is no such alert or it is not theirs.

    Args:
        session: An open session.
        policy: The school policy.
        role: The user's role.
        alert_key: The alert's key (from the URL).

    Returns:
        The page. For a ``referred`` view only the alert and its time are filled in.
    """
    alert = find_alert(session, policy, alert_key)
    if alert is None:
        return None
    view = alert_view(session, policy, role, alert)
    if view == NONE:
        return None
    page = AlertPage(alert=alert, view=view)
    if view != FULL:
        return page
    page.response = (
        alert.acknowledged_at - alert.created_at
        if alert.acknowledged_at is not None and alert.acknowledged_at >= alert.created_at
        else None
    )
    page.told = [r for r in alert.recipients or [] if isinstance(r, dict)]
    page.steps = _steps(alert)
    told = role in told_roles(alert)
    ids = incident_comment_ids(session, school_id=policy.school.id, alert_key=alert.alert_key)
    if not ids:
        return page
    comments = {c.id: c for c in session.scalars(select(CommentRow).where(CommentRow.id.in_(ids)))}
    items: dict[int, tuple[int, str]] = {
        int(cid): (int(iid), str(cat))
        for cid, iid, cat in session.execute(
            select(QueueItem.comment_id, QueueItem.id, QueueItem.category).where(
                QueueItem.comment_id.in_(ids)
            )
        )
    }
    subjects = headteacher_subjects(session, policy, ids) if role == "headteacher" else set()
    for cid in ids:
        comment = comments.get(cid)
        if comment is None:
            continue
        item = items.get(cid)
        category = item[1] if item else (comment.primary_category or alert.category)
        seen = visibility(role, category, headteacher_subject=cid in subjects, told=told)
        if seen == NONE:
            page.not_shown += 1
            continue
        if not page.platform:
            page.platform = comment.platform
        page.comments.append(
            IncidentComment(
                comment=comment,
                item_id=item[0] if item else None,
                category=category,
                view=seen,
                safeguarding=is_safeguarding(category),
            )
        )
    return page
