"""The audit log: filterable, paged, and exportable as CSV."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Select, and_, func, not_, select
from sqlalchemy.orm import Session

from config.policy import SchoolPolicy
from core.models import Category
from storage import repo
from storage.db import session_scope
from storage.tables import AlertRow, AuditEvent, CommentRow, QueueItem
from web.deps import AuditViewer, get_runtime
from web.queue_data import headteacher_subjects
from web.views import render

router = APIRouter()
PAGE = 100
MAX_EXPORT = 50_000


@dataclass(frozen=True)
class AuditFilters:
    """Validated audit filters (free text is only ever a bound parameter)."""

    event: str = ""
    actor: str = ""
    subject: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def parse(cls, params: Any) -> AuditFilters:
        """Read filters from query parameters."""

        def text(name: str) -> str:
            return str(params.get(name, "")).strip()[:120]

        def day(name: str) -> date | None:
            try:
                return date.fromisoformat(text(name)) if text(name) else None
            except ValueError:
                return None

        try:
            page = max(1, min(int(text("page") or "1"), 100_000))
        except ValueError:
            page = 1
        return cls(
            event=text("event"),
            actor=text("actor"),
            subject=text("subject"),
            date_from=day("date_from"),
            date_to=day("date_to"),
            page=page,
        )

    def query(self, **changes: Any) -> dict[str, str]:
        """As query parameters, with ``changes``."""
        values: dict[str, Any] = {
            "event": self.event,
            "actor": self.actor,
            "subject": self.subject,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "page": str(self.page),
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v}

    def apply(self, stmt: Select[Any], tz: ZoneInfo) -> Select[Any]:
        """Add the filters to a query on ``AuditEvent``."""
        if self.event:
            stmt = stmt.where(AuditEvent.event.startswith(self.event, autoescape=True))
        if self.actor:
            stmt = stmt.where(AuditEvent.actor == self.actor)
        if self.subject:
            stmt = stmt.where(AuditEvent.subject_id == self.subject)
        if self.date_from:
            stmt = stmt.where(
                AuditEvent.created_at >= datetime.combine(self.date_from, time.min, tzinfo=tz)
            )
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=tz)
            stmt = stmt.where(AuditEvent.created_at < end)
        return stmt


def hidden_subjects(session: Session, policy: SchoolPolicy, role: str) -> dict[str, set[str]]:
    """Audit subjects the role must not see: for the headteacher, an allegation about them.

    Returns:
        Subject type to subject ids (comments, queue items and alerts of such allegations).
    """
    if role != "headteacher":
        return {}
    allegations = list(
        session.scalars(
            select(CommentRow.id).where(
                CommentRow.school_id == policy.school.id,
                CommentRow.primary_category == Category.STAFF_ALLEGATION.value,
            )
        )
    )
    about_head = headteacher_subjects(session, policy, allegations)
    if not about_head:
        return {}
    ids = list(about_head)
    items = session.scalars(select(QueueItem.id).where(QueueItem.comment_id.in_(ids)))
    alerts = session.scalars(select(AlertRow.alert_key).where(AlertRow.comment_id.in_(ids)))
    return {
        "comment": {str(i) for i in ids},
        "queue_item": {str(i) for i in items},
        "alert": set(alerts),
    }


def _query(
    school_id: str, filters: AuditFilters, tz: ZoneInfo, hidden: dict[str, set[str]]
) -> Select[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.school_id == school_id)
    for subject_type, ids in hidden.items():
        if ids:
            stmt = stmt.where(
                not_(and_(AuditEvent.subject_type == subject_type, AuditEvent.subject_id.in_(ids)))
            )
    return filters.apply(stmt, tz)


@router.get("/audit")
def audit_page(request: Request, user: AuditViewer) -> Response:
    """The audit log, newest first."""
    runtime = get_runtime(request)
    filters = AuditFilters.parse(request.query_params)
    tz = runtime.policy.tz
    with session_scope(runtime.factory) as session:
        hidden = hidden_subjects(session, runtime.policy, user.role)
        stmt = _query(runtime.policy.school.id, filters, tz, hidden)
        total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        rows = list(
            session.scalars(
                stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
                .offset((filters.page - 1) * PAGE)
                .limit(PAGE)
            )
        )
        events = list(
            session.scalars(
                select(AuditEvent.event)
                .where(AuditEvent.school_id == runtime.policy.school.id)
                .distinct()
                .order_by(AuditEvent.event)
            )
        )
    pages = max(1, (total + PAGE - 1) // PAGE)
    return render(
        request,
        "audit.html",
        {
            "rows": [(r, json.dumps(r.details, sort_keys=True, default=str)) for r in rows],
            "total": total,
            "filters": filters,
            "events": events,
            "export": "/audit.csv?" + urlencode(filters.query(page="")),
            "prev_link": "?" + urlencode(filters.query(page=filters.page - 1))
            if filters.page > 1
            else "",
            "next_link": "?" + urlencode(filters.query(page=filters.page + 1))
            if filters.page < pages
            else "",
            "pages": pages,
        },
    )


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@router.get("/audit.csv")
def audit_csv(request: Request, user: AuditViewer) -> Response:
    """The filtered audit log as CSV (at most 50,000 rows, newest first)."""
    runtime = get_runtime(request)
    filters = AuditFilters.parse(request.query_params)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time_utc", "actor", "event", "subject_type", "subject_id", "details"])
    with session_scope(runtime.factory) as session:
        hidden = hidden_subjects(session, runtime.policy, user.role)
        stmt = _query(runtime.policy.school.id, filters, runtime.policy.tz, hidden)
        for row in session.scalars(
            stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(MAX_EXPORT)
        ):
            writer.writerow(
                [
                    csv_cell(row.created_at.isoformat()),
                    csv_cell(row.actor),
                    csv_cell(row.event),
                    csv_cell(row.subject_type),
                    csv_cell(row.subject_id),
                    csv_cell(json.dumps(row.details, sort_keys=True, default=str)),
                ]
            )
        repo.record(
            session,
            school_id=runtime.policy.school.id,
            event="audit.exported",
            actor=user.username,
            details={"filters": filters.query(page="")},
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="schoolwatch-audit.csv"'},
    )
