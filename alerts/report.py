"""The governors' termly monitoring report (HTML and PDF), with no personal data.

The DfE filtering and monitoring standards expect governors to review how
monitoring works; both policies ask for a yearly policy review (Aycliffe 7,
Preston Grange 801). This report gives governors the term's figures: how
many comments were read and flagged, by category, platform and month; how
many incidents were raised, escalated and closed; how quickly staff
acknowledged and acted; what was done on the platforms; and whether every
channel was watched throughout. It contains counts and times only: no
names (of pupils, parents or staff), no comment text and no links to
comments.

Terms run back to back so every day belongs to exactly one term:
autumn is 1 September to 31 December; spring is 1 January to the last day
of the Easter holiday named in the policy (31 March if none); summer runs
from the next day to 31 August.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.charts import monthly_chart
from alerts.digest_pdf import ReportPDF, write_private
from alerts.digest_render import duration, env, long_date
from alerts.router import category_label, role_label
from config.policy import SchoolPolicy
from core.models import SAFEGUARDING, Category, Platform
from storage.tables import (
    AlertRow,
    AuditEvent,
    CommentRow,
    EvidenceRecord,
    JobRun,
    ModerationLabel,
    PlatformAction,
    QueueItem,
)

_TERM = re.compile(r"^(autumn|spring|summer)-(\d{4})$")
_ACTION_WORDS = {
    "hide": "Hidden on the platform",
    "unhide": "Shown again after review",
    "delete": "Deleted from the platform",
    "approve": "Approved after being held",
    "hold_for_review": "Held for review on the platform",
    "reply": "Public replies posted",
}
_QUEUE_WORDS = {
    "approved": "Left up: nothing wrong (approved)",
    "hidden": "Hidden",
    "deleted": "Deleted",
    "escalated": "Escalated to a senior colleague",
    "false_positive": "Marked as a false alarm",
    "confirmed": "Confirmed as a concern",
    "closed": "Closed",
    "open": "Still waiting at the end of term",
}


def term_dates(policy: SchoolPolicy, term: str) -> tuple[dt.date, dt.date, str]:
    """First day, last day and title of a term such as ``autumn-2026``.

    Raises:
        ValueError: ``term`` is not ``autumn-YYYY``, ``spring-YYYY`` or ``summer-YYYY``.
    """
    match = _TERM.match(term.strip().lower())
    if not match:
        raise ValueError(f"{term!r} is not a term like autumn-2026, spring-2027 or summer-2027")
    season, year = match.group(1), int(match.group(2))

    def easter_end(y: int) -> dt.date:
        ends = [h.end for h in policy.holidays if "easter" in h.name.lower() and h.end.year == y]
        return max(ends) if ends else dt.date(y, 3, 31)

    if season == "autumn":
        start, end = dt.date(year, 9, 1), dt.date(year, 12, 31)
    elif season == "spring":
        start, end = dt.date(year, 1, 1), easter_end(year)
    else:
        start, end = easter_end(year) + dt.timedelta(days=1), dt.date(year, 8, 31)
    return start, end, f"{season.capitalize()} term {year}"


@dataclass(frozen=True)
class Row:
    """A labelled figure."""

    label: str
    value: int


@dataclass(frozen=True)
class TermlyReport:
    """Every figure of the governors' report. Counts and durations only."""

    school_name: str
    title: str
    start: dt.date
    end: dt.date
    generated_at: dt.datetime
    timezone: str
    channels: tuple[str, ...]
    comments: int
    flagged: int
    safeguarding: int
    by_category: tuple[Row, ...]
    by_platform: tuple[tuple[str, int, int], ...]  # platform, comments, flagged
    by_month: tuple[tuple[str, int, int], ...]  # month, flagged, safeguarding
    incidents_opened: int
    incidents_safeguarding: int
    incidents_escalated: int
    incidents_closed: int
    incidents_open_at_end: int
    ack_median_minutes: float | None
    ack_slowest_minutes: float | None
    ack_within_hour: int
    ack_count: int
    act_median_minutes: float | None
    act_count: int
    queue_outcomes: tuple[Row, ...]
    platform_actions: tuple[Row, ...]
    evidence_saved: int
    false_alarms: int
    confirmed: int
    source_failures: tuple[Row, ...]
    digests_sent: int
    purges_run: int
    next_review: dt.date
    last_reviewed: dt.date
    review_clause: str
    digest_roles: tuple[str, ...]


