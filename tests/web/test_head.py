"""HEAD is answered on every GET page (link checkers, uptime monitors), never with a body."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.db import session_scope
from storage.tables import AlertRow
from tests.web.conftest import WebEnv, login
from web.app import api_routes
from web.permissions import Perm, has


def _get_paths(env: WebEnv) -> list[str]:
    with session_scope(env.runtime.factory) as session:
        key = session.scalars(select(AlertRow.alert_key)).first()
    values = {"item_id": str(env.item_id("c06")), "alert_key": str(key), "token": "x"}
    return sorted(
        re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], route.path)
        for route in api_routes(env.app)
        if "GET" in (route.methods or ())
    )


def test_head_on_every_get_route_answers_like_get_without_a_body(env: WebEnv) -> None:
    client = env.client()
    login(client, "dsl")
    paths = _get_paths(env)
    assert "/alerts/{alert_key}" not in paths and len(paths) >= 10
    for path in paths:
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code != 405, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
        assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
    page = client.head("/queue")
    assert page.status_code == 200 and int(page.headers["content-length"]) > 1000
    assert page.headers["cache-control"] == "no-store"
    assert client.head("/static/style.css").status_code == 200


def test_head_keeps_the_gates(env: WebEnv) -> None:
    anonymous = env.client()
    response = anonymous.head("/alerts")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Falerts"
    assert anonymous.head("/login").status_code == 200
    admin = env.client()
    login(admin, "admin")
    assert not has("admin", Perm.QUEUE_VIEW)
    refused = admin.head("/queue")
    assert refused.status_code == 403 and refused.content == b""


def test_head_on_a_post_only_route_is_still_405(env: WebEnv) -> None:
    client = env.client()
    login(client, "dsl")
    with session_scope(env.runtime.factory) as session:
        key = session.scalars(select(AlertRow.alert_key)).first()
    for path in ("/logout", f"/alerts/{key}/ack", "/users/1/unlock"):
        assert client.get(path).status_code == 405, path
        assert client.head(path).status_code == 405, path
