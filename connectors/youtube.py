"""YouTube comments through google-api-python-client (static discovery) and google-auth.

Each poll reads ``commentThreads.list(allThreadsRelatedToChannelId=...)`` for
each moderation status (published, heldForReview, likelySpam), newest first,
until it passes the cursor, fetching the rest of a thread's replies with
``comments.list(parentId=...)`` when the thread carries only some. A few
videos are also re-read in full per poll, round robin, so a new reply under an
old thread is found. Videos are listed from the uploads playlist: private ones
can have no comments, so they are counted and reported, and the unlisted and
public ones watched.

Quota: every call is charged against a daily count (reset at midnight Pacific,
kept in the cursor so a restart does not forget it). Polling stops at
``daily_quota - youtube_reserve_units`` so moderation actions (50 units each)
always have room.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import google_auth_httplib2  # type: ignore[import-untyped]
import httplib2  # type: ignore[import-untyped]
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from config.policy import Channel, School
from connectors.cursor import Position
from connectors.polling import ODD_DATA, PollingConnector
from connectors.settings import ConnectorSettings
from core.clock import utc_now
from core.errors import (
    AuthError,
    ConnectorError,
    PermissionMissing,
    QuotaExhausted,
    RateLimited,
    SkippableItem,
    TransientError,
)
from core.models import Action, ActionResult, Comment, Platform

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/youtube.force-ssl"]
STATUSES = ("published", "heldForReview", "likelySpam")
ACTION_COST = 50
_PACIFIC = ZoneInfo("America/Los_Angeles")
_VIDEO_REFRESH = timedelta(hours=6)
FIX_REFRESH = (
    "Google refused the YouTube refresh token ({code}): it has expired or was revoked. Run "
    "`schoolwatch connect youtube` and sign in with the account that owns or manages the "
    "school's channel. If the Google Cloud consent screen is 'External' in 'Testing' status, "
    "tokens expire after 7 days: publish the app (or use an Internal Workspace app) first. "
    "Polling of this channel is paused until then."
)
FIX_SCOPE = (
    "The YouTube token lacks the youtube.force-ssl scope or the account cannot manage this "
    "channel ({code}). Run `schoolwatch connect youtube` with the channel owner's account."
)


def seconds_to_quota_reset(now: datetime) -> float:
    """Seconds until midnight Pacific time, when YouTube quotas reset."""
    local = now.astimezone(_PACIFIC)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())


def quota_day(now: datetime) -> str:
    """The Pacific date a YouTube quota belongs to."""
    return now.astimezone(_PACIFIC).date().isoformat()


def parse_yt_time(value: str) -> datetime:
    """Parse ``2025-03-01T10:00:00Z`` (fractions allowed)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def map_google_error(exc: Exception) -> ConnectorError:
    """Map googleapiclient / google-auth / transport exceptions to :mod:`core.errors`."""
    p = Platform.YOUTUBE.value
    if isinstance(exc, RefreshError):
        code = "invalid_grant" if "invalid_grant" in str(exc) else "refresh_failed"
        return AuthError(
            "Google refused the refresh token",
            platform=p,
            code=code,
            fix=FIX_REFRESH.format(code=code),
        )
    if isinstance(exc, HttpError):
        status = int(exc.status_code or 0)
        details = exc.error_details if isinstance(exc.error_details, list) else []
        reason = (
            str(details[0].get("reason", "")) if details and isinstance(details[0], dict) else ""
        )
        tag = reason or str(status)
        if reason == "quotaExceeded" or reason == "dailyLimitExceeded":
            return QuotaExhausted(
                "YouTube daily quota used up",
                platform=p,
                code=tag,
                retry_after=seconds_to_quota_reset(utc_now()),
            )
        if status == 429 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            after = exc.resp.get("retry-after") if exc.resp is not None else None
            return RateLimited(
                "YouTube asked us to slow down",
                platform=p,
                code=tag,
                retry_after=float(after) if after and after.isdigit() else 60.0,
            )
        if status == 401:
            return AuthError(
                "YouTube rejected the credentials",
                platform=p,
                code=tag,
                fix=FIX_REFRESH.format(code=tag),
            )
        if reason in ("commentsDisabled", "commentNotFound", "videoNotFound", "processingFailure"):
            return SkippableItem(f"YouTube item unavailable ({reason})", platform=p, code=tag)
        if status == 404:
            return SkippableItem("YouTube item not found", platform=p, code=tag)
        if status == 403:
            return PermissionMissing(
                "YouTube refused the request", platform=p, code=tag, fix=FIX_SCOPE.format(code=tag)
            )
        if status >= 500 or reason in ("backendError", "invalidPageToken"):
            return TransientError("YouTube service error", platform=p, code=tag)
        return ConnectorError(f"YouTube request failed ({tag})", platform=p, code=tag)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TransientError("YouTube call timed out", platform=p, code="timeout")
    if isinstance(exc, ValueError):
        return TransientError("YouTube sent a reply that is not JSON", platform=p, code="malformed")
    if isinstance(exc, (TransportError, httplib2.HttpLib2Error, OSError)):
        return TransientError("YouTube unreachable", platform=p, code="network")
    return ConnectorError(f"YouTube call failed: {type(exc).__name__}", platform=p)


