"""Governors' termly report (no personal data) and the DSL's safeguarding chronology."""

from __future__ import annotations

import csv
import datetime as dt
import io
import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.chronology import COLUMNS, HEADINGS, gather_chronology, write_chronology
from alerts.report import gather_termly, render_report_html, term_dates, write_termly
from config.policy import Retention, SchoolPolicy
from core.models import Category
from monitor.retention import purge
from storage import repo
from storage.db import session_scope
from storage.tables import AlertRow, Delivery

if TYPE_CHECKING:
    from tests.reports.conftest import Builder

NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)


def test_term_dates_follow_the_policy_holidays(policy: SchoolPolicy) -> None:
    assert term_dates(policy, "autumn-2026") == (
        dt.date(2026, 9, 1),
        dt.date(2026, 12, 31),
        "Autumn term 2026",
    )
    assert term_dates(policy, "spring-2027")[:2] == (dt.date(2027, 1, 1), dt.date(2027, 4, 9))
    assert term_dates(policy, "summer-2027")[:2] == (dt.date(2027, 4, 10), dt.date(2027, 8, 31))
    with pytest.raises(ValueError):
        term_dates(policy, "michaelmas-2026")


def test_termly_report_figures_and_no_personal_data(
    known_week: Builder, factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    start, end, title = term_dates(policy, "autumn-2026")
    with session_scope(factory) as session:
        report = gather_termly(session, policy, start, end, title=title, now=NOW)
    assert (report.comments, report.flagged, report.safeguarding) == (16, 11, 1)
    assert (report.incidents_opened, report.incidents_safeguarding) == (4, 1)
    assert (report.incidents_escalated, report.incidents_closed) == (1, 2)
    assert report.incidents_open_at_end == 2
    assert (report.ack_median_minutes, report.ack_slowest_minutes) == (30.0, 60.0)
    assert (report.ack_within_hour, report.ack_count) == (3, 3)
    assert (report.act_median_minutes, report.act_count) == (75.0, 2)
    months = {label: (flagged, safe) for label, flagged, safe in report.by_month}
    assert months == {
        "Sep 2026": (0, 0),
        "Oct 2026": (2, 0),
        "Nov 2026": (9, 1),
        "Dec 2026": (0, 0),
    }
    html = render_report_html(report, chart=b"\x89PNG")
    for private in ("Worried Parent", "hurt herself", "zigzags", "Osei", "A Parent", "example/"):
        assert private not in html
    assert "Autumn term 2026" in html and "median 30 min" in html
    html_path, pdf_path = write_termly(report, tmp_path / "out")
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 20_000  # fonts and the chart are embedded
    assert html_path.read_text("utf-8").startswith("<!DOCTYPE html>")


def _told(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        alert = session.scalars(select(AlertRow).where(AlertRow.category == "self_harm")).one()
        session.add(
            Delivery(
                school_id="hollybrook",
                alert_id=alert.id,
                dedupe_key="a1",
                kind="alert",
                recipient_role="dsl",
                recipient_name="Mr Daniel Osei",
                recipient_email="d.osei@hollybrook.example",
                message_id="<a1@x>",
                status="sent",
                created_at=alert.created_at,
                sent_at=alert.created_at,
            )
        )
        repo.record(
            session,
            school_id="hollybrook",
            event="alert.raised",
            subject_type="alert",
            subject_id=alert.alert_key,
            details={"comment_id": alert.comment_id},
            at=alert.created_at,
        )


def test_chronology_csv_has_the_dsl_columns(
    known_week: Builder, factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    ref = known_week.evidence(
        "harm1", dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.UTC), keep_days=9000
    )
    _told(factory)
    with session_scope(factory) as session:
        entries = gather_chronology(session, policy, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert len(entries) == 1  # bullying and threats are not safeguarding incidents
    out = write_chronology(
        entries,
        tmp_path / "chronology.csv",
        school_name="Hollybrook",
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 30),
    )
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows[0] == [HEADINGS[c] for c in COLUMNS]
    assert rows[0][:5] == [
        "Reference",
        "Date and time raised",
        "Category",
        "Platform",
        "What was seen",
    ]
    row = dict(zip(COLUMNS, rows[1], strict=True))
    assert row["date_time"] == "2026-11-10 10:00"
    assert row["category"] == "Self-harm concern"
    assert row["what_was_seen"] == "my daughter says she wants to hurt herself"
    assert row["posted_by"] == "Worried Parent"
    assert row["evidence_reference"] == ref
    assert row["who_was_told"].startswith("the DSL Mr Daniel Osei: emailed 2026-11-10 10:00")
    assert row["acknowledged"] == "d.osei at 2026-11-10 10:20"
    assert row["outcome"] == "acknowledged, not yet closed"
    pdf = write_chronology(
        entries,
        tmp_path / "chronology.pdf",
        school_name="Hollybrook",
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 30),
    )
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_chronology_survives_the_comment_being_purged_and_guards_formulas(
    build: Builder, factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    at = dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.UTC)
    build.comment(
        "harm1", at, "self_harm", text='=HYPERLINK("http://x.example") help 😢', author="+Someone"
    )
    build.alert("harm1", at, "self_harm", acked=at + dt.timedelta(minutes=5))
    ref = build.evidence("harm1", at, keep_days=9000)
    _told(factory)
    with session_scope(factory) as session:
        repo.record(
            session,
            school_id="hollybrook",
            event="evidence.saved",
            subject_type="comment",
            subject_id=build.comment_ids["harm1"],
            details={"reference": ref},
            at=at,
        )
    days = dict.fromkeys(Category, 1)
    short = policy.model_copy(update={"retention": Retention(comment_days=days)})
    assert purge(factory, short, now=at + dt.timedelta(days=3)).comments == {"self_harm": 1}
    with session_scope(factory) as session:
        entries = gather_chronology(session, policy, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert entries[0].evidence_reference == ref
    assert entries[0].what_was_seen.startswith("=HYPERLINK")
    out = write_chronology(
        entries,
        tmp_path / "c.csv",
        school_name="Hollybrook",
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 30),
    )
    row = dict(
        zip(COLUMNS, list(csv.reader(io.StringIO(out.read_text("utf-8-sig"))))[1], strict=True)
    )
    assert row["what_was_seen"].startswith("'=HYPERLINK")
    assert row["posted_by"] == "'+Someone"
    pdf = write_chronology(
        entries,
        tmp_path / "c.pdf",
        school_name="Hollybrook",
        start=dt.date(2026, 11, 1),
        end=dt.date(2026, 11, 30),
    )
    assert pdf.read_bytes().startswith(b"%PDF-")  # the emoji did not break the PDF
