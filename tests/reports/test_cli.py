"""The report commands: digest, purge, report termly, export chronology."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import typer
from typer.testing import CliRunner

from monitor.commands.reports import register

if TYPE_CHECKING:
    from tests.reports.conftest import Builder


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCHOOLWATCH_MODE", "demo")
    monkeypatch.setenv("SCHOOLWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'reports.db'}")
    monkeypatch.setenv("SCHOOLWATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SCHOOLWATCH_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("SCHOOLWATCH_MAIL_TRANSPORT", "outbox")
    made = typer.Typer()
    register(made)
    return made


def test_digest_command_prints_saves_and_sends(
    known_week: Builder, app: typer.Typer, tmp_path: Path
) -> None:
    runner = CliRunner()
    page = tmp_path / "digest.html"
    result = runner.invoke(app, ["digest", "--week", "2026-W46", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "Weekly digest 9–15 November 2026" in result.output
    assert "Parking and traffic: 2 this week" in result.output
    assert "data:image/png;base64," in page.read_text("utf-8")
    assert not (tmp_path / "outbox").exists()  # nothing is emailed without --send
    result = runner.invoke(app, ["digest", "--week", "2026-W46", "--send"])
    assert result.exit_code == 0, result.output
    assert "1 email(s) sent now" in result.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    result = runner.invoke(app, ["digest", "--week", "2026-W99"])
    assert result.exit_code == 1
    assert "has no week 99" in result.output


def test_purge_dry_run_changes_nothing(known_week: Builder, app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would delete" in result.output and "Dry run: nothing was changed." in result.output
    result = CliRunner().invoke(app, ["purge", "--dry-run"])
    assert "Dry run" in result.output


def test_termly_report_and_chronology_export(
    known_week: Builder, app: typer.Typer, tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["report", "termly", "--term", "autumn-2026", "--out", "out"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["governors-report-autumn-2026.html", "governors-report-autumn-2026.pdf"]
    result = runner.invoke(
        app, ["report", "termly", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "nov"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        ["export", "chronology", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "c.csv"],
    )
    assert result.exit_code == 0, result.output
    assert "Sensitive" in result.output and "1 incident(s)" in result.output
    assert stat.S_IMODE((tmp_path / "c.csv").stat().st_mode) == 0o600
    result = runner.invoke(
        app,
        ["export", "chronology", "--from", "2026-11-01", "--to", "2026-11-30", "--out", "c.txt"],
    )
    assert result.exit_code == 1
