"""A local sandbox that speaks the Graph, YouTube and Reddit wire formats on 127.0.0.1.

Usage::

    sandbox = Sandbox("connectors/scenarios/demo.json").start()
    settings = sandbox.settings()          # ConnectorSettings pointing at the sandbox
    sandbox.post_comment("facebook", "p1", "Lovely assembly!")
    sandbox.faults.set("youtube", "server_error", count=2)
    sandbox.state("facebook", external_id)  # {"hidden": ..., "deleted": ..., ...}
    sandbox.stop()

One HTTP server serves all three platforms on one port: ``/v25.0/...`` is the
Graph API, ``/youtube/v3/...`` plus ``/token`` and ``/o/oauth2/auth`` are
YouTube and Google OAuth, and ``/api/...``, ``/r/...``, ``/subreddits/...`` are
Reddit. ``/_sandbox/...`` is a small JSON control API for people and scripts
(post a comment, arm a fault, read state).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import SecretStr

from connectors.sandbox.faults import FaultMode, Faults
from connectors.sandbox.graph import GraphApi
from connectors.sandbox.http import Request, Response, Server
from connectors.sandbox.reddit import RedditApi
from connectors.sandbox.webhooks import WebhookSender, feed_event
from connectors.sandbox.world import Comment, World, parse_time
from connectors.sandbox.youtube import YouTubeApi
from connectors.settings import ConnectorSettings

__all__ = ["FaultMode", "Sandbox", "SandboxCredentials", "SandboxUrls"]

log = logging.getLogger(__name__)
DEMO_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "demo.json"


@dataclass(frozen=True)
class SandboxCredentials:
    """The credentials the sandbox accepts (fake values, safe to print)."""

    page_token: str = "EAAsandboxPageToken0001"
    app_secret: str = "sandbox-app-secret"
    verify_token: str = "sandbox-verify-token"
    google_client_id: str = "sandbox-client.apps.googleusercontent.example"
    google_client_secret: str = "sandbox-google-secret"
    google_refresh_token: str = "1//sandbox-refresh-token"
    reddit_client_id: str = "sandboxRedditId"
    reddit_client_secret: str = "sandbox-reddit-secret"
    reddit_username: str = "hollybrook_mod"
    reddit_password: str = "sandbox-reddit-password"


@dataclass(frozen=True)
class SandboxUrls:
    """Base URLs of a running sandbox."""

    root: str
    graph: str
    youtube: str
    youtube_token: str
    youtube_auth: str
    reddit: str


class Sandbox:
    """The three fake platforms, one world, fault injection and a webhook sender."""

    def __init__(
        self,
        scenario: str | Path | dict[str, Any] | None = None,
        *,
        port: int = 0,
        credentials: SandboxCredentials | None = None,
        page_id: str = "104000000000001",
        channel_id: str = "UChollybrookPrimary00000",
        moderated_subreddits: tuple[str, ...] = (),
        youtube_daily_quota: int = 10_000,
        graph_hourly_budget: int = 4800,
        reddit_requests_per_window: int = 1000,
    ) -> None:
        self.credentials = credentials or SandboxCredentials()
        self.world = World(
            page_id=page_id, channel_id=channel_id, moderated_subreddits=moderated_subreddits
        )
        if isinstance(scenario, dict):
            self.world.load_dict(scenario)
        elif scenario is not None:
            self.world.load(Path(scenario))
        self.faults = Faults()
        self.webhooks = WebhookSender()
        c = self.credentials
        self.graph = GraphApi(
            self.world,
            self.faults,
            access_token=c.page_token,
            app_secret=c.app_secret,
            hourly_budget=graph_hourly_budget,
            on_change=self._fb_changed,
        )
        self.youtube = YouTubeApi(
            self.world,
            self.faults,
            client_id=c.google_client_id,
            client_secret=c.google_client_secret,
            refresh_token=c.google_refresh_token,
            daily_quota=youtube_daily_quota,
        )
        self.reddit = RedditApi(
            self.world,
            self.faults,
            client_id=c.reddit_client_id,
            client_secret=c.reddit_client_secret,
            username=c.reddit_username,
            password=c.reddit_password,
            requests_per_window=reddit_requests_per_window,
        )
        self._port = port
        self._server: Server | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start serving on 127.0.0.1 (``port=0`` picks a free port). Returns ``self``."""
        self._server = Server(self._route, self._port)
        self._server.start()
        log.info("sandbox listening on %s", self.urls.root)
        return self

    def stop(self) -> None:
        """Stop the server."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port the sandbox listens on."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return self._server.port

    @property
    def urls(self) -> SandboxUrls:
        """Base URLs for each client library."""
        root = f"http://127.0.0.1:{self.port}"
        return SandboxUrls(
            root=root,
            graph=root,
            youtube=root + "/",
            youtube_token=root + "/token",
            youtube_auth=root + "/o/oauth2/auth",
            reddit=root,
        )

    def settings(self, **overrides: Any) -> ConnectorSettings:
        """:class:`ConnectorSettings` that point every connector at this sandbox."""
        c, u = self.credentials, self.urls
        values: dict[str, Any] = {
            "graph_url": u.graph,
            "facebook_page_token": SecretStr(c.page_token),
            "facebook_app_secret": SecretStr(c.app_secret),
            "facebook_verify_token": SecretStr(c.verify_token),
            "youtube_url": u.youtube,
            "youtube_token_url": u.youtube_token,
            "youtube_auth_url": u.youtube_auth,
            "google_client_id": c.google_client_id,
            "google_client_secret": SecretStr(c.google_client_secret),
            "google_refresh_token": SecretStr(c.google_refresh_token),
            "reddit_url": u.reddit,
            "reddit_oauth_url": u.reddit,
            "reddit_client_id": c.reddit_client_id,
            "reddit_client_secret": SecretStr(c.reddit_client_secret),
            "reddit_username": c.reddit_username,
            "reddit_password": SecretStr(c.reddit_password),
            "timeout": 10.0,
            "lookback_days": 3650,
        }
        values.update(overrides)
        return ConnectorSettings(**values)

    # ---- changing the world ----------------------------------------------------------

    def add_post(
        self,
        platform: str,
        post_id: str,
        title: str,
        *,
        text: str = "",
        created_at: datetime | None = None,
        privacy: str = "public",
        subreddit: str = "",
    ) -> str:
        """Add a post/video/submission with scenario id ``post_id``; returns its platform id."""
        return self.world.add_post(
            platform=platform,
            sid=post_id,
            title=title,
            text=text,
            created_at=created_at,
            privacy=privacy,
            subreddit=subreddit,
        ).pid

    def post_comment(
        self,
        platform: str,
        post_id: str,
        text: str,
        *,
        parent_id: str | None = None,
        author_id: str = "",
        author_name: str = "",
        created_at: datetime | None = None,
        status: str = "published",
        comment_id: str | None = None,
        platform_ids: bool = False,
    ) -> str:
        """Post a comment while the sandbox runs; returns its platform id.

        ``post_id``/``parent_id`` are scenario ids, or platform ids when
        ``platform_ids`` is true. Facebook subscribers get a signed webhook.
        """
        comment = self.world.add_comment(
            platform=platform,
            post_sid=post_id,
            text=text,
            sid=comment_id,
            parent_sid=parent_id,
            author_id=author_id,
            author_name=author_name,
            created_at=created_at,
            status=status,
            by_pid=platform_ids,
        )
        if platform == "facebook":
            self._fb_changed("add", comment)
        return comment.pid

    def edit_comment(self, platform: str, external_id: str, text: str) -> None:
        """Change a comment's text as its author would (Facebook subscribers get ``edited``)."""
        with self.world.lock:
            comment = self.world.comments[self._pid(platform, external_id)]
            comment.text = text
            comment.history.append("edit")
        if platform == "facebook":
            self._fb_changed("edited", comment)

    def delete_comment(self, platform: str, external_id: str) -> None:
        """Delete a comment as its author would (Facebook subscribers get ``remove``)."""
        comment = self.world.delete(self._pid(platform, external_id))
        if platform == "facebook":
            self._fb_changed("remove", comment)

    def _pid(self, platform: str, external_id: str) -> str:
        if platform == "reddit":
            return external_id.removeprefix("t1_")
        return external_id

    def _fb_changed(self, verb: str, comment: Comment) -> None:
        if not self.webhooks.subscriptions or verb not in ("add", "edited", "remove"):
            return
        post = self.world.posts[comment.post_pid]
        payload = feed_event(
            self.world.page_id,
            verb=verb,
            post_id=post.pid,
            comment_id=comment.pid,
            parent_id=comment.parent_pid or post.pid,
            created_time=int(comment.created_at.timestamp()),
            message=comment.text,
            author={"id": comment.author_id, "name": comment.author_name},
        )
        self.webhooks.send(payload, verb)

    def subscribe_webhook(
        self, url: str, verify_token: str | None = None, app_secret: str | None = None
    ) -> None:
        """Handshake with a webhook receiver and send it signed ``feed`` events from now on."""
        self.webhooks.subscribe(
            url,
            verify_token or self.credentials.verify_token,
            app_secret or self.credentials.app_secret,
        )

    # ---- queries ---------------------------------------------------------------------

    def platform_id(self, platform: str, scenario_id: str) -> str:
        """The platform id the sandbox gave a scenario id."""
        return self.world.platform_id(platform, scenario_id)

    def external_id(self, platform: str, scenario_id: str) -> str:
        """The id a connector stores for a scenario comment (Reddit adds ``t1_``)."""
        pid = self.platform_id(platform, scenario_id)
        if platform == "reddit":
            kind = "t3" if pid in self.world.posts else "t1"
            return f"{kind}_{pid}"
        return pid

    def comment_ids(self, platform: str) -> set[str]:
        """External ids of every comment that exists now (what a complete store holds).

        YouTube comments that were rejected are not listed by the API and are left out.
        """
        out = set()
        for c in self.world.visible_comments(platform):
            if platform == "youtube" and (
                c.status == "rejected" or self.world.posts[c.post_pid].privacy == "private"
            ):
                continue
            out.add(f"t1_{c.pid}" if platform == "reddit" else c.pid)
        return out

    def state(self, platform: str, external_id: str) -> dict[str, Any]:
        """Moderation state of one comment: hidden, deleted, status, removed, history."""
        c = self.world.comments[self._pid(platform, external_id)]
        return {
            "hidden": c.hidden,
            "deleted": c.deleted,
            "status": c.status,
            "removed": c.removed,
            "history": list(c.history),
            "scenario_id": c.sid,
        }

    def call_counts(self) -> dict[str, int]:
        """HTTP requests served per platform (and YouTube quota units used)."""
        return {
            "facebook": self.graph.calls,
            "youtube": self.youtube.calls,
            "reddit": self.reddit.calls,
            "youtube_units": self.youtube.units_used,
        }

    # ---- routing ---------------------------------------------------------------------

    def _route(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/_sandbox/"):
            return self._control(request)
        if path.startswith("/youtube/v3/"):
            return self.youtube.handle(request)
        if path == "/token":
            return self.youtube.token(request)
        if path.startswith("/o/oauth2/auth"):
            return self.youtube.authorize(request)
        if path.rstrip("/") == "/api/v1/access_token":
            return self.reddit.access_token(request)
        if path.startswith(("/api/", "/r/", "/subreddits/")):
            return self.reddit.handle(request)
        if len(path) > 2 and path[1] == "v" and path[2].isdigit():
            return self.graph.handle(request)
        return Response.json({"error": "not found"}, 404)

    def _control(self, request: Request) -> Response:
        try:
            data = json.loads(request.body or b"{}")
            if request.path == "/_sandbox/comments" and request.method == "POST":
                created = data.get("created_at")
                pid = self.post_comment(
                    data["platform"],
                    data["post_id"],
                    data["text"],
                    parent_id=data.get("parent_id"),
                    author_name=data.get("author_name", ""),
                    created_at=parse_time(created) if created else None,
                    platform_ids=bool(data.get("platform_ids", False)),
                )
                return Response.json({"id": pid}, 201)
            if request.path == "/_sandbox/faults" and request.method == "POST":
                self.faults.set(
                    data["platform"],
                    data["mode"],
                    int(data.get("count", 1)),
                    delay=float(data.get("delay", 2.0)),
                )
                return Response.json(
                    {"armed": [m.value for m in self.faults.armed(data["platform"])]}
                )
            if request.path == "/_sandbox/state":
                return Response.json(
                    {p: sorted(self.comment_ids(p)) for p in ("facebook", "youtube", "reddit")}
                    | {"calls": self.call_counts()}
                )
        except (KeyError, ValueError, TypeError) as exc:
            return Response.json({"error": f"bad request: {exc}"}, 400)
        return Response.json({"error": "not found"}, 404)
