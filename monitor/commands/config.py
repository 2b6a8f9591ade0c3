"""``schoolwatch check-config``: check a school policy file before using it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from config.loader import load_policy
from config.policy import ROLES, SchoolPolicy
from core.clock import utc_now
from core.errors import PolicyError

CHECK_HELP = """Check a school policy file and list every mistake in it.

Each mistake is shown with the file name, the line number and the setting
that is wrong, for example:

    policy.yaml:212: routes.bullying.notify.0: unknown role 'dls'

If the file is correct, a short summary is shown: the school, the channels
watched, who holds each role and when the policy is next due for review.
Nothing is changed and nobody is emailed.

Exit status: 0 when the file is correct, 1 when it has mistakes.
"""


def check_config(
    path: Path = typer.Argument(
        ...,
        help="The policy file to check, e.g. config/policies/default.yaml.",
        show_default=False,
    ),
) -> None:
    """Check a school policy file and list every mistake in it."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        count = len(exc.problems)
        typer.echo(f"{path}: {count} {'mistake' if count == 1 else 'mistakes'} found:", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        typer.echo("Fix these and run check-config again.", err=True)
        raise typer.Exit(code=1) from None
    for line in summary_lines(policy, path):
        typer.echo(line)


def summary_lines(policy: SchoolPolicy, path: Path) -> list[str]:
    """A short plain-English summary of a valid policy.

    Args:
        policy: The validated policy.
        path: The file it came from.

    Returns:
        Lines of text, without trailing newlines.
    """
    today = utc_now().astimezone(policy.tz).date()
    lines = [
        f"{path}: OK",
        f"School: {policy.school.name} (id {policy.school.id}, time zone {policy.school.timezone})",
        "Channels:",
    ]
    for channel in policy.channels:
        state = "watched" if channel.enabled else "switched off"
        moderation = "can moderate" if channel.moderated else "report only"
        lines.append(
            f"  {channel.id}: {channel.name} ({channel.platform.value}, {state}, "
            f"every {channel.poll_minutes} min, {moderation})"
        )
    lines.append("Roles:")
    for role in ROLES:
        holder = policy.roles[role]
        extra = f"; if away: {holder.fallback}" if holder.fallback else ""
        lines.append(f"  {role}: {holder.name} <{holder.email}>{extra}")
    review = policy.review
    due = "OVERDUE" if review.next_review < today else "due"
    lines.append(
        f"Policy review: last {review.last_reviewed.isoformat()}, "
        f"next {due} {review.next_review.isoformat()} ({review.clause})"
    )
    urgent = sorted(cat.value for cat, route in policy.routes.items() if route.urgent)
    lines.append(f"Urgent (day or night): {', '.join(urgent) or 'none'}")
    lines.append(f"Public replies: {'on' if policy.public_replies.enabled else 'off'}")
    notes = warnings(policy, today)
    if notes:
        lines.append("Warnings:")
        lines.extend(f"  {note}" for note in notes)
    return lines


def warnings(policy: SchoolPolicy, today: dt.date) -> list[str]:
    """Things that are allowed but probably not what the school wants.

    Args:
        policy: The validated policy.
        today: Today's date in the school's time zone.

    Returns:
        One plain sentence per warning (empty when there is nothing to say).
    """
    notes: list[str] = []
    review = policy.review
    if review.next_review < today:
        notes.append(
            f"the policy review was due on {review.next_review.isoformat()} "
            "(Aycliffe 7; Preston Grange 801): review it and update the review dates"
        )
    if not any(staff.role == "headteacher" for staff in policy.roster.staff):
        notes.append(
            "no roster staff member has 'role: headteacher', so an allegation about the "
            "headteacher cannot be sent to the chair of governors (Aycliffe 3, 4)"
        )
    for role in ROLES:
        holder = policy.roles[role]
        if holder.is_absent(today):
            fallback = policy.roles.get(holder.fallback) if holder.fallback else None
            if fallback is None or fallback.is_absent(today):
                notes.append(f"{role} ({holder.name}) is away today and nobody stands in")
    return notes


def register(app: typer.Typer) -> None:
    """Add the configuration commands to the ``schoolwatch`` command line.

    Args:
        app: The Typer application built in ``monitor/cli.py``.
    """
    app.command("check-config", help=CHECK_HELP, no_args_is_help=True)(check_config)
