"""Web app accounts: create, reset, disable, and the demo's throwaway logins."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.policy import ROLES, SchoolPolicy
from core.clock import utc_now
from core.errors import ConfigError
from storage import repo
from storage.db import session_scope
from storage.tables import User
from web.auth import check_password_strength, end_user_sessions, hash_password

log = logging.getLogger(__name__)

DEMO_USERNAMES: dict[str, str] = {
    "dsl": "dsl",
    "deputy_dsl": "deputy",
    "headteacher": "head",
    "comms_lead": "comms",
    "chair_of_governors": "chair",
    "data_protection_officer": "dpo",
    "admin": "admin",
}


def _find(session: Session, school_id: str, username: str) -> User | None:
    return session.scalars(
        select(User).where(User.school_id == school_id, User.username == username)
    ).one_or_none()


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 120 or any(ch.isspace() for ch in name):
        raise ConfigError("a username is 1 to 120 characters with no spaces")
    return name


def create_user(
    session: Session,
    *,
    school_id: str,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    email: str = "",
    actor: str = "system",
) -> User:
    """Add an account. The caller commits.

    Raises:
        ConfigError: Unknown role, bad username, weak password, or the name is taken.
    """
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r} (known: {', '.join(ROLES)})")
    name = _check_username(username)
    problem = check_password_strength(password)
    if problem:
        raise ConfigError(problem)
    if _find(session, school_id, name) is not None:
        raise ConfigError(f"the username {name!r} is already taken")
    user = User(
        school_id=school_id,
        username=name,
        display_name=display_name or name,
        email=email,
        role=role,
        password_hash=hash_password(password),
        created_at=utc_now(),
    )
    session.add(user)
    session.flush()
    repo.record(
        session,
        school_id=school_id,
        event="user.created",
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        details={"username": name, "role": role},
    )
    return user


def reset_password(
    session: Session, *, school_id: str, username: str, password: str, actor: str = "system"
) -> User:
    """Set a new password, unlock the account and sign it out everywhere.

    Raises:
        ConfigError: No such user, or the password is too weak.
    """
    user = _find(session, school_id, username.strip())
    if user is None:
        raise ConfigError(f"no user called {username!r}")
    problem = check_password_strength(password)
    if problem:
        raise ConfigError(problem)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    end_user_sessions(session, user_id=user.id)
    repo.record(
        session,
        school_id=school_id,
        event="user.password_reset",
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        details={"username": user.username},
    )
    return user


def disable_user(session: Session, *, school_id: str, username: str, actor: str = "system") -> User:
    """Stop an account signing in and end its sessions.

    Raises:
        ConfigError: No such user.
    """
    user = _find(session, school_id, username.strip())
    if user is None:
        raise ConfigError(f"no user called {username!r}")
    user.disabled = True
    end_user_sessions(session, user_id=user.id)
    repo.record(
        session,
        school_id=school_id,
        event="user.disabled",
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        details={"username": user.username},
    )
    return user


def ensure_demo_users(
    factory: sessionmaker[Session], policy: SchoolPolicy
) -> list[tuple[str, str, str]]:
    """One account per role with a fresh random password (demo only).

    Existing demo accounts get a new password each run, so a password printed
    by an earlier demo stops working.

    Returns:
        ``(username, password, role)`` for each role, in the policy's role order.
    """
    school_id = policy.school.id
    out: list[tuple[str, str, str]] = []
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id=school_id, name=policy.school.name)
        for role in ROLES:
            username = DEMO_USERNAMES[role]
            password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
            holder = policy.roles.get(role)
            user = _find(session, school_id, username)
            if user is None:
                create_user(
                    session,
                    school_id=school_id,
                    username=username,
                    password=password,
                    role=role,
                    display_name=holder.name if holder else username,
                    email=holder.email if holder else "",
                    actor="demo",
                )
            else:
                user.role = role
                user.disabled = False
                reset_password(
                    session, school_id=school_id, username=username, password=password, actor="demo"
                )
            out.append((username, password, role))
    log.info("demo accounts ready: %d", len(out))
    return out
