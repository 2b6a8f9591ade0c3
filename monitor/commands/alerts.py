"""``schoolwatch test-alert``: check that alert emails reach a person."""

from __future__ import annotations

from typing import Annotated

import typer

from config.policy import ROLES
from core.errors import ConfigError

TEST_ALERT_HELP = f"""Send a test email to the person who holds a role, and say what happened.

ROLE is one of: {", ".join(ROLES)}.

The outcome is shown in plain words, for example:

    Sent to Mr Tom Brennan (dsl) via smtp.hollybrook.example:587 with STARTTLS - accepted.

or, when something is wrong, what to change:

    Could not log in to the mail server: the username or password is wrong.
    Check SCHOOLWATCH_SMTP_USERNAME and SCHOOLWATCH_SMTP_PASSWORD.

The test email contains no comment and nobody's details except the recipient's.

Exit status: 0 when the email was accepted, 1 when it was not.
"""


def test_alert(
    to: Annotated[
        str,
        typer.Option("--to", help="The role to email, e.g. dsl or deputy_dsl.", show_default=False),
    ],
) -> None:
    """Send a test email to the holder of a role and report the outcome."""
    from alerts.testmail import send_test_email
    from config.loader import load_policy
    from config.settings import load_settings
    from core.clock import utc_now
    from monitor.cli import config_error, console, fail
    from storage.db import make_engine, migrate, session_factory

    try:
        settings = load_settings()
        policy = load_policy(settings.policy_path)
    except ConfigError as exc:
        raise config_error(exc) from None
    if to not in policy.roles:
        raise fail(f"unknown role {to!r}. Choose one of: {', '.join(ROLES)}.")
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        outcome = send_test_email(session_factory(engine), settings, policy, to, now=utc_now())
    finally:
        engine.dispose()
    if not outcome.ok:
        raise fail(outcome.message)
    console.print(f"[green]{outcome.message}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the alert commands to the ``schoolwatch`` command line.

    Args:
        app: The Typer application built in ``monitor/cli.py``.
    """
    app.command("test-alert", help=TEST_ALERT_HELP)(test_alert)
