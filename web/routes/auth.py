"""Sign in, sign out and the home page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from core.clock import utc_now
from storage.db import session_scope
from web.auth import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    authenticate,
    end_session,
    safe_next,
    same,
)
from web.deps import PUBLIC, SignedIn, get_runtime
from web.permissions import Perm
from web.views import render

router = APIRouter()


def _secure(request: Request) -> bool:
    return str(get_runtime(request).settings.web_base_url).startswith("https://")


def _login_page(
    request: Request, *, error: str = "", next_url: str = "/", status: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        {"csrf": token, "error": error, "next": safe_next(next_url)},
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login", dependencies=[Depends(PUBLIC)])
def login_form(request: Request, next: str = "/") -> Response:
    """The sign-in page."""
    request.state.user = None
    return _login_page(request, next_url=next)


@router.post("/login", dependencies=[Depends(PUBLIC)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; on success start a brand-new session (no fixation)."""
    request.state.user = None
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf_token or not same(cookie, csrf_token):
        return _login_page(
            request,
            error="The sign-in form had expired. Please try again.",
            next_url=next,
            status=403,
        )
    runtime = get_runtime(request)
    now = utc_now()
    with session_scope(runtime.factory) as session:
        old = request.cookies.get(COOKIE, "")
        if old:
            end_session(session, token=old)
        result = authenticate(
            session,
            school_id=runtime.policy.school.id,
            username=username,
            password=password,
            session_hours=runtime.settings.session_hours,
            now=now,
        )
    if not result.ok:
        message = (
            "Too many failed attempts: this account is locked for 15 minutes."
            if result.locked
            else "The username or password is wrong (after 5 failures the account is "
            "locked for 15 minutes)."
        )
        return _login_page(request, error=message, next_url=next, status=401)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        result.token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
        max_age=runtime.settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, user: SignedIn) -> Response:
    """End the session."""
    runtime = get_runtime(request)
    with session_scope(runtime.factory) as session:
        end_session(session, token=request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request, user: SignedIn) -> Response:
    """Send each role to its main page."""
    for perm, target in (
        (Perm.QUEUE_VIEW, "/queue"),
        (Perm.HEALTH_VIEW, "/health"),
        (Perm.AUDIT_VIEW, "/audit"),
    ):
        if user.can(perm):
            return RedirectResponse(target, status_code=303)
    return render(request, "error.html", {"title": "Nothing to show", "message": ""})
