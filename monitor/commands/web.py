"""Web app commands: ``serve`` and ``users add|reset|disable``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import ConfigError
from monitor.cli import config_error, console, fail

if TYPE_CHECKING:
    from monitor.runtime import Runtime

users_app = typer.Typer(
    help="Add, reset or disable the staff accounts that sign in to the web app.",
    no_args_is_help=True,
)


def _runtime() -> Runtime:
    from config.settings import load_settings
    from monitor.runtime import build_runtime

    try:
        return build_runtime(load_settings())
    except ConfigError as exc:
        raise config_error(exc) from exc


def _password(from_stdin: bool) -> str:
    """Read a password: one line from standard input, or prompted twice without echo."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise fail("no password on standard input")
        return line
    first: str = typer.prompt("Password", hide_input=True)
    second: str = typer.prompt("Password again", hide_input=True)
    if first != second:
        raise fail("the two passwords are different")
    return first


StdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from standard input instead of prompting."
    ),
]


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name, e.g. k.holt (no spaces).")],
    role: Annotated[
        str,
        typer.Option(
            help="dsl, deputy_dsl, headteacher, comms_lead, chair_of_governors, "
            "data_protection_officer or admin."
        ),
    ],
    name: Annotated[str, typer.Option(help="The person's full name.")] = "",
    email: Annotated[str, typer.Option(help="Their school email address.")] = "",
    password_stdin: StdinOption = False,
) -> None:
    """Add a staff account (the password is asked for twice and never shown)."""
    from storage.db import session_scope
    from web.users import create_user

    runtime = _runtime()
    password = _password(password_stdin)
    try:
        with session_scope(runtime.factory) as session:
            create_user(
                session,
                school_id=runtime.policy.school.id,
                username=username,
                password=password,
                role=role,
                display_name=name,
                email=email,
                actor="cli",
            )
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    console.print(f"[green]Added[/] {username} ({role}).", highlight=False)


@users_app.command("reset")
def users_reset(
    username: Annotated[str, typer.Argument(help="The account to reset.")],
    password_stdin: StdinOption = False,
) -> None:
    """Set a new password, unlock the account and sign it out everywhere."""
    from storage.db import session_scope
    from web.users import reset_password

    runtime = _runtime()
    password = _password(password_stdin)
    try:
        with session_scope(runtime.factory) as session:
            reset_password(
                session,
                school_id=runtime.policy.school.id,
                username=username,
                password=password,
                actor="cli",
            )
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    console.print(f"[green]Password reset[/] for {username}.", highlight=False)


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Stop an account signing in (its sessions end at once)."""
    from storage.db import session_scope
    from web.users import disable_user

    runtime = _runtime()
    try:
        with session_scope(runtime.factory) as session:
            disable_user(
                session, school_id=runtime.policy.school.id, username=username, actor="cli"
            )
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    console.print(f"[green]Disabled[/] {username}.", highlight=False)


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on (default from settings: 127.0.0.1)."),
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None,
) -> None:
    """Start the web app: the moderation queue, alerts, audit log and health pages.

    It listens on 127.0.0.1 unless told otherwise; to reach it from other
    computers, put a TLS reverse proxy in front and set SCHOOLWATCH_WEB_BASE_URL
    to its https:// address (cookies are then marked Secure).
    """
    from web.serve import serve as run

    runtime = _runtime()
    settings = runtime.settings
    bind = host or settings.web_host
    listen = port or settings.web_port
    if bind not in ("127.0.0.1", "localhost", "::1") and not settings.web_base_url.startswith(
        "https://"
    ):
        console.print(
            "[bold yellow]Warning:[/] listening beyond this computer without HTTPS. Put a TLS "
            "reverse proxy in front and set SCHOOLWATCH_WEB_BASE_URL to its https:// address.",
            highlight=False,
        )
    console.print(f"schoolwatch web app on http://{bind}:{listen}/ (Ctrl+C to stop)")
    run(runtime, host=bind, port=listen)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``users`` group."""
    app.command()(serve)
    app.add_typer(users_app, name="users")
