"""Sign-in, sessions, lockout, CSRF, open redirects and session fixation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.clock import set_clock, utc_now
from storage.db import session_scope
from storage.tables import AuditEvent, User, WebSession
from tests.web.conftest import PASSWORD, WebEnv, csrf_of, login
from web.auth import COOKIE, token_hash


def _post_login(client, username: str, password: str, next_url: str = "/"):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": next_url,
        },
    )


def test_anonymous_pages_redirect_to_sign_in(env: WebEnv) -> None:
    client = env.client()
    response = client.get("/queue?status=all")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fqueue%3Fstatus%3Dall"


def test_sign_in_sets_a_hardened_cookie_and_stores_only_its_hash(env: WebEnv) -> None:
    client = env.client()
    response = _post_login(client, "comms", PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # http base URL (local); see the https test below
    token = client.cookies[COOKIE]
    with session_scope(env.runtime.factory) as session:
        ids = list(session.scalars(select(WebSession.id)))
    assert ids == [token_hash(token)]
    assert token not in ids


def test_cookie_is_secure_when_served_over_https(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import build_env

    https = build_env(tmp_path, base_url="https://schoolwatch.hollybrook.example")
    client = https.client("https://testserver")
    response = _post_login(client, "comms", PASSWORD)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]
    assert "Strict-Transport-Security" in client.get("/login").headers


def test_wrong_password_is_refused_and_recorded(env: WebEnv) -> None:
    client = env.client()
    response = _post_login(client, "comms", "not-the-password-at-all")
    assert response.status_code == 401
    assert "username or password is wrong" in response.text
    assert COOKIE not in client.cookies
    with session_scope(env.runtime.factory) as session:
        failures = session.scalar(
            select(func.count()).where(AuditEvent.event == "auth.login_failed")
        )
    assert failures == 1


def test_five_failures_lock_the_account_for_fifteen_minutes(env: WebEnv) -> None:
    client = env.client()
    for _ in range(5):
        assert _post_login(client, "dsl", "wrong-password-guess").status_code == 401
    # Even the right password is refused while locked.
    locked = _post_login(client, "dsl", PASSWORD)
    assert locked.status_code == 401
    assert "locked" in locked.text
    start = utc_now()
    set_clock(lambda: start + timedelta(minutes=16))
    try:
        assert _post_login(client, "dsl", PASSWORD).status_code == 303
    finally:
        set_clock(None)


def test_sign_in_form_needs_its_csrf_token(env: WebEnv) -> None:
    client = env.client()
    client.get("/login")
    response = client.post(
        "/login", data={"username": "comms", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert COOKIE not in client.cookies


def test_redirect_after_sign_in_stays_on_this_site(env: WebEnv) -> None:
    for evil in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        client = env.client()
        response = _post_login(client, "comms", PASSWORD, next_url=evil)
        assert response.status_code == 303
        assert response.headers["location"] == "/", evil
    client = env.client()
    response = _post_login(client, "comms", PASSWORD, next_url="/alerts?status=all")
    assert response.headers["location"] == "/alerts?status=all"


def test_sign_in_issues_a_new_session_token_no_fixation(env: WebEnv) -> None:
    attacker = env.client()
    login(attacker, "chair")
    planted = attacker.cookies[COOKIE]
    victim = env.client()
    victim.cookies.set(COOKIE, planted, domain="testserver.local")
    response = _post_login(victim, "comms", PASSWORD)
    assert response.status_code == 303
    fresh = victim.cookies.get(COOKIE, domain="testserver.local")
    assert fresh
    assert fresh != planted
    with session_scope(env.runtime.factory) as session:
        assert session.get(WebSession, token_hash(planted)) is None  # the planted one ended
        assert session.get(WebSession, token_hash(fresh)) is not None
    # A made-up token is never accepted as a session.
    forged = env.client()
    forged.cookies.set(COOKIE, "made-up-token")
    assert forged.get("/queue").status_code == 303


def test_sessions_expire(env: WebEnv) -> None:
    client = env.client()
    login(client, "comms")
    assert client.get("/queue").status_code == 200
    start = utc_now()
    set_clock(lambda: start + timedelta(hours=env.runtime.settings.session_hours, minutes=1))
    try:
        assert client.get("/queue").status_code == 303
    finally:
        set_clock(None)
    with session_scope(env.runtime.factory) as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_sign_out_ends_the_session(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    token = client.cookies[COOKIE]
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    reuse = env.client()
    reuse.cookies.set(COOKIE, token)
    assert reuse.get("/queue").status_code == 303


def test_disabled_user_cannot_sign_in_and_loses_sessions(env: WebEnv) -> None:
    from web.users import disable_user

    client = env.client()
    login(client, "comms")
    with session_scope(env.runtime.factory) as session:
        disable_user(session, school_id="hollybrook", username="comms")
    assert client.get("/queue").status_code == 303
    assert _post_login(env.client(), "comms", PASSWORD).status_code == 401


def test_passwords_are_argon2_hashes(env: WebEnv) -> None:
    with session_scope(env.runtime.factory) as session:
        hashes = list(session.scalars(select(User.password_hash)))
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


def test_demo_users_get_fresh_passwords_each_run(env: WebEnv) -> None:
    from web.users import ensure_demo_users

    first = ensure_demo_users(env.runtime.factory, env.policy)
    assert sorted(role for _, _, role in first) == sorted(env.users)
    assert len({password for _, password, _ in first}) == len(first)
    username, password, role = next(x for x in first if x[2] == "comms_lead")
    client = env.client()
    login(client, username, password)
    assert client.get("/queue").status_code == 200
    second = ensure_demo_users(env.runtime.factory, env.policy)
    again = {u: p for u, p, _ in second}
    assert again[username] != password
    assert _post_login(env.client(), username, password).status_code == 401
    assert client.get("/queue").status_code == 303  # the reset signed the old session out
