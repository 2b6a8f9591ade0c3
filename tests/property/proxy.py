"""A recording, body-replacing HTTP proxy in front of the sandbox, for connector fuzzing.

The connectors talk to the proxy exactly as they would to the platform; the
proxy forwards every request to the sandbox and passes the answer back,
except that the answer to the ``n``-th request can be swapped for other
bytes (a mutated copy of the real JSON, or junk). A clean run first records
what each request got, so a test can mutate real platform JSON.
"""

from __future__ import annotations

import http.client
import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from config.policy import Channel, School
from connectors.polling import PollingConnector
from connectors.registry import build_connector
from connectors.sandbox import Sandbox
from connectors.sandbox.http import Request, Response, Server

SCHOOL = School(id="hollybrook", name="Hollybrook Primary School", aliases=("Hollybrook School",))
SUBREDDIT = "Ashcombe"
_HOP = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}


def small_scenario() -> dict[str, Any]:
    """Two posts per platform, a few comments and replies each: paging at page size 2."""
    base = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    posts: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []

    def at(minutes: int) -> str:
        return (base + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

    for platform, prefix in (("facebook", "fb"), ("youtube", "yt"), ("reddit", "rd")):
        for i in range(2):
            post = f"{prefix}-p{i}"
            raw: dict[str, Any] = {
                "platform": platform,
                "id": post,
                "title": f"Hollybrook School news {i}",
                "text": "What do people think?",
                "created_at": at(i * 100),
                "author_name": "Hollybrook Primary School",
            }
            if platform == "youtube":
                raw["privacy"] = "unlisted"
            if platform == "reddit":
                raw["subreddit"] = SUBREDDIT
            posts.append(raw)
            for j in range(3):
                cid = f"{post}-c{j}"
                comments.append(
                    {
                        "platform": platform,
                        "id": cid,
                        "post_id": post,
                        "parent_id": f"{post}-c0" if j == 2 else None,
                        "author_id": f"user-{j}",
                        "author_name": f"Parent {j}",
                        "text": f"Comment {j} on Hollybrook School post {i}",
                        "created_at": at(i * 100 + 10 + j),
                        "expected": "benign",
                    }
                )
    return {"scenario_version": 1, "school_id": "hollybrook", "posts": posts, "comments": comments}


_RUNS = itertools.count()


def channel(platform: str, sandbox: Sandbox) -> Channel:
    """The channel each connector watches.

    Its id is new every time: connectors keep some state per source for the
    whole process (backlog, video list, quota), and each fuzzed poll must
    start cold so that every request of a normal poll is really made.
    """
    source = f"{platform}{next(_RUNS)}"
    if platform == "facebook":
        return Channel(
            id=source, platform="facebook", name="Page", account_id=sandbox.world.page_id
        )
    if platform == "youtube":
        return Channel(
            id=source, platform="youtube", name="Channel", account_id=sandbox.world.channel_id
        )
    return Channel(id=source, platform="reddit", name="Reddit", subreddits=(SUBREDDIT,))


@dataclass
class Exchange:
    """One request the proxy forwarded, and the body it got back."""

    method: str
    path: str
    status: int
    content_type: str
    body: bytes


@dataclass
class Proxy:
    """Forward to ``sandbox``; replace the body of the ``k``-th answer on one path."""

    sandbox: Sandbox
    exchanges: list[Exchange] = field(default_factory=list)
    replace_at: tuple[str, int] | None = None
    replacement: bytes = b""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: Server | None = None

    def start(self) -> Proxy:
        self._server = Server(self._route)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    @property
    def root(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    def reset(self, replace_at: tuple[str, int] | None = None, replacement: bytes = b"") -> None:
        """Forget what was seen; answer occurrence ``k`` of ``path`` with ``replacement``."""
        with self._lock:
            self.exchanges = []
            self.replace_at = replace_at
            self.replacement = replacement

    def _route(self, request: Request) -> Response:
        query = urlencode(request.query, doseq=True)
        target = request.path + (f"?{query}" if query else "")
        headers = {k: v for k, v in request.headers.items() if k not in _HOP}
        conn = http.client.HTTPConnection("127.0.0.1", self.sandbox.port, timeout=30)
        try:
            conn.request(request.method, target, body=request.body or None, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            out_headers = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP}
            status = answer.status
        finally:
            conn.close()
        with self._lock:
            k = sum(1 for e in self.exchanges if e.path == request.path)
            kind = out_headers.get("Content-Type", "")
            self.exchanges.append(Exchange(request.method, request.path, status, kind, body))
            if (request.path, k) == self.replace_at:
                body = self.replacement
        return Response(status, body, out_headers)

    def connector(self, platform: str, **overrides: Any) -> PollingConnector:
        """A real connector whose every platform URL is this proxy."""
        values: dict[str, Any] = {
            "graph_url": self.root,
            "youtube_url": self.root + "/",
            "youtube_token_url": self.root + "/token",
            "youtube_auth_url": self.root + "/o/oauth2/auth",
            "reddit_url": self.root,
            "reddit_oauth_url": self.root,
            "page_size": 2,
            "timeout": 5.0,
            "reddit_max_pages": 20,
        }
        values.update(overrides)
        built = build_connector(
            channel(platform, self.sandbox), SCHOOL, self.sandbox.settings(**values)
        )
        assert isinstance(built, PollingConnector)
        return built
