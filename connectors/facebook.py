"""Facebook Page comments through Meta's facebook-business SDK (Graph API v25.0).

Each poll lists the Page's feed (posts created within ``lookback_days``) and
reads comments, ``filter=stream`` so replies come too, on every post whose
``updated_time`` (bumped by Facebook when someone comments) is after the
cursor less the overlap: a new comment on an old post is never missed. Usage
headers drive backoff; Graph errors become :mod:`core.errors` once, here.
Webhook events (see :mod:`connectors.webhook`) are turned into batches by
:meth:`FacebookConnector.batch_from_events`; polling stays as the safety net.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
from facebook_business.adobjects.comment import Comment as FbComment
from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookError, FacebookRequestError
from facebook_business.session import FacebookSession

from config.policy import Channel, School
from connectors.cursor import Position
from connectors.polling import ODD_DATA, PollingConnector
from connectors.settings import ConnectorSettings
from connectors.webhook import WebhookEvent
from core.errors import (
    AuthError,
    ConfigError,
    ConnectorError,
    PermissionMissing,
    RateLimited,
    SkippableItem,
    TransientError,
)
from core.models import Action, ActionResult, Batch, Comment, Platform

log = logging.getLogger(__name__)

COMMENT_FIELDS = "id,message,from{id,name},created_time,parent{id},permalink_url,is_hidden"
POST_FIELDS = "id,message,created_time,updated_time,permalink_url"
THROTTLE_CODES = frozenset({4, 17, 32, 341, 368, 613}) | frozenset(range(80001, 80015))
FIX_TOKEN = (
    "The Facebook Page token no longer works (Graph error {code}). Run `schoolwatch connect "
    "facebook` on the server, sign in as a Page admin who can moderate comments, paste the new "
    "Page token when asked, then restart schoolwatch. Polling of this Page is paused until then."
)
FIX_PERMISSION = (
    "The Facebook Page token is missing a permission (Graph error {code}). Run `schoolwatch "
    "connect facebook` and grant pages_show_list, pages_read_engagement, "
    "pages_read_user_engagement, pages_manage_engagement and pages_manage_metadata."
)
_SLOW_DOWN_AT = 75
_STOP_AT = 90


def parse_fb_time(value: str) -> datetime:
    """Parse Graph's ``2025-01-02T10:00:00+0000``."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


def usage_percent(headers: Mapping[str, str]) -> tuple[int, int]:
    """Highest usage percentage in the usage headers, and minutes until access is regained."""
    worst, regain = 0, 0
    lower = {k.lower(): v for k, v in headers.items()}
    for name in ("x-business-use-case-usage", "x-app-usage", "x-page-usage"):
        raw = lower.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = [data]
        if name == "x-business-use-case-usage" and isinstance(data, dict):
            entries = [e for v in data.values() if isinstance(v, list) for e in v]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_time", "total_cputime"):
                value = entry.get(key)
                if isinstance(value, int | float):
                    worst = max(worst, int(value))
            eta = entry.get("estimated_time_to_regain_access")
            if isinstance(eta, int | float):
                regain = max(regain, int(eta))
    return worst, regain


def map_graph_error(exc: Exception) -> ConnectorError:
    """Map a facebook-business or requests exception to :mod:`core.errors`."""
    p = Platform.FACEBOOK.value
    if isinstance(exc, FacebookRequestError):
        code = exc.api_error_code() or 0
        sub = exc.api_error_subcode()
        tag = f"{code}/{sub}" if sub else str(code)
        if code == 190 or code == 102:
            return AuthError(
                "Facebook token rejected", platform=p, code=tag, fix=FIX_TOKEN.format(code=tag)
            )
        if code == 10 or 200 <= code <= 299:
            return PermissionMissing(
                "Facebook permission missing",
                platform=p,
                code=tag,
                fix=FIX_PERMISSION.format(code=tag),
            )
        if code in THROTTLE_CODES:
            _, regain = usage_percent(exc.http_headers() or {})
            return RateLimited(
                "Facebook rate limit reached",
                platform=p,
                code=tag,
                retry_after=float(max(1, regain) * 60),
            )
        if code == 100 and sub == 33:
            return SkippableItem("Facebook object no longer exists", platform=p, code=tag)
        status = exc.http_status() or 0
        if code in (1, 2) or exc.api_transient_error() or status >= 500:
            return TransientError("Facebook service error", platform=p, code=tag)
        return ConnectorError(f"Facebook request failed ({tag})", platform=p, code=tag)
    if isinstance(exc, requests.Timeout):
        return TransientError("Facebook call timed out", platform=p, code="timeout")
    if isinstance(exc, requests.RequestException):
        return TransientError("Facebook unreachable", platform=p, code="network")
    return ConnectorError(f"Facebook call failed: {type(exc).__name__}", platform=p)


