"""Settings: defaults, placeholder refusal outside demo mode, the secrets file."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import DEFAULT_POLICY
from config.settings import Settings, is_placeholder, load_settings
from core.errors import ConfigError

GOOD_KEY = "Vq3r8Tz0pLx6Wm2Ns9Yb4Hc7Jd1Kf5Ge"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SCHOOLWATCH_ variable or .env file from the machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("SCHOOLWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_in_demo_mode() -> None:
    settings = load_settings()
    assert settings.mode == "demo"
    assert settings.policy_path == DEFAULT_POLICY
    assert settings.mail_transport == "outbox"
    assert settings.smtp_port == 587
    assert settings.facebook_graph_version == "v25.0"
    assert settings.secret_key.get_secret_value() == "change-me-demo-only"


@pytest.mark.parametrize(
    "key", ["", "change-me-demo-only", "changethis", "secret", "password", "CHANGEME", "short"]
)
def test_production_refuses_placeholder_secret_key(key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(mode="production", secret_key=key)
    assert "SCHOOLWATCH_SECRET_KEY" in str(info.value)


def test_production_accepts_a_real_key() -> None:
    assert load_settings(mode="production", secret_key=GOOD_KEY).mode == "production"


def test_production_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOOLWATCH_MODE", "production")
    with pytest.raises(ConfigError, match="SCHOOLWATCH_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("SCHOOLWATCH_SECRET_KEY", GOOD_KEY)
    assert load_settings().mode == "production"


def test_production_smtp_password_placeholder_refused() -> None:
    base = {
        "mode": "production",
        "secret_key": GOOD_KEY,
        "mail_transport": "smtp",
        "smtp_host": "mail.hollybrook.example",
        "smtp_username": "alerts",
    }
    with pytest.raises(ConfigError, match="SCHOOLWATCH_SMTP_PASSWORD"):
        load_settings(**base, smtp_password="password")
    settings = load_settings(**base, smtp_password="a-real-mail-password-81")
    assert settings.smtp_password.get_secret_value() == "a-real-mail-password-81"


def test_demo_accepts_placeholders() -> None:
    settings = load_settings(mail_transport="smtp", smtp_username="alerts", smtp_password="")
    assert settings.mode == "demo"


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(smtp_port="lots", mode="live", colour="blue")
    text = str(info.value)
    for name in ("SCHOOLWATCH_SMTP_PORT", "SCHOOLWATCH_MODE", "SCHOOLWATCH_COLOUR"):
        assert name in text


def test_dotenv_file_is_read_and_typos_refused(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SCHOOLWATCH_WEB_PORT=8123\n", encoding="utf-8")
    assert load_settings().web_port == 8123
    (tmp_path / ".env").write_text("SCHOOLWATCH_WEB_PRT=8123\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="SCHOOLWATCH_WEB_PRT: unknown setting"):
        load_settings()


def test_redacted_hides_secrets() -> None:
    settings = load_settings(
        reddit_password="hunter2-reddit",
        database_url="postgresql+psycopg://school:pa55word@db.hollybrook.example/watch",
    )
    shown = settings.redacted()
    assert "hunter2-reddit" not in repr(shown)
    assert "pa55word" not in repr(shown)
    assert shown["reddit_password"] == "********"
    assert shown["secret_key"] == "********"
    assert shown["facebook_page_token"] is None
    assert (
        shown["database_url"] == "postgresql+psycopg://school:********@db.hollybrook.example/watch"
    )
    assert set(shown) == set(Settings.model_fields)


def test_placeholder_detection() -> None:
    assert is_placeholder("Change-Me-Please")
    assert is_placeholder("aaaaaaaaaaaa")
    assert not is_placeholder(GOOD_KEY)


# --- secrets file -----------------------------------------------------------------


def _secrets(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "schoolwatch.secrets"
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_secrets_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _secrets(
        tmp_path,
        f"# secrets\nSCHOOLWATCH_SECRET_KEY='{GOOD_KEY}'\n\n"
        "export SCHOOLWATCH_REDDIT_PASSWORD=r3d\n",
        0o600,
    )
    monkeypatch.setenv("SCHOOLWATCH_SECRETS_FILE", str(path))
    settings = load_settings(mode="production")
    assert settings.secret_key.get_secret_value() == GOOD_KEY
    assert settings.reddit_password is not None
    assert settings.reddit_password.get_secret_value() == "r3d"


def test_environment_beats_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _secrets(tmp_path, "SCHOOLWATCH_REDDIT_USERNAME=from-file\n", 0o600)
    monkeypatch.setenv("SCHOOLWATCH_REDDIT_USERNAME", "from-env")
    assert load_settings(secrets_file=path).reddit_username == "from-env"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_secrets_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = _secrets(tmp_path, f"SCHOOLWATCH_SECRET_KEY={GOOD_KEY}\n", mode)
    with pytest.raises(ConfigError) as info:
        load_settings(secrets_file=path)
    assert "chmod 600" in str(info.value)
    assert f"{mode:04o}" in str(info.value)


def test_secrets_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(secrets_file=tmp_path / "missing")
    path = _secrets(tmp_path, "SCHOOLWATCH_SECRET_KEY\n", 0o600)
    with pytest.raises(ConfigError, match=r"schoolwatch.secrets:1: expected KEY=VALUE"):
        load_settings(secrets_file=path)
    path = _secrets(tmp_path, "# x\nSCHOOLWATCH_SECRT_KEY=abc\n", 0o600)
    with pytest.raises(ConfigError, match=r"schoolwatch.secrets:2: unknown setting"):
        load_settings(secrets_file=path)


def test_missing_cafile_and_model_dir_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(smtp_cafile=tmp_path / "ca.pem", model_dir=tmp_path / "model")
    assert "SCHOOLWATCH_SMTP_CAFILE: no such file" in str(info.value)
    assert "SCHOOLWATCH_MODEL_DIR: no such folder" in str(info.value)
    (tmp_path / "ca.pem").write_text("x", encoding="utf-8")
    (tmp_path / "model").mkdir()
    settings = load_settings(smtp_cafile=tmp_path / "ca.pem", model_dir=tmp_path / "model")
    assert settings.model_dir == tmp_path / "model"
