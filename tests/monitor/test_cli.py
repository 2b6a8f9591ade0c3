"""The command line: help for every command, clean failures, and the demo end to end."""

from __future__ import annotations

import email
import json
from email import policy as email_policy
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from config.loader import DEFAULT_POLICY
from monitor.cli import COMMAND_MODULES, register_all

runner = CliRunner()


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    from monitor.cli import _options

    app = typer.Typer(no_args_is_help=True)
    app.callback()(_options)
    register_all(app)
    return app


def _commands(app: typer.Typer) -> list[list[str]]:
    out: list[list[str]] = []
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__.replace("_", "-") if info.callback else "")
        out.append([name])
    for group in app.registered_groups:
        assert group.typer_instance is not None and group.name
        out.extend([group.name, *sub] for sub in _commands(group.typer_instance))
    return out


def test_every_command_module_registers_commands(cli: typer.Typer) -> None:
    names = {c[0] for c in _commands(cli)}
    for expected in ("init", "run", "once", "demo", "check-config", "classify"):
        assert expected in names
    assert len(COMMAND_MODULES) == len(set(COMMAND_MODULES))


def test_every_command_has_plain_help(cli: typer.Typer) -> None:
    for command in _commands(cli):
        result = runner.invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        body = result.output.split("Options")[0]
        assert len(body.split()) >= 6, f"{command} needs a help text a DSL can follow"


def _broken_policy(tmp_path: Path) -> Path:
    text = DEFAULT_POLICY.read_text(encoding="utf-8").replace(
        "    fallback: deputy_dsl\n", "    fallback: deputy\n", 1
    )
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["once"], ["init"]])
def test_broken_policy_stops_everything_with_file_line_and_field(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    path = _broken_policy(tmp_path)
    monkeypatch.setenv("SCHOOLWATCH_POLICY_PATH", str(path))
    monkeypatch.setenv("SCHOOLWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = runner.invoke(cli, command)
    assert result.exit_code == 1
    line = (
        DEFAULT_POLICY.read_text(encoding="utf-8").splitlines().index("    fallback: deputy_dsl")
        + 1
    )
    assert f"broken.yaml:{line}" in result.output
    assert "roles.dsl.fallback" in result.output
    assert not (tmp_path / "x.db").exists(), "nothing may start with a broken policy"


def test_demo_once_json_summarises_and_leaves_emails(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["demo", "--once", "--json", "--folder", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary["platforms"]) == {"facebook", "youtube", "reddit"}
    assert summary["comments"] == sum(summary["platforms"].values())
    assert summary["categories"]["benign"] > summary["comments"] // 2
    harmful = {
        k for k, v in summary["categories"].items() if v and k not in ("benign", "criticism")
    }
    assert {"self_harm", "abuse_disclosure", "spam"} <= harmful
    outbox = Path(summary["outbox"])
    emails = [
        email.message_from_bytes(p.read_bytes(), policy=email_policy.default)
        for p in outbox.glob("*.eml")
    ]
    assert len(emails) == summary["eml_files"] > 0
    assert summary["escalations"] > 0
    subjects = " ".join(str(m["Subject"]) for m in emails)
    assert "abuse" in subjects.lower()
