"""An in-memory connector that serves a scenario file, for the demo and the tests.

``ScenarioConnector(scenario, Platform.FACEBOOK, "hollybrook")`` behaves like
a platform connector for one platform of a :class:`Scenario`: it pages
through the comments oldest first with a resumable cursor, records
moderation actions, lets a test post a new comment, and can be told to fail
the next fetches with a given :mod:`core.errors` exception.

The cursor is JSON ``{"t": "<ISO time>", "id": "<last id>"}``: the next batch
holds the comments strictly after ``(t, id)`` in ``(created_at, id)`` order.
"""

from __future__ import annotations

import bisect
import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from connectors.scenarios import (
    Scenario,
    ScenarioComment,
    ScenarioPost,
    demo_scenario_path,
    format_utc,
    parse_utc,
)
from core.clock import ensure_utc, utc_now
from core.errors import ConnectorError
from core.models import Action, ActionResult, Batch, Category, Comment, Platform

__all__ = [
    "FacebookScenarioConnector",
    "ModeratedRedditScenarioConnector",
    "RedditScenarioConnector",
    "Scenario",
    "ScenarioComment",
    "ScenarioConnector",
    "ScenarioPost",
    "YouTubeScenarioConnector",
    "demo_scenario_path",
]

log = logging.getLogger(__name__)

# The state a comment is left in by each action, per platform.
_RESULT_STATE: Mapping[Action, str] = {
    Action.HIDE: "hidden",
    Action.UNHIDE: "visible",
    Action.DELETE: "deleted",
    Action.APPROVE: "approved",
    Action.HOLD_FOR_REVIEW: "held",
}


