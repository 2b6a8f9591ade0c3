"""A fake Facebook Graph API (v25.0) for a Page: posts, comments, moderation, errors, usage."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectors.sandbox.faults import FaultMode, Faults
from connectors.sandbox.http import Request, Response
from connectors.sandbox.paging import paginate
from connectors.sandbox.world import Comment, Post, World

GRAPH_VERSION = "v25.0"
_VERSION = re.compile(r"^/(v\d+\.\d+)/(.*)$")
_DEFAULT_COMMENT_FIELDS = ("id", "message", "from", "created_time")
_DEFAULT_POST_FIELDS = ("id", "message", "created_time")


def fb_time(value: datetime) -> str:
    """Graph's time format, e.g. ``2025-01-02T10:00:00+0000``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))


def _field_names(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if not raw:
        return default
    depth, out, cur = 0, [], ""
    for ch in raw:
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        if depth == 0 and ch not in "})":
            cur += ch
    out.append(cur)
    names = tuple(n.split(".")[0].strip() for n in out if n.strip())
    return names if "id" in names else ("id", *names)


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    etype: str = "OAuthException",
    transient: bool = False,
    status: int = 400,
    headers: dict[str, str] | None = None,
) -> Response:
    """The Graph error body ``{"error": {...}}``."""
    err: dict[str, Any] = {
        "message": message,
        "type": etype,
        "code": code,
        "fbtrace_id": "AsandboxTrace" + str(code),
    }
    if subcode is not None:
        err["error_subcode"] = subcode
    if transient:
        err["is_transient"] = True
    response = Response.json({"error": err}, status)
    response.headers.update(headers or {})
    return response


