"""Passwords, sign-in, sessions and CSRF tokens.

* Passwords are hashed with argon2id (argon2-cffi defaults).
* A session is a random cookie token; the database keeps only its sha256, so
  a copy of the database cannot be used to sign in. A new token is issued at
  every sign-in (no session fixation) and it expires after
  ``settings.session_hours``.
* Each session has its own CSRF token, checked on every form post.
* Five failed sign-ins in a row lock the account for 15 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import repo
from storage.tables import User, WebSession

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 12
COOKIE = "sw_session"
LOGIN_CSRF_COOKIE = "sw_login_csrf"

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal who exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> str:
    """Why ``password`` is too weak, or "" when it is acceptable."""
    if len(password) < MIN_PASSWORD:
        return f"the password must be at least {MIN_PASSWORD} characters long"
    if len(set(password)) < 5:
        return "the password needs more different characters"
    return ""


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """The sha256 stored for a cookie token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class LoginResult:
    """What a sign-in attempt produced."""

    ok: bool
    token: str = ""
    user_id: int = 0
    locked: bool = False


def authenticate(
    session: Session,
    *,
    school_id: str,
    username: str,
    password: str,
    session_hours: int,
    now: datetime,
) -> LoginResult:
    """Check a username and password and, if right, open a new session.

    Failures are counted; the fifth in a row locks the account for 15
    minutes. A locked or disabled account cannot sign in even with the
    right password. The caller commits.
    """
    user = session.scalars(
        select(User).where(User.school_id == school_id, User.username == username.strip())
    ).one_or_none()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        repo.record(
            session,
            school_id=school_id,
            event="auth.login_failed",
            actor="anonymous",
            details={"reason": "unknown user"},
            at=now,
        )
        return LoginResult(ok=False)
    if user.locked_until is not None and user.locked_until > now:
        verify_password(_DUMMY_HASH, password)
        repo.record(
            session,
            school_id=school_id,
            event="auth.login_failed",
            actor=user.username,
            subject_type="user",
            subject_id=user.id,
            details={"reason": "locked"},
            at=now,
        )
        return LoginResult(ok=False, locked=True)
    if not verify_password(user.password_hash, password) or user.disabled:
        user.failed_logins += 1
        locked = user.failed_logins >= MAX_FAILURES
        if locked:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        repo.record(
            session,
            school_id=school_id,
            event="auth.locked" if locked else "auth.login_failed",
            actor=user.username,
            subject_type="user",
            subject_id=user.id,
            details={"reason": "disabled" if user.disabled else "wrong password"},
            at=now,
        )
        return LoginResult(ok=False, locked=locked)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=token_hash(token),
            school_id=school_id,
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=session_hours),
            last_seen_at=now,
        )
    )
    # Old expired sessions of this user are of no further use.
    session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    repo.record(
        session,
        school_id=school_id,
        event="auth.login",
        actor=user.username,
        subject_type="user",
        subject_id=user.id,
        at=now,
    )
    log.info("user %d signed in", user.id)
    return LoginResult(ok=True, token=token, user_id=user.id)


def load_session(session: Session, *, token: str, now: datetime) -> tuple[WebSession, User] | None:
    """The live session and its user for a cookie token, or ``None``.

    Expired sessions are deleted; a disabled user's sessions do not work.
    """
    if not token or len(token) > 200:
        return None
    row = session.get(WebSession, token_hash(token))
    if row is None:
        return None
    if row.expires_at <= now:
        session.delete(row)
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    row.last_seen_at = now
    return row, user


def end_session(session: Session, *, token: str) -> None:
    """Delete the session for a cookie token (sign out)."""
    session.execute(delete(WebSession).where(WebSession.id == token_hash(token)))


def end_user_sessions(session: Session, *, user_id: int) -> int:
    """Delete every session of a user (after a password reset or disabling)."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def safe_next(target: str | None) -> str:
    """A redirect target after sign-in: only a relative path on this site, else ``/``."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 0x20 for ch in target):
        return "/"
    return target
