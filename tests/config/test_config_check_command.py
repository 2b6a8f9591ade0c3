"""The check-config command: exit codes and output."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from config.loader import DEFAULT_POLICY
from monitor.commands.config import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def version() -> None:  # a second command, so check-config is a named subcommand
        typer.echo("0")

    return app


def test_valid_policy_exits_0_with_summary() -> None:
    result = CliRunner().invoke(_app(), ["check-config", str(DEFAULT_POLICY)])
    assert result.exit_code == 0, result.output
    assert "Hollybrook Primary School, Ashcombe" in result.output
    assert "dsl: Mr Tom Brennan" in result.output
    assert "reddit:" in result.output and "facebook:" in result.output
    assert "2027-09-01" in result.output


def test_broken_policy_exits_1_naming_line_and_field(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        "  bullying:\n    notify: [dsl]", "  bullying:\n    notify: [dls]"
    )
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "notify: [dls]" in t)
    result = CliRunner().invoke(_app(), ["check-config", str(path)])
    assert result.exit_code == 1
    assert f"{path}:{line}: routes.bullying.notify.0: unknown role 'dls'" in result.output


def test_missing_file_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["check-config", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "policy file not found" in result.output


def test_help_is_plain_english() -> None:
    result = CliRunner().invoke(_app(), ["check-config", "--help"])
    assert result.exit_code == 0
    assert "list every mistake" in result.output


def test_warnings_for_missing_headteacher_and_overdue_review(tmp_path: Path) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    text = (
        text.replace("      role: headteacher\n", "")
        .replace("  next_review: 2027-09-01", "  next_review: 2000-09-01")
        .replace("  last_reviewed: 2026-09-01", "  last_reviewed: 1999-09-01")
    )
    path = tmp_path / "old.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(_app(), ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "Warnings:" in result.output
    assert "review was due on 2000-09-01" in result.output
    assert "no roster staff member has 'role: headteacher'" in result.output


def test_no_warnings_for_the_default_policy() -> None:
    result = CliRunner().invoke(_app(), ["check-config", str(DEFAULT_POLICY)])
    assert "Warnings:" not in result.output
