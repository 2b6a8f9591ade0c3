"""The health page: each source's last success, next run, quota and recent errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from config.policy import Channel
from core.clock import utc_now
from storage.db import session_scope
from storage.tables import AuditEvent, ConnectorCursor, Delivery, PlatformAction
from web.deps import HealthViewer, get_runtime
from web.views import render

router = APIRouter()


@dataclass
class SourceHealth:
    """One source's state, as the health page shows it."""

    channel: Channel
    cursor: ConnectorCursor | None
    state: str  # ok | failing | paused | waiting | never
    next_run: datetime | None
    errors: list[AuditEvent] = field(default_factory=list)


def _state(c: ConnectorCursor | None, now: datetime) -> str:
    if c is None or c.last_run_at is None:
        return "never"
    if c.paused:
        return "paused"
    if c.retry_after is not None and c.retry_after > now:
        return "waiting"
    if c.consecutive_failures:
        return "failing"
    return "ok"


def _next_run(channel: Channel, c: ConnectorCursor | None, now: datetime) -> datetime | None:
    if c is None or c.last_run_at is None:
        return now
    if c.paused:
        return None
    due = c.last_run_at + timedelta(minutes=channel.poll_minutes)
    if c.retry_after is not None and c.retry_after > due:
        due = c.retry_after
    return max(due, now)


@router.get("/health")
def health_page(request: Request, user: HealthViewer) -> Response:
    """Sources, platform actions waiting or failed, and the email outbox."""
    runtime = get_runtime(request)
    now = utc_now()
    school_id = runtime.policy.school.id
    sources: list[SourceHealth] = []
    with session_scope(runtime.factory) as session:
        cursors = {
            c.source_id: c
            for c in session.scalars(
                select(ConnectorCursor).where(ConnectorCursor.school_id == school_id)
            )
        }
        for channel in runtime.policy.channels:
            cursor = cursors.get(channel.id)
            errors = list(
                session.scalars(
                    select(AuditEvent)
                    .where(
                        AuditEvent.school_id == school_id,
                        AuditEvent.event == "source.failed",
                        AuditEvent.subject_id == channel.id,
                        AuditEvent.created_at >= now - timedelta(days=7),
                    )
                    .order_by(AuditEvent.created_at.desc())
                    .limit(5)
                )
            )
            sources.append(
                SourceHealth(
                    channel=channel,
                    cursor=cursor,
                    state="disabled" if not channel.enabled else _state(cursor, now),
                    next_run=_next_run(channel, cursor, now) if channel.enabled else None,
                    errors=errors,
                )
            )
        actions = list(
            session.scalars(
                select(PlatformAction)
                .where(
                    PlatformAction.school_id == school_id,
                    PlatformAction.status.in_(("pending", "failed")),
                    PlatformAction.attempts > 0,
                )
                .order_by(PlatformAction.created_at.desc())
                .limit(50)
            )
        )
        action_counts = dict(
            session.execute(
                select(PlatformAction.status, func.count())
                .where(PlatformAction.school_id == school_id)
                .group_by(PlatformAction.status)
            ).all()
        )
        mail_counts = dict(
            session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.school_id == school_id)
                .group_by(Delivery.status)
            ).all()
        )
    return render(
        request,
        "health.html",
        {
            "sources": sources,
            "actions": actions,
            "action_counts": action_counts,
            "mail_counts": mail_counts,
            "now": now,
        },
    )
