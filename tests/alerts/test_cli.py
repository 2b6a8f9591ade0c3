"""``schoolwatch test-alert --to ROLE`` against the outbox and a real SMTP server."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from config.policy import SchoolPolicy
from monitor.commands.alerts import register
from storage.db import make_engine, session_factory
from storage.tables import AuditEvent, Delivery

from .conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer, read_outbox


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # a second command keeps typer in multi-command mode
        """Unused."""

    return app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key in list(__import__("os").environ):
        if key.startswith("SCHOOLWATCH_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    return {
        "SCHOOLWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SCHOOLWATCH_OUTBOX_DIR": str(tmp_path / "outbox"),
        "COLUMNS": "200",
    }


def audit(tmp_path: Path) -> list[str]:
    factory = session_factory(make_engine(f"sqlite:///{tmp_path / 'cli.db'}"))
    with factory() as session:
        return list(session.scalars(select(AuditEvent.event)))


def test_outbox_transport(app, env, tmp_path: Path, policy: SchoolPolicy) -> None:
    result = CliRunner().invoke(app, ["test-alert", "--to", "dsl"], env=env)
    assert result.exit_code == 0, result.output
    dsl = policy.roles["dsl"]
    assert f"Written for {dsl.name} (dsl)" in result.output
    assert "SCHOOLWATCH_MAIL_TRANSPORT" in result.output
    mails = read_outbox(tmp_path / "outbox")
    assert len(mails) == 1 and dsl.email in str(mails[0]["To"])
    assert audit(tmp_path) == ["delivery.sent"]


def test_smtp_success_and_wrong_password(
    app, env, tmp_path: Path, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    smtp_env = {
        **env,
        "SCHOOLWATCH_MAIL_TRANSPORT": "smtp",
        "SCHOOLWATCH_SMTP_HOST": "127.0.0.1",
        "SCHOOLWATCH_SMTP_PORT": str(smtp_server.port),
        "SCHOOLWATCH_SMTP_USERNAME": SMTP_USER,
        "SCHOOLWATCH_SMTP_PASSWORD": SMTP_PASSWORD,
        "SCHOOLWATCH_SMTP_CAFILE": str(smtp_server.cert),
    }
    ok = CliRunner().invoke(app, ["test-alert", "--to", "deputy_dsl"], env=smtp_env)
    assert ok.exit_code == 0, ok.output
    deputy = policy.roles["deputy_dsl"]
    expected = (
        f"Sent to {deputy.name} (deputy_dsl) via 127.0.0.1:{smtp_server.port} with STARTTLS, "
        f"logging in as {SMTP_USER} - accepted."
    )
    assert expected in " ".join(ok.output.split())
    assert smtp_server.received[0].rcpt_tos == [deputy.email]

    bad = CliRunner().invoke(
        app,
        ["test-alert", "--to", "dsl"],
        env={**smtp_env, "SCHOOLWATCH_SMTP_PASSWORD": "wrong-password-here"},
    )
    assert bad.exit_code == 1
    out = " ".join(bad.output.split())
    assert "Could not log in to the mail server: the username or password is wrong." in out
    assert "SCHOOLWATCH_SMTP_USERNAME" in out and "wrong-password-here" not in out
    assert audit(tmp_path) == ["delivery.sent", "delivery.failed"]
    factory = session_factory(make_engine(f"sqlite:///{tmp_path / 'cli.db'}"))
    with factory() as session:
        assert [d.status for d in session.scalars(select(Delivery))] == ["sent", "failed"]


def test_server_down_and_unknown_role(app, env) -> None:
    down = CliRunner().invoke(
        app,
        ["test-alert", "--to", "dsl"],
        env={
            **env,
            "SCHOOLWATCH_MAIL_TRANSPORT": "smtp",
            "SCHOOLWATCH_SMTP_HOST": "127.0.0.1",
            "SCHOOLWATCH_SMTP_PORT": "1",
        },
    )
    assert down.exit_code == 1
    assert "connection was refused" in " ".join(down.output.split())
    unknown = CliRunner().invoke(app, ["test-alert", "--to", "caretaker"], env=env)
    assert unknown.exit_code == 1
    assert "unknown role 'caretaker'" in unknown.output