class FacebookConnector(PollingConnector):
    """Comments and replies on one Facebook Page."""

    platform: ClassVar[Platform] = Platform.FACEBOOK
    supports: ClassVar[frozenset[Action]] = frozenset(
        {Action.HIDE, Action.UNHIDE, Action.DELETE, Action.REPLY}
    )
    platform_name = "facebook"

    def __init__(self, channel: Channel, school: School, settings: ConnectorSettings) -> None:
        super().__init__(channel, school, settings)
        if not channel.account_id:
            raise ConfigError(f"channel {channel.id}: account_id must be the Facebook Page id")
        self.page_id = channel.account_id
        token = settings.facebook_page_token.get_secret_value()
        secret = settings.facebook_app_secret.get_secret_value() or None
        session = FacebookSession(access_token=token, app_secret=secret, timeout=settings.timeout)
        session.GRAPH = settings.graph_url.rstrip("/")
        self.api = FacebookAdsApi(session, api_version=settings.graph_version)
        self._titles: dict[str, str] = {}
        self.last_usage = 0

    def close(self) -> None:
        """Close the SDK session's HTTP connections."""
        super().close()
        self.api._session.requests.close()

    # ---- calls -----------------------------------------------------------------------

    def _call(self, method: str, path: tuple[str, ...], params: dict[str, Any]) -> dict[str, Any]:
        self.stats["api_calls"] += 1
        try:
            response = self.api.call(method, path, params=params)
            headers = response.headers()
            body = response.json()
        except (FacebookError, requests.RequestException) as exc:
            raise map_graph_error(exc) from exc
        except ODD_DATA as exc:  # the SDK trips over JSON that is not an object
            raise self.malformed(exc, "/".join(path)) from exc
        self._pace(headers)
        if not isinstance(body, dict):
            self.stats["malformed_replies"] += 1
            raise TransientError(
                "Facebook sent a reply that is not JSON", platform="facebook", code="malformed"
            )
        return body

    def _pace(self, headers: Mapping[str, str]) -> None:
        """Slow down, then stop, as the usage headers approach 100%."""
        usage, regain = usage_percent(headers)
        self.last_usage = usage
        if usage >= _STOP_AT:
            self.stats["usage_stops"] += 1
            raise RateLimited(
                f"Facebook usage at {usage}%",
                platform="facebook",
                code="usage",
                retry_after=float(max(1, regain) * 60),
            )
        if usage >= _SLOW_DOWN_AT:
            self.stats["usage_pauses"] += 1
            time.sleep(min(5.0, (usage - _SLOW_DOWN_AT) / 3))

    def _edge(self, node: str, edge: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of an edge, following ``paging.next`` until it is absent."""
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        params = dict(params)
        while True:
            body = self._call("GET", (node, edge), params)
            data = body.get("data")
            if not isinstance(data, list):
                raise TransientError(
                    "Facebook list reply without data", platform="facebook", code="malformed"
                )
            items.extend(d for d in data if isinstance(d, dict))
            paging = body.get("paging") or {}
            cursors = paging.get("cursors") if isinstance(paging, dict) else None
            if not isinstance(paging, dict) or not isinstance(cursors or {}, dict):
                raise self.malformed(TypeError("paging"), f"{node}/{edge}")
            after = (cursors or {}).get("after")
            if "next" not in paging or not after:
                self._note_duplicates([str(i.get("id")) for i in items], f"{node}/{edge}")
                return items
            self._guard_cursor(seen, str(after), f"{node}/{edge}")
            params["after"] = after

    # ---- polling ---------------------------------------------------------------------

    def _collect(self, position: Position, since: float) -> tuple[list[Comment], Position]:
        lookback = time.time() - self.settings.lookback_days * 86400
        posts = self._edge(
            self.page_id,
            "feed",
            {
                "fields": POST_FIELDS,
                "limit": self.settings.page_size,
                "since": int(min(lookback, since)),
            },
        )
        found: list[Comment] = []
        for post in posts:
            post_id = str(post.get("id", ""))
            if not post_id:
                self._skip("post without id")
                continue
            self._titles[post_id] = str(post.get("message", ""))
            updated = post.get("updated_time") or post.get("created_time")
            try:
                if updated and parse_fb_time(str(updated)).timestamp() < since:
                    continue
            except ValueError:
                pass  # unreadable time: read the post's comments anyway
            try:
                raw = self._edge(
                    post_id,
                    "comments",
                    {
                        "fields": COMMENT_FIELDS,
                        "filter": "stream",
                        "order": "chronological",
                        "since": int(since),
                        "limit": self.settings.page_size,
                    },
                )
            except SkippableItem:
                self._skip("post vanished during the poll", post_id)
                continue
            for item in raw:
                comment = self._to_comment(item, post_id)
                if comment is not None:
                    found.append(comment)
        return found, position

    def _to_comment(self, item: dict[str, Any], post_id: str) -> Comment | None:
        try:
            author = item.get("from") or {}
            parent = item.get("parent") or {}
            return Comment(
                school_id=self.school.id,
                platform=Platform.FACEBOOK,
                external_id=str(item["id"]),
                thread_id=post_id,
                parent_id=str(parent["id"]) if parent.get("id") else None,
                author_id=str(author.get("id", "")),
                author_name=str(author.get("name", "")),
                text=str(item.get("message", "")),
                created_at=parse_fb_time(str(item["created_time"])),
                permalink=str(item.get("permalink_url", "")),
                raw=item,
                thread_title=self._titles.get(post_id, ""),
            )
        except (KeyError, ValueError, TypeError):
            self._skip("malformed comment", str(item.get("id", "")))
            return None

    # ---- webhooks --------------------------------------------------------------------

    def batch_from_events(self, events: list[WebhookEvent]) -> Batch:
        """Fetch the comments named by webhook events; ``remove`` events go in ``removed``.

        The batch's ``cursor`` is ``None``: webhook batches never move the polling cursor.
        """
        comments: list[Comment] = []
        removed: list[str] = []
        for event in events:
            if event.page_id != self.page_id or event.item != "comment":
                continue
            if event.verb == "remove":
                removed.append(event.comment_id)
                continue
            try:
                item = self._call("GET", (event.comment_id,), {"fields": COMMENT_FIELDS})
            except SkippableItem:
                removed.append(event.comment_id)
                continue
            if event.post_id not in self._titles:
                try:
                    post = self._call("GET", (event.post_id,), {"fields": "id,message"})
                    self._titles[event.post_id] = str(post.get("message", ""))
                except SkippableItem:
                    self._titles[event.post_id] = ""
            comment = self._to_comment(item, event.post_id)
            if comment is not None:
                comments.append(comment)
        comments.sort(key=lambda c: (c.created_at, c.external_id))
        return Batch(comments=tuple(comments), cursor=None, removed=tuple(removed))

    # ---- moderation ------------------------------------------------------------------

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        """Hide, unhide, delete or reply to a comment through the SDK's ``Comment`` object."""
        if action not in self.supports:
            raise PermissionMissing(
                f"Facebook cannot {action.value}",
                platform="facebook",
                code="unsupported",
                fix="Choose hide, unhide or delete.",
            )
        node = FbComment(fbid=external_id, api=self.api)
        self.stats["api_calls"] += 1
        try:
            if action is Action.HIDE or action is Action.UNHIDE:
                node.api_update(params={"is_hidden": action is Action.HIDE})
            elif action is Action.DELETE:
                node.api_delete()
            else:
                reply = node.create_comment(params={"message": text})
                return ActionResult(
                    ok=True,
                    action=action,
                    external_id=external_id,
                    detail=f"reply {reply.get_id()}",
                )
        except (FacebookError, requests.RequestException) as exc:
            raise map_graph_error(exc) from exc
        except ODD_DATA as exc:
            raise self.malformed(exc, f"{action.value} {external_id}") from exc
        self.stats[f"actions.{action.value}"] += 1
        log.info("facebook %s on %s", action.value, external_id)
        return ActionResult(ok=True, action=action, external_id=external_id)

    def check(self) -> dict[str, Any]:
        """Ask the Graph API who the token is and which permissions it has (for ``connect``)."""
        me = self._call("GET", ("me",), {"fields": "id,name"})
        token = self.settings.facebook_page_token.get_secret_value()
        debug = self._call("GET", ("debug_token",), {"input_token": token})
        data = debug.get("data") or {}
        return {
            "id": me.get("id"),
            "name": me.get("name"),
            "type": data.get("type"),
            "scopes": list(data.get("scopes") or []),
        }
