"""Core commands: init, once, run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import ConfigError
from monitor.cli import config_error, console, fail, print_json

if TYPE_CHECKING:
    from monitor.runtime import Runtime


def _runtime() -> Runtime:
    from config.settings import load_settings
    from monitor.runtime import build_runtime

    try:
        return build_runtime(load_settings())
    except ConfigError as exc:
        raise config_error(exc) from exc


def init() -> None:
    """Set up schoolwatch on this computer: create the data folder and the database.

    Safe to run again: it only adds what is missing. Settings come from
    environment variables (SCHOOLWATCH_...) or a `.env` file; see
    docs/configuration.md.
    """
    runtime = _runtime()
    settings, policy = runtime.settings, runtime.policy
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"[green]Ready.[/] Database: {settings.redacted()['database_url']}")
    console.print(f"School: {policy.school.name}; watching {len(runtime.channels())} channel(s).")
    console.print(
        "Next: add staff logins with `schoolwatch users add`, connect each platform with "
        "`schoolwatch connect facebook|youtube|reddit`, then start watching with `schoolwatch run`."
    )


def once(
    source: Annotated[
        str | None, typer.Option(help="Check only this channel (its id in the policy file).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Check every channel once now, send any alerts, then stop."""
    from monitor.scheduler import poll_source
    from monitor.summary import print_summary, summarise

    runtime = _runtime()
    channels = [c.id for c in runtime.channels()]
    if source is not None:
        if source not in channels:
            raise fail(f"there is no enabled channel called {source!r}; channels: {channels}")
        channels = [source]
    reports = [r.as_dict() for cid in channels for r in poll_source(runtime, cid)]
    summary = summarise(runtime.factory, runtime.policy.school.id)
    if as_json:
        print_json({"cycles": reports, "summary": summary})
        return
    for report in reports:
        status = report["status"]
        line = f"{report['source_id']}: {status}, {report['stored']} new comment(s)"
        if report["error"]:
            line += f" — {report['error']}"
        console.print(line, highlight=False)
    print_summary(console, summary)


def run() -> None:
    """Keep watching: check each channel on its schedule until stopped (Ctrl+C)."""
    from monitor.logs import at_least
    from monitor.scheduler import run_forever

    at_least("INFO")
    runtime = _runtime()
    console.print(f"Watching {len(runtime.channels())} channel(s). Press Ctrl+C to stop.")
    run_forever(runtime)


def register(app: typer.Typer) -> None:
    """Add init, once and run."""
    app.command()(init)
    app.command()(once)
    app.command()(run)
