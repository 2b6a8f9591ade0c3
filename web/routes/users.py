"""Account management for the administrator: list, add, disable, unlock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from config.policy import ROLES
from core.errors import ConfigError
from storage import repo
from storage.db import session_scope
from storage.tables import User
from web.deps import UserManager, get_runtime
from web.users import create_user, disable_user
from web.views import render

router = APIRouter()


def _page(request: Request, error: str = "", status: int = 200) -> Response:
    runtime = get_runtime(request)
    with session_scope(runtime.factory) as session:
        users = list(
            session.scalars(
                select(User)
                .where(User.school_id == runtime.policy.school.id)
                .order_by(User.username)
            )
        )
    return render(
        request, "users.html", {"users": users, "roles": ROLES, "error": error}, status_code=status
    )


@router.get("/users")
def users_page(request: Request, user: UserManager) -> Response:
    """Everyone who can sign in."""
    return _page(request)


@router.post("/users")
def add_user(
    request: Request,
    user: UserManager,
    username: Annotated[str, Form(max_length=120)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Create an account."""
    if password != password_again:
        return _page(request, "The two passwords are different.", 400)
    runtime = get_runtime(request)
    try:
        with session_scope(runtime.factory) as session:
            create_user(
                session,
                school_id=runtime.policy.school.id,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                actor=user.username,
            )
    except ConfigError as exc:
        return _page(request, str(exc).capitalize() + ".", 400)
    return RedirectResponse("/users?notice=user_added", status_code=303)


@router.post("/users/{user_id}/{change}")
def change_user(request: Request, user_id: int, change: str, user: UserManager) -> Response:
    """Disable or unlock an account."""
    if change not in ("disable", "unlock"):
        raise HTTPException(404)
    runtime = get_runtime(request)
    school_id = runtime.policy.school.id
    with session_scope(runtime.factory) as session:
        target = session.get(User, user_id)
        if target is None or target.school_id != school_id:
            raise HTTPException(404)
        if change == "disable":
            if target.id == user.id:
                raise HTTPException(400, "You cannot disable your own account.")
            disable_user(
                session, school_id=school_id, username=target.username, actor=user.username
            )
        else:
            target.failed_logins = 0
            target.locked_until = None
            repo.record(
                session,
                school_id=school_id,
                event="user.unlocked",
                actor=user.username,
                subject_type="user",
                subject_id=target.id,
            )
    notice = "user_disabled" if change == "disable" else "user_unlocked"
    return RedirectResponse(f"/users?notice={notice}", status_code=303)
