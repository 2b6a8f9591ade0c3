"""Reddit mentions of the school through PRAW (a script app).

Each poll is bounded (at most ``reddit_max_pages`` pages per listing, never a
stream): it searches the configured subreddits (and, if the channel says so,
all of Reddit) for the school's name and aliases, newest first, back to the
cursor; and reads the subreddits' new-comment listing back to the cursor,
keeping comments that name the school or sit under a submission that does.
Matching submissions are yielded as comments too (``thread_id`` is their own
fullname). Moderation (remove/approve) only where the account moderates the
subreddit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, ClassVar

import praw
import prawcore
import requests
from praw.exceptions import PRAWException
from praw.models import Comment as RedditComment
from praw.models import Submission

from config.policy import Channel, School
from connectors.cursor import Position
from connectors.polling import ODD_DATA, PollingConnector
from connectors.settings import ConnectorSettings
from core.errors import (
    AuthError,
    ConnectorError,
    PermissionMissing,
    RateLimited,
    SkippableItem,
    TransientError,
)
from core.models import Action, ActionResult, Comment, Platform

log = logging.getLogger(__name__)

WATCHED_THREADS = 300
FIX_AUTH = (
    "Reddit refused the script app's credentials ({code}). Check REDDIT_CLIENT_ID, "
    "REDDIT_CLIENT_SECRET, REDDIT_USERNAME and REDDIT_PASSWORD (run `schoolwatch connect "
    "reddit`); if the account has two-factor authentication, use a dedicated account without "
    "it. Reddit monitoring is paused until then."
)


def map_reddit_error(exc: Exception) -> ConnectorError:
    """Map PRAW / prawcore exceptions to :mod:`core.errors`."""
    p = Platform.REDDIT.value
    if isinstance(exc, prawcore.OAuthException):
        code = str(getattr(exc, "error", "") or "oauth")
        return AuthError(
            "Reddit refused the credentials", platform=p, code=code, fix=FIX_AUTH.format(code=code)
        )
    if isinstance(exc, prawcore.TooManyRequests):
        headers = exc.response.headers
        reset = headers.get("x-ratelimit-reset") or headers.get("retry-after") or "60"
        return RateLimited(
            "Reddit rate limit reached",
            platform=p,
            code="429",
            retry_after=float(reset) if reset.isdigit() else 60.0,
        )
    if isinstance(exc, prawcore.BadJSON):
        return TransientError("Reddit sent a reply that is not JSON", platform=p, code="malformed")
    if isinstance(exc, prawcore.ServerError):
        return TransientError(
            "Reddit service error", platform=p, code=str(exc.response.status_code)
        )
    if isinstance(exc, prawcore.ResponseException) and exc.response.status_code == 401:
        return AuthError(
            "Reddit rejected the token", platform=p, code="401", fix=FIX_AUTH.format(code="401")
        )
    if isinstance(exc, prawcore.Forbidden):
        return PermissionMissing(
            "Reddit refused the request",
            platform=p,
            code="403",
            fix="The Reddit account is not allowed to do this (is it a "
            "moderator of that subreddit?).",
        )
    if isinstance(exc, prawcore.NotFound):
        return SkippableItem("Reddit item not found", platform=p, code="404")
    if isinstance(exc, prawcore.RequestException):
        return TransientError("Reddit unreachable or too slow", platform=p, code="network")
    if isinstance(exc, prawcore.ResponseException):
        return TransientError(
            f"Reddit error {exc.response.status_code}",
            platform=p,
            code=str(exc.response.status_code),
        )
    return ConnectorError(f"Reddit call failed: {type(exc).__name__}", platform=p)


class _TimeoutSession(requests.Session):
    """A requests session that enforces our timeout.

    PRAW 8 never passes its own ``timeout`` setting on, and prawcore always
    sends its 16-second default, so the limit is applied here.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.limit = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        """Send the request with at most ``limit`` seconds of waiting."""
        given = kwargs.get("timeout")
        kwargs["timeout"] = min(float(given), self.limit) if given else self.limit
        return super().request(*args, **kwargs)


