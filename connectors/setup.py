"""Helpers for ``schoolwatch connect``: check credentials against the API and store them safely.

Secrets are written to a ``KEY=VALUE`` file readable by its owner only (mode
0600), outside the repository; ``SCHOOLWATCH_SECRETS_FILE`` points at it.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config.policy import Channel, School
from connectors.facebook import FacebookConnector
from connectors.reddit import RedditConnector
from connectors.settings import ConnectorSettings
from connectors.youtube import SCOPES, YouTubeConnector
from core.errors import ConfigError, ConnectorError

FACEBOOK_SCOPES = (
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_engagement",
    "pages_manage_engagement",
    "pages_manage_metadata",
)
DEFAULT_SECRETS_FILE = Path.home() / ".config" / "schoolwatch" / "secrets.env"


@dataclass
class CheckResult:
    """What a credentials check found: facts to show, and problems with their fixes."""

    ok: bool
    facts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def write_secrets(path: Path, values: dict[str, str]) -> Path:
    """Add or replace ``KEY=VALUE`` lines in the secrets file, keeping it mode 0600.

    Raises:
        ConfigError: The file exists and others can read it.
    """
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines: list[str] = []
    if path.exists():
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path} can be read by other users: run chmod 600 {path} first")
        for line in path.read_text(encoding="utf-8").splitlines():
            key = line.split("=", 1)[0].strip()
            if key not in values:
                lines.append(line)
    lines += [f"{key}={value}" for key, value in values.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def check_facebook(channel: Channel, school: School, settings: ConnectorSettings) -> CheckResult:
    """Ask the Graph API which Page the token is for and which permissions it carries."""
    result = CheckResult(ok=True)
    connector = FacebookConnector(channel, school, settings)
    try:
        info = connector.check()
    except ConnectorError as exc:
        return CheckResult(ok=False, problems=[_explain(exc)])
    finally:
        connector.close()
    result.facts.append(f"Token works for {info['name']} (id {info['id']}, {info['type']} token)")
    if str(info["id"]) != channel.account_id:
        result.ok = False
        result.problems.append(
            f"The token is for Page {info['id']}, but the policy's channel {channel.id!r} has "
            f"account_id {channel.account_id!r}: use a token of the school's Page, or fix the "
            "policy."
        )
    if info["type"] not in (None, "PAGE"):
        result.ok = False
        result.problems.append(
            "This is not a Page access token: get one from Graph API Explorer ('Get Page Access "
            "Token') or GET /me/accounts with a user token of a Page admin."
        )
    missing = [s for s in FACEBOOK_SCOPES if s not in info["scopes"]]
    if missing:
        result.ok = False
        result.problems.append(
            "The token lacks these permissions: " + ", ".join(missing) + ". Generate a new "
            "Page token and tick them when Facebook asks."
        )
    return result


def check_youtube(channel: Channel, school: School, settings: ConnectorSettings) -> CheckResult:
    """Refresh the Google token and list the channel's videos."""
    connector = YouTubeConnector(channel, school, settings)
    try:
        info = connector.check()
    except ConnectorError as exc:
        return CheckResult(ok=False, problems=[_explain(exc)])
    finally:
        connector.close()
    facts = [
        f"Token works for channel {info['channel']}: {info['videos']} videos, "
        f"{info['private']} private (YouTube allows no comments on private videos; the "
        "unlisted and public ones are watched)",
        f"Quota units used by this check: {info['units_used']}",
    ]
    return CheckResult(ok=True, facts=facts)


def check_reddit(channel: Channel, school: School, settings: ConnectorSettings) -> CheckResult:
    """Sign in as the script app and list the subreddits the account moderates."""
    connector = RedditConnector(channel, school, settings)
    try:
        info = connector.check()
    except ConnectorError as exc:
        return CheckResult(ok=False, problems=[_explain(exc)])
    finally:
        connector.close()
    result = CheckResult(
        ok=True, facts=[f"Signed in as u/{info['user']}", f"Search query: {info['query']}"]
    )
    moderated = set(info["moderates"])
    for sub in channel.subreddits:
        if sub.lower() in moderated:
            result.facts.append(f"r/{sub}: moderator, so comments can be removed")
        else:
            result.facts.append(f"r/{sub}: not a moderator, so comments can only be reported")
            if channel.moderated:
                result.problems.append(
                    f"The policy says channel {channel.id!r} is moderated, but u/{info['user']} is "
                    f"not a moderator of r/{sub}: set moderated: false, or make the account a "
                    "moderator there."
                )
                result.ok = False
    return result


def youtube_oauth(settings: ConnectorSettings, *, open_browser: bool = True, port: int = 0) -> str:
    """Run Google's installed-app OAuth flow in a browser; returns the refresh token.

    Raises:
        ConfigError: Google returned no refresh token.
    """
    from google_auth_oauthlib.flow import InstalledAppFlow

    host = urlsplit(settings.youtube_token_url).hostname or ""
    insecure = host in ("127.0.0.1", "localhost")  # the local sandbox speaks plain HTTP
    previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    if insecure:
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    config: dict[str, Any] = {
        "installed": {
            "client_id": settings.google_client_id,
            "client_secret": settings.google_client_secret.get_secret_value(),
            "auth_uri": settings.youtube_auth_url,
            "token_uri": settings.youtube_token_url,
            "redirect_uris": ["http://localhost"],
        }
    }
    flow = InstalledAppFlow.from_client_config(config, SCOPES)
    try:
        creds = flow.run_local_server(
            host="localhost",
            port=port,
            open_browser=open_browser,
            prompt="consent",
            timeout_seconds=600,
            authorization_prompt_message="Open this address in a browser and sign in with the "
            "account that owns the school's channel:\n{url}",
        )
    finally:
        if insecure and previous is None:
            os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
    token = getattr(creds, "refresh_token", None)
    if not token:
        raise ConfigError(
            "Google returned no refresh token: remove schoolwatch's access at "
            "https://myaccount.google.com/permissions and run connect again."
        )
    return str(token)


def _explain(exc: ConnectorError) -> str:
    fix = getattr(exc, "fix", "")
    return f"{exc} ({exc.code or type(exc).__name__})" + (f": {fix}" if fix else "")
