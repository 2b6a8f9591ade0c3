"""The sandbox's in-memory world: posts and comments with platform-shaped ids.

A scenario file (``docs/scenarios.md``) is loaded into a :class:`World`. Every
post and comment gets an id shaped like the real platform's, and the world
keeps the mapping from scenario id to platform id so tests can compare what a
store holds with what the sandbox holds. All access goes through one lock:
the HTTP handlers run in threads.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.clock import utc_now

PLATFORMS = ("facebook", "youtube", "reddit")
YT_STATUSES = ("published", "heldForReview", "likelySpam", "rejected")
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def to_base36(n: int) -> str:
    """``n`` in lower-case base 36, as Reddit writes ids."""
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


def _b64ish(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_B64[b % 64] for b in digest[:length])


def parse_time(value: str) -> datetime:
    """Parse an ISO-8601 UTC time such as ``2026-10-20T08:15:00Z``."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass
class Post:
    """A Facebook post, YouTube video or Reddit submission."""

    platform: str
    sid: str  # scenario id
    pid: str  # platform id
    title: str
    text: str
    created_at: datetime
    author_name: str = ""
    author_id: str = ""
    privacy: str = "public"
    subreddit: str = ""
    updated_at: datetime | None = None
    seq: int = 0


@dataclass
class Comment:
    """A comment or reply held by the sandbox."""

    platform: str
    sid: str
    pid: str
    post_pid: str
    parent_pid: str | None
    author_id: str
    author_name: str
    text: str
    created_at: datetime
    seq: int = 0
    hidden: bool = False  # Facebook is_hidden
    status: str = "published"  # YouTube moderationStatus
    removed: bool = False  # Reddit removed by a moderator
    deleted: bool = False
    expected: str = ""
    history: list[str] = field(default_factory=list)  # moderation actions seen


