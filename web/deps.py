"""Typed dependencies: the runtime, the signed-in user and the permission gate.

Every route declares exactly one gate: ``Depends(Requires(Perm.X))`` for
signed-in users holding ``X``, or ``Depends(PUBLIC)`` for the few pages that
need no sign-in (sign-in itself, acknowledgement links, the platform webhook,
static files). ``tests/web`` enumerates ``app.routes`` to check each gate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from core.clock import utc_now
from storage import repo
from storage.db import session_scope
from web.auth import COOKIE, load_session, same
from web.permissions import Perm, has

if TYPE_CHECKING:
    from monitor.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user of this request."""

    id: int
    username: str
    display_name: str
    role: str
    csrf_token: str

    def can(self, perm: Perm | str) -> bool:
        """True when the user's role holds ``perm``."""
        return has(self.role, Perm(perm))


class LoginRequired(Exception):
    """No valid session: sign in first."""


class Forbidden(Exception):
    """Signed in, but the role may not do this."""


class CsrfFailed(Exception):
    """A form post without this session's CSRF token."""


def get_runtime(request: Request) -> Runtime:
    """The runtime the app was built with."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def _load_user(runtime: Runtime, token: str) -> CurrentUser | None:
    now = utc_now()
    with session_scope(runtime.factory) as session:
        found = load_session(session, token=token, now=now)
        if found is None:
            return None
        web_session, user = found
        return CurrentUser(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            csrf_token=web_session.csrf_token,
        )


def _deny(runtime: Runtime, user: CurrentUser, perm: Perm, path: str) -> None:
    with session_scope(runtime.factory) as session:
        repo.record(
            session,
            school_id=runtime.policy.school.id,
            event="access.denied",
            actor=user.username,
            details={"permission": perm.value, "path": path[:200], "role": user.role},
        )


async def current_user(request: Request) -> CurrentUser | None:
    """The signed-in user, or ``None`` (cached on the request)."""
    if hasattr(request.state, "user"):
        cached: CurrentUser | None = request.state.user
        return cached
    token = request.cookies.get(COOKIE, "")
    user = await run_in_threadpool(_load_user, get_runtime(request), token) if token else None
    request.state.user = user
    return user


class Requires:
    """The gate of a route: a signed-in user whose role holds ``permission``.

    Form posts must also carry the session's CSRF token (form field
    ``csrf_token`` or header ``X-CSRF-Token``).
    """

    def __init__(self, permission: Perm) -> None:
        self.permission = permission

    def __repr__(self) -> str:
        return f"Requires({self.permission.value!r})"

    async def __call__(self, request: Request) -> CurrentUser:
        user = await current_user(request)
        if user is None:
            raise LoginRequired()
        if not user.can(self.permission):
            await run_in_threadpool(
                _deny, get_runtime(request), user, self.permission, request.url.path
            )
            raise Forbidden()
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            sent = request.headers.get("x-csrf-token", "")
            if not sent:
                form = await request.form()
                value = form.get("csrf_token", "")
                sent = value if isinstance(value, str) else ""
            if not sent or not same(sent, user.csrf_token):
                raise CsrfFailed()
        return user


class Public:
    """The gate of a route anyone may open (it checks its own credential, if any)."""

    permission = None

    def __repr__(self) -> str:
        return "PUBLIC"

    async def __call__(self) -> None:
        return None


PUBLIC = Public()

SignedIn = Annotated[CurrentUser, Depends(Requires(Perm.SIGNED_IN))]
QueueViewer = Annotated[CurrentUser, Depends(Requires(Perm.QUEUE_VIEW))]
QueueActor = Annotated[CurrentUser, Depends(Requires(Perm.QUEUE_ACT))]
QueueBulk = Annotated[CurrentUser, Depends(Requires(Perm.QUEUE_BULK))]
ReplyRequester = Annotated[CurrentUser, Depends(Requires(Perm.REPLY_REQUEST))]
ReplyApprover = Annotated[CurrentUser, Depends(Requires(Perm.REPLY_APPROVE))]
AlertsViewer = Annotated[CurrentUser, Depends(Requires(Perm.ALERTS_VIEW))]
AlertsAcker = Annotated[CurrentUser, Depends(Requires(Perm.ALERTS_ACK))]
AuditViewer = Annotated[CurrentUser, Depends(Requires(Perm.AUDIT_VIEW))]
HealthViewer = Annotated[CurrentUser, Depends(Requires(Perm.HEALTH_VIEW))]
UserManager = Annotated[CurrentUser, Depends(Requires(Perm.USERS_MANAGE))]
DigestViewer = Annotated[CurrentUser, Depends(Requires(Perm.DIGEST_VIEW))]
ReportsViewer = Annotated[CurrentUser, Depends(Requires(Perm.REPORTS_VIEW))]
