"""Scenario files: scripted comment streams for the demo and the tests.

A scenario is one JSON file (format in ``docs/scenarios.md``) holding a
school's posts on every platform and the comments under them, each with the
label it is meant to get. :class:`Scenario` loads and validates one;
``connectors.fake.ScenarioConnector`` serves it as a platform would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.models import Category, Platform

SCENARIO_VERSION = 1
PRIVACY_VALUES = ("public", "unlisted", "private")

_POST_FIELDS = ("platform", "id", "title", "text", "created_at", "author_name")
_COMMENT_FIELDS = (
    "platform",
    "id",
    "post_id",
    "parent_id",
    "author_id",
    "author_name",
    "text",
    "created_at",
    "expected",
)


def demo_scenario_path() -> Path:
    """The path of the packaged Hollybrook Primary demo scenario."""
    return Path(__file__).with_name("demo.json")


def parse_utc(value: str) -> datetime:
    """Parse an ISO-8601 UTC timestamp such as ``2026-10-20T08:15:00Z``.

    Args:
        value: The timestamp; it must carry ``Z`` or a zero offset.

    Returns:
        A timezone-aware datetime in UTC.

    Raises:
        ValueError: The value is not an ISO-8601 UTC timestamp.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.utcoffset() is None or parsed.utcoffset() != UTC.utcoffset(None):
        raise ValueError(f"{value!r} is not in UTC (end it with 'Z')")
    return parsed.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """Format an aware datetime the way scenario files write it (``...Z``)."""
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ScenarioPost:
    """A post, video or submission in a scenario."""

    platform: Platform
    id: str
    title: str
    text: str
    created_at: datetime
    author_name: str
    privacy: str | None  # YouTube only
    subreddit: str | None  # Reddit only
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ScenarioComment:
    """A comment in a scenario, with the label it is meant to get."""

    platform: Platform
    id: str
    post_id: str
    parent_id: str | None
    author_id: str
    author_name: str
    text: str
    created_at: datetime
    expected: Category
    raw: Mapping[str, Any]

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """The order comments are served in: oldest first, then by id."""
        return (self.created_at, self.id)


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario file."""

    school_id: str
    description: str
    posts: tuple[ScenarioPost, ...]
    comments: tuple[ScenarioComment, ...]
    source: str = "<memory>"

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario file.

        Args:
            path: The JSON file.

        Returns:
            The scenario.

        Raises:
            ConfigError: The file cannot be read, is not JSON, or breaks the
                format; the message names the file and every problem found.
        """
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read scenario file: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from exc
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<memory>") -> Scenario:
        """Validate an already-parsed scenario.

        Args:
            data: The decoded JSON object.
            source: What to call it in error messages (normally the file path).

        Returns:
            The scenario.

        Raises:
            ConfigError: The data breaks the format.
        """
        return _Validator(source).scenario(data)

    def post(self, post_id: str) -> ScenarioPost:
        """The post with this id.

        Raises:
            KeyError: No such post.
        """
        for post in self.posts:
            if post.id == post_id:
                return post
        raise KeyError(post_id)

    def posts_for(self, platform: Platform) -> tuple[ScenarioPost, ...]:
        """The posts on one platform, in file order."""
        return tuple(p for p in self.posts if p.platform is platform)

    def comments_for(self, platform: Platform) -> tuple[ScenarioComment, ...]:
        """The comments on one platform, oldest first (ties broken by id)."""
        chosen = [c for c in self.comments if c.platform is platform]
        return tuple(sorted(chosen, key=lambda c: c.sort_key))


