"""Deployment settings: where things live, how mail is sent, platform credentials.

Settings come from, highest priority first:

1. keyword arguments to :func:`load_settings` (used by tests and the CLI);
2. environment variables named ``SCHOOLWATCH_<FIELD>``, e.g. ``SCHOOLWATCH_MODE``;
3. the secrets file named by ``SCHOOLWATCH_SECRETS_FILE`` (``KEY=VALUE`` lines,
   readable by its owner only);
4. a ``.env`` file in the working directory;
5. the defaults below.

There is no import-time instance: ``monitor`` builds one with
:func:`load_settings` at start-up and passes it down. Outside demo mode,
placeholder secrets are refused. The school's policy (who is told what) is
not here: it lives in the YAML file named by ``policy_path``.
"""

from __future__ import annotations

import logging
import re
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from config.loader import DEFAULT_POLICY
from core.errors import ConfigError

log = logging.getLogger(__name__)

ENV_PREFIX = "SCHOOLWATCH_"
DEMO_SECRET_KEY = "change-me-demo-only"  # noqa: S105 - refused outside demo mode
MAX_SECRETS_BYTES = 64 * 1024

_PLACEHOLDERS = frozenset(
    {
        "",
        "secret",
        "password",
        "passw0rd",
        "changethis",
        "changeme",
        "change-me",
        "change_me",
        "change me",
        "default",
        "example",
        "test",
        "xxx",
        "todo",
    }
)


def is_placeholder(value: str) -> bool:
    """True for empty, well-known or 'change me' values that must not guard real data."""
    text = value.strip().lower()
    return (
        text in _PLACEHOLDERS
        or text.startswith(("change-me", "changeme", "change_me", "change me", "changethis"))
        or len(set(text)) <= 1
    )


def env_name(field: str) -> str:
    """The environment variable for a settings field, e.g. ``SCHOOLWATCH_SECRET_KEY``."""
    name = field.upper()
    return name if name.startswith(ENV_PREFIX) else ENV_PREFIX + name


