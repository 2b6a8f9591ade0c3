"""``schoolwatch sandbox``, ``connect`` and ``backfill`` against the sandbox."""

from __future__ import annotations

import stat
import threading
import urllib.request
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from connectors.sandbox import Sandbox
from monitor.commands.connectors import _sandbox_env, register

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    """The demo scenario on a sandbox, with schoolwatch's settings pointing at it."""
    sandbox = Sandbox(moderated_subreddits=("Ashcombe",), reddit_requests_per_window=10**6)
    sandbox.world.load(Path("connectors/scenarios/demo.json"))
    sandbox.start()
    for key, value in _sandbox_env(sandbox).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SCHOOLWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'sw.db'}")
    monkeypatch.setenv("SCHOOLWATCH_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("SCHOOLWATCH_USE_MODEL", "false")
    monkeypatch.delenv("SCHOOLWATCH_SECRETS_FILE", raising=False)
    yield sandbox
    sandbox.stop()


def test_sandbox_command_serves_and_prints_settings() -> None:
    result = runner.invoke(_app(), ["sandbox", "--port", "0", "--seconds", "0.2"])
    assert result.exit_code == 0, result.output
    assert "SCHOOLWATCH_FACEBOOK_GRAPH_URL=http://127.0.0.1:" in result.output
    assert "/_sandbox/comments" in result.output


def test_connect_reddit_check_reports_moderation(box: Sandbox) -> None:
    result = runner.invoke(_app(), ["connect", "reddit", "--check"])
    # The default policy says r/Ashcombe is not moderated; the sandbox account is a moderator.
    assert result.exit_code == 0, result.output
    assert "Signed in as u/hollybrook_mod" in result.output
    assert "r/Ashcombe: moderator" in result.output


def test_connect_reddit_bad_password_says_what_to_fix(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHOOLWATCH_REDDIT_PASSWORD", "wrong")
    result = runner.invoke(_app(), ["connect", "reddit", "--check"])
    assert result.exit_code == 1
    assert "invalid_grant" in result.output
    assert "REDDIT_PASSWORD" in result.output


def test_connect_facebook_checks_then_saves_secrets_0600(box: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    answers = f"{box.credentials.page_token}\n{box.credentials.app_secret}\nverify-me\n"
    result = runner.invoke(
        _app(), ["connect", "facebook", "--secrets-file", str(target)], input=answers
    )
    assert result.exit_code == 0, result.output
    assert "Token works for Hollybrook Primary School" in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text()
    assert f"SCHOOLWATCH_FACEBOOK_PAGE_TOKEN={box.credentials.page_token}" in text
    assert "SCHOOLWATCH_FACEBOOK_VERIFY_TOKEN=verify-me" in text
    assert box.credentials.page_token not in result.output  # typed hidden, never echoed


def test_connect_facebook_rejects_a_bad_token(box: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "secrets.env"
    result = runner.invoke(
        _app(),
        ["connect", "facebook", "--secrets-file", str(target)],
        input="EAAnotvalid\nsecret\nverify\n",
    )
    assert result.exit_code == 1
    assert "schoolwatch connect facebook" in result.output
    assert not target.exists()


class _Browser:
    """Stands in for the person clicking 'Allow': follows the consent redirect."""

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        threading.Thread(
            target=lambda: urllib.request.urlopen(url, timeout=10).read(), daemon=True
        ).start()
        return True


def test_connect_youtube_runs_the_installed_app_oauth_flow(
    box: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webbrowser, "get", lambda using=None: _Browser())
    target = tmp_path / "secrets.env"
    answers = f"{box.credentials.google_client_id}\n{box.credentials.google_client_secret}\n"
    result = runner.invoke(
        _app(), ["connect", "youtube", "--secrets-file", str(target)], input=answers
    )
    assert result.exit_code == 0, result.output
    assert "5 videos, 1 private" in result.output
    text = target.read_text()
    assert f"SCHOOLWATCH_YOUTUBE_REFRESH_TOKEN={box.credentials.google_refresh_token}" in text


def test_backfill_feeds_the_pipeline(box: Sandbox) -> None:
    result = runner.invoke(_app(), ["backfill", "facebook", "--since", "2026-10-01"])
    assert result.exit_code == 0, result.output
    expected = len(box.comment_ids("facebook"))
    assert f"done: {expected} new comments stored" in result.output
    again = runner.invoke(_app(), ["backfill", "facebook", "--since", "2026-10-01", "--restart"])
    assert again.exit_code == 0, again.output
    assert "done: 0 new comments stored" in again.output  # re-reading is harmless
