"""Build the connector for a channel. The pipeline never builds one itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from config.policy import Channel, School
from connectors.base import Connector
from connectors.facebook import FacebookConnector
from connectors.reddit import RedditConnector
from connectors.settings import ConnectorSettings
from connectors.youtube import YouTubeConnector
from core.errors import ConfigError

if TYPE_CHECKING:
    from config.settings import Settings

GOOGLE_AUTH_URL = "https://accounts.google.com/o/oauth2/auth"
CONNECTORS: dict[str, type[FacebookConnector | YouTubeConnector | RedditConnector]] = {
    "facebook": FacebookConnector,
    "youtube": YouTubeConnector,
    "reddit": RedditConnector,
}


def build_connector(channel: Channel, school: School, settings: ConnectorSettings) -> Connector:
    """The connector for ``channel`` (its platform's class, configured by ``settings``).

    Raises:
        ConfigError: Unknown platform, or the channel lacks what its platform needs.
    """
    try:
        cls = CONNECTORS[channel.platform.value]
    except KeyError as exc:
        raise ConfigError(f"channel {channel.id}: no connector for {channel.platform}") from exc
    connector: Connector = cls(channel, school, settings)
    return connector


def _secret(value: SecretStr | None) -> SecretStr:
    return value if value is not None else SecretStr("")


def auth_url_for(token_uri: str) -> str:
    """Google's consent address, or the same server's ``/o/oauth2/auth`` for a stand-in."""
    split = urlsplit(token_uri)
    if split.hostname in ("oauth2.googleapis.com", "accounts.google.com", "www.googleapis.com"):
        return GOOGLE_AUTH_URL
    return f"{split.scheme}://{split.netloc}/o/oauth2/auth"


def connector_settings(settings: Settings, **overrides: Any) -> ConnectorSettings:
    """:class:`ConnectorSettings` from the application settings (environment / secrets file)."""
    values: dict[str, Any] = {
        "graph_url": settings.facebook_graph_url.rstrip("/"),
        "graph_version": settings.facebook_graph_version,
        "facebook_page_token": _secret(settings.facebook_page_token),
        "facebook_app_secret": _secret(settings.facebook_app_secret),
        "facebook_verify_token": _secret(settings.facebook_verify_token),
        "youtube_url": settings.youtube_api_url,
        "youtube_token_url": settings.youtube_token_uri,
        "youtube_auth_url": auth_url_for(settings.youtube_token_uri),
        "google_client_id": settings.youtube_client_id,
        "google_client_secret": _secret(settings.youtube_client_secret),
        "google_refresh_token": _secret(settings.youtube_refresh_token),
        "reddit_url": settings.reddit_url,
        "reddit_oauth_url": settings.reddit_oauth_url,
        "reddit_client_id": settings.reddit_client_id,
        "reddit_client_secret": _secret(settings.reddit_client_secret),
        "reddit_username": settings.reddit_username,
        "reddit_password": _secret(settings.reddit_password),
        "reddit_user_agent": settings.reddit_user_agent,
    }
    values.update(overrides)
    return ConnectorSettings(**values)