class Settings(BaseSettings):
    """Everything about this installation that is not school policy."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    # --- general -----------------------------------------------------------
    mode: Literal["demo", "production"] = Field(
        default="demo",
        description="'demo' runs with made-up data and allows placeholder secrets; "
        "'production' watches real channels and refuses them.",
    )
    database_url: str = Field(
        default="sqlite:///./var/schoolwatch.db",
        description="SQLAlchemy database address: SQLite file or postgresql+psycopg://...",
    )
    policy_path: Path = Field(
        default=DEFAULT_POLICY, description="The school policy YAML file (who is told what)."
    )
    data_dir: Path = Field(
        default=Path("./var"), description="Folder for the database, evidence and other files."
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEMO_SECRET_KEY),
        description="Long random text that signs web sessions and acknowledgement links.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="How much is logged: DEBUG, INFO, WARNING, ERROR, CRITICAL."
    )
    secrets_file: Path | None = Field(
        default=None,
        description="Optional KEY=VALUE file holding secrets; must be readable by its owner only.",
    )

    # --- email -------------------------------------------------------------
    mail_transport: Literal["outbox", "smtp"] = Field(
        default="outbox",
        description="'outbox' writes emails as files (demo and testing); 'smtp' sends them.",
    )
    outbox_dir: Path = Field(
        default=Path("./var/outbox"), description="Folder the outbox transport writes emails to."
    )
    smtp_host: str = Field(default="localhost", description="Mail server name.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Mail server port.")
    smtp_username: str = Field(
        default="", description="Mail server login name; empty if the server needs no login."
    )
    smtp_password: SecretStr = Field(
        default=SecretStr(""), description="Mail server password (used with smtp_username)."
    )
    smtp_starttls: bool = Field(
        default=True, description="Encrypt the mail connection with STARTTLS (keep this on)."
    )
    smtp_cafile: Path | None = Field(
        default=None,
        description="Certificate file of a private certificate authority the mail server uses.",
    )
    smtp_timeout: float = Field(
        default=30.0, gt=0, le=600, description="Seconds to wait for the mail server."
    )
    mail_from: str = Field(
        default="schoolwatch <alerts@hollybrook.example>",
        description="Sender shown on alert emails.",
    )

    # --- web app -----------------------------------------------------------
    web_host: str = Field(
        default="127.0.0.1",
        description="Address the web app listens on (keep 127.0.0.1 behind a proxy).",
    )
    web_port: int = Field(default=8000, ge=1, le=65535, description="Port the web app listens on.")
    web_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the web app, used in links in emails.",
    )
    session_hours: int = Field(
        default=8, ge=1, le=720, description="Hours a web sign-in lasts before signing in again."
    )

    # --- classifier --------------------------------------------------------
    model_dir: Path | None = Field(
        default=None,
        description="Folder of the trained classifier model, if not the packaged one.",
    )
    use_model: bool = Field(
        default=True,
        description="Use the trained model; false uses the word and pattern rules only.",
    )

    # --- Facebook ----------------------------------------------------------
    facebook_graph_url: str = Field(
        default="https://graph.facebook.com/", description="Facebook Graph API address."
    )
    facebook_graph_version: str = Field(
        default="v25.0",
        pattern=r"^v\d+\.\d+$",
        description="Facebook Graph API version, e.g. v25.0.",
    )
    facebook_page_token: SecretStr | None = Field(
        default=None, description="Page access token for the school's Facebook Page."
    )
    facebook_app_secret: SecretStr | None = Field(
        default=None, description="Facebook app secret (checks webhook signatures)."
    )
    facebook_verify_token: SecretStr | None = Field(
        default=None, description="Token Facebook echoes when the webhook is registered."
    )

    # --- YouTube -----------------------------------------------------------
    youtube_api_url: str = Field(
        default="https://youtube.googleapis.com/", description="YouTube Data API address."
    )
    youtube_token_uri: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google OAuth token address (refreshes the access token).",
    )
    youtube_client_id: str = Field(default="", description="Google OAuth client id.")
    youtube_client_secret: SecretStr | None = Field(
        default=None, description="Google OAuth client secret."
    )
    youtube_refresh_token: SecretStr | None = Field(
        default=None,
        description="Google OAuth refresh token of the account that owns the channel.",
    )

    # --- Reddit ------------------------------------------------------------
    reddit_url: str = Field(default="https://www.reddit.com", description="Reddit web address.")
    reddit_oauth_url: str = Field(
        default="https://oauth.reddit.com", description="Reddit API address."
    )
    reddit_client_id: str = Field(default="", description="Reddit app client id.")
    reddit_client_secret: SecretStr | None = Field(
        default=None, description="Reddit app client secret."
    )
    reddit_username: str = Field(default="", description="Reddit account the app signs in as.")
    reddit_password: SecretStr | None = Field(
        default=None, description="Password of that Reddit account."
    )
    reddit_user_agent: str = Field(
        default="python:schoolwatch:0.1.0 (school social media monitor)",
        description="How schoolwatch names itself to Reddit (Reddit requires a unique one).",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "facebook_graph_url",
        "youtube_api_url",
        "youtube_token_uri",
        "reddit_url",
        "reddit_oauth_url",
        "web_base_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an address starting with http:// or https://")
        return value

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        problems: list[str] = []
        if self.mail_transport == "smtp" and not self.smtp_host.strip():
            problems.append(f"{env_name('smtp_host')}: set the mail server name to send by SMTP")
        if self.smtp_cafile is not None and not self.smtp_cafile.is_file():
            problems.append(f"{env_name('smtp_cafile')}: no such file: {self.smtp_cafile}")
        if self.model_dir is not None and not self.model_dir.is_dir():
            problems.append(f"{env_name('model_dir')}: no such folder: {self.model_dir}")
        if self.mode != "demo":
            key = self.secret_key.get_secret_value()
            if is_placeholder(key) or len(key) < 32:
                problems.append(
                    f"{env_name('secret_key')}: in {self.mode} mode the secret key must be a "
                    "random value of at least 32 characters, not a placeholder; make one with: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
                )
            if (
                self.mail_transport == "smtp"
                and self.smtp_username
                and is_placeholder(self.smtp_password.get_secret_value())
            ):
                problems.append(
                    f"{env_name('smtp_password')}: set the real mail server password "
                    f"(a placeholder is not allowed in {self.mode} mode)"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Add the secrets file between the environment and ``.env``."""
        secrets = _SecretsFileSource(settings_cls, (init_settings, env_settings, dotenv_settings))
        return (init_settings, env_settings, secrets, dotenv_settings)

    def redacted(self) -> dict[str, Any]:
        """All settings as a dict that is safe to print or log: secrets are masked.

        Returns:
            Field name to value; a set secret shows as ``'********'``, an
            unset one as ``''`` or ``None``; a password inside
            ``database_url`` is masked too.
        """
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        out["database_url"] = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1********@", self.database_url)
        return out


