"""The demo command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import ConfigError
from monitor.cli import config_error, console, print_json

if TYPE_CHECKING:
    from connectors.sandbox import Sandbox
    from monitor.runtime import Runtime


def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Run through the demo once, print the summary and stop.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (implies --once).")
    ] = False,
    port: Annotated[int, typer.Option(help="Port for the demo web app.")] = 8000,
    folder: Annotated[
        Path, typer.Option(help="Where the demo keeps its database and mail outbox.")
    ] = Path("var/demo"),
) -> None:
    """See schoolwatch work on a made-up school, with no accounts or passwords needed.

    The demo starts a stand-in for Facebook, YouTube and Reddit on this
    computer, loads a month of comments for the fictional Hollybrook Primary
    School, sorts them, raises the alerts the school's policy asks for, and
    writes the emails it would send as .eml files in the outbox folder (you
    can open them in your mail program). Then it starts the web app so you
    can sign in as each member of staff. Press Ctrl+C to stop.
    """
    from config.loader import load_policy
    from monitor.demo import demo_platforms, demo_settings, reset, run_demo
    from monitor.summary import print_summary

    once = once or as_json
    reset(folder)
    try:
        base_settings = demo_settings(
            folder, web_port=port, web_base_url=f"http://127.0.0.1:{port}"
        )
        policy = load_policy(base_settings.policy_path)
    except ConfigError as exc:
        raise config_error(exc) from exc
    with demo_platforms(policy) as sandbox:
        if not as_json:
            console.print(f"Started the platform sandbox on {sandbox.urls.root}")
            console.print("Reading a month of comments for Hollybrook Primary School…")
        result, runtime = run_demo(base_settings, sandbox, policy)
        if as_json:
            summary = dict(result.summary)
            summary.update(
                outbox=str(result.outbox),
                eml_files=result.eml_files,
                escalations=result.escalations,
            )
            print_json(summary)
            return
        print_summary(console, result.summary)
        console.print(
            f"\nShowed what happens when nobody acknowledges: {result.escalations} alert(s) "
            f"escalated after {31} simulated minutes."
        )
        console.print(
            f"{result.eml_files} email(s) written to {result.outbox}/ "
            "(open them in a mail program)."
        )
        if once:
            return
        _serve(runtime, sandbox, port)


def _serve(runtime: Runtime, sandbox: Sandbox, port: int) -> None:
    from monitor.demo import connect_webhook
    from monitor.scheduler import build_scheduler
    from web.serve import serve
    from web.users import ensure_demo_users

    logins = ensure_demo_users(runtime.factory, runtime.policy)
    console.print("\n[bold]Demo logins[/] (made up for this run only):")
    for username, password, role in logins:
        console.print(
            f"  {role:<24} user: {username:<8} password: {password}",
            highlight=False,
            soft_wrap=True,
        )
    scheduler = build_scheduler(runtime)
    scheduler.start()
    connect_webhook(runtime, sandbox, port)
    console.print(f"\nOpen http://127.0.0.1:{port}/ in your browser. Press Ctrl+C to stop.")
    console.print(
        "To see a new comment arrive (through the Facebook webhook, in a second or two), "
        "post one on the stand-in Facebook Page from another terminal:\n"
        f"  curl -X POST {sandbox.urls.root}/_sandbox/comments "
        '-d \'{"platform": "facebook", "post_id": "fb-p01", '
        '"text": "I am scared to go home tonight"}\'',
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    try:
        serve(runtime, host="127.0.0.1", port=port)
    finally:
        scheduler.shutdown(wait=True)
        console.print("Demo stopped.")


def register(app: typer.Typer) -> None:
    """Add the demo command."""
    app.command()(demo)