def gather_termly(
    session: Session,
    policy: SchoolPolicy,
    start: dt.date,
    end: dt.date,
    *,
    title: str,
    now: dt.datetime,
) -> TermlyReport:
    """Read and count the term's figures (``start`` to ``end`` inclusive, school time zone)."""
    tz = policy.tz
    school_id = policy.school.id
    lo = dt.datetime.combine(start, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    safe = {c.value for c in SAFEGUARDING}

    comments = session.execute(
        select(CommentRow.created_at, CommentRow.platform, CommentRow.primary_category).where(
            CommentRow.school_id == school_id,
            CommentRow.created_at >= lo,
            CommentRow.created_at < hi,
        )
    ).all()
    cats = Counter((c.primary_category or "benign") for c in comments)
    flagged = [c for c in comments if (c.primary_category or "benign") != "benign"]
    months: list[tuple[str, int, int]] = []
    month = start.replace(day=1)
    while month <= end:
        in_month = [c for c in flagged if _month(c.created_at, tz) == (month.year, month.month)]
        months.append(
            (
                f"{month:%b %Y}",
                len(in_month),
                sum(c.primary_category in safe for c in in_month),
            )
        )
        month = (month + dt.timedelta(days=32)).replace(day=1)

    alerts = session.scalars(
        select(AlertRow).where(
            AlertRow.school_id == school_id, AlertRow.created_at >= lo, AlertRow.created_at < hi
        )
    ).all()
    acks = [
        (a.acknowledged_at - a.created_at).total_seconds() / 60
        for a in alerts
        if a.acknowledged_at is not None and a.acknowledged_at >= a.created_at
    ]
    queue = session.execute(
        select(QueueItem.status, QueueItem.created_at, QueueItem.updated_at).where(
            QueueItem.school_id == school_id, QueueItem.created_at >= lo, QueueItem.created_at < hi
        )
    ).all()
    acts = [
        (q.updated_at - q.created_at).total_seconds() / 60
        for q in queue
        if q.status != "open" and q.updated_at >= q.created_at
    ]
    actions = Counter(
        a
        for (a,) in session.execute(
            select(PlatformAction.action).where(
                PlatformAction.school_id == school_id,
                PlatformAction.status == "done",
                PlatformAction.done_at >= lo,
                PlatformAction.done_at < hi,
            )
        )
    )
    labels = Counter(
        k
        for (k,) in session.execute(
            select(ModerationLabel.kind).where(
                ModerationLabel.school_id == school_id,
                ModerationLabel.created_at >= lo,
                ModerationLabel.created_at < hi,
            )
        )
    )
    failures = Counter(
        s
        for (s,) in session.execute(
            select(AuditEvent.subject_id).where(
                AuditEvent.school_id == school_id,
                AuditEvent.event == "source.failed",
                AuditEvent.created_at >= lo,
                AuditEvent.created_at < hi,
            )
        )
    )

    def count(model: type, *where: object) -> int:
        stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(session.scalar(stmt) or 0)

    queue_status = Counter(q.status for q in queue)
    return TermlyReport(
        school_name=policy.school.name,
        title=title,
        start=start,
        end=end,
        generated_at=now,
        timezone=policy.school.timezone,
        channels=tuple(
            f"{c.name} ({_platform(c.platform.value)})" for c in policy.channels if c.enabled
        ),
        comments=len(comments),
        flagged=len(flagged),
        safeguarding=sum(cats[c] for c in safe),
        by_category=tuple(Row(category_label(c), cats[c.value]) for c in Category),
        by_platform=tuple(
            (
                _platform(p.value),
                sum(c.platform == p.value for c in comments),
                sum(c.platform == p.value for c in flagged),
            )
            for p in Platform
            if any(ch.platform is p for ch in policy.channels)
            or any(c.platform == p.value for c in comments)
        ),
        by_month=tuple(months),
        incidents_opened=len(alerts),
        incidents_safeguarding=sum(a.category in safe for a in alerts),
        incidents_escalated=sum(a.escalation_level > 0 for a in alerts),
        incidents_closed=sum(a.closed_at is not None and a.closed_at < hi for a in alerts),
        incidents_open_at_end=sum(a.closed_at is None or a.closed_at >= hi for a in alerts),
        ack_median_minutes=round(statistics.median(acks), 1) if acks else None,
        ack_slowest_minutes=round(max(acks), 1) if acks else None,
        ack_within_hour=sum(m <= 60 for m in acks),
        ack_count=len(acks),
        act_median_minutes=round(statistics.median(acts), 1) if acts else None,
        act_count=len(acts),
        queue_outcomes=tuple(
            Row(_QUEUE_WORDS.get(s, s.replace("_", " ")), n)
            for s, n in sorted(queue_status.items(), key=lambda kv: -kv[1])
        ),
        platform_actions=tuple(Row(_ACTION_WORDS.get(a, a), n) for a, n in sorted(actions.items())),
        evidence_saved=count(
            EvidenceRecord,
            EvidenceRecord.school_id == school_id,
            EvidenceRecord.created_at >= lo,
            EvidenceRecord.created_at < hi,
        ),
        false_alarms=labels["false_positive"],
        confirmed=labels["confirmed"],
        source_failures=tuple(Row(_channel_name(policy, s), failures[s]) for s in sorted(failures)),
        digests_sent=count(
            JobRun,
            JobRun.school_id == school_id,
            JobRun.job == "digest",
            JobRun.status == "done",
            JobRun.started_at >= lo,
            JobRun.started_at < hi,
        ),
        purges_run=count(
            AuditEvent,
            AuditEvent.school_id == school_id,
            AuditEvent.event == "retention.purged",
            AuditEvent.created_at >= lo,
            AuditEvent.created_at < hi,
        ),
        next_review=policy.review.next_review,
        last_reviewed=policy.review.last_reviewed,
        review_clause=policy.review.clause,
        digest_roles=tuple(role_label(r) for r in policy.digest.roles),
    )


def _month(t: dt.datetime, tz: dt.tzinfo) -> tuple[int, int]:
    local = t.astimezone(tz)
    return local.year, local.month


def _platform(value: str) -> str:
    return {"facebook": "Facebook", "youtube": "YouTube", "reddit": "Reddit"}.get(value, value)


def _channel_name(policy: SchoolPolicy, source_id: str) -> str:
    try:
        return policy.channel(source_id).name
    except KeyError:
        return source_id


def report_chart(report: TermlyReport) -> bytes:
    """The month-by-month chart of flagged comments (PNG)."""
    return monthly_chart(report.by_month, title="Flagged comments per month")


def render_report_html(report: TermlyReport, *, chart: bytes | None = None) -> str:
    """The report as a stand-alone HTML page (chart embedded)."""
    png = chart if chart is not None else report_chart(report)
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return env.get_template("report_termly.html").render(r=report, chart=src)


def _summary_rows(r: TermlyReport) -> list[tuple[str, str]]:
    return [
        ("Comments read", str(r.comments)),
        ("Comments flagged", str(r.flagged)),
        ("Safeguarding concerns", str(r.safeguarding)),
        ("Incidents raised", f"{r.incidents_opened} ({r.incidents_safeguarding} safeguarding)"),
        ("Escalated (not acknowledged in time)", str(r.incidents_escalated)),
        ("Closed by the end of term", str(r.incidents_closed)),
        ("Still open at the end of term", str(r.incidents_open_at_end)),
        (
            "Time to acknowledge an alert",
            f"median {duration(r.ack_median_minutes)}, slowest "
            f"{duration(r.ack_slowest_minutes)}; {r.ack_within_hour} of {r.ack_count} "
            "within an hour",
        ),
        (
            "Time to act on a queued comment",
            f"median {duration(r.act_median_minutes)} ({r.act_count} decided)",
        ),
        ("Evidence records saved", str(r.evidence_saved)),
        ("False alarms marked by staff", str(r.false_alarms)),
        ("Concerns confirmed by staff", str(r.confirmed)),
        ("Weekly digests sent", f"{r.digests_sent} (to {', '.join(r.digest_roles)})"),
        ("Daily retention clean-ups run", str(r.purges_run)),
    ]


def render_report_pdf(report: TermlyReport, *, chart: bytes | None = None) -> bytes:
    """The report as a PDF (A4)."""
    r = report
    pdf = ReportPDF(
        f"{r.school_name}: social media monitoring report, {r.title}",
        f"{r.school_name} · {r.title} · no personal data",
        created=r.generated_at,
    )
    pdf.heading(f"{r.school_name}", 15)
    pdf.heading(f"Social media monitoring: report to governors, {r.title}", 12)
    pdf.para(
        f"Period: {long_date(r.start)} to {long_date(r.end)}. Prepared by schoolwatch on "
        f"{long_date(r.generated_at.date())}. This report contains counts and times only: no "
        "names of pupils, parents or staff and no comment text."
    )
    pdf.para("Channels watched: " + "; ".join(r.channels) + ".")
    pdf.heading("Summary")
    pdf.facts(_summary_rows(r), label_width=70)
    pdf.heading("Flagged comments per month")
    pdf.png(chart if chart is not None else report_chart(r), alt="Flagged comments per month")
    pdf.heading("Comments by category")
    pdf.grid(["Category", "Comments"], [(x.label, str(x.value)) for x in r.by_category], (140, 40))
    pdf.heading("Comments by platform")
    pdf.grid(
        ["Platform", "Comments", "Flagged"],
        [(p, str(c), str(f)) for p, c, f in r.by_platform],
        (100, 40, 40),
    )
    if r.queue_outcomes:
        pdf.heading("What staff decided about queued comments")
        pdf.grid(
            ["Decision", "Comments"], [(x.label, str(x.value)) for x in r.queue_outcomes], (140, 40)
        )
    if r.platform_actions:
        pdf.heading("Actions taken on the platforms")
        pdf.grid(
            ["Action", "Comments"], [(x.label, str(x.value)) for x in r.platform_actions], (140, 40)
        )
    pdf.heading("Channel problems")
    if r.source_failures:
        pdf.grid(
            ["Channel", "Failed checks"],
            [(x.label, str(x.value)) for x in r.source_failures],
            (140, 40),
        )
    else:
        pdf.para("Every channel was checked without a failure this term.")
    pdf.heading("Policy review")
    pdf.para(
        f"The social media policy was last reviewed on {long_date(r.last_reviewed)}; the next "
        f"review is due on {long_date(r.next_review)} ({r.review_clause})."
    )
    return pdf.to_bytes()


def write_termly(report: TermlyReport, out_dir: Path) -> list[Path]:
    """Write ``<term>.html`` and ``<term>.pdf`` into ``out_dir``; returns both paths."""
    chart = report_chart(report)
    stem = "governors-report-" + report.title.lower().replace(" term ", "-").replace(" ", "-")
    html = write_private(out_dir / f"{stem}.html", render_report_html(report, chart=chart).encode())
    pdf = write_private(out_dir / f"{stem}.pdf", render_report_pdf(report, chart=chart))
    return [html, pdf]
