"""A fake Reddit OAuth API: token, search, comment listings, info, mod actions, rate headers."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from connectors.sandbox.faults import FaultMode, Faults
from connectors.sandbox.http import Request, Response
from connectors.sandbox.paging import encode_token, paginate
from connectors.sandbox.world import Comment, Post, World

_SUB_PATH = re.compile(r"^/r/([^/]+)/(search|comments|new)/?(?:\.json)?$")


def _phrases(query: str) -> list[str]:
    """Quoted phrases and bare words of a Lucene-ish ``a OR "b c"`` query, lower-cased."""
    found = [p.lower() for p in re.findall(r'"([^"]+)"', query)]
    rest = re.sub(r'"[^"]+"', " ", query)
    found += [w.lower() for w in rest.split() if w.upper() not in ("OR", "AND", "NOT")]
    return found


class RedditApi:
    """Routes Reddit's ``/api/v1/access_token`` and OAuth API paths."""

    def __init__(
        self,
        world: World,
        faults: Faults,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        requests_per_window: int = 1000,
        window_seconds: int = 600,
    ) -> None:
        self.world = world
        self.faults = faults
        self.client_id = client_id
        self.client_secret = client_secret
        self.username = username
        self.password = password
        self.requests_per_window = requests_per_window
        self.window_seconds = window_seconds
        self.calls = 0
        self._tokens: set[str] = set()
        self._token_dead = 0
        self._window_start = time.monotonic()
        self._used = 0
        self._echo_after: str | None = None
        self._lock = threading.Lock()

    # ---- auth ------------------------------------------------------------------------

    def access_token(self, request: Request) -> Response:
        """``POST /api/v1/access_token`` (HTTP Basic client id and secret)."""
        auth = request.headers.get("authorization", "")
        try:
            cid, _, secret = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")
        except ValueError:
            cid, secret = "", ""
        if cid != self.client_id or secret != self.client_secret:
            return Response.json({"message": "Unauthorized", "error": 401}, 401)
        grant = request.arg("grant_type")
        with self._lock:
            if grant == "password":
                if self._token_dead > 0 or (request.arg("username"), request.arg("password")) != (
                    self.username,
                    self.password,
                ):
                    self._token_dead = max(0, self._token_dead - 1)
                    return Response.json({"error": "invalid_grant"})
            elif grant != "client_credentials":
                return Response.json({"error": "unsupported_grant_type"})
            token = "sandbox-" + secrets.token_hex(12)
            self._tokens.add(token)
        return Response.json(
            {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    def _rate_headers(self, *, exhausted: bool = False) -> dict[str, str]:
        with self._lock:
            now = time.monotonic()
            if now - self._window_start >= self.window_seconds:
                self._window_start, self._used = now, 0
            self._used += 1
            reset = max(1, int(self.window_seconds - (now - self._window_start)))
            remaining = 0.0 if exhausted else max(0.0, self.requests_per_window - self._used)
        if exhausted:
            reset = 1
        return {
            "x-ratelimit-used": str(self._used),
            "x-ratelimit-remaining": f"{remaining:.1f}",
            "x-ratelimit-reset": str(reset),
        }

    # ---- API -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one OAuth API request."""
        self.calls += 1
        listing = request.method == "GET" and bool(_SUB_PATH.match(request.path))
        fault = self.faults.take("reddit", request.path, listing=listing)
        mode = fault[0] if fault else None
        if mode is FaultMode.EXPIRED_TOKEN:
            with self._lock:
                self._tokens.clear()
                self._token_dead += 1
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        if token not in self._tokens:
            return Response.json(
                {"message": "Unauthorized", "error": 401}, 401, **self._rate_headers()
            )
        if mode is FaultMode.THROTTLE:
            return Response.json(
                {"message": "Too Many Requests", "error": 429},
                429,
                **self._rate_headers(exhausted=True),
            )
        headers = self._rate_headers()
        if mode is FaultMode.SERVER_ERROR:
            return Response(
                503,
                b"<html><body>all servers are busy</body></html>",
                {"Content-Type": "text/html", **headers},
            )
        if mode is FaultMode.MALFORMED:
            return Response(
                200,
                b'{"kind": "Listing", "data": {"children": [{"ki',
                {"Content-Type": "application/json; charset=UTF-8", **headers},
            )
        with self.world.lock:
            response = self._route(request, mode)
        response.headers.update(headers)
        if mode is FaultMode.SLOW and fault is not None:
            response.delay = fault[1]
        return response

    def _route(self, request: Request, mode: FaultMode | None) -> Response:
        path = request.path.rstrip("/").removesuffix(".json")
        if path == "/api/v1/me":
            return Response.json({"name": self.username, "id": "sandboxmod", "is_mod": True})
        if path == "/subreddits/mine/moderator":
            children = [
                {"kind": "t5", "data": {"display_name": s, "name": f"t5_{s[:6]}", "id": s[:6]}}
                for s in sorted(self.world.moderated_subreddits)
            ]
            return self._listing(children, None)
        if path == "/api/info":
            return self._info(request)
        if path in ("/api/remove", "/api/approve") and request.method == "POST":
            return self._moderate(request, path.endswith("remove"))
        match = _SUB_PATH.match(request.path)
        if match is None:
            return Response.json({"message": "Not Found", "error": 404}, 404)
        subs = {s.lower() for s in match.group(1).split("+")}
        in_scope: Callable[[str], bool] = (
            (lambda s: True) if "all" in subs else (lambda s: s.lower() in subs)
        )
        if match.group(2) == "comments":
            items: list[Any] = [
                c
                for c in self.world.comments.values()
                if c.platform == "reddit"
                and not c.deleted
                and in_scope(self.world.posts[c.post_pid].subreddit)
            ]
            items.sort(key=lambda c: c.seq, reverse=True)
            return self._paged(request, items, lambda c: ("", c.seq), mode)
        posts = [
            p for p in self.world.posts.values() if p.platform == "reddit" and in_scope(p.subreddit)
        ]
        if match.group(2) == "search":
            phrases = _phrases(request.arg("q") or "")
            posts = [
                p for p in posts if any(ph in f"{p.title}\n{p.text}".lower() for ph in phrases)
            ]
        posts.sort(key=lambda p: (p.created_at, p.seq), reverse=True)
        return self._paged(request, posts, lambda p: (p.created_at.isoformat(), p.seq), mode)

    def _thing(self, fullname: str) -> Comment | Post | None:
        kind, _, ident = fullname.partition("_")
        if kind == "t1":
            c = self.world.comments.get(ident)
            return c if c is not None and c.platform == "reddit" else None
        if kind == "t3":
            p = self.world.posts.get(ident)
            return p if p is not None and p.platform == "reddit" else None
        return None

    def _paged(
        self,
        request: Request,
        items: list[Any],
        key: Callable[[Any], tuple[str, int]],
        mode: FaultMode | None,
    ) -> Response:
        limit = max(1, min(100, int(request.arg("limit") or 25)))
        after = request.arg("after")
        token = None
        echoing = bool(after) and after == self._echo_after
        if after and not echoing:
            thing = self._thing(after)
            if thing is None:
                return self._listing([], None)
            token = encode_token(key(thing))
        page = paginate(
            items,
            key,
            token=token,
            limit=limit,
            descending=True,
            fault=None if mode is FaultMode.REPEAT_CURSOR else mode,
            delete=lambda c: self.world.delete(c.pid) if isinstance(c, Comment) else None,
        )
        next_after = self._fullname(page.items[-1]) if page.items and page.next_token else None
        if mode is FaultMode.REPEAT_CURSOR and page.items:
            if after:
                next_after = after
            else:  # first page: hand out a cursor that the next page will repeat
                next_after = self._fullname(page.items[-1])
                self._echo_after = next_after
        elif echoing:  # the same first page again, with the same cursor
            self._echo_after = None
            next_after = after
        return self._listing([self._render(it) for it in page.items], next_after)

    @staticmethod
    def _fullname(thing: Comment | Post) -> str:
        return f"t1_{thing.pid}" if isinstance(thing, Comment) else f"t3_{thing.pid}"

    def _listing(self, children: list[dict[str, Any]], after: str | None) -> Response:
        return Response.json(
            {
                "kind": "Listing",
                "data": {
                    "after": after,
                    "dist": len(children),
                    "modhash": None,
                    "geo_filter": "",
                    "before": None,
                    "children": children,
                },
            }
        )

    def _info(self, request: Request) -> Response:
        things = [self._thing(f) for f in request.args("id")]
        return self._listing([self._render(t) for t in things if t is not None], None)

    def _moderate(self, request: Request, remove: bool) -> Response:
        thing = self._thing(request.arg("id") or "")
        if thing is None or (isinstance(thing, Comment) and thing.deleted):
            return Response.json({"message": "Not Found", "error": 404}, 404)
        post = self.world.posts[thing.post_pid] if isinstance(thing, Comment) else thing
        if post.subreddit.lower() not in self.world.moderated_subreddits:
            return Response.json({"message": "Forbidden", "error": 403}, 403)
        if isinstance(thing, Comment):
            thing.removed = remove
            thing.history.append("remove" if remove else "approve")
        return Response.json({})

    def _render(self, thing: Comment | Post) -> dict[str, Any]:
        if isinstance(thing, Post):
            n = sum(1 for _ in self.world.comments_of_post(thing.pid))
            permalink = f"/r/{thing.subreddit}/comments/{thing.pid}/post/"
            return {
                "kind": "t3",
                "data": {
                    "id": thing.pid,
                    "name": f"t3_{thing.pid}",
                    "title": thing.title,
                    "selftext": thing.text,
                    "author": thing.author_name or "op",
                    "author_fullname": f"t2_{thing.author_id[-6:]}",
                    "created_utc": thing.created_at.timestamp(),
                    "num_comments": n,
                    "permalink": permalink,
                    "url": f"https://www.reddit.com{permalink}",
                    "subreddit": thing.subreddit,
                    "subreddit_name_prefixed": f"r/{thing.subreddit}",
                    "score": 1,
                    "over_18": False,
                },
            }
        post = self.world.posts[thing.post_pid]
        moderator = post.subreddit.lower() in self.world.moderated_subreddits
        hidden = thing.removed and not moderator
        parent = f"t1_{thing.parent_pid}" if thing.parent_pid else f"t3_{post.pid}"
        permalink = f"/r/{post.subreddit}/comments/{post.pid}/post/{thing.pid}/"
        return {
            "kind": "t1",
            "data": {
                "id": thing.pid,
                "name": f"t1_{thing.pid}",
                "body": "[removed]" if hidden else thing.text,
                "author": "[deleted]" if hidden else thing.author_name,
                "author_fullname": f"t2_{thing.author_id}",
                "created_utc": thing.created_at.timestamp(),
                "edited": False,
                "link_id": f"t3_{post.pid}",
                "parent_id": parent,
                "link_title": post.title,
                "link_permalink": f"https://www.reddit.com/r/"
                f"{post.subreddit}/comments/{post.pid}/post/",
                "permalink": permalink,
                "subreddit": post.subreddit,
                "subreddit_id": f"t5_{post.subreddit[:6]}",
                "score": 1,
                "distinguished": None,
                "stickied": False,
                "removed": thing.removed if moderator else None,
                "approved": moderator and "approve" in thing.history[-1:],
            },
        }
