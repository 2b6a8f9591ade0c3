"""The ``schoolwatch`` command line.

Commands are grouped by area; each area's module adds its commands with a
``register(app)`` function, listed explicitly in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.errors import ConfigError, PolicyError

log = logging.getLogger(__name__)
console = Console()

app = typer.Typer(
    name="schoolwatch",
    help=(
        "schoolwatch watches your school's official Facebook Page, YouTube channel and Reddit "
        "mentions, tells the safeguarding lead about comments that may put a child at risk, "
        "and gives the comms lead a moderation queue.\n\n"
        "New here? Run `schoolwatch demo` to see it work on a made-up school."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)

COMMAND_MODULES: tuple[str, ...] = (
    "monitor.commands.core",
    "monitor.commands.demo",
    "monitor.commands.config",
    "monitor.commands.classify",
    "monitor.commands.connectors",
    "monitor.commands.alerts",
    "monitor.commands.web",
    "monitor.commands.reports",
)


@app.callback()
def _options(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="Show progress messages (-v) or everything (-vv)."
        ),
    ] = 0,
) -> None:
    """Shared options: set up logging once, here."""
    from monitor.logs import configure_logging

    configure_logging(("WARNING", "INFO", "DEBUG")[min(verbose, 2)])


def fail(message: str, problems: list[str] | None = None) -> typer.Exit:
    """Print a plain-English error (and each problem) and return an Exit to raise."""
    console.print(f"[bold red]Error:[/] {message}", highlight=False)
    for problem in problems or []:
        console.print(f"  - {problem}", highlight=False, markup=False)
    return typer.Exit(code=1)


def config_error(exc: ConfigError) -> typer.Exit:
    """Turn a configuration error into a clear message and a non-zero exit."""
    if isinstance(exc, PolicyError):
        return fail("the school policy file has problems:", exc.problems)
    return fail(str(exc))


def print_json(data: object) -> None:
    """Print JSON to standard output (no colour, so other programs can read it)."""
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def register_all(target: typer.Typer) -> None:
    """Add every area's commands to ``target``."""
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(target)


def default_policy_path() -> Path:
    """The packaged default policy (the fictional Hollybrook Primary School)."""
    from config.loader import DEFAULT_POLICY

    return Path(DEFAULT_POLICY)


def main() -> None:
    """Entry point of the ``schoolwatch`` console script."""
    register_all(app)
    app()