class World:
    """Posts and comments of all three platforms, with id assignment and state queries."""

    def __init__(
        self,
        *,
        school_id: str = "hollybrook",
        page_id: str = "104000000000001",
        channel_id: str = "UChollybrookPrimary00000",
        moderated_subreddits: tuple[str, ...] = (),
    ) -> None:
        self.lock = threading.RLock()
        self.school_id = school_id
        self.page_id = page_id
        self.page_name = "Hollybrook Primary School"
        self.channel_id = channel_id
        self.moderated_subreddits = {s.lower() for s in moderated_subreddits}
        self.posts: dict[str, Post] = {}  # by platform id
        self.comments: dict[str, Comment] = {}  # by platform id
        self.sid_map: dict[tuple[str, str], str] = {}  # (platform, scenario id) -> platform id
        self._children: dict[str, list[str]] = {}  # parent comment id -> reply ids
        self._by_post: dict[str, list[str]] = {}  # post id -> comment ids
        self._seq = 0
        self._counters: dict[str, int] = {}
        self.description = ""

    # ---- ids -------------------------------------------------------------------------

    def _next(self, name: str) -> int:
        self._counters[name] = self._counters.get(name, 0) + 1
        return self._counters[name]

    def _post_id(self, platform: str, sid: str) -> str:
        n = self._next(f"post:{platform}")
        if platform == "facebook":
            return f"{self.page_id}_{2000000000 + n}"
        if platform == "youtube":
            return _b64ish(f"video:{sid}:{n}", 11)
        return to_base36(1_500_000_000 + n * 7919)

    def _comment_id(self, platform: str, sid: str, post_pid: str, parent: str | None) -> str:
        n = self._next(f"comment:{platform}")
        if platform == "facebook":
            return f"{post_pid.split('_')[-1]}_{3000000000 + n}"
        if platform == "youtube":
            if parent is not None:
                return f"{parent}.{_b64ish(f'reply:{sid}:{n}', 22)}"
            return "Ugz" + _b64ish(f"thread:{sid}:{n}", 17) + "4AaABAg"
        return to_base36(60_000_000_000 + n * 613)

    # ---- loading and changing --------------------------------------------------------

    def load(self, path: Path) -> None:
        """Load a scenario file (format in ``docs/scenarios.md``).

        Raises:
            ConfigError: The file breaks the format (every problem is named).
        """
        from connectors.scenarios import Scenario

        Scenario.load(path)  # the shared validator: clear errors for a hand-written file
        data = json.loads(path.read_text(encoding="utf-8"))
        self.load_dict(data)

    def load_dict(self, data: dict[str, Any]) -> None:
        """Load a scenario already parsed from JSON."""
        if data.get("scenario_version") != 1:
            raise ValueError("scenario_version must be 1")
        with self.lock:
            self.school_id = str(data.get("school_id", self.school_id))
            self.description = str(data.get("description", ""))
            for sub in data.get("moderated_subreddits", ()):
                self.moderated_subreddits.add(str(sub).lower())
            posts = sorted(
                data.get("posts", ()), key=lambda p: (parse_time(p["created_at"]), p["id"])
            )
            for raw in posts:
                self.add_post(
                    platform=raw["platform"],
                    sid=raw["id"],
                    title=raw.get("title", ""),
                    text=raw.get("text", ""),
                    created_at=parse_time(raw["created_at"]),
                    privacy=raw.get("privacy", "public"),
                    subreddit=raw.get("subreddit", ""),
                    author_name=raw.get("author_name", ""),
                )
            pending = list(data.get("comments", ()))
            pending.sort(key=lambda c: (parse_time(c["created_at"]), c["id"]))
            while pending:
                raw = pending.pop(0)
                parent = raw.get("parent_id")
                if parent and (raw["platform"], parent) not in self.sid_map:
                    if not any(c["id"] == parent for c in pending):
                        raise ValueError(f"comment {raw['id']}: parent {parent} not found")
                    pending.append(raw)  # same timestamp as its parent: load the parent first
                    continue
                self.add_comment(
                    platform=raw["platform"],
                    post_sid=raw["post_id"],
                    text=raw["text"],
                    sid=raw["id"],
                    parent_sid=raw.get("parent_id"),
                    author_id=raw.get("author_id", ""),
                    author_name=raw.get("author_name", ""),
                    created_at=parse_time(raw["created_at"]),
                    status=raw.get("moderation_status", "published"),
                    expected=raw.get("expected", ""),
                    live=False,
                )

    def add_post(
        self,
        *,
        platform: str,
        sid: str,
        title: str,
        text: str = "",
        created_at: datetime | None = None,
        privacy: str = "public",
        subreddit: str = "",
        author_name: str = "",
    ) -> Post:
        """Add a post, video or submission; returns it with its platform id."""
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        with self.lock:
            if (platform, sid) in self.sid_map:
                raise ValueError(f"duplicate post id {platform}:{sid}")
            pid = self._post_id(platform, sid)
            self._seq += 1
            when = created_at or utc_now()
            post = Post(
                platform=platform,
                sid=sid,
                pid=pid,
                title=title,
                text=text,
                created_at=when,
                updated_at=when,
                author_name=author_name or self.page_name,
                author_id=self.page_id if platform == "facebook" else f"author-{sid}",
                privacy=privacy,
                subreddit=subreddit or ("hollybrook" if platform == "reddit" else ""),
                seq=self._seq,
            )
            self.posts[pid] = post
            self.sid_map[(platform, sid)] = pid
            return post

    def add_comment(
        self,
        *,
        platform: str,
        post_sid: str,
        text: str,
        sid: str | None = None,
        parent_sid: str | None = None,
        author_id: str = "",
        author_name: str = "",
        created_at: datetime | None = None,
        status: str = "published",
        expected: str = "",
        by_pid: bool = False,
        live: bool = True,
    ) -> Comment:
        """Add a comment under scenario ids (platform ids if ``by_pid``)."""
        with self.lock:
            post_pid = post_sid if by_pid else self.sid_map[(platform, post_sid)]
            post = self.posts[post_pid]
            parent_pid: str | None = None
            if parent_sid:
                parent_pid = parent_sid if by_pid else self.sid_map[(platform, parent_sid)]
                if platform == "youtube":
                    # YouTube threads are one level deep: replies to replies join the thread.
                    parent = self.comments[parent_pid]
                    if parent.parent_pid is not None:
                        parent_pid = parent.parent_pid
            self._seq += 1
            sid = sid or f"live-{self._seq}"
            if (platform, sid) in self.sid_map:
                raise ValueError(f"duplicate comment id {platform}:{sid}")
            pid = self._comment_id(platform, sid, post_pid, parent_pid)
            when = created_at or utc_now()
            comment = Comment(
                platform=platform,
                sid=sid,
                pid=pid,
                post_pid=post_pid,
                parent_pid=parent_pid,
                author_id=author_id or f"user-{self._seq}",
                author_name=author_name or "A Parent",
                text=text,
                created_at=when,
                seq=self._seq,
                status=status if status in YT_STATUSES else "published",
                expected=expected,
            )
            self.comments[pid] = comment
            self.sid_map[(platform, sid)] = pid
            self._by_post.setdefault(post_pid, []).append(pid)
            if parent_pid is not None:
                self._children.setdefault(parent_pid, []).append(pid)
            arrived = max(utc_now(), when) if live else when
            if post.updated_at is None or arrived > post.updated_at:
                post.updated_at = arrived
            return comment

    def delete(self, pid: str) -> Comment:
        """Delete a comment (and, on Facebook and YouTube, its replies)."""
        with self.lock:
            comment = self.comments[pid]
            comment.deleted = True
            comment.history.append("delete")
            if comment.platform != "reddit":
                for child in self.children_of(pid):
                    child.deleted = True
            return comment

    def children_of(self, pid: str) -> list[Comment]:
        """Replies to a comment that still exist."""
        with self.lock:
            found = (self.comments[c] for c in self._children.get(pid, ()))
            return [c for c in found if not c.deleted]

    def comments_of_post(self, post_pid: str) -> list[Comment]:
        """Comments under a post that still exist."""
        with self.lock:
            found = (self.comments[c] for c in self._by_post.get(post_pid, ()))
            return [c for c in found if not c.deleted]

    # ---- queries ---------------------------------------------------------------------

    def visible_comments(self, platform: str) -> Iterator[Comment]:
        """Comments that exist (not deleted), in creation order."""
        with self.lock:
            items = [c for c in self.comments.values() if c.platform == platform and not c.deleted]
        yield from sorted(items, key=lambda c: (c.created_at, c.seq))

    def post_for(self, comment: Comment) -> Post:
        """The post a comment sits under."""
        return self.posts[comment.post_pid]

    def platform_id(self, platform: str, sid: str) -> str:
        """The platform id given to a scenario id."""
        return self.sid_map[(platform, sid)]

    def now(self) -> datetime:
        """The sandbox clock (the project clock, so tests can freeze it)."""
        return utc_now()
