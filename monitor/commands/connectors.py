"""``schoolwatch sandbox``, ``connect`` and ``backfill``: the platform side of the CLI."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr

from core.errors import ConfigError

PLATFORM_HELP = "facebook, youtube or reddit"


def register(app: typer.Typer) -> None:
    """Add ``sandbox``, ``connect`` and ``backfill`` to ``app``."""
    app.command("sandbox")(sandbox)
    app.command("connect")(connect)
    app.command("backfill")(backfill)


# ---- sandbox ---------------------------------------------------------------------------


def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 picks a free one).")] = 8765,
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario file to serve (default: the demo school).")
    ] = None,
    moderates: Annotated[
        list[str] | None, typer.Option(help="A subreddit the sandbox account moderates.")
    ] = None,
    webhook: Annotated[
        str | None, typer.Option(help="Send signed Facebook webhooks to this address.")
    ] = None,
    seconds: Annotated[
        float, typer.Option(help="Stop after this many seconds (0: run until Ctrl+C).")
    ] = 0.0,
) -> None:
    """Run the stand-in for Facebook, YouTube and Reddit on this computer.

    The real client libraries talk to it exactly as to the platforms. Post a
    comment while it runs (and watch it flow through schoolwatch) with:

        curl -X POST http://127.0.0.1:PORT/_sandbox/comments -d '{"platform": "facebook",
        "post_id": "fb-p01", "text": "Hello"}'

    Arm a fault (server_error, throttle, expired_token, slow, malformed,
    repeat_cursor, duplicate_ids, delete_between_pages, quota) with:

        curl -X POST http://127.0.0.1:PORT/_sandbox/faults -d '{"platform": "youtube",
        "mode": "throttle", "count": 3}'
    """
    from connectors.sandbox import DEMO_SCENARIO, Sandbox
    from monitor.cli import console, fail

    path = scenario or DEMO_SCENARIO
    try:
        box = Sandbox(path, port=port, moderated_subreddits=tuple(moderates or ())).start()
    except (OSError, ValueError, KeyError, ConfigError) as exc:
        raise fail(f"could not start the sandbox: {exc}") from exc
    try:
        if webhook:
            box.subscribe_webhook(webhook)
        c, u = box.credentials, box.urls
        console.print(f"Sandbox serving {path.name} on {u.root}", highlight=False)
        console.print("Point schoolwatch at it with these settings:", highlight=False)
        for key, value in _sandbox_env(box).items():
            typer.echo(f"  {key}={value}")
        console.print(
            f"Control API: POST {u.root}/_sandbox/comments, POST {u.root}/_sandbox/faults, "
            f"GET {u.root}/_sandbox/state (verify token: {c.verify_token})",
            highlight=False,
        )
        stop = threading.Event()
        try:
            stop.wait(seconds if seconds > 0 else None)
        except KeyboardInterrupt:
            console.print("Stopping the sandbox.")
    finally:
        box.stop()


def _sandbox_env(box: Any) -> dict[str, str]:
    c, u = box.credentials, box.urls
    return {
        "SCHOOLWATCH_FACEBOOK_GRAPH_URL": u.graph + "/",
        "SCHOOLWATCH_FACEBOOK_PAGE_TOKEN": c.page_token,
        "SCHOOLWATCH_FACEBOOK_APP_SECRET": c.app_secret,
        "SCHOOLWATCH_FACEBOOK_VERIFY_TOKEN": c.verify_token,
        "SCHOOLWATCH_YOUTUBE_API_URL": u.youtube,
        "SCHOOLWATCH_YOUTUBE_TOKEN_URI": u.youtube_token,
        "SCHOOLWATCH_YOUTUBE_CLIENT_ID": c.google_client_id,
        "SCHOOLWATCH_YOUTUBE_CLIENT_SECRET": c.google_client_secret,
        "SCHOOLWATCH_YOUTUBE_REFRESH_TOKEN": c.google_refresh_token,
        "SCHOOLWATCH_REDDIT_URL": u.reddit,
        "SCHOOLWATCH_REDDIT_OAUTH_URL": u.reddit,
        "SCHOOLWATCH_REDDIT_CLIENT_ID": c.reddit_client_id,
        "SCHOOLWATCH_REDDIT_CLIENT_SECRET": c.reddit_client_secret,
        "SCHOOLWATCH_REDDIT_USERNAME": c.reddit_username,
        "SCHOOLWATCH_REDDIT_PASSWORD": c.reddit_password,
    }


# ---- connect ---------------------------------------------------------------------------


def connect(
    platform: Annotated[str, typer.Argument(help=PLATFORM_HELP, show_default=False)],
    secrets_file: Annotated[
        Path | None,
        typer.Option(
            help="Where to save the secrets (mode 0600). Default: SCHOOLWATCH_"
            "SECRETS_FILE, else ~/.config/schoolwatch/secrets.env."
        ),
    ] = None,
    check_only: Annotated[
        bool, typer.Option("--check", help="Only check the credentials already configured.")
    ] = False,
    no_browser: Annotated[
        bool, typer.Option(help="YouTube: print the sign-in address instead of opening it.")
    ] = False,
) -> None:
    """Set up one platform: obtain credentials, check them against the API, save them safely.

    Facebook needs a Page access token (with pages_show_list,
    pages_read_engagement, pages_read_user_engagement, pages_manage_engagement
    and pages_manage_metadata) and the app secret. YouTube needs a Google
    OAuth client (installed app) and signs in through the browser to get a
    refresh token. Reddit needs a "script" app and the account it runs as.
    Secrets never go in the repository: they are written to a file only you
    can read.
    """
    from config.loader import load_policy
    from config.settings import env_name, load_settings
    from connectors import setup
    from connectors.registry import connector_settings
    from monitor.cli import config_error, console, fail

    if platform not in ("facebook", "youtube", "reddit"):
        raise fail(f"unknown platform {platform!r}: choose {PLATFORM_HELP}")
    try:
        settings = load_settings()
        policy = load_policy(settings.policy_path)
    except ConfigError as exc:
        raise config_error(exc) from exc
    channel = next((c for c in policy.channels if c.platform.value == platform), None)
    if channel is None:
        raise fail(f"the policy has no {platform} channel: add one under channels: first")
    values: dict[str, str] = {}
    if not check_only:
        values = _ask(platform, settings, no_browser)
    overrides = {
        k: (SecretStr(v) if k in _SECRET_FIELDS else v)
        for k, v in _as_connector_fields(values).items()
    }
    conn = connector_settings(settings, **overrides)
    checker = {
        "facebook": setup.check_facebook,
        "youtube": setup.check_youtube,
        "reddit": setup.check_reddit,
    }[platform]
    result = checker(channel, policy.school, conn)
    for fact in result.facts:
        console.print(f"[green]✓[/] {fact}", highlight=False)
    for problem in result.problems:
        console.print(f"[red]✗[/] {problem}", highlight=False)
    if not result.ok:
        raise typer.Exit(code=1)
    if values:
        target = secrets_file or settings.secrets_file or setup.DEFAULT_SECRETS_FILE
        try:
            path = setup.write_secrets(target, {env_name(k): v for k, v in values.items()})
        except ConfigError as exc:
            raise fail(str(exc)) from exc
        console.print(
            f"Saved to {path} (readable by you only). Set SCHOOLWATCH_SECRETS_FILE="
            f"{path} for schoolwatch to use it.",
            highlight=False,
        )


_SECRET_FIELDS = {
    "facebook_page_token",
    "facebook_app_secret",
    "facebook_verify_token",
    "google_client_secret",
    "google_refresh_token",
    "reddit_client_secret",
    "reddit_password",
}
_TO_CONNECTOR = {
    "youtube_client_id": "google_client_id",
    "youtube_client_secret": "google_client_secret",
    "youtube_refresh_token": "google_refresh_token",
}


def _as_connector_fields(values: dict[str, str]) -> dict[str, str]:
    return {_TO_CONNECTOR.get(k, k): v for k, v in values.items()}


def _ask(platform: str, settings: Any, no_browser: bool) -> dict[str, str]:
    """Prompt for the credentials of ``platform`` (Settings field names -> values)."""
    from connectors.registry import connector_settings
    from connectors.setup import youtube_oauth

    if platform == "facebook":
        return {
            "facebook_page_token": typer.prompt("Page access token", hide_input=True),
            "facebook_app_secret": typer.prompt("App secret", hide_input=True),
            "facebook_verify_token": typer.prompt(
                "Webhook verify token", default=secrets.token_urlsafe(24)
            ),
        }
    if platform == "youtube":
        client_id = typer.prompt("Google OAuth client id (installed app)")
        client_secret = typer.prompt("Google OAuth client secret", hide_input=True)
        conn = connector_settings(
            settings, google_client_id=client_id, google_client_secret=SecretStr(client_secret)
        )
        refresh = youtube_oauth(conn, open_browser=not no_browser)
        return {
            "youtube_client_id": client_id,
            "youtube_client_secret": client_secret,
            "youtube_refresh_token": refresh,
        }
    return {
        "reddit_client_id": typer.prompt("Reddit script app client id"),
        "reddit_client_secret": typer.prompt("Reddit script app secret", hide_input=True),
        "reddit_username": typer.prompt("Reddit account name (without u/)"),
        "reddit_password": typer.prompt("Reddit account password", hide_input=True),
    }


# ---- backfill --------------------------------------------------------------------------


def backfill(
    source: Annotated[str, typer.Argument(help="The channel id in the policy, e.g. facebook.")],
    since: Annotated[
        datetime,
        typer.Option(
            help="Read comments from this date (YYYY-MM-DD).",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"],
        ),
    ],
    restart: Annotated[
        bool, typer.Option(help="Start again from --since even if an earlier run got further.")
    ] = False,
) -> None:
    """Read a source's past comments from a date, for its first connection, with progress.

    Each batch goes through the normal pipeline (stored, classified, routed,
    alerts raised). Stopping part-way loses nothing: run it again to continue.
    """
    from monitor.cli import config_error, console, fail

    start = since if since.tzinfo else since.replace(tzinfo=UTC)
    try:
        outcome = run_backfill(source, start, restart=restart, console=console)
    except ConfigError as exc:
        raise config_error(exc) from exc
    except KeyError as exc:
        raise fail(f"no channel {source!r} in the policy") from exc
    console.print(outcome.message, highlight=False)
    if not outcome.finished:
        raise typer.Exit(code=1)


MAX_WAIT_SECONDS = 900


class BackfillOutcome:
    """How a backfill ended."""

    def __init__(self, finished: bool, message: str, comments: int) -> None:
        self.finished = finished
        self.message = message
        self.comments = comments


def run_backfill(
    source: str,
    since: datetime,
    *,
    restart: bool,
    console: Any,
    settings: Any = None,
    connector_factory: Any = None,
) -> BackfillOutcome:
    """Feed ``source``'s comments since ``since`` through the pipeline, batch by batch.

    Args:
        source: The channel id.
        since: The first moment to read (UTC).
        restart: Reset the cursor to ``since`` even if it is already later.
        console: A rich console for the progress bar.
        settings: Application settings (default: loaded from the environment).
        connector_factory: Builds the connector (default: the real platforms).

    Raises:
        ConfigError: Settings or policy are wrong.
        KeyError: No such channel.
    """
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from config.settings import load_settings
    from connectors.cursor import Position, initial_cursor
    from core.clock import utc_now
    from monitor.pipeline import run_cycle
    from monitor.runtime import build_runtime
    from monitor.scheduler import after_cycle
    from storage import repo
    from storage.db import session_scope

    runtime = build_runtime(settings or load_settings(), connector_factory=connector_factory)
    channel = runtime.policy.channel(source)
    school = runtime.policy.school.id
    with session_scope(runtime.factory) as session:
        state = repo.get_cursor(
            session, school_id=school, source_id=source, platform=channel.platform.value
        )
        current = Position.decode(state.cursor).hw if state.cursor else None
        if restart or current is None or current < since:
            state.cursor = initial_cursor(since)
        state.retry_after = None
        state.paused = False
    span = max(1.0, (utc_now() - since).total_seconds())
    total = 0
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[n]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"Backfilling {source}", total=span, n="0 comments")
        while True:
            report = run_cycle(
                factory=runtime.factory,
                policy=runtime.policy,
                channel=channel,
                connector=runtime.connector(source),
                classifier=runtime.classifier(),
            )
            total += report.stored
            with session_scope(runtime.factory) as session:
                state = repo.get_cursor(
                    session, school_id=school, source_id=source, platform=channel.platform.value
                )
                hw = Position.decode(state.cursor).hw if state.cursor else None
                retry_at, reason = state.retry_after, state.paused_reason
            done = (hw - since).total_seconds() if hw else 0.0
            progress.update(task, completed=min(span, max(0.0, done)), n=f"{total} comments")
            if report.status == "ok" and not report.more:
                progress.update(task, completed=span)
                break
            if report.status == "paused":
                return BackfillOutcome(False, f"Stopped: {reason or report.error}", total)
            if report.status in ("retry", "skipped") and retry_at is not None:
                wait = (retry_at - utc_now()).total_seconds()
                if wait > MAX_WAIT_SECONDS:
                    return BackfillOutcome(
                        False,
                        f"The platform asked us to wait until "
                        f"{retry_at:%H:%M} UTC ({report.error}). Progress "
                        "is saved: run the same command again then.",
                        total,
                    )
                time.sleep(max(0.0, wait))
            elif report.status not in ("ok",):
                return BackfillOutcome(False, f"Stopped: {report.error or report.status}", total)
    after_cycle(runtime)
    return BackfillOutcome(True, f"Backfill of {source} done: {total} new comments stored.", total)
