"""The alerts page: open incidents, acknowledgement, escalation state and response times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from statistics import median
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from alerts.ack import UnknownAlert, acknowledge
from config.policy import SchoolPolicy
from core.clock import utc_now
from core.models import Category
from storage import repo
from storage.db import session_scope
from storage.tables import AlertRow, QueueItem
from web.alert_data import alert_view, load_alert_page, told_roles
from web.deps import AlertsAcker, AlertsViewer, get_runtime
from web.permissions import FULL, REFERRED_TEXT, visibility
from web.queue_data import headteacher_subjects
from web.views import render

router = APIRouter()
STATUSES = ("open", "acknowledged", "closed", "all")


@dataclass
class AlertView:
    """One alert line."""

    alert: AlertRow
    queue_item: int | None
    response: timedelta | None
    steps: int
    next_roles: list[str]


def visible_alerts(
    session: Session, policy: SchoolPolicy, role: str, status: str, limit: int = 200
) -> list[AlertRow]:
    """Alerts ``role`` may see in full, open first, then most severe and newest."""
    stmt = select(AlertRow).where(AlertRow.school_id == policy.school.id)
    if status != "all":
        stmt = stmt.where(AlertRow.status == status)
    stmt = stmt.order_by(
        case((AlertRow.status == "open", 0), else_=1),
        AlertRow.severity.desc(),
        AlertRow.created_at.desc(),
    ).limit(limit)
    rows = list(session.scalars(stmt))
    subjects: set[int] = set()
    if role == "headteacher":
        subjects = headteacher_subjects(
            session,
            policy,
            [
                a.comment_id
                for a in rows
                if a.comment_id and a.category == Category.STAFF_ALLEGATION.value
            ],
        )
    return [
        a
        for a in rows
        if visibility(
            role,
            a.category,
            headteacher_subject=(a.comment_id or 0) in subjects,
            told=role in told_roles(a),
        )
        == FULL
    ]


def can_see(session: Session, policy: SchoolPolicy, role: str, alert: AlertRow) -> bool:
    """True when ``role`` may see (and acknowledge) ``alert`` in full."""
    return alert_view(session, policy, role, alert) == FULL


def _response_stats(alerts: list[AlertRow]) -> dict[str, timedelta | int | None]:
    times = [
        a.acknowledged_at - a.created_at
        for a in alerts
        if a.acknowledged_at is not None and a.acknowledged_at >= a.created_at
    ]
    seconds = sorted(t.total_seconds() for t in times)
    return {
        "acknowledged": len(times),
        "median": timedelta(seconds=median(seconds)) if seconds else None,
        "slowest": timedelta(seconds=seconds[-1]) if seconds else None,
    }


@router.get("/alerts")
def alerts_page(request: Request, user: AlertsViewer, status: str = "open") -> Response:
    """Alerts the user may see, with escalation state and response times."""
    runtime = get_runtime(request)
    status = status if status in STATUSES else "open"
    now = utc_now()
    with session_scope(runtime.factory) as session:
        rows = visible_alerts(session, runtime.policy, user.role, status)
        recent = [
            a
            for a in visible_alerts(session, runtime.policy, user.role, "all", limit=1000)
            if a.created_at >= now - timedelta(days=30)
        ]
        items = dict(
            session.execute(
                select(QueueItem.comment_id, QueueItem.id).where(
                    QueueItem.comment_id.in_([a.comment_id for a in rows if a.comment_id])
                )
            ).all()
        )
    views = []
    for a in rows:
        steps = a.escalation or []
        upcoming = steps[a.escalation_level] if a.escalation_level < len(steps) else None
        views.append(
            AlertView(
                alert=a,
                queue_item=items.get(a.comment_id) if a.comment_id else None,
                response=(a.acknowledged_at - a.created_at) if a.acknowledged_at else None,
                steps=len(steps),
                next_roles=list(upcoming.get("notify", [])) if isinstance(upcoming, dict) else [],
            )
        )
    return render(
        request,
        "alerts.html",
        {
            "views": views,
            "status": status,
            "statuses": STATUSES,
            "stats": _response_stats(recent),
            "open_count": sum(1 for a in recent if a.status == "open"),
            "now": now,
        },
    )


@router.get("/alerts/{alert_key}")
def alert_page(request: Request, alert_key: str, user: AlertsViewer) -> Response:
    """One incident: who was told, escalation, acknowledgement and its comments.

    Alert emails link here. Roles that may see the alert's category see it in
    full (and every such view of a safeguarding item is audited); the comms
    lead sees a safeguarding alert only as "Referred to the DSL" and its time.
    """
    runtime = get_runtime(request)
    with session_scope(runtime.factory) as session:
        page = load_alert_page(session, runtime.policy, user.role, alert_key[:64])
        if page is None:
            raise HTTPException(404)
        if page.safeguarding_shown:
            repo.record(
                session,
                school_id=runtime.policy.school.id,
                event="safeguarding.viewed",
                actor=user.username,
                subject_type="alert",
                subject_id=page.alert.alert_key,
                details={
                    "category": page.alert.category,
                    "comment_ids": [c.comment.id for c in page.comments if c.view == FULL],
                    "page": "alert",
                },
            )
    return render(
        request,
        "alert.html",
        {
            "p": page,
            "a": page.alert,
            "full": page.view == FULL,
            "referred_text": REFERRED_TEXT,
        },
    )


@router.post("/alerts/{alert_key}/ack")
def ack_alert(
    request: Request,
    alert_key: str,
    user: AlertsAcker,
    back: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Acknowledge an alert from the web app (stops its escalation).

    ``back=alert`` returns to the alert's own page; otherwise to the alerts list.
    """
    runtime = get_runtime(request)
    now = utc_now()
    with session_scope(runtime.factory) as session:
        alert = session.scalars(
            select(AlertRow).where(
                AlertRow.school_id == runtime.policy.school.id,
                AlertRow.alert_key == alert_key[:64],
            )
        ).one_or_none()
        if alert is None or not can_see(session, runtime.policy, user.role, alert):
            raise HTTPException(404)
        key = alert.alert_key
        try:
            done = acknowledge(
                session,
                school_id=runtime.policy.school.id,
                alert_key=key,
                actor=user.username,
                via="web",
                now=now,
            )
        except UnknownAlert as exc:
            raise HTTPException(404) from exc
    notice = "acknowledged" if done else "already"
    target = f"/alerts/{quote(key, safe='')}" if back == "alert" else "/alerts"
    return RedirectResponse(f"{target}?notice={notice}", status_code=303)