class _Validator:
    """Collects every problem in a scenario, then raises one ConfigError."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def raise_if_problems(self) -> None:
        if not self.problems:
            return
        shown = "; ".join(self.problems[:12])
        more = len(self.problems) - 12
        suffix = f" (and {more} more)" if more > 0 else ""
        raise ConfigError(f"{self.source}: invalid scenario: {shown}{suffix}")

    def text(self, obj: Mapping[str, Any], key: str, where: str, *, empty: bool = True) -> str:
        value = obj.get(key)
        if not isinstance(value, str):
            self.fail(where, f"'{key}' must be a string")
            return ""
        if not empty and not value.strip():
            self.fail(where, f"'{key}' must not be empty")
        return value

    def time(self, obj: Mapping[str, Any], where: str) -> datetime | None:
        value = obj.get("created_at")
        if not isinstance(value, str):
            self.fail(where, "'created_at' must be an ISO-8601 UTC string")
            return None
        try:
            return parse_utc(value)
        except ValueError as exc:
            self.fail(where, f"'created_at' {value!r} is not an ISO-8601 UTC time ({exc})")
            return None

    def platform(self, obj: Mapping[str, Any], where: str) -> Platform | None:
        value = obj.get("platform")
        try:
            return Platform(str(value))
        except ValueError:
            names = ", ".join(p.value for p in Platform)
            self.fail(where, f"unknown platform {value!r} (expected one of {names})")
            return None

    def missing(self, obj: Any, fields: tuple[str, ...], where: str) -> bool:
        if not isinstance(obj, dict):
            self.fail(where, "must be a JSON object")
            return True
        absent = [f for f in fields if f not in obj]
        if absent:
            self.fail(where, f"missing field(s) {', '.join(absent)}")
            return True
        return False

    def scenario(self, data: Any) -> Scenario:
        if self.missing(data, ("scenario_version", "school_id", "posts", "comments"), "top"):
            self.raise_if_problems()
        if data["scenario_version"] != SCENARIO_VERSION:
            self.fail("scenario_version", f"must be {SCENARIO_VERSION}")
        school_id = self.text(data, "school_id", "school_id", empty=False)
        description = data.get("description", "")
        if not isinstance(description, str):
            self.fail("description", "must be a string")
            description = ""
        for key in ("posts", "comments"):
            if not isinstance(data[key], list):
                self.fail(key, "must be a list")
        self.raise_if_problems()
        seen: set[str] = set()
        posts = [p for i, raw in enumerate(data["posts"]) if (p := self.post(i, raw, seen))]
        by_post = {p.id: p for p in posts}
        comments: dict[str, ScenarioComment] = {}
        for i, raw in enumerate(data["comments"]):
            comment = self.comment(i, raw, seen, by_post)
            if comment is not None:
                comments[comment.id] = comment
        self.check_parents(comments)
        self.raise_if_problems()
        return Scenario(
            school_id=school_id,
            description=description,
            posts=tuple(posts),
            comments=tuple(comments.values()),
            source=self.source,
        )

    def unique(self, ident: str, where: str, seen: set[str]) -> None:
        if ident in seen:
            self.fail(where, f"duplicate id {ident!r}")
        seen.add(ident)

    def post(self, index: int, raw: Any, seen: set[str]) -> ScenarioPost | None:
        where = f"posts[{index}]"
        if self.missing(raw, _POST_FIELDS, where):
            return None
        where = f"posts[{index}] (id {raw.get('id')!r})"
        ident = self.text(raw, "id", where, empty=False)
        self.unique(ident, where, seen)
        platform = self.platform(raw, where)
        created_at = self.time(raw, where)
        privacy = raw.get("privacy")
        subreddit = raw.get("subreddit")
        if platform is Platform.YOUTUBE and privacy not in PRIVACY_VALUES:
            self.fail(where, f"'privacy' must be one of {', '.join(PRIVACY_VALUES)}")
        if platform is not Platform.YOUTUBE and privacy is not None:
            self.fail(where, "'privacy' is for youtube posts only")
        if platform is Platform.REDDIT and (not isinstance(subreddit, str) or not subreddit):
            self.fail(where, "'subreddit' must be a non-empty string on reddit posts")
        if platform is not Platform.REDDIT and subreddit is not None:
            self.fail(where, "'subreddit' is for reddit posts only")
        title = self.text(raw, "title", where)
        text = self.text(raw, "text", where)
        author = self.text(raw, "author_name", where)
        if platform is None or created_at is None:
            return None
        return ScenarioPost(
            platform=platform,
            id=ident,
            title=title,
            text=text,
            created_at=created_at,
            author_name=author,
            privacy=privacy if isinstance(privacy, str) else None,
            subreddit=subreddit if isinstance(subreddit, str) else None,
            raw=dict(raw),
        )

    def comment(
        self, index: int, raw: Any, seen: set[str], posts: Mapping[str, ScenarioPost]
    ) -> ScenarioComment | None:
        where = f"comments[{index}]"
        if self.missing(raw, _COMMENT_FIELDS, where):
            return None
        where = f"comments[{index}] (id {raw.get('id')!r})"
        ident = self.text(raw, "id", where, empty=False)
        self.unique(ident, where, seen)
        platform = self.platform(raw, where)
        created_at = self.time(raw, where)
        author_id = self.text(raw, "author_id", where, empty=False)
        author_name = self.text(raw, "author_name", where)
        text = self.text(raw, "text", where, empty=False)
        try:
            expected: Category | None = Category(raw.get("expected"))
        except ValueError:
            names = ", ".join(c.value for c in Category)
            self.fail(where, f"unknown category {raw.get('expected')!r} (expected one of {names})")
            expected = None
        parent_id = raw.get("parent_id")
        if parent_id is not None and not isinstance(parent_id, str):
            self.fail(where, "'parent_id' must be a string or null")
            parent_id = None
        post_id = raw.get("post_id")
        post = posts.get(post_id) if isinstance(post_id, str) else None
        if post is None:
            self.fail(where, f"post {post_id!r} not found")
        elif platform is not None and post.platform is not platform:
            self.fail(where, f"post {post.id!r} is on {post.platform.value}, not {platform.value}")
        elif post.privacy == "private":
            self.fail(where, f"video {post.id!r} is private; YouTube allows no comments on it")
        elif created_at is not None and created_at < post.created_at:
            self.fail(where, f"created before its post {post.id!r}")
        if platform is None or created_at is None or expected is None or post is None:
            return None
        return ScenarioComment(
            platform=platform,
            id=ident,
            post_id=post.id,
            parent_id=parent_id,
            author_id=author_id,
            author_name=author_name,
            text=text,
            created_at=created_at,
            expected=expected,
            raw=dict(raw),
        )

    def check_parents(self, comments: Mapping[str, ScenarioComment]) -> None:
        for comment in comments.values():
            if comment.parent_id is None:
                continue
            where = f"comment {comment.id!r}"
            parent = comments.get(comment.parent_id)
            if parent is None:
                self.fail(where, f"parent comment {comment.parent_id!r} not found")
            elif parent.post_id != comment.post_id:
                self.fail(where, f"parent {parent.id!r} is under another post")
            elif parent.created_at > comment.created_at:
                self.fail(where, f"created before its parent {parent.id!r}")
