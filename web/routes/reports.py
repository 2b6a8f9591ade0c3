"""The governors' termly monitoring report: a list of terms, each as a web page and a PDF.

The report (:mod:`alerts.report`) holds counts and times only: no names and
no comment text, so the chair of governors may read it, as may the
headteacher. ``GET /reports`` lists the terms; ``GET /reports/termly?term=``
shows one report as a stand-alone page (printable); ``GET
/reports/termly.pdf?term=`` downloads it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from alerts.report import TermlyReport, gather_termly, render_report_html, render_report_pdf
from alerts.report import term_dates as _term_dates
from config.policy import SchoolPolicy
from core.clock import utc_now
from storage import repo
from storage.db import session_scope
from web.deps import ReportsViewer, get_runtime
from web.views import allow_inline_styles, render

if TYPE_CHECKING:
    from monitor.runtime import Runtime

router = APIRouter()

SEASONS = ("spring", "summer", "autumn")  # in the order they fall in a calendar year


def current_term(policy: SchoolPolicy, today: dt.date) -> str:
    """The term ``today`` falls in, e.g. ``autumn-2026`` (terms run back to back)."""
    if today.month >= 9:
        return f"autumn-{today.year}"
    if today <= _term_dates(policy, f"spring-{today.year}")[1]:
        return f"spring-{today.year}"
    return f"summer-{today.year}"


def previous_term(term: str) -> str:
    """The term before ``term`` (``spring-2027`` -> ``autumn-2026``)."""
    season, year = term.split("-")
    index = SEASONS.index(season)
    if index == 0:
        return f"{SEASONS[-1]}-{int(year) - 1}"
    return f"{SEASONS[index - 1]}-{year}"


def recent_terms(policy: SchoolPolicy, today: dt.date, count: int = 6) -> list[str]:
    """The current term and the ``count - 1`` before it, newest first."""
    out = [current_term(policy, today)]
    while len(out) < count:
        out.append(previous_term(out[-1]))
    return out


def _report(runtime: Runtime, term: str, now: dt.datetime) -> tuple[str, TermlyReport]:
    """The chosen term (default: the current one) and its report; 400 for a bad term."""
    policy = runtime.policy
    today = now.astimezone(policy.tz).date()
    chosen = term.strip().lower()[:20] or current_term(policy, today)
    try:
        start, end, title = _term_dates(policy, chosen)
    except ValueError as exc:
        raise HTTPException(400, f"{exc}.") from exc
    if start > today:
        raise HTTPException(400, f"The {title} has not started yet.")
    with session_scope(runtime.factory) as session:
        report = gather_termly(session, policy, start, end, title=title, now=now)
    return chosen, report


@router.get("/reports")
def reports_page(request: Request, user: ReportsViewer) -> Response:
    """The terms whose report can be viewed or downloaded."""
    runtime = get_runtime(request)
    now = utc_now()
    today = now.astimezone(runtime.policy.tz).date()
    terms = []
    for term in recent_terms(runtime.policy, today):
        start, end, title = _term_dates(runtime.policy, term)
        terms.append({"term": term, "title": title, "start": start, "end": end})
    return render(
        request,
        "reports.html",
        {"terms": terms, "current": terms[0]["term"], "today": today},
    )


@router.get("/reports/termly")
def report_html(request: Request, user: ReportsViewer, term: str = "") -> Response:
    """One term's report as a stand-alone, printable web page."""
    _, report = _report(get_runtime(request), term, utc_now())
    allow_inline_styles(request)
    return Response(render_report_html(report), media_type="text/html; charset=utf-8")


@router.get("/reports/termly.pdf")
def report_pdf(request: Request, user: ReportsViewer, term: str = "") -> Response:
    """One term's report as a PDF (A4) download."""
    runtime = get_runtime(request)
    chosen, report = _report(runtime, term, utc_now())
    with session_scope(runtime.factory) as session:
        repo.record(
            session,
            school_id=runtime.policy.school.id,
            event="report.downloaded",
            actor=user.username,
            details={"report": "termly", "term": chosen},
        )
    return Response(
        render_report_pdf(report),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="governors-report-{chosen}.pdf"'},
    )
