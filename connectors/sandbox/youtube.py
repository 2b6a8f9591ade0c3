"""A fake YouTube Data API v3 (comments, videos, quota) and Google OAuth token endpoint."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus, urlencode
from zoneinfo import ZoneInfo

from connectors.sandbox.faults import FaultMode, Faults
from connectors.sandbox.http import Request, Response
from connectors.sandbox.paging import paginate
from connectors.sandbox.world import Comment, Post, World

COSTS = {
    ("GET", "commentThreads"): 1,
    ("GET", "comments"): 1,
    ("GET", "channels"): 1,
    ("GET", "playlistItems"): 1,
    ("GET", "videos"): 1,
    ("POST", "comments/setModerationStatus"): 50,
    ("POST", "comments/markAsSpam"): 50,
    ("DELETE", "comments"): 50,
    ("POST", "comments"): 50,
}
_PACIFIC = ZoneInfo("America/Los_Angeles")
REPLIES_IN_THREAD = 5


def yt_time(value: datetime) -> str:
    """RFC 3339 time as YouTube writes it."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def google_error(
    status: int, reason: str, message: str, domain: str = "youtube.api", **headers: str
) -> Response:
    """A Google API error body."""
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
        }
    }
    return Response.json(body, status, **headers)


class YouTubeApi:
    """Routes ``/youtube/v3/...``, ``/token`` and ``/o/oauth2/auth``."""

    def __init__(
        self,
        world: World,
        faults: Faults,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        daily_quota: int = 10_000,
    ) -> None:
        self.world = world
        self.faults = faults
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.daily_quota = daily_quota
        self.units_used = 0
        self.calls = 0
        self.echo: set[str] = set()
        self._quota_day = ""
        self._tokens: dict[str, datetime] = {}
        self._refresh_dead = 0
        self._codes: set[str] = set()
        self._lock = threading.Lock()

    # ---- OAuth -----------------------------------------------------------------------

    def authorize(self, request: Request) -> Response:
        """``/o/oauth2/auth``: consent is given at once; redirect back with a code."""
        code = "4/sandbox-" + secrets.token_hex(8)
        self._codes.add(code)
        target = request.arg("redirect_uri") or ""
        query = {"code": code, "scope": request.arg("scope") or ""}
        if request.arg("state"):
            query["state"] = request.arg("state") or ""
        return Response(302, b"", {"Location": f"{target}?{urlencode(query)}"})

    def token(self, request: Request) -> Response:
        """``POST /token``: refresh-token and authorization-code grants."""
        grant = request.arg("grant_type")
        client_id, client_secret = request.arg("client_id"), request.arg("client_secret")
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):  # RFC 6749 client authentication, as Google accepts
            try:
                decoded = base64.b64decode(auth[6:]).decode()
            except ValueError:
                decoded = ":"
            client_id, _, client_secret = (unquote_plus(p) for p in decoded.partition(":"))
        if client_id != self.client_id or client_secret != self.client_secret:
            return Response.json(
                {"error": "invalid_client", "error_description": "The OAuth client was not found."},
                401,
            )
        with self._lock:
            if grant == "refresh_token":
                if self._refresh_dead > 0 or request.arg("refresh_token") != self.refresh_token:
                    self._refresh_dead = max(0, self._refresh_dead - 1)
                    return Response.json(
                        {
                            "error": "invalid_grant",
                            "error_description": "Token has been expired or revoked.",
                        },
                        400,
                    )
                extra: dict[str, Any] = {}
            elif grant == "authorization_code" and request.arg("code") in self._codes:
                self._codes.discard(request.arg("code") or "")
                extra = {"refresh_token": self.refresh_token}
            else:
                return Response.json(
                    {"error": "invalid_grant", "error_description": "Bad Request"}, 400
                )
            access = "ya29.sandbox-" + secrets.token_hex(12)
            self._tokens[access] = self.world.now() + timedelta(seconds=3599)
        return Response.json(
            {
                "access_token": access,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
                **extra,
            }
        )

    def _authorised(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > self.world.now()

    # ---- quota -----------------------------------------------------------------------

    def _charge(self, cost: int) -> bool:
        day = self.world.now().astimezone(_PACIFIC).date().isoformat()
        with self._lock:
            if day != self._quota_day:
                self._quota_day, self.units_used = day, 0
            if self.units_used + cost > self.daily_quota:
                return False
            self.units_used += cost
            return True

    # ---- API -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one ``/youtube/v3/...`` request."""
        self.calls += 1
        resource = request.path.removeprefix("/youtube/v3/").strip("/")
        cost = COSTS.get((request.method, resource), 1)
        listing = request.method == "GET" and resource in ("commentThreads", "comments")
        fault = self.faults.take("youtube", request.path, listing=listing)
        mode = fault[0] if fault else None
        if mode is FaultMode.EXPIRED_TOKEN:
            with self._lock:
                self._tokens.clear()
                self._refresh_dead += 1
        if not self._authorised(request):
            return google_error(
                401,
                "authError",
                "Request had invalid authentication credentials. Expected OAuth 2 access token.",
                "global",
                WWW_Authenticate='Bearer realm="https://accounts.google.com/"',
            )
        if mode is FaultMode.QUOTA or not self._charge(cost):
            return google_error(
                403,
                "quotaExceeded",
                "The request cannot be completed because "
                'you have exceeded your <a href="/youtube/v3/getting-started#'
                'quota">quota</a>.',
                "youtube.quota",
            )
        if mode is FaultMode.SERVER_ERROR:
            return google_error(503, "backendError", "Backend Error", "global")
        if mode is FaultMode.THROTTLE:
            return google_error(
                429, "rateLimitExceeded", "Too many requests.", "youtube.quota", Retry_After="2"
            )
        if mode is FaultMode.MALFORMED:
            return Response(
                200,
                b'{"kind": "youtube#commentThreadListResponse", "items": [{',
                {"Content-Type": "application/json; charset=UTF-8"},
            )
        with self.world.lock:
            response = self._route(request, resource, mode)
        if mode is FaultMode.SLOW and fault is not None:
            response.delay = fault[1]
        return response

    def _route(self, request: Request, resource: str, mode: FaultMode | None) -> Response:
        method = request.method
        if method == "GET" and resource == "commentThreads":
            return self._threads(request, mode)
        if method == "GET" and resource == "comments":
            return self._comments(request, mode)
        if method == "GET" and resource == "channels":
            return self._channels(request)
        if method == "GET" and resource == "playlistItems":
            return self._playlist(request)
        if method == "GET" and resource == "videos":
            return self._videos(request)
        if method == "POST" and resource == "comments/setModerationStatus":
            return self._moderate(request)
        if method == "DELETE" and resource == "comments":
            return self._delete(request)
        if method == "POST" and resource == "comments":
            return self._insert(request)
        return google_error(404, "notFound", "Not Found", "global")

    def _videos_list(self) -> list[Post]:
        videos = [p for p in self.world.posts.values() if p.platform == "youtube"]
        return sorted(videos, key=lambda p: (p.created_at, p.seq), reverse=True)

    def _channels(self, request: Request) -> Response:
        ids = request.args("id")
        if ids and self.world.channel_id not in ids:
            items: list[dict[str, Any]] = []
        else:
            items = [
                {
                    "kind": "youtube#channel",
                    "etag": "chEtag",
                    "id": self.world.channel_id,
                    "snippet": {"title": self.world.page_name},
                    "contentDetails": {
                        "relatedPlaylists": {"uploads": "UU" + self.world.channel_id[2:]}
                    },
                    "status": {"privacyStatus": "public"},
                }
            ]
        return Response.json(
            {
                "kind": "youtube#channelListResponse",
                "etag": "e",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
                "items": items,
            }
        )

    def _playlist(self, request: Request) -> Response:
        if request.arg("playlistId") != "UU" + self.world.channel_id[2:]:
            return google_error(404, "playlistNotFound", "The playlist could not be found.")
        limit = max(1, min(50, int(request.arg("maxResults") or 5)))
        try:
            page = paginate(
                self._videos_list(),
                lambda p: (p.created_at.isoformat(), p.seq),
                token=request.arg("pageToken"),
                limit=limit,
                descending=True,
            )
        except ValueError:
            return google_error(400, "invalidPageToken", "The page token is not valid.")
        items = [
            {
                "kind": "youtube#playlistItem",
                "etag": "pl",
                "id": "PLI" + v.pid,
                "contentDetails": {"videoId": v.pid, "videoPublishedAt": yt_time(v.created_at)},
                "status": {"privacyStatus": v.privacy},
            }
            for v in page.items
        ]
        return self._list("youtube#playlistItemListResponse", items, page.next_token, limit)

    def _videos(self, request: Request) -> Response:
        wanted = set(request.args("id"))
        items = [
            {
                "kind": "youtube#video",
                "etag": "v",
                "id": v.pid,
                "snippet": {
                    "title": v.title,
                    "description": v.text,
                    "publishedAt": yt_time(v.created_at),
                    "channelId": self.world.channel_id,
                },
                "status": {"privacyStatus": v.privacy},
            }
            for v in self._videos_list()
            if v.pid in wanted
        ]
        return self._list("youtube#videoListResponse", items, None, 50)

    def _list(
        self,
        kind: str,
        items: list[dict[str, Any]],
        token: str | None,
        limit: int,
        total: int | None = None,
    ) -> Response:
        body: dict[str, Any] = {
            "kind": kind,
            "etag": "etag",
            "pageInfo": {
                "totalResults": total if total is not None else len(items),
                "resultsPerPage": limit,
            },
            "items": items,
        }
        if token:
            body["nextPageToken"] = token
        return Response.json(body)

    def _visible_video(self, pid: str) -> bool:
        post = self.world.posts.get(pid)
        return post is not None and post.platform == "youtube" and post.privacy != "private"

    def _replies(self, top: Comment) -> list[Comment]:
        return sorted(
            (c for c in self.world.children_of(top.pid) if c.status == "published"),
            key=lambda c: (c.created_at, c.seq),
        )

    def _threads(self, request: Request, mode: FaultMode | None) -> Response:
        status = request.arg("moderationStatus") or "published"
        video = request.arg("videoId")
        ids = set(request.args("id"))
        channel = request.arg("allThreadsRelatedToChannelId") or request.arg("channelId")
        if video is not None and not self._visible_video(video):
            return google_error(
                403,
                "commentsDisabled",
                "The video identified by the videoId parameter has disabled comments.",
                "youtube.commentThread",
            )
        if channel is not None and channel != self.world.channel_id:
            return google_error(404, "channelNotFound", "The channel could not be found.")
        tops = [
            c
            for c in self.world.comments.values()
            if c.platform == "youtube"
            and c.parent_pid is None
            and not c.deleted
            and self._visible_video(c.post_pid)
            and (c.pid in ids if ids else c.status == status)
            and (video is None or c.post_pid == video)
        ]
        tops.sort(key=lambda c: (c.created_at, c.seq), reverse=True)
        limit = max(1, min(100, int(request.arg("maxResults") or 20)))
        try:
            page = paginate(
                tops,
                lambda c: (c.created_at.isoformat(), c.seq),
                token=request.arg("pageToken"),
                limit=limit,
                descending=True,
                fault=mode,
                echo=self.echo,
                delete=lambda c: self.world.delete(c.pid),
            )
        except ValueError:
            return google_error(400, "invalidPageToken", "The page token is not valid.")
        parts = set(request.args("part"))
        items = []
        for top in page.items:
            replies = self._replies(top)
            thread: dict[str, Any] = {
                "kind": "youtube#commentThread",
                "etag": "t",
                "id": top.pid,
                "snippet": {
                    "channelId": self.world.channel_id,
                    "videoId": top.post_pid,
                    "canReply": True,
                    "totalReplyCount": len(replies),
                    "isPublic": True,
                    "topLevelComment": self._comment_json(top),
                },
            }
            if "replies" in parts and replies:
                thread["replies"] = {
                    "comments": [self._comment_json(r) for r in replies[:REPLIES_IN_THREAD]]
                }
            items.append(thread)
        return self._list(
            "youtube#commentThreadListResponse", items, page.next_token, limit, len(tops)
        )

    def _comments(self, request: Request, mode: FaultMode | None) -> Response:
        parent = request.arg("parentId")
        ids = set(request.args("id"))
        if parent is not None:
            top = self.world.comments.get(parent)
            chosen = self._replies(top) if top is not None and not top.deleted else []
        else:
            chosen = [c for c in self.world.comments.values() if c.pid in ids and not c.deleted]
        limit = max(1, min(100, int(request.arg("maxResults") or 20)))
        try:
            page = paginate(
                chosen,
                lambda c: (c.created_at.isoformat(), c.seq),
                token=request.arg("pageToken"),
                limit=limit,
                descending=False,
                fault=mode,
                echo=self.echo,
                delete=lambda c: self.world.delete(c.pid),
            )
        except ValueError:
            return google_error(400, "invalidPageToken", "The page token is not valid.")
        items = [self._comment_json(c, with_status=parent is not None) for c in page.items]
        return self._list("youtube#commentListResponse", items, page.next_token, limit)

    def _comment_json(self, c: Comment, with_status: bool = True) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "channelId": self.world.channel_id,
            "videoId": c.post_pid,
            "textDisplay": c.text,
            "textOriginal": c.text,
            "authorDisplayName": c.author_name,
            "authorProfileImageUrl": "https://yt3.ggpht.example/a=s48",
            "authorChannelUrl": f"http://www.youtube.com/channel/{c.author_id}",
            "authorChannelId": {"value": c.author_id},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": yt_time(c.created_at),
            "updatedAt": yt_time(c.created_at),
        }
        if c.parent_pid is not None:
            snippet["parentId"] = c.parent_pid
        if with_status and c.parent_pid is None:
            snippet["moderationStatus"] = c.status
        return {"kind": "youtube#comment", "etag": "c", "id": c.pid, "snippet": snippet}

    def _find(self, request: Request) -> list[Comment] | Response:
        ids = request.args("id")
        if not ids:
            return google_error(400, "missingRequiredParameter", "No filter selected.")
        found = [self.world.comments.get(i) for i in ids]
        if any(c is None or c.deleted or c.platform != "youtube" for c in found):
            return google_error(404, "commentNotFound", "The comment could not be found.")
        return [c for c in found if c is not None]

    def _moderate(self, request: Request) -> Response:
        status = request.arg("moderationStatus")
        if status not in ("published", "heldForReview", "rejected"):
            return google_error(400, "invalidModerationStatus", "Invalid moderation status.")
        found = self._find(request)
        if isinstance(found, Response):
            return found
        for c in found:
            c.status = status
            c.history.append(f"setModerationStatus:{status}")
        return Response(204, b"", {})

    def _delete(self, request: Request) -> Response:
        found = self._find(request)
        if isinstance(found, Response):
            return found
        for c in found:
            self.world.delete(c.pid)
        return Response(204, b"", {})

    def _insert(self, request: Request) -> Response:
        try:
            snippet = json.loads(request.body or b"{}")["snippet"]
            parent = self.world.comments[snippet["parentId"]]
        except (KeyError, ValueError, TypeError):
            return google_error(400, "invalidCommentMetadata", "Invalid comment.")
        new = self.world.add_comment(
            platform="youtube",
            post_sid=parent.post_pid,
            text=str(snippet.get("textOriginal", "")),
            parent_sid=parent.pid,
            author_id=self.world.channel_id,
            author_name=self.world.page_name,
            by_pid=True,
        )
        return Response.json(self._comment_json(new))
