"""Report commands: digest, purge, report termly, export chronology."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from core.errors import ConfigError
from monitor.cli import config_error, console, fail

if TYPE_CHECKING:
    from monitor.runtime import Runtime


def _runtime() -> Runtime:
    from config.settings import load_settings
    from monitor.runtime import build_runtime

    try:
        return build_runtime(load_settings())
    except ConfigError as exc:
        raise config_error(exc) from exc


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"{option} must be a date like 2026-11-30, not {value!r}") from exc


def digest(
    week: Annotated[
        str | None,
        typer.Option(help="The week to report on, e.g. 2026-W47. Default: last week."),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also save the digest as a web page (charts included)."),
    ] = None,
    send: Annotated[
        bool,
        typer.Option(
            "--send",
            help="Email it now to the people the policy names for the digest. The scheduled "
            "Monday digest is still sent as usual.",
        ),
    ] = False,
) -> None:
    """Show the weekly digest: what was flagged, how quickly staff responded, what is still open.

    It contains figures only: no names and no comment text. Without --send
    nothing is emailed.
    """
    from alerts.delivery import deliver_pending
    from alerts.digest import IsoWeek
    from alerts.digest_job import queue_digest
    from alerts.digest_queries import digest_for_week, last_full_week
    from alerts.digest_render import render_digest_html, render_digest_text
    from core.clock import utc_now
    from storage import repo
    from storage.db import session_scope

    runtime = _runtime()
    policy = runtime.policy
    now = utc_now()
    try:
        chosen = IsoWeek.parse(week) if week else last_full_week(policy, now)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    with session_scope(runtime.factory) as session:
        result = digest_for_week(session, policy, chosen, now)
        if send:
            count = queue_digest(
                session,
                policy,
                result,
                now=now,
                urgent=True,
                dedupe_prefix=f"digest:{chosen.label}:manual:{now:%Y%m%dT%H%M%S%f}",
            )
            repo.record(
                session,
                school_id=policy.school.id,
                event="digest.queued",
                actor=_actor(),
                subject_type="digest",
                subject_id=chosen.label,
                details={"week": chosen.label, "recipients": count, "manual": True},
                at=now,
            )
    typer.echo(render_digest_text(result))
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_digest_html(result), encoding="utf-8")
        console.print(f"Saved the digest as a web page: {html}", highlight=False)
    if send:
        stats = deliver_pending(runtime.factory, runtime.settings, policy)
        console.print(
            f"Queued the digest for {count} recipient(s); {stats.sent} email(s) sent now.",
            highlight=False,
        )


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be deleted; change nothing.")
    ] = False,
) -> None:
    """Delete comments and records older than the school's retention policy allows.

    This also runs by itself every night. Evidence records of safeguarding
    concerns are kept for as long as the policy says, even after the comment
    itself is deleted. Comments still waiting for someone to deal with them
    are kept until they are dealt with.
    """
    from monitor.retention import purge as run_purge

    runtime = _runtime()
    report = run_purge(runtime.factory, runtime.policy, dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    table = Table(title=f"{verb} (retention policy: {runtime.policy.retention.clause})")
    table.add_column("What")
    table.add_column("How many", justify="right")
    for category, n in sorted(report.comments.items()):
        days = next(
            d for c, d in runtime.policy.retention.comment_days.items() if c.value == category
        )
        table.add_row(f"{category.replace('_', ' ')} comments older than {days} days", str(n))
    table.add_row("Evidence records past their keep-until date", str(report.evidence))
    table.add_row("Alerts older than the audit period", str(report.alerts))
    table.add_row("Audit events older than the audit period", str(report.audit_events))
    table.add_row("Expired web sign-ins", str(report.web_sessions))
    table.add_row("Old sent emails in the outbox", str(report.deliveries))
    console.print(table)
    if report.held:
        held = ", ".join(f"{n} {c.replace('_', ' ')}" for c, n in sorted(report.held.items()))
        console.print(f"Kept for now because someone still has to deal with them: {held}.")
    if report.evidence_unlinked:
        console.print(
            f"{report.evidence_unlinked} evidence record(s) are kept although their comment "
            f"{'would be' if dry_run else 'was'} deleted."
        )
    if dry_run:
        console.print("Dry run: nothing was changed.")


report_app = typer.Typer(help="Reports for governors.", no_args_is_help=True)
export_app = typer.Typer(help="Exports for the safeguarding lead.", no_args_is_help=True)


@report_app.command("termly")
def termly(
    out: Annotated[Path, typer.Option("--out", help="Folder to save the report in.")],
    term: Annotated[
        str | None,
        typer.Option(help="The term, e.g. autumn-2026, spring-2027 or summer-2027."),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day instead of a term, e.g. 2026-09-01.")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day, e.g. 2026-12-18.")] = None,
) -> None:
    """Make the governors' termly monitoring report (web page and PDF).

    It has the term's figures, response times and actions taken, with no
    personal data: no names and no comment text. Without --term or --from and
    --to it covers the current term.
    """
    from alerts.report import gather_termly, term_dates, write_termly
    from core.clock import utc_now
    from storage.db import session_scope

    runtime = _runtime()
    policy = runtime.policy
    now = utc_now()
    if from_ or to:
        if term or not (from_ and to):
            raise fail("give either --term, or both --from and --to")
        start, end = _date(from_, "--from"), _date(to, "--to")
        title = f"{start:%d %b %Y} to {end:%d %b %Y}"
    else:
        today = now.astimezone(policy.tz).date()
        if term is None:
            season = "autumn" if today.month >= 9 else "spring"
            if season == "spring" and today > term_dates(policy, f"spring-{today.year}")[1]:
                season = "summer"
            term = f"{season}-{today.year}"
        try:
            start, end, title = term_dates(policy, term)
        except ValueError as exc:
            raise fail(str(exc)) from exc
    if end < start:
        raise fail("--to is before --from")
    with session_scope(runtime.factory) as session:
        report = gather_termly(session, policy, start, end, title=title, now=now)
    for path in write_termly(report, out):
        console.print(f"Saved {path}", highlight=False)


@export_app.command("chronology")
def chronology(
    from_: Annotated[str, typer.Option("--from", help="First day, e.g. 2026-09-01.")],
    to: Annotated[str, typer.Option("--to", help="Last day, e.g. 2026-12-18.")],
    out: Annotated[
        Path, typer.Option("--out", help="File to write: ending .csv (spreadsheet) or .pdf.")
    ],
) -> None:
    """Export the safeguarding chronology for the DSL (to copy into CPOMS or MyConcern).

    One entry per safeguarding incident: date and time, category, what was
    seen, evidence reference, who was told, actions and outcome. It contains
    sensitive information about children: the file can be read only by you.
    """
    from alerts.chronology import WARNING, gather_chronology, write_chronology
    from core.clock import utc_now
    from storage import repo
    from storage.db import session_scope

    start, end = _date(from_, "--from"), _date(to, "--to")
    if end < start:
        raise fail("--to is before --from")
    if out.suffix.lower() not in (".csv", ".pdf"):
        raise fail("--out must end in .csv or .pdf")
    runtime = _runtime()
    policy = runtime.policy
    with session_scope(runtime.factory) as session:
        entries = gather_chronology(session, policy, start, end)
        repo.record(
            session,
            school_id=policy.school.id,
            event="chronology.exported",
            actor=_actor(),
            subject_type="export",
            subject_id=f"{start}..{end}",
            details={"incidents": len(entries), "format": out.suffix.lower().lstrip(".")},
            at=utc_now(),
        )
    path = write_chronology(entries, out, school_name=policy.school.name, start=start, end=end)
    console.print(f"[bold red]Sensitive:[/] {WARNING}", highlight=False)
    console.print(f"Saved {len(entries)} incident(s) to {path} (readable by you only).")


def register(app: typer.Typer) -> None:
    """Add digest, purge, report termly and export chronology."""
    app.command()(digest)
    app.command()(purge)
    app.add_typer(report_app, name="report")
    app.add_typer(export_app, name="export")
