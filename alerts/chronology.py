"""Safeguarding chronology export for the DSL (CSV and PDF).

One entry per safeguarding incident (alert) raised in a date range, holding
what a DSL moves into the school's safeguarding record system (CPOMS,
MyConcern or paper): when it was seen, the category, what was seen (the
comment's words, from the stored comment or, once that is gone, from the
evidence record), the evidence reference, who was told and when, who
acknowledged it, what was done on the platform and in the queue, and the
outcome.

**This export contains sensitive personal data.** It is for the DSL only:
files are written readable by their owner alone (mode 0600), and the CSV
guards against spreadsheet formula injection (a cell starting with ``=``,
``+``, ``-`` or ``@`` is prefixed with an apostrophe).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.digest_pdf import ReportPDF, write_private
from alerts.digest_render import long_date
from alerts.router import category_label, role_label
from config.policy import SchoolPolicy
from core.models import SAFEGUARDING, Category
from storage.tables import (
    AlertRow,
    AuditEvent,
    CommentRow,
    Delivery,
    EvidenceRecord,
    PlatformAction,
    QueueItem,
)

WARNING = (
    "This chronology contains sensitive safeguarding information about children. Keep it "
    "only as long as you need it to update the child protection record, store it securely "
    "and do not forward it."
)


@dataclass(frozen=True)
class Entry:
    """One incident in the chronology (field order is the CSV column order)."""

    reference: str
    date_time: str
    category: str
    platform: str
    what_was_seen: str
    posted_by: str
    posted_at: str
    where: str
    thread: str
    comments_in_incident: int
    evidence_reference: str
    who_was_told: str
    acknowledged: str
    actions: str
    outcome: str


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Entry))
"""CSV header, in order."""

HEADINGS: dict[str, str] = {
    "reference": "Reference",
    "date_time": "Date and time raised",
    "category": "Category",
    "platform": "Platform",
    "what_was_seen": "What was seen",
    "posted_by": "Posted by (platform name)",
    "posted_at": "Posted at",
    "where": "Link",
    "thread": "Posted under",
    "comments_in_incident": "Comments in this incident",
    "evidence_reference": "Evidence reference",
    "who_was_told": "Who was told",
    "acknowledged": "Acknowledged",
    "actions": "Actions",
    "outcome": "Outcome",
}


def _local(value: dt.datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def gather_chronology(
    session: Session,
    policy: SchoolPolicy,
    start: dt.date,
    end: dt.date,
    *,
    categories: Iterable[Category] = SAFEGUARDING,
) -> list[Entry]:
    """The incidents raised from ``start`` to ``end`` (inclusive, school time zone), oldest first.

    Args:
        session: An open session.
        policy: The school policy (time zone, platform names).
        start: First day.
        end: Last day.
        categories: Which incident categories to include (safeguarding ones by default).

    Returns:
        One entry per incident.
    """
    tz = policy.tz
    lo = dt.datetime.combine(start, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    wanted = [c.value for c in categories]
    alerts = session.scalars(
        select(AlertRow)
        .where(
            AlertRow.school_id == policy.school.id,
            AlertRow.category.in_(wanted),
            AlertRow.created_at >= lo,
            AlertRow.created_at < hi,
        )
        .order_by(AlertRow.created_at, AlertRow.id)
    ).all()
    return [_entry(session, policy, alert, tz) for alert in alerts]


def _entry(session: Session, policy: SchoolPolicy, alert: AlertRow, tz: ZoneInfo) -> Entry:
    comment = session.get(CommentRow, alert.comment_id) if alert.comment_id else None
    evidence = _evidence(session, alert, comment)
    snap = evidence[0].snapshot if evidence else {}
    shot = snap.get("comment", {}) if isinstance(snap, dict) else {}
    author = snap.get("author", {}) if isinstance(snap, dict) else {}
    thread = snap.get("thread", {}) if isinstance(snap, dict) else {}
    if comment is not None:
        seen, by, where = comment.text, comment.author_name, comment.permalink
        posted = _local(comment.created_at, tz)
        under, platform = comment.thread_title, comment.platform
    else:
        seen = str(shot.get("text") or "(comment no longer stored and no evidence record)")
        by, where = str(author.get("name", "")), str(shot.get("permalink", ""))
        created = shot.get("created_at")
        posted = _local(dt.datetime.fromisoformat(created), tz) if created else ""
        under, platform = str(thread.get("title", "")), str(shot.get("platform", ""))
    told = []
    for d in session.scalars(
        select(Delivery).where(Delivery.alert_id == alert.id).order_by(Delivery.created_at)
    ):
        when = f"emailed {_local(d.sent_at, tz)}" if d.sent_at else f"email {d.status}"
        kind = "" if d.kind == "alert" else f" ({d.kind})"
        told.append(f"{role_label(d.recipient_role)} {d.recipient_name}{kind}: {when}")
    if not told:
        told = [
            f"{role_label(str(r.get('role', '')))} {r.get('name', '')}" for r in alert.recipients
        ]
    actions = []
    if comment is not None:
        for a in session.scalars(
            select(PlatformAction)
            .where(PlatformAction.comment_id == comment.id)
            .order_by(PlatformAction.created_at)
        ):
            done = f"done {_local(a.done_at, tz)}" if a.done_at else a.status
            actions.append(f"{a.action.replace('_', ' ')} on {platform} ({done})")
        for q in session.scalars(select(QueueItem).where(QueueItem.comment_id == comment.id)):
            if q.status != "open":
                reason = f": {q.closed_reason}" if q.closed_reason else ""
                actions.append(
                    f"queue: {q.status.replace('_', ' ')} by {q.closed_by or '?'}{reason}"
                )
    if alert.escalation_level:
        actions.append(f"escalated {alert.escalation_level} time(s) before acknowledgement")
    if alert.status == "closed":
        outcome = f"closed {_local(alert.closed_at, tz)}"
    elif alert.status == "acknowledged":
        outcome = "acknowledged, not yet closed"
    else:
        outcome = "open: not yet acknowledged"
    try:
        label = category_label(Category(alert.category))
    except ValueError:
        label = alert.category
    return Entry(
        reference=alert.alert_key[:8],  # the "ref" shown in alert emails
        date_time=_local(alert.created_at, tz),
        category=label,
        platform=platform.capitalize().replace("Youtube", "YouTube"),
        what_was_seen=seen,
        posted_by=by,
        posted_at=posted,
        where=where,
        thread=under,
        comments_in_incident=alert.comment_count,
        evidence_reference="; ".join(e.reference for e in evidence),
        who_was_told="; ".join(told),
        acknowledged=(
            f"{alert.acknowledged_by} at {_local(alert.acknowledged_at, tz)}"
            if alert.acknowledged_at
            else "not acknowledged"
        ),
        actions="; ".join(actions) or "none recorded",
        outcome=outcome,
    )


def _evidence(
    session: Session, alert: AlertRow, comment: CommentRow | None
) -> list[EvidenceRecord]:
    """Evidence records for the incident's first comment.

    While the comment is stored they are linked to it. Once it is gone the
    link is traced through the audit trail: ``alert.raised`` names the
    comment id, and ``evidence.saved`` names the comment id and reference.
    """
    if comment is not None:
        where = EvidenceRecord.comment_id == comment.id
    else:
        raised = session.scalars(
            select(AuditEvent).where(
                AuditEvent.school_id == alert.school_id,
                AuditEvent.event == "alert.raised",
                AuditEvent.subject_id == alert.alert_key,
            )
        ).first()
        comment_id = (raised.details or {}).get("comment_id") if raised else None
        if comment_id is None:
            return []
        saved = session.scalars(
            select(AuditEvent).where(
                AuditEvent.school_id == alert.school_id,
                AuditEvent.event == "evidence.saved",
                AuditEvent.subject_type == "comment",
                AuditEvent.subject_id == str(comment_id),
            )
        ).all()
        refs = [str((e.details or {}).get("reference", "")) for e in saved]
        where = EvidenceRecord.reference.in_(refs)
    return list(
        session.scalars(
            select(EvidenceRecord)
            .where(EvidenceRecord.school_id == alert.school_id, where)
            .order_by(EvidenceRecord.created_at)
        )
    )


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def chronology_csv(entries: Sequence[Entry]) -> bytes:
    """The entries as CSV (UTF-8 with a byte-order mark, so Excel reads it correctly)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([HEADINGS[c] for c in COLUMNS])
    for entry in entries:
        writer.writerow([_cell(v) for v in astuple(entry)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def chronology_pdf(
    entries: Sequence[Entry], *, school_name: str, start: dt.date, end: dt.date
) -> bytes:
    """The entries as a PDF, one block per incident."""
    pdf = ReportPDF(
        f"{school_name}: safeguarding chronology {start} to {end}",
        f"CONFIDENTIAL: safeguarding · {school_name}",
    )
    pdf.heading(f"{school_name}: safeguarding chronology", 14)
    pdf.para(f"Incidents raised from {long_date(start)} to {long_date(end)}: {len(entries)}.")
    pdf.para(WARNING, style="B")
    if not entries:
        pdf.para("No safeguarding incidents were raised in this period.")
    for entry in entries:
        pdf.heading(f"{entry.date_time}  ·  {entry.category}  ·  ref {entry.reference}", 11)
        pdf.facts(
            [
                (HEADINGS[c], str(v))
                for c, v in zip(COLUMNS, astuple(entry), strict=True)
                if c not in ("reference", "date_time", "category")
            ]
        )
    return pdf.to_bytes()


def write_chronology(
    entries: Sequence[Entry],
    out: Path,
    *,
    school_name: str,
    start: dt.date,
    end: dt.date,
) -> Path:
    """Write the chronology as CSV or PDF (by ``out``'s suffix), mode 0600.

    Raises:
        ValueError: ``out`` does not end in ``.csv`` or ``.pdf``.
    """
    suffix = out.suffix.lower()
    if suffix == ".csv":
        return write_private(out, chronology_csv(entries))
    if suffix == ".pdf":
        return write_private(
            out, chronology_pdf(entries, school_name=school_name, start=start, end=end)
        )
    raise ValueError(f"{out.name}: the file name must end in .csv or .pdf")
