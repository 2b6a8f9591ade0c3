"""``schoolwatch users add|reset|disable`` against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from monitor.commands.web import register
from storage.db import make_engine, session_factory, session_scope
from storage.tables import User
from web.auth import verify_password


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SCHOOLWATCH_DATABASE_URL", url)
    monkeypatch.setenv("SCHOOLWATCH_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return url


app = typer.Typer()
register(app)


def _user(url: str, name: str) -> User:
    engine = make_engine(url)
    try:
        with session_scope(session_factory(engine)) as session:
            return session.scalars(select(User).where(User.username == name)).one()
    finally:
        engine.dispose()


def test_users_add_reset_disable(cli_env: str) -> None:
    runner = CliRunner()
    first = "a-long-first-password-1"
    result = runner.invoke(
        app,
        ["users", "add", "k.holt", "--role", "comms_lead", "--name", "Mrs Karen Holt"],
        input=f"{first}\n{first}\n",
    )
    assert result.exit_code == 0, result.output
    assert first not in result.output  # never echoed
    user = _user(cli_env, "k.holt")
    assert user.role == "comms_lead" and verify_password(user.password_hash, first)

    second = "another-long-password-2"
    result = runner.invoke(
        app, ["users", "reset", "k.holt", "--password-stdin"], input=f"{second}\n"
    )
    assert result.exit_code == 0, result.output
    assert verify_password(_user(cli_env, "k.holt").password_hash, second)

    result = runner.invoke(app, ["users", "disable", "k.holt"])
    assert result.exit_code == 0, result.output
    assert _user(cli_env, "k.holt").disabled


def test_users_add_refuses_mismatch_weak_password_and_unknown_role(cli_env: str) -> None:
    runner = CliRunner()
    mismatch = runner.invoke(
        app,
        ["users", "add", "a", "--role", "dsl"],
        input="one-long-password-1\nother-long-password\n",
    )
    assert mismatch.exit_code == 1 and "different" in mismatch.output
    weak = runner.invoke(
        app, ["users", "add", "a", "--role", "dsl", "--password-stdin"], input="short\n"
    )
    assert weak.exit_code == 1 and "at least 12" in weak.output
    role = runner.invoke(
        app,
        ["users", "add", "a", "--role", "dls", "--password-stdin"],
        input="a-long-enough-password\n",
    )
    assert role.exit_code == 1 and "unknown role" in role.output
