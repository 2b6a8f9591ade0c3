"""Where the connectors find each platform and the credentials they use there.

``config/settings.py`` builds one :class:`ConnectorSettings` from the
environment (secrets never live in the repository); the sandbox builds one
that points every client at 127.0.0.1 (:meth:`connectors.sandbox.Sandbox.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

_EMPTY = SecretStr("")


@dataclass(frozen=True)
class ConnectorSettings:
    """Endpoints, credentials and polling limits for the three connectors.

    Attributes:
        graph_url: Graph API root without the version, no trailing slash.
        graph_version: Graph API version put in every path.
        facebook_page_token: A Page access token (pages_manage_engagement,
            pages_read_engagement, pages_read_user_engagement).
        facebook_app_secret: The Meta app secret: adds ``appsecret_proof`` to
            calls and checks webhook signatures.
        facebook_verify_token: The token Meta echoes in the webhook handshake.
        youtube_url: Root of the YouTube Data API (``.../youtube/v3/`` is appended).
        youtube_token_url: Google's OAuth token endpoint.
        youtube_auth_url: Google's OAuth consent endpoint (``connect youtube``).
        google_client_id: OAuth client id of the installed app.
        google_client_secret: Its client secret.
        google_refresh_token: The channel owner's refresh token.
        reddit_url: Reddit's site root (token endpoint lives here).
        reddit_oauth_url: Reddit's OAuth API root.
        reddit_client_id: Reddit script-app id.
        reddit_client_secret: Its secret.
        reddit_username: The account the script app runs as (a moderator, to moderate).
        reddit_password: Its password.
        reddit_user_agent: ``<platform>:<app id>:<version> (by /u/<user>)``.
        timeout: Seconds before a platform call is abandoned (then retried later).
        lookback_days: On the first run, how far back to read.
        overlap_seconds: Re-read this much before the cursor, for comments the
            platform shows late (the store ignores the repeats).
        youtube_reserve_units: Daily YouTube units polling never touches, kept
            for moderation actions (50 units each).
        youtube_sweep_videos: Videos re-read in full per poll, round robin, so a
            new reply under an old thread is never missed.
        reddit_max_pages: The most listing pages read per listing per poll.
        page_size: Items asked for per list call (the platforms allow at most 100).
    """

    graph_url: str = "https://graph.facebook.com"
    graph_version: str = "v25.0"
    facebook_page_token: SecretStr = _EMPTY
    facebook_app_secret: SecretStr = _EMPTY
    facebook_verify_token: SecretStr = _EMPTY
    youtube_url: str = "https://youtube.googleapis.com/"
    youtube_token_url: str = "https://oauth2.googleapis.com/token"
    youtube_auth_url: str = "https://accounts.google.com/o/oauth2/auth"
    google_client_id: str = ""
    google_client_secret: SecretStr = _EMPTY
    google_refresh_token: SecretStr = _EMPTY
    reddit_url: str = "https://www.reddit.com"
    reddit_oauth_url: str = "https://oauth.reddit.com"
    reddit_client_id: str = ""
    reddit_client_secret: SecretStr = _EMPTY
    reddit_username: str = ""
    reddit_password: SecretStr = _EMPTY
    reddit_user_agent: str = "python:schoolwatch:0.1 (by /u/schoolwatch)"
    timeout: float = 30.0
    lookback_days: int = 90
    overlap_seconds: int = 900
    youtube_reserve_units: int = 2000
    youtube_sweep_videos: int = 2
    reddit_max_pages: int = 10
    page_size: int = 100
