"""Session fixation and replay, beyond ``tests/web/test_auth.py``.

That file checks that a planted *valid* session is ended at sign-in. Here: an
attacker-chosen cookie value never becomes a session, each sign-in gets its
own session and CSRF token, and a session cookie copied before sign-out is
dead afterwards (the server forgets it; deleting the cookie is not enough).
"""

from __future__ import annotations

from sqlalchemy import select

from storage.db import session_scope
from storage.tables import WebSession
from tests.web.conftest import PASSWORD, WebEnv, csrf_of, login, session_csrf
from web.auth import COOKIE, token_hash

CHOSEN = "attacker-chosen-session-value-0123456789"


def test_an_attacker_chosen_cookie_never_becomes_a_session(env: WebEnv) -> None:
    victim = env.client()
    victim.cookies.set(COOKIE, CHOSEN)
    page = victim.get("/login")
    response = victim.post(
        "/login",
        data={"username": "dsl", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 303
    issued = response.cookies.get(COOKIE)
    assert issued and issued != CHOSEN
    with session_scope(env.runtime.factory) as session:
        assert session.get(WebSession, token_hash(CHOSEN)) is None
        ids = set(session.scalars(select(WebSession.id)))
    assert ids == {token_hash(issued)}
    attacker = env.client()
    attacker.cookies.set(COOKIE, CHOSEN)
    assert attacker.get("/queue").status_code == 303  # still signed out


def test_each_sign_in_gets_its_own_session_and_csrf_token(env: WebEnv) -> None:
    first, second = env.client(), env.client()
    csrf_one = login(first, "dsl")
    csrf_two = login(second, "dsl")
    assert csrf_one != csrf_two
    assert first.cookies[COOKIE] != second.cookies[COOKIE]
    again = login(first, "dsl")  # signing in again replaces the session
    assert again != csrf_one


def test_a_copied_cookie_is_dead_after_sign_out(env: WebEnv) -> None:
    client = env.client()
    login(client, "dsl")
    copied = client.cookies[COOKIE]
    csrf = session_csrf(client)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    thief = env.client()
    thief.cookies.set(COOKIE, copied)
    assert thief.get("/queue").status_code == 303
    with session_scope(env.runtime.factory) as session:
        assert session.get(WebSession, token_hash(copied)) is None