class YouTubeConnector(PollingConnector):
    """Comment threads and replies on one YouTube channel's videos."""

    platform: ClassVar[Platform] = Platform.YOUTUBE
    supports: ClassVar[frozenset[Action]] = frozenset(
        {
            Action.HIDE,
            Action.UNHIDE,
            Action.APPROVE,
            Action.HOLD_FOR_REVIEW,
            Action.DELETE,
            Action.REPLY,
        }
    )
    platform_name = "youtube"

    def __init__(self, channel: Channel, school: School, settings: ConnectorSettings) -> None:
        super().__init__(channel, school, settings)
        self.channel_id = channel.account_id
        self.credentials = Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=settings.google_refresh_token.get_secret_value(),
            client_id=settings.google_client_id,
            client_secret=settings.google_client_secret.get_secret_value(),
            token_uri=settings.youtube_token_url,
            scopes=SCOPES,
        )
        self._http = httplib2.Http(timeout=settings.timeout)
        http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=self._http)
        self.yt: Any = build(
            "youtube",
            "v3",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": settings.youtube_url},
        )
        self.daily_quota = channel.daily_quota
        self.poll_budget = max(0, channel.daily_quota - settings.youtube_reserve_units)

    # Quota counts and the video list outlive one connector: the runtime builds a fresh
    # connector every cycle, and the quota belongs to the whole day.
    _QUOTA: ClassVar[dict[tuple[str, ...], tuple[str, int]]] = {}
    _VIDEOS: ClassVar[dict[tuple[str, ...], tuple[datetime, dict[str, tuple[str, str]]]]] = {}

    @property
    def _quota(self) -> tuple[str, int]:
        return self._QUOTA.get(self.source_key, (quota_day(utc_now()), 0))

    @_quota.setter
    def _quota(self, value: tuple[str, int]) -> None:
        self._QUOTA[self.source_key] = value

    @property
    def videos(self) -> dict[str, tuple[str, str]]:
        """The channel's videos: id -> (title, privacyStatus)."""
        cached = self._VIDEOS.get(self.source_key)
        return cached[1] if cached else {}

    @property
    def _videos_at(self) -> datetime | None:
        cached = self._VIDEOS.get(self.source_key)
        return cached[0] if cached else None

    def close(self) -> None:
        """Close httplib2's connections."""
        super().close()
        self._http.close()

    # ---- quota -----------------------------------------------------------------------

    @property
    def units_used(self) -> int:
        """Quota units spent today (Pacific day)."""
        day = quota_day(utc_now())
        return self._quota[1] if self._quota[0] == day else 0

    def quota_status(self) -> tuple[str, int]:
        """Today's Pacific quota day and the units spent on it (see ``ReportsQuota``)."""
        return quota_day(utc_now()), self.units_used

    @property
    def private_videos(self) -> int:
        """How many of the channel's videos are private (YouTube allows no comments there)."""
        return sum(1 for _, privacy in self.videos.values() if privacy == "private")

    def _charge(self, cost: int, *, polling: bool) -> None:
        used = self.units_used
        limit = self.poll_budget if polling else self.daily_quota
        if used + cost > limit:
            self.stats["quota_refusals"] += 1
            what = "polling budget" if polling else "daily quota"
            raise QuotaExhausted(
                f"YouTube {what} reached ({used}/{limit} units)",
                platform="youtube",
                code="budget",
                retry_after=seconds_to_quota_reset(utc_now()),
            )
        self._quota = (quota_day(utc_now()), used + cost)
        self.stats["quota_units"] += cost

    def _exec(self, request: Any, cost: int = 1, *, polling: bool = True) -> Any:
        self._charge(cost, polling=polling)
        self.stats["api_calls"] += 1
        try:
            result = request.execute(num_retries=0)
            if not isinstance(result, dict) and result != "":
                self.stats["malformed_replies"] += 1
                raise TransientError(
                    "YouTube sent a reply that is not JSON", platform="youtube", code="malformed"
                )
            return result
        except (
            HttpError,
            RefreshError,
            TransportError,
            httplib2.HttpLib2Error,
            OSError,
            ValueError,
        ) as exc:
            raise map_google_error(exc) from exc
        except ODD_DATA as exc:  # google-auth or the client tripping over odd JSON
            raise self.malformed(exc, "call") from exc

    # ---- videos ----------------------------------------------------------------------

    def refresh_videos(self) -> None:
        """List the channel's uploads with their privacy status (a few units, every 6 hours)."""
        try:
            self._refresh_videos()
        except ODD_DATA as exc:
            raise self.malformed(exc, "video list") from exc

    def _refresh_videos(self) -> None:
        channels = self._exec(self.yt.channels().list(part="contentDetails", id=self.channel_id))
        items = channels.get("items") or []
        if not items:
            raise PermissionMissing(
                "YouTube channel not found",
                platform="youtube",
                code="channelNotFound",
                fix=f"Check the channel id {self.channel_id!r} in the policy.",
            )
        uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
        ids: list[str] = []
        request = self.yt.playlistItems().list(
            part="contentDetails", playlistId=uploads, maxResults=min(50, self.settings.page_size)
        )
        seen: set[str] = set()
        while request is not None:
            response = self._exec(request)
            ids += [i["contentDetails"]["videoId"] for i in response.get("items") or []]
            self._guard_cursor(seen, response.get("nextPageToken"), "playlistItems")
            request = self.yt.playlistItems().list_next(request, response)
        videos: dict[str, tuple[str, str]] = {}
        for start in range(0, len(ids), 50):
            chunk = ids[start : start + 50]
            response = self._exec(self.yt.videos().list(part="snippet,status", id=",".join(chunk)))
            for v in response.get("items") or []:
                videos[v["id"]] = (
                    str(v["snippet"].get("title", "")),
                    str(v["status"].get("privacyStatus", "public")),
                )
        self._VIDEOS[self.source_key] = (utc_now(), videos)
        log.info(
            "youtube channel %s: %d videos, %d private (YouTube allows no comments on "
            "private videos), watching %d",
            self.channel_id,
            len(videos),
            self.private_videos,
            len(videos) - self.private_videos,
        )

    # ---- polling ---------------------------------------------------------------------

    def _collect(self, position: Position, since: float) -> tuple[list[Comment], Position]:
        extra = position.extra
        if extra.get("qd") == quota_day(utc_now()):
            self._quota = (str(extra["qd"]), max(self.units_used, int(extra.get("qu", 0))))
        if self._videos_at is None or utc_now() - self._videos_at > _VIDEO_REFRESH:
            self.refresh_videos()
        found: list[Comment] = []
        for status in STATUSES:
            found += self._threads(
                {
                    "allThreadsRelatedToChannelId": self.channel_id,
                    "moderationStatus": status,
                    "order": "time",
                },
                since,
            )
        watched = sorted(v for v, (_, privacy) in self.videos.items() if privacy != "private")
        sweep = int(extra.get("sweep", 0))
        count = min(len(watched), self.settings.youtube_sweep_videos)
        for k in range(count):
            video = watched[(sweep + k) % len(watched)]
            try:
                found += self._threads({"videoId": video}, None)
            except SkippableItem:
                self._skip("video unavailable during the sweep", video)
        next_sweep = (sweep + count) % len(watched) if watched else 0
        day, used = self._quota
        log.info("youtube channel %s: %d units used today", self.channel_id, used)
        return found, position.with_extra(sweep=next_sweep, qd=day, qu=used)

    def _threads(self, query: dict[str, str], since: float | None) -> list[Comment]:
        """Threads matching ``query``, newest first, stopping once past ``since``."""
        found: list[Comment] = []
        ids: list[str] = []
        request = self.yt.commentThreads().list(
            part="snippet,replies",
            maxResults=self.settings.page_size,
            textFormat="plainText",
            **query,
        )
        seen: set[str] = set()
        while request is not None:
            response = self._exec(request)
            oldest: float | None = None
            for thread in response.get("items") or []:
                ids.append(str(thread.get("id")))
                try:
                    found += self._thread_comments(thread)
                    top = thread["snippet"]["topLevelComment"]["snippet"]["publishedAt"]
                    stamp = parse_yt_time(top).timestamp()
                    oldest = stamp if oldest is None else min(oldest, stamp)
                except (KeyError, TypeError, ValueError):
                    self._skip("malformed comment thread", str(thread.get("id", "")))
            if since is not None and oldest is not None and oldest < since:
                break
            self._guard_cursor(seen, response.get("nextPageToken"), "commentThreads")
            request = self.yt.commentThreads().list_next(request, response)
        self._note_duplicates(ids, "commentThreads")
        return found

    def _thread_comments(self, thread: dict[str, Any]) -> list[Comment]:
        snippet = thread["snippet"]
        video = str(snippet["videoId"])
        top = snippet["topLevelComment"]
        out = [self._to_comment(top, video, None)]
        inline = (thread.get("replies") or {}).get("comments") or []
        total = int(snippet.get("totalReplyCount", 0))
        if total > len(inline):
            inline = self._replies(str(top["id"]))
        out += [self._to_comment(r, video, str(top["id"])) for r in inline]
        return [c for c in out if c is not None]

    def _replies(self, parent_id: str) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        request = self.yt.comments().list(
            part="snippet",
            parentId=parent_id,
            maxResults=self.settings.page_size,
            textFormat="plainText",
        )
        seen: set[str] = set()
        while request is not None:
            response = self._exec(request)
            replies += [r for r in response.get("items") or [] if isinstance(r, dict)]
            self._guard_cursor(seen, response.get("nextPageToken"), "comments")
            request = self.yt.comments().list_next(request, response)
        return replies

    def _to_comment(self, item: dict[str, Any], video: str, parent: str | None) -> Comment | None:
        try:
            s = item["snippet"]
            cid = str(item["id"])
            return Comment(
                school_id=self.school.id,
                platform=Platform.YOUTUBE,
                external_id=cid,
                thread_id=video,
                parent_id=parent or s.get("parentId"),
                author_id=str((s.get("authorChannelId") or {}).get("value", "")),
                author_name=str(s.get("authorDisplayName", "")),
                text=str(s.get("textOriginal") or s.get("textDisplay") or ""),
                created_at=parse_yt_time(str(s["publishedAt"])),
                permalink=f"https://www.youtube.com/watch?v={video}&lc={cid}",
                raw={"id": cid, "snippet": s},
                thread_title=self.videos.get(video, ("", ""))[0],
            )
        except (KeyError, TypeError, ValueError):
            self._skip("malformed comment", str(item.get("id", "")))
            return None

    # ---- moderation ------------------------------------------------------------------

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        """Moderate one comment (50 quota units, taken from the reserve if need be).

        ``hide`` sets ``rejected``, ``unhide``/``approve`` set ``published``,
        ``hold_for_review`` sets ``heldForReview``; ``delete`` calls
        ``comments.delete``; ``reply`` inserts a reply in the thread.
        """
        comments = self.yt.comments()
        status = {
            Action.HIDE: "rejected",
            Action.UNHIDE: "published",
            Action.APPROVE: "published",
            Action.HOLD_FOR_REVIEW: "heldForReview",
        }
        if action in status:
            request = comments.setModerationStatus(id=external_id, moderationStatus=status[action])
        elif action is Action.DELETE:
            request = comments.delete(id=external_id)
        elif action is Action.REPLY:
            body = {"snippet": {"parentId": external_id.split(".")[0], "textOriginal": text}}
            request = comments.insert(part="snippet", body=body)
        else:
            raise PermissionMissing(
                f"YouTube cannot {action.value}",
                platform="youtube",
                code="unsupported",
                fix="Choose another action.",
            )
        started = time.monotonic()
        result = self._exec(request, ACTION_COST, polling=False)
        self.stats[f"actions.{action.value}"] += 1
        log.info("youtube %s on %s in %.2fs", action.value, external_id, time.monotonic() - started)
        detail = f"reply {result.get('id')}" if isinstance(result, dict) and result else ""
        return ActionResult(ok=True, action=action, external_id=external_id, detail=detail)

    def check(self) -> dict[str, Any]:
        """Refresh the token and list the channel's videos (for ``connect``)."""
        self.refresh_videos()
        return {
            "channel": self.channel_id,
            "videos": len(self.videos),
            "private": self.private_videos,
            "units_used": self.units_used,
            "scopes": json.dumps(SCOPES),
        }
