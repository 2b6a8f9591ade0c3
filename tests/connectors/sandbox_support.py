"""Shared helpers for the connector tests: a scenario, connectors on the sandbox, a dict store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from config.policy import Channel, School
from connectors.polling import PollingConnector
from connectors.registry import build_connector
from connectors.sandbox import Sandbox
from core.errors import ConnectorError
from core.models import Batch, Comment

PLATFORMS = ("facebook", "youtube", "reddit")
SCHOOL = School(
    id="hollybrook",
    name="Hollybrook Primary School",
    aliases=("Hollybrook Primary", "Hollybrook School"),
)
BASE = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
SUBREDDIT = "Ashcombe"


def _iso(minutes: int) -> str:
    return (BASE + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def contract_scenario() -> dict[str, Any]:
    """A small scenario that exercises paging, replies, held comments and privacy."""
    posts: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    n = 0

    def comment(
        platform: str,
        post: str,
        minute: int,
        parent: str | None = None,
        text: str = "Lovely to see the children enjoying themselves",
    ) -> str:
        nonlocal n
        n += 1
        cid = f"{platform[:2]}-c{n:03d}"
        comments.append(
            {
                "platform": platform,
                "id": cid,
                "post_id": post,
                "parent_id": parent,
                "author_id": f"user-{n % 7}",
                "author_name": f"Parent {n % 7}",
                "text": f"{text} ({n})",
                "created_at": _iso(minute),
                "expected": "benign",
            }
        )
        return cid

    for i in range(3):
        posts.append(
            {
                "platform": "facebook",
                "id": f"fb-p{i}",
                "title": f"Post {i}",
                "text": f"News item {i}",
                "created_at": _iso(i * 1000),
            }
        )
        for j in range(9):
            top = comment("facebook", f"fb-p{i}", i * 1000 + 10 + j * 7)
            if j % 3 == 0:
                comment("facebook", f"fb-p{i}", i * 1000 + 12 + j * 7, top)
    for i, privacy in enumerate(("public", "unlisted", "unlisted", "private")):
        posts.append(
            {
                "platform": "youtube",
                "id": f"yt-v{i}",
                "title": f"Video {i}",
                "text": "",
                "created_at": _iso(i * 1000),
                "privacy": privacy,
            }
        )
        if privacy == "private":
            continue
        for j in range(7):
            top = comment("youtube", f"yt-v{i}", i * 1000 + 10 + j * 11)
            for k in range(7 if j == 0 else 1 if j % 2 else 0):
                comment("youtube", f"yt-v{i}", i * 1000 + 11 + j * 11 + k, top)
    titles = (
        "Hollybrook Primary School nativity",
        "Parking near Hollybrook School",
        "Hollybrook Primary Ofsted",
        "Things to do in Ashcombe",
    )
    for i, title in enumerate(titles):
        posts.append(
            {
                "platform": "reddit",
                "id": f"rd-s{i}",
                "title": title,
                "text": "What do people think?",
                "created_at": _iso(i * 1000),
                "subreddit": SUBREDDIT,
                "author_name": f"op{i}",
            }
        )
        for j in range(6):
            top = comment("reddit", f"rd-s{i}", i * 1000 + 10 + j * 5)
            if j % 2:
                comment("reddit", f"rd-s{i}", i * 1000 + 12 + j * 5, top)
    comment("reddit", "rd-s3", 3100, text="The Hollybrook School fair is on Saturday")
    return {
        "scenario_version": 1,
        "school_id": "hollybrook",
        "description": "contract tests",
        "posts": posts,
        "comments": comments,
    }


def make_sandbox(**kwargs: Any) -> Sandbox:
    """A started sandbox with the contract scenario (fast Reddit rate limits)."""
    kwargs.setdefault("moderated_subreddits", (SUBREDDIT,))
    kwargs.setdefault("reddit_requests_per_window", 1_000_000)
    return Sandbox(contract_scenario(), **kwargs).start()


def channel_for(platform: str, sandbox: Sandbox) -> Channel:
    """The policy channel for ``platform`` on this sandbox."""
    if platform == "facebook":
        return Channel(
            id="facebook", platform="facebook", name="Page", account_id=sandbox.world.page_id
        )
    if platform == "youtube":
        return Channel(
            id="youtube", platform="youtube", name="Channel", account_id=sandbox.world.channel_id
        )
    return Channel(id="reddit", platform="reddit", name="Reddit", subreddits=(SUBREDDIT,))


def make_connector(platform: str, sandbox: Sandbox, **overrides: Any) -> PollingConnector:
    """A real connector (real client library) pointed at ``sandbox``."""
    overrides.setdefault("page_size", 5)
    overrides.setdefault("reddit_max_pages", 200)
    overrides.setdefault("overlap_seconds", 600)
    settings = sandbox.settings(**overrides)
    connector = build_connector(channel_for(platform, sandbox), SCHOOL, settings)
    assert isinstance(connector, PollingConnector)
    return connector


def expected_ids(sandbox: Sandbox, platform: str) -> set[str]:
    """What a complete store holds for ``platform``.

    For Reddit: submissions that name the school, every comment under them,
    and comments elsewhere in the subreddit that name the school.
    """
    if platform != "reddit":
        return sandbox.comment_ids(platform)
    names = [n.lower() for n in (SCHOOL.name, *SCHOOL.aliases)]
    world = sandbox.world
    matching = {
        p.pid
        for p in world.posts.values()
        if p.platform == "reddit" and any(n in f"{p.title}\n{p.text}".lower() for n in names)
    }
    out = {f"t3_{pid}" for pid in matching}
    for c in world.visible_comments("reddit"):
        if c.post_pid in matching or any(n in c.text.lower() for n in names):
            out.add(f"t1_{c.pid}")
    return out


@dataclass
class DictStore:
    """A store keyed by external id, with the cursor saved alongside (like the pipeline)."""

    comments: dict[str, Comment] = field(default_factory=dict)
    cursor: str | None = None
    batches: list[Batch] = field(default_factory=list)
    errors: list[ConnectorError] = field(default_factory=list)

    def save(self, batch: Batch) -> int:
        """Store a batch; returns how many comments were new."""
        new = 0
        for c in batch.comments:
            if c.external_id not in self.comments:
                new += 1
            self.comments[c.external_id] = c
        if batch.cursor is not None:
            self.cursor = batch.cursor
        self.batches.append(batch)
        return new

    def cycle(
        self, connector: PollingConnector, *, limit: int = 500, max_batches: int = 100
    ) -> None:
        """One scheduled poll: fetch until ``more`` is false; connector errors end the cycle."""
        for _ in range(max_batches):
            try:
                batch = connector.fetch_since(self.cursor, limit=limit)
            except ConnectorError as exc:
                self.errors.append(exc)
                return
            self.save(batch)
            if not batch.more:
                return
        raise AssertionError("the connector never said it was done")

    @property
    def ids(self) -> set[str]:
        """External ids held."""
        return set(self.comments)