class RedditConnector(PollingConnector):
    """Mentions of one school in chosen subreddits (and optionally all of Reddit)."""

    platform: ClassVar[Platform] = Platform.REDDIT
    supports: ClassVar[frozenset[Action]] = frozenset({Action.HIDE, Action.UNHIDE, Action.APPROVE})
    platform_name = "reddit"

    def __init__(self, channel: Channel, school: School, settings: ConnectorSettings) -> None:
        super().__init__(channel, school, settings)
        self._session = _TimeoutSession(settings.timeout)
        kwargs: dict[str, Any] = {}
        if settings.reddit_username:
            kwargs = {
                "username": settings.reddit_username,
                "password": settings.reddit_password.get_secret_value(),
            }
        self.reddit = praw.Reddit(
            client_id=settings.reddit_client_id,
            client_secret=settings.reddit_client_secret.get_secret_value(),
            user_agent=settings.reddit_user_agent,
            oauth_url=settings.reddit_oauth_url.rstrip("/"),
            reddit_url=settings.reddit_url.rstrip("/"),
            check_for_updates=False,
            requestor_kwargs={"session": self._session},
            **kwargs,
        )
        self.names = tuple(n for n in (school.name, *school.aliases) if n.strip())
        self._lower_names = tuple(n.lower() for n in self.names)
        self.query = " OR ".join(f'"{n}"' for n in self.names)
        self._moderated: set[str] | None = None

    def close(self) -> None:
        """Close PRAW's HTTP session."""
        super().close()
        self._session.close()

    # ---- calls -----------------------------------------------------------------------

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        self.stats["api_calls"] += 1
        try:
            return self.reddit.get(path, params=params)
        except (prawcore.PrawcoreException, PRAWException) as exc:
            raise map_reddit_error(exc) from exc
        except ODD_DATA as exc:  # prawcore or PRAW's objector tripping over odd JSON
            raise self.malformed(exc, "call") from exc

    def _listing(self, path: str, params: dict[str, Any], since: float) -> list[Any]:
        """Items of a newest-first listing back to ``since`` (bounded by ``reddit_max_pages``)."""
        items: list[Any] = []
        seen: set[str] = set()
        params = {**params, "limit": self.settings.page_size}
        for _ in range(self.settings.reddit_max_pages):
            listing = self._get(path, params)
            children = list(getattr(listing, "children", []) or [])
            items += children
            stamps = [float(getattr(c, "created_utc", 0.0)) for c in children]
            after = getattr(listing, "after", None)
            if not children or not after or (stamps and min(stamps) < since):
                break
            self._guard_cursor(seen, str(after), path)
            params["after"] = after
        else:
            self.stats["listing_truncated"] += 1
            log.warning(
                "reddit: %s still had items after %d pages", path, self.settings.reddit_max_pages
            )
        self._note_duplicates([str(getattr(c, "fullname", "")) for c in items], path)
        return items

    # ---- polling ---------------------------------------------------------------------

    def _mentions(self, text: str) -> bool:
        lowered = text.lower()
        return any(n in lowered for n in self._lower_names)

    def _collect(self, position: Position, since: float) -> tuple[list[Comment], Position]:
        watched: dict[str, str] = dict(position.extra.get("threads", {}))
        found: list[Comment] = []
        subs = list(self.channel.subreddits)
        search = {"q": self.query, "sort": "new", "t": "all", "syntax": "lucene"}
        paths = [(f"/r/{s}/search", {**search, "restrict_sr": "on"}) for s in subs]
        if self.channel.search_all:
            paths.append(("/r/all/search", search))
        for path, params in paths:
            for sub in self._listing(path, params, since):
                if isinstance(sub, Submission):
                    comment = self._from_submission(sub)
                    if comment is not None:
                        watched[comment.external_id] = comment.thread_title
                        found.append(comment)
        if subs:
            for item in self._listing(f"/r/{'+'.join(subs)}/comments", {}, since):
                if not isinstance(item, RedditComment):
                    continue
                comment = self._from_comment(item, watched)
                if comment is not None and (
                    comment.thread_id in watched or self._mentions(comment.text)
                ):
                    found.append(comment)
        keep = dict(list(watched.items())[-WATCHED_THREADS:])
        return found, position.with_extra(threads=keep)

    def _from_submission(self, sub: Submission) -> Comment | None:
        try:
            title = str(sub.title)
            author = sub.author
            return Comment(
                school_id=self.school.id,
                platform=Platform.REDDIT,
                external_id=str(sub.fullname),
                thread_id=str(sub.fullname),
                parent_id=None,
                author_id=str(getattr(sub, "author_fullname", "") or ""),
                author_name=str(author.name) if author is not None else "",
                text=f"{title}\n\n{sub.selftext}".strip(),
                created_at=datetime.fromtimestamp(float(sub.created_utc), UTC),
                permalink=f"https://www.reddit.com{sub.permalink}",
                raw={
                    "name": sub.fullname,
                    "subreddit": str(sub.subreddit),
                    "created_utc": sub.created_utc,
                    "permalink": sub.permalink,
                },
                thread_title=title,
            )
        except (AttributeError, TypeError, ValueError):
            self._skip("malformed submission", str(getattr(sub, "id", "")))
            return None

    def _from_comment(self, c: RedditComment, watched: dict[str, str]) -> Comment | None:
        try:
            parent = str(c.parent_id)
            link = str(c.link_id)
            author = c.author
            return Comment(
                school_id=self.school.id,
                platform=Platform.REDDIT,
                external_id=str(c.fullname),
                thread_id=link,
                parent_id=parent if parent.startswith("t1_") else None,
                author_id=str(getattr(c, "author_fullname", "") or ""),
                author_name=str(author.name) if author is not None else "",
                text=str(c.body),
                created_at=datetime.fromtimestamp(float(c.created_utc), UTC),
                permalink=f"https://www.reddit.com{c.permalink}",
                raw={
                    "name": c.fullname,
                    "subreddit": str(c.subreddit),
                    "link_id": link,
                    "parent_id": parent,
                    "created_utc": c.created_utc,
                },
                thread_title=str(getattr(c, "link_title", "") or watched.get(link, "")),
            )
        except (AttributeError, TypeError, ValueError):
            self._skip("malformed comment", str(getattr(c, "id", "")))
            return None

    # ---- moderation ------------------------------------------------------------------

    def moderated_subreddits(self) -> set[str]:
        """Subreddits the account moderates (lower case; read once)."""
        if self._moderated is None:
            if not self.settings.reddit_username:
                self._moderated = set()
            else:
                self.stats["api_calls"] += 1
                try:
                    self._moderated = {
                        str(s.display_name).lower()
                        for s in self.reddit.user.moderator_subreddits(limit=None)
                    }
                except (prawcore.PrawcoreException, PRAWException) as exc:
                    raise map_reddit_error(exc) from exc
                except ODD_DATA as exc:
                    raise self.malformed(exc, "moderator list") from exc
        return self._moderated

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        """Remove (``hide``) or approve (``unhide``/``approve``) where the account moderates."""
        if action not in self.supports:
            raise PermissionMissing(
                f"Reddit cannot {action.value}",
                platform="reddit",
                code="unsupported",
                fix="Use hide (remove) or approve.",
            )
        if not external_id.startswith(("t1_", "t3_")):
            raise SkippableItem(
                f"not a Reddit comment or submission: {external_id}",
                platform="reddit",
                code="bad_id",
            )
        try:
            self.stats["api_calls"] += 1
            found = list(self.reddit.info(fullnames=[external_id]))  # one /api/info call
            if not found:
                raise SkippableItem("Reddit item not found", platform="reddit", code="404")
            thing = found[0]
            if not isinstance(thing, RedditComment | Submission):
                raise SkippableItem("not a comment or submission", platform="reddit", code="bad_id")
            subreddit = str(thing.subreddit.display_name).lower()
            if not self.channel.moderated or subreddit not in self.moderated_subreddits():
                raise PermissionMissing(
                    f"not a moderator of r/{subreddit}",
                    platform="reddit",
                    code="not_moderator",
                    fix=f"u/{self.settings.reddit_username or '?'} is not a moderator of "
                    f"r/{subreddit}: report the comment to Reddit instead, or ask that "
                    "subreddit's moderators.",
                )
            self.stats["api_calls"] += 1
            if action is Action.HIDE:
                thing.mod.remove()
            else:
                thing.mod.approve()
        except (prawcore.PrawcoreException, PRAWException) as exc:
            raise map_reddit_error(exc) from exc
        except ODD_DATA as exc:  # prawcore or PRAW's objector tripping over odd JSON
            raise self.malformed(exc, "call") from exc
        self.stats[f"actions.{action.value}"] += 1
        log.info("reddit %s on %s", action.value, external_id)
        return ActionResult(ok=True, action=action, external_id=external_id)

    def check(self) -> dict[str, Any]:
        """Who the app runs as and what it moderates (for ``connect``)."""
        try:
            me = self.reddit.user.me() if self.settings.reddit_username else None
        except (prawcore.PrawcoreException, PRAWException) as exc:
            raise map_reddit_error(exc) from exc
        except ODD_DATA as exc:  # prawcore or PRAW's objector tripping over odd JSON
            raise self.malformed(exc, "call") from exc
        return {
            "user": str(me) if me is not None else "(read-only)",
            "moderates": sorted(self.moderated_subreddits()),
            "query": self.query,
        }