class _SecretsFileSource(PydanticBaseSettingsSource):
    """Values from the ``KEY=VALUE`` file named by ``secrets_file``."""

    def __init__(
        self, settings_cls: type[BaseSettings], sources: tuple[PydanticBaseSettingsSource, ...]
    ) -> None:
        super().__init__(settings_cls)
        self._sources = sources

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: values are read all at once in ``__call__``."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        for source in self._sources:
            value = source().get("secrets_file")
            if value:
                return read_secrets_file(Path(value), set(self.settings_cls.model_fields))
        return {}


def read_secrets_file(path: Path, fields: set[str]) -> dict[str, str]:
    """Read a ``KEY=VALUE`` secrets file after checking only its owner can read it.

    Args:
        path: The file. Keys are the environment variable names
            (``SCHOOLWATCH_SECRET_KEY=...``); blank lines and ``#`` comments
            are ignored; values may be quoted.
        fields: The settings field names allowed as keys.

    Returns:
        Field name to raw text value.

    Raises:
        ConfigError: The file is missing, readable by group or others, too
            large, or has a line that is not ``KEY=VALUE`` or an unknown key.
    """
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise ConfigError(f"{env_name('secrets_file')}: {path}: file not found") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{env_name('secrets_file')}: {path}: not a regular file")
    if info.st_mode & 0o077:
        raise ConfigError(
            f"{env_name('secrets_file')}: {path} can be read or changed by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); fix it with: chmod 600 {path}"
        )
    if info.st_size > MAX_SECRETS_BYTES:
        raise ConfigError(f"{env_name('secrets_file')}: {path}: larger than 64 KB")
    values: dict[str, str] = {}
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE")
        name = key.upper().removeprefix(ENV_PREFIX).lower()
        if name not in fields or name == "secrets_file":
            raise ConfigError(f"{path}:{number}: unknown setting {key!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    log.debug("read %d values from the secrets file", len(values))
    return values


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from overrides, the environment, the secrets file and ``.env``.

    Args:
        **overrides: Field values that win over every other source
            (``_env_file=None`` ignores any ``.env`` file).

    Returns:
        The validated settings.

    Raises:
        ConfigError: A value is invalid or unsafe; the message names the
            environment variable to change.

    Example:
        >>> load_settings(mode="demo", _env_file=None).mail_transport
        'outbox'
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems: list[str] = []
        for err in exc.errors(include_url=False):
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["loc"]:
                field = str(err["loc"][0])
                if err["type"] == "extra_forbidden":
                    msg = "unknown setting"
                problems.append(f"{env_name(field)}: {msg}")
            else:
                problems.extend(msg.split("\n"))
        raise ConfigError("invalid settings:\n  " + "\n  ".join(problems)) from exc