class GraphApi:
    """Routes ``/v25.0/...`` requests against the sandbox world."""

    def __init__(
        self,
        world: World,
        faults: Faults,
        *,
        access_token: str,
        app_secret: str,
        hourly_budget: int = 4800,
        on_change: Callable[[str, Comment], None] | None = None,
    ) -> None:
        self.world = world
        self.faults = faults
        self.access_token = access_token
        self.app_secret = app_secret
        self.hourly_budget = hourly_budget
        self.on_change = on_change
        self.calls = 0
        self.echo: set[str] = set()
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    # ---- plumbing --------------------------------------------------------------------

    def _usage(self) -> dict[str, str]:
        now = time.monotonic()
        with self._lock:
            self._recent.append(now)
            while self._recent and now - self._recent[0] > 3600:
                self._recent.popleft()
            pct = min(100, len(self._recent) * 100 // max(1, self.hourly_budget))
        buc = {
            self.world.page_id: [
                {
                    "type": "pages",
                    "call_count": pct,
                    "total_cputime": pct // 2,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": 0,
                }
            ]
        }
        return {
            "X-App-Usage": json.dumps(
                {"call_count": pct, "total_time": pct // 2, "total_cputime": pct // 2}
            ),
            "X-Business-Use-Case-Usage": json.dumps(buc),
            "facebook-api-version": GRAPH_VERSION,
        }

    def handle(self, request: Request) -> Response:
        """Answer one Graph request."""
        self.calls += 1
        match = _VERSION.match(request.path)
        if match is None:
            return graph_error(2500, "An active access token must be used", status=400)
        parts = [p for p in match.group(2).split("/") if p]
        usage = self._usage()
        listing = request.method == "GET" and len(parts) == 2
        fault = self.faults.take("facebook", request.path, listing=listing)
        mode = fault[0] if fault else None
        if mode is FaultMode.EXPIRED_TOKEN:
            return graph_error(
                190,
                "Error validating access token: Session has expired on "
                "Friday, 20-Nov-26 10:00:00 PST.",
                subcode=463,
                status=401,
                headers=usage,
            )
        denied = self._check_auth(request)
        if denied is not None:
            return denied
        if mode is FaultMode.SERVER_ERROR:
            return graph_error(
                2,
                "An unexpected error has occurred. Please retry your request later.",
                transient=True,
                status=500,
                headers=usage,
            )
        if mode is FaultMode.THROTTLE:
            buc = {
                self.world.page_id: [
                    {
                        "type": "pages",
                        "call_count": 100,
                        "total_cputime": 40,
                        "total_time": 40,
                        "estimated_time_to_regain_access": 1,
                    }
                ]
            }
            usage["X-Business-Use-Case-Usage"] = json.dumps(buc)
            return graph_error(
                80001,
                "There have been too many calls to this Page account. Wait a bit and try again.",
                status=400,
                headers=usage,
            )
        if mode is FaultMode.MALFORMED:
            return Response(200, b'{"data": [{"id": "12', {"Content-Type": "application/json"})
        response = self._route(request, parts, mode)
        response.headers.update({k: v for k, v in usage.items() if k not in response.headers})
        if mode is FaultMode.SLOW and fault is not None:
            response.delay = fault[1]
        return response

    def _check_auth(self, request: Request) -> Response | None:
        token = request.arg("access_token") or ""
        auth = request.headers.get("authorization", "")
        if not token and auth.lower().startswith("oauth "):
            token = auth[6:]
        if token != self.access_token:
            return graph_error(
                190,
                "Invalid OAuth access token - Cannot parse access token",
                subcode=467 if token else None,
                status=400,
            )
        proof = request.arg("appsecret_proof")
        if proof is not None and self.app_secret:
            want = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof, want):
                return graph_error(
                    100, "Invalid appsecret_proof provided in the API argument", status=400
                )
        return None

    # ---- routes ----------------------------------------------------------------------

    def _route(self, request: Request, parts: list[str], mode: FaultMode | None) -> Response:
        method = request.method
        if parts == ["debug_token"]:
            return self._debug_token()
        if parts and parts[0] == "me":
            parts = [self.world.page_id, *parts[1:]]
        node = parts[0] if parts else ""
        with self.world.lock:
            if node == self.world.page_id:
                if len(parts) == 1:
                    return Response.json({"id": node, "name": self.world.page_name})
                if parts[1] in ("posts", "feed", "published_posts") and method == "GET":
                    return self._posts(request, mode)
                if parts[1] == "subscribed_apps":
                    return Response.json({"success": True} if method == "POST" else {"data": []})
            post = self.world.posts.get(node)
            comment = self.world.comments.get(node)
            if comment is not None and (comment.platform != "facebook" or comment.deleted):
                comment = None
            if post is not None and post.platform != "facebook":
                post = None
            if post is None and comment is None:
                return graph_error(
                    100,
                    f"Unsupported {method.lower()} request. Object with ID "
                    f"'{node}' does not exist, cannot be loaded due to missing "
                    "permissions, or does not support this operation.",
                    etype="GraphMethodException",
                    subcode=33,
                )
            if len(parts) == 2 and parts[1] == "comments":
                if method == "POST":
                    return self._reply(request, post, comment)
                return self._comments(request, post, comment, mode)
            if len(parts) == 1 and method == "GET":
                fields = request.arg("fields")
                if comment is not None:
                    return Response.json(self._comment_json(comment, fields))
                assert post is not None
                return Response.json(self._post_json(post, fields))
            if len(parts) == 1 and method == "POST" and comment is not None:
                return self._update(request, comment)
            if len(parts) == 1 and method == "DELETE" and comment is not None:
                self.world.delete(comment.pid)
                self._changed("remove", comment)
                return Response.json({"success": True})
        return graph_error(100, "Unsupported request", status=400)

    def _debug_token(self) -> Response:
        return Response.json(
            {
                "data": {
                    "app_id": "900000000000001",
                    "type": "PAGE",
                    "application": "schoolwatch",
                    "is_valid": True,
                    "profile_id": self.world.page_id,
                    "expires_at": 0,
                    "scopes": [
                        "pages_show_list",
                        "pages_read_engagement",
                        "pages_read_user_engagement",
                        "pages_manage_engagement",
                        "pages_manage_metadata",
                    ],
                }
            }
        )

    def _changed(self, verb: str, comment: Comment) -> None:
        if self.on_change is not None:
            self.on_change(verb, comment)

    def _posts(self, request: Request, mode: FaultMode | None) -> Response:
        since = _parse_since(request.arg("since"))
        until = _parse_since(request.arg("until"))
        posts = [
            p
            for p in self.world.posts.values()
            if p.platform == "facebook"
            and (since is None or p.created_at >= since)
            and (until is None or p.created_at <= until)
        ]
        posts.sort(key=lambda p: (p.created_at, p.seq), reverse=True)
        fields = request.arg("fields")
        return self._page(
            request,
            posts,
            lambda p: self._post_json(p, fields),
            lambda p: (p.created_at.isoformat(), p.seq),
            True,
            mode,
            None,
        )

    def _comments(
        self, request: Request, post: Post | None, parent: Comment | None, mode: FaultMode | None
    ) -> Response:
        stream = request.arg("filter") == "stream"
        if parent is not None:
            chosen = self.world.children_of(parent.pid)
        else:
            assert post is not None
            chosen = [
                c for c in self.world.comments_of_post(post.pid) if stream or c.parent_pid is None
            ]
        since = _parse_since(request.arg("since"))
        if since is not None:
            chosen = [c for c in chosen if c.created_at >= since]
        desc = request.arg("order") == "reverse_chronological"
        chosen.sort(key=lambda c: (c.created_at, c.seq), reverse=desc)
        fields = request.arg("fields")
        extra: dict[str, Any] | None = None
        if request.arg("summary") in ("true", "1", "True"):
            extra = {
                "summary": {
                    "order": "reverse_chronological" if desc else "chronological",
                    "total_count": len(chosen),
                    "can_comment": True,
                }
            }
        return self._page(
            request,
            chosen,
            lambda c: self._comment_json(c, fields),
            lambda c: (c.created_at.isoformat(), c.seq),
            desc,
            mode,
            extra,
            delete=lambda c: self.world.delete(c.pid),
        )

    def _page(
        self,
        request: Request,
        items: list[Any],
        render: Callable[[Any], dict[str, Any]],
        key: Callable[[Any], tuple[str, int]],
        desc: bool,
        mode: FaultMode | None,
        extra: dict[str, Any] | None,
        delete: Callable[[Any], object] | None = None,
    ) -> Response:
        limit = max(1, min(100, int(request.arg("limit") or 25)))
        try:
            page = paginate(
                items,
                key,
                token=request.arg("after"),
                limit=limit,
                descending=desc,
                fault=mode,
                echo=self.echo,
                delete=delete,
            )
        except ValueError:
            return graph_error(100, "Invalid cursor", status=400)
        body: dict[str, Any] = {"data": [render(it) for it in page.items]}
        if page.items or page.next_token:
            first = encode_first(key(page.items[0])) if page.items else "START"
            paging: dict[str, Any] = {
                "cursors": {"before": first, "after": page.next_token or first}
            }
            if page.next_token:
                query = {k: v[0] for k, v in request.query.items() if k != "after"}
                query["after"] = page.next_token
                qs = "&".join(f"{k}={_quote(v)}" for k, v in query.items())
                paging["next"] = f"https://graph.facebook.com{request.path}?{qs}"
            body["paging"] = paging
        if extra:
            body.update(extra)
        return Response.json(body)

    def _reply(self, request: Request, post: Post | None, parent: Comment | None) -> Response:
        message = request.arg("message") or ""
        if not message:
            return graph_error(100, "(#100) The parameter message is required")
        target_post = post.pid if post is not None else parent.post_pid if parent else ""
        new = self.world.add_comment(
            platform="facebook",
            post_sid=target_post,
            text=message,
            parent_sid=parent.pid if parent else None,
            author_id=self.world.page_id,
            author_name=self.world.page_name,
            by_pid=True,
        )
        self._changed("add", new)
        return Response.json({"id": new.pid})

    def _update(self, request: Request, comment: Comment) -> Response:
        hidden = request.arg("is_hidden")
        if hidden is None:
            return graph_error(100, "(#100) No supported update parameter was given")
        comment.hidden = hidden.lower() in ("true", "1")
        comment.history.append("hide" if comment.hidden else "unhide")
        self._changed("hide" if comment.hidden else "unhide", comment)
        return Response.json({"success": True})

    # ---- rendering -------------------------------------------------------------------

    def permalink(self, comment: Comment) -> str:
        """The comment's permalink, shaped like Facebook's."""
        post_num = comment.post_pid.split("_")[-1]
        c_num = comment.pid.split("_")[-1]
        return f"https://www.facebook.com/{self.world.page_id}/posts/{post_num}?comment_id={c_num}"

    def _comment_json(self, c: Comment, fields: str | None) -> dict[str, Any]:
        names = _field_names(fields, _DEFAULT_COMMENT_FIELDS)
        children = sum(1 for _ in self.world.children_of(c.pid))
        full: dict[str, Any] = {
            "id": c.pid,
            "message": c.text,
            "from": {"id": c.author_id, "name": c.author_name},
            "created_time": fb_time(c.created_at),
            "comment_count": children,
            "is_hidden": c.hidden,
            "permalink_url": self.permalink(c),
            "can_hide": True,
            "can_remove": True,
            "like_count": 0,
            "object": {"id": c.post_pid},
        }
        if c.parent_pid is not None:
            full["parent"] = {"id": c.parent_pid}
        return {k: full[k] for k in names if k in full}

    def _post_json(self, p: Post, fields: str | None) -> dict[str, Any]:
        names = _field_names(fields, _DEFAULT_POST_FIELDS)
        full: dict[str, Any] = {
            "id": p.pid,
            "message": p.text or p.title,
            "created_time": fb_time(p.created_at),
            "updated_time": fb_time(p.updated_at or p.created_at),
            "permalink_url": f"https://www.facebook.com/{self.world.page_id}/posts/"
            f"{p.pid.split('_')[-1]}",
            "from": {"id": self.world.page_id, "name": self.world.page_name},
            "is_hidden": False,
            "status_type": "mobile_status_update",
        }
        return {k: full[k] for k in names if k in full}


def encode_first(key: tuple[str, int]) -> str:
    """A ``before`` cursor (informational only; the sandbox pages forward)."""
    from connectors.sandbox.paging import encode_token

    return encode_token(key)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")
