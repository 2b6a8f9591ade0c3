"""Every route, generated from the app: its gate, CSRF on every form post, no stray methods.

``tests/web/test_roles.py`` checks each route against each role. Here: no
route can escape those checks by being mounted some other way, every
state-changing route refuses a post without this session's CSRF token (even
from a role that may use it), and methods a route does not declare are refused.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.db import session_scope
from storage.tables import AuditEvent, PlatformAction, QueueItem, User
from tests.security.routes import all_gates, path_values, unchecked_routes, urls
from tests.web.conftest import ROLE_USERS, WebEnv, login
from web.deps import Public, Requires
from web.permissions import has


def _state(env: WebEnv) -> tuple[int, ...]:
    with session_scope(env.runtime.factory) as session:
        return (
            int(session.scalar(select(func.count()).select_from(PlatformAction)) or 0),
            int(session.scalar(select(func.count()).where(QueueItem.status != "open")) or 0),
            int(session.scalar(select(func.count()).select_from(User)) or 0),
            int(session.scalar(select(func.count()).where(User.disabled.is_(True))) or 0),
        )


def test_no_route_is_mounted_outside_the_gate_checks(env: WebEnv) -> None:
    assert unchecked_routes(env) == []
    assert len(all_gates(env)) >= 20


def test_every_gated_route_names_a_known_permission(env: WebEnv) -> None:
    for gate in all_gates(env):
        if isinstance(gate.gate, Requires):
            holders = [r for r in ROLE_USERS if has(r, gate.gate.permission)]
            assert holders, f"{gate.path}: no role may ever use it"


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_form_posts_without_this_sessions_csrf_token_are_refused(env: WebEnv, role: str) -> None:
    values = path_values(env)
    other = env.client()
    foreign = login(other, ROLE_USERS["dsl" if role != "dsl" else "deputy_dsl"])
    client = env.client()
    own = login(client, ROLE_USERS[role])
    assert own != foreign
    before = _state(env)
    checked = 0
    for gate in all_gates(env):
        if gate.method == "GET" or not isinstance(gate.gate, Requires):
            continue
        if not has(role, gate.gate.permission):
            continue  # refused before CSRF is even looked at (tests/web/test_roles.py)
        for url in urls(gate.path, values):
            form = {"reason": "csrf probe", "action": "hide", "item_id": values["item_id"][0]}
            for token in (None, "", foreign, own[:-2] + "xx"):
                data = dict(form) if token is None else {**form, "csrf_token": token}
                response = client.post(url, data=data)
                assert response.status_code == 403, (role, url, token, response.status_code)
                assert "Form expired" in response.text
                headers = {"X-CSRF-Token": foreign}
                assert client.post(url, data=form, headers=headers).status_code == 403
                checked += 1
    assert checked > 0
    assert _state(env) == before  # nothing happened
    with session_scope(env.runtime.factory) as session:
        done = session.scalars(
            select(AuditEvent.event).where(AuditEvent.actor == ROLE_USERS[role])
        ).all()
    assert not any(e.startswith(("queue.", "user.", "reply.", "alert.ack")) for e in done)


def test_undeclared_methods_are_refused(env: WebEnv) -> None:
    values = path_values(env)
    client = env.client()
    login(client, "dsl")
    declared: dict[str, set[str]] = {}
    for gate in all_gates(env):
        declared.setdefault(gate.path, set()).add(gate.method)
    for path, methods in declared.items():
        for url in urls(path, values):
            for method in {"PUT", "DELETE", "PATCH"} - methods:
                response = client.request(method, url)
                assert response.status_code == 405, (method, url, response.status_code)


def test_public_routes_are_only_the_expected_few(env: WebEnv) -> None:
    public = sorted({(g.method, g.path) for g in all_gates(env) if isinstance(g.gate, Public)})
    assert public == [
        ("GET", "/ack/{token}"),
        ("GET", "/login"),
        ("GET", "/webhooks/facebook"),
        ("POST", "/ack/{token}"),
        ("POST", "/login"),
        ("POST", "/webhooks/facebook"),
    ]