class ScenarioConnector:
    """Serves one platform of a scenario as a :class:`connectors.base.Connector`.

    Calling ``ScenarioConnector(scenario, platform, school_id)`` returns the
    subclass for ``platform`` (each has its own ``platform`` and ``supports``
    class variables, as the protocol requires).

    Args:
        scenario: The loaded scenario.
        platform: Which of its platforms to serve.
        school_id: The school the comments belong to.
        moderated: Reddit only: the school moderates the subreddit, so
            DELETE (remove) and APPROVE are supported.
    """

    platform: ClassVar[Platform]
    supports: ClassVar[frozenset[Action]]

    def __new__(
        cls,
        scenario: Scenario,
        platform: Platform,
        school_id: str,
        *,
        moderated: bool = False,
    ) -> ScenarioConnector:
        if cls is ScenarioConnector:
            chosen: type[ScenarioConnector]
            if platform is Platform.FACEBOOK:
                chosen = FacebookScenarioConnector
            elif platform is Platform.YOUTUBE:
                chosen = YouTubeScenarioConnector
            elif moderated:
                chosen = ModeratedRedditScenarioConnector
            else:
                chosen = RedditScenarioConnector
            return super().__new__(chosen)
        return super().__new__(cls)

    def __init__(
        self,
        scenario: Scenario,
        platform: Platform,
        school_id: str,
        *,
        moderated: bool = False,
    ) -> None:
        if platform is not self.platform:
            raise ValueError(f"{type(self).__name__} serves {self.platform.value}, not {platform}")
        if moderated and self.platform is not Platform.REDDIT:
            raise ValueError("moderated=True is for reddit only")
        self.scenario = scenario
        self.school_id = school_id
        self.moderated = moderated
        self._posts: dict[str, ScenarioPost] = {p.id: p for p in scenario.posts_for(platform)}
        self._comments: list[ScenarioComment] = list(scenario.comments_for(platform))
        self._ids: set[str] = {p.id for p in scenario.posts} | {c.id for c in scenario.comments}
        self._states: dict[str, str] = {}
        self._failures: list[Exception] = []
        self.actions: list[tuple[Action, str]] = []
        self.fetch_calls = 0

    # -- the Connector protocol -------------------------------------------------

    def fetch_since(self, cursor: str | None, *, limit: int = 500) -> Batch:
        """Comments strictly after ``cursor``, oldest first, at most ``limit``.

        Deleted comments are skipped and reported in ``Batch.removed``.

        Raises:
            ConnectorError: The cursor is malformed, or ``limit`` is below 1.
            Exception: Whatever :meth:`fail_next` queued.
        """
        self.fetch_calls += 1
        if self._failures:
            exc = self._failures.pop(0)
            log.info("scenario %s: injected failure %s", self.platform.value, type(exc).__name__)
            raise exc
        if limit < 1:
            raise ConnectorError("limit must be at least 1", platform=self.platform.value)
        after = self._parse_cursor(cursor)
        start = (
            0
            if after is None
            else bisect.bisect_right(self._comments, after, key=lambda c: c.sort_key)
        )
        chosen: list[Comment] = []
        removed: list[str] = []
        last: ScenarioComment | None = None
        more = False
        for item in self._comments[start:]:
            if self._states.get(item.id) == "deleted":
                removed.append(item.id)
                last = item
                continue
            if len(chosen) == limit:
                more = True
                break
            chosen.append(self._to_comment(item))
            last = item
        new_cursor = cursor if last is None else self._cursor(last)
        log.debug(
            "scenario %s: %d comments, %d removed, more=%s",
            self.platform.value,
            len(chosen),
            len(removed),
            more,
        )
        return Batch(comments=tuple(chosen), cursor=new_cursor, more=more, removed=tuple(removed))

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        """Record a moderation action on a comment.

        Raises:
            ConnectorError: The action is not supported here (code
                ``unsupported``) or the comment does not exist or was deleted
                (code ``not_found``).
        """
        if action not in self.supports:
            raise ConnectorError(
                f"{action.value} is not supported on {self.platform.value}",
                platform=self.platform.value,
                code="unsupported",
            )
        exists = any(c.id == external_id for c in self._comments)
        if not exists or self.state(external_id) == "deleted":
            raise ConnectorError(
                f"comment {external_id} not found", platform=self.platform.value, code="not_found"
            )
        state = _RESULT_STATE[action]
        self._states[external_id] = state
        self.actions.append((action, external_id))
        log.info("scenario %s: %s on %s", self.platform.value, action.value, external_id)
        return ActionResult(ok=True, action=action, external_id=external_id, detail=state)

    # -- test hooks -------------------------------------------------------------

    def state(self, external_id: str) -> str:
        """``visible`` unless an action changed it: hidden, held, approved or deleted."""
        return self._states.get(external_id, "visible")

    def fail_next(self, exc: Exception, times: int = 1) -> None:
        """Make the next ``times`` calls of :meth:`fetch_since` raise ``exc``."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._failures.extend([exc] * times)

    def add_comment(
        self,
        *,
        post_id: str,
        text: str,
        author_id: str = "test-author",
        author_name: str = "Test Author",
        parent_id: str | None = None,
        created_at: datetime | None = None,
        comment_id: str | None = None,
        expected: Category | str = Category.BENIGN,
    ) -> Comment:
        """Post a new comment, as if someone had just written it.

        Args:
            post_id: A post of this connector's platform.
            text: The comment text.
            author_id: The author's platform id.
            author_name: The author's display name.
            parent_id: A comment under the same post to reply to.
            created_at: When it was written; defaults to ``core.clock.utc_now()``.
            comment_id: Its id; a fresh unique one by default.
            expected: The label it is meant to get (a category or its name; kept in ``raw``).

        Returns:
            The comment as :meth:`fetch_since` will serve it.

        Raises:
            ValueError: Unknown post, parent or category, duplicate id, or a private video.
        """
        label = Category(expected)
        post = self._posts.get(post_id)
        if post is None:
            raise ValueError(f"no {self.platform.value} post {post_id!r} in this scenario")
        if post.privacy == "private":
            raise ValueError(f"video {post_id!r} is private; YouTube allows no comments on it")
        if parent_id is not None and not any(
            c.id == parent_id and c.post_id == post_id for c in self._comments
        ):
            raise ValueError(f"no comment {parent_id!r} under post {post_id!r}")
        ident = comment_id or self._fresh_id(post_id)
        if ident in self._ids:
            raise ValueError(f"duplicate id {ident!r}")
        when = ensure_utc(created_at) if created_at is not None else utc_now()
        raw: dict[str, Any] = {
            "platform": self.platform.value,
            "id": ident,
            "post_id": post_id,
            "parent_id": parent_id,
            "author_id": author_id,
            "author_name": author_name,
            "text": text,
            "created_at": format_utc(when),
            "expected": label.value,
        }
        item = ScenarioComment(
            platform=self.platform,
            id=ident,
            post_id=post_id,
            parent_id=parent_id,
            author_id=author_id,
            author_name=author_name,
            text=text,
            created_at=when,
            expected=label,
            raw=raw,
        )
        bisect.insort(self._comments, item, key=lambda c: c.sort_key)
        self._ids.add(ident)
        return self._to_comment(item)

    def comment_count(self) -> int:
        """How many comments this connector holds, deleted ones included."""
        return len(self._comments)

    # -- internals --------------------------------------------------------------

    def _fresh_id(self, post_id: str) -> str:
        n = len(self._comments) + 1
        while f"{post_id}-new{n}" in self._ids:
            n += 1
        return f"{post_id}-new{n}"

    @staticmethod
    def _cursor(item: ScenarioComment) -> str:
        return json.dumps({"t": format_utc(item.created_at), "id": item.id})

    def _parse_cursor(self, cursor: str | None) -> tuple[datetime, str] | None:
        if cursor is None:
            return None
        try:
            data = json.loads(cursor)
            when = parse_utc(data["t"])
            ident = data["id"]
            if not isinstance(ident, str):
                raise TypeError("id is not a string")
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorError(
                f"malformed cursor: {exc}", platform=self.platform.value, code="bad_cursor"
            ) from exc
        return (when, ident)

    def _permalink(self, post: ScenarioPost, comment_id: str) -> str:
        if self.platform is Platform.FACEBOOK:
            return (
                f"https://www.facebook.example/{self.school_id}/posts/{post.id}"
                f"?comment_id={comment_id}"
            )
        if self.platform is Platform.YOUTUBE:
            return f"https://www.youtube.example/watch?v={post.id}&lc={comment_id}"
        return f"https://www.reddit.example/r/{post.subreddit}/comments/{post.id}/_/{comment_id}/"

    def _to_comment(self, item: ScenarioComment) -> Comment:
        post = self._posts[item.post_id]
        title = "\n\n".join(part for part in (post.title, post.text) if part)
        return Comment(
            school_id=self.school_id,
            platform=self.platform,
            external_id=item.id,
            thread_id=post.id,
            parent_id=item.parent_id,
            author_id=item.author_id,
            author_name=item.author_name,
            text=item.text,
            created_at=item.created_at,
            permalink=self._permalink(post, item.id),
            raw=dict(item.raw),
            thread_title=title,
        )


class FacebookScenarioConnector(ScenarioConnector):
    """A scenario's Facebook Page: the school can hide, unhide and delete comments."""

    platform: ClassVar[Platform] = Platform.FACEBOOK
    supports: ClassVar[frozenset[Action]] = frozenset({Action.HIDE, Action.UNHIDE, Action.DELETE})


class YouTubeScenarioConnector(ScenarioConnector):
    """A scenario's YouTube channel: hold for review, approve, or reject (DELETE)."""

    platform: ClassVar[Platform] = Platform.YOUTUBE
    supports: ClassVar[frozenset[Action]] = frozenset(
        {Action.HOLD_FOR_REVIEW, Action.APPROVE, Action.DELETE}
    )


class RedditScenarioConnector(ScenarioConnector):
    """Reddit threads the school does not moderate: watch only."""

    platform: ClassVar[Platform] = Platform.REDDIT
    supports: ClassVar[frozenset[Action]] = frozenset()


class ModeratedRedditScenarioConnector(ScenarioConnector):
    """Reddit threads in a subreddit the school moderates: remove (DELETE) and approve."""

    platform: ClassVar[Platform] = Platform.REDDIT
    supports: ClassVar[frozenset[Action]] = frozenset({Action.DELETE, Action.APPROVE})
