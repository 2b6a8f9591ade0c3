"""Least access: every route's gate, checked for every role; what each role may see."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select

from config.policy import ROLES
from storage.db import session_scope
from storage.tables import AuditEvent
from tests.web.conftest import WebEnv, login
from web.app import api_routes
from web.deps import Public, Requires
from web.permissions import ROLE_PERMISSIONS, Perm, has


def _gates(route: APIRoute) -> list[Requires | Public]:
    found: list[Requires | Public] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Requires | Public):
            found.append(dep.call)
        stack.extend(dep.dependencies)
    return found


def _fill(path: str, item_id: int) -> str:
    values = {
        "item_id": str(item_id),
        "action_id": "1",
        "alert_key": "0" * 32,
        "token": "x",
        "user_id": "1",
        "decision": "approve",
        "change": "unlock",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def _routes(env: WebEnv) -> list[tuple[str, str, Requires | Public]]:
    out = []
    for route in api_routes(env.app):
        gates = _gates(route)
        assert len(gates) == 1, f"{route.path} must declare exactly one gate, found {gates}"
        for method in sorted(route.methods or ()):
            out.append((method, route.path, gates[0]))
    return out


def test_every_route_declares_a_gate_and_few_are_public(env: WebEnv) -> None:
    routes = _routes(env)
    public = sorted({path for _, path, gate in routes if isinstance(gate, Public)})
    assert public == ["/ack/{token}", "/login", "/webhooks/facebook"]
    assert len(routes) >= 20


def test_anonymous_requests_are_refused_everywhere(env: WebEnv) -> None:
    client = env.client()
    item = env.item_id("c02")
    for method, path, gate in _routes(env):
        if isinstance(gate, Public):
            continue
        response = client.request(method, _fill(path, item))
        if method == "GET":
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next=")
        else:
            assert response.status_code == 401, (method, path)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_routes_outside_its_permissions(env: WebEnv, role: str) -> None:
    client = env.client()
    csrf = login(client, env.users[role])
    item = env.item_id("c02")
    checked = 0
    for method, path, gate in _routes(env):
        if isinstance(gate, Public):
            continue
        url = _fill(path, item)
        if has(role, gate.permission):
            if method == "GET":
                response = client.get(url)
                assert response.status_code in (200, 303, 404), (role, path)
            continue
        data = {"csrf_token": csrf} if method == "POST" else None
        response = client.request(method, url, data=data)
        assert response.status_code == 403, (role, method, path, response.status_code)
        assert "Not available to your role" in response.text
        checked += 1
    assert checked == sum(
        1 for m, p, g in _routes(env) if isinstance(g, Requires) and not has(role, g.permission)
    )
    with session_scope(env.runtime.factory) as session:
        denied = list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == "access.denied"))
        )
    assert len(denied) == checked


def test_admin_holds_only_admin_permissions() -> None:
    assert ROLE_PERMISSIONS["admin"] == {
        Perm.SIGNED_IN,
        Perm.AUDIT_VIEW,
        Perm.HEALTH_VIEW,
        Perm.USERS_MANAGE,
    }
    assert not any(has(r, Perm.USERS_MANAGE) for r in ROLES if r != "admin")


def test_comms_lead_sees_safeguarding_only_as_referred(env: WebEnv) -> None:
    client = env.client()
    login(client, "comms")
    page = client.get("/queue?status=all").text
    assert "Referred to the DSL" in page
    assert "hurt myself" not in page and "Worried Child" not in page
    assert "hit a child" not in page  # staff allegation: the DSL's
    assert "everyone hates her" in page  # bullying: the comms lead's
    assert "Self-harm concern" not in page and "Allegation against staff" not in page
    # Filtering by a category the comms lead only sees as referred reveals nothing.
    probe = client.get("/queue?status=all&category=self_harm").text
    assert re.search(r"(\d+) items", probe).group(1) == re.search(r"(\d+) items", page).group(1)  # type: ignore[union-attr]
    item = client.get(f"/queue/{env.item_id('c06')}")
    assert item.status_code == 200
    assert "Referred to the DSL" in item.text
    assert "hurt myself" not in item.text and "Worried Child" not in item.text
    assert 'action="/queue/' not in item.text  # no actions on it either
    # Acting on it is refused even with a valid form.
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    refused = client.post(
        f"/queue/{env.item_id('c06')}/action",
        data={"csrf_token": csrf.group(1), "action": "approve", "reason": "x"},
    )
    assert refused.status_code == 404


def test_dsl_sees_safeguarding_text_and_each_view_is_audited(env: WebEnv) -> None:
    client = env.client()
    login(client, "dsl")
    queue = client.get("/queue").text
    assert "hurt myself" not in queue  # the list never shows safeguarding text
    item_id = env.item_id("c06")
    for _ in range(2):
        page = client.get(f"/queue/{item_id}")
        assert page.status_code == 200
        assert "hurt myself" in page.text and "Worried Child" in page.text
        assert page.headers["cache-control"] == "no-store"
    with session_scope(env.runtime.factory) as session:
        views = list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == "safeguarding.viewed"))
        )
    assert [(v.actor, v.subject_id) for v in views] == [("dsl", str(item_id))] * 2
    assert all("hurt" not in str(v.details) for v in views)


def test_allegation_about_the_head_is_hidden_from_the_head_and_shown_to_the_chair(
    env: WebEnv,
) -> None:
    item_id = env.item_id("c09")
    head = env.client()
    login(head, "head")
    assert "hit a child" not in head.get("/queue?status=all").text
    assert head.get(f"/queue/{item_id}").status_code == 404
    assert "hurt myself" in head.get(f"/queue/{env.item_id('c06')}").text
    chair = env.client()
    login(chair, "chair")
    listing = chair.get("/queue?status=all").text
    assert "Open item" in listing
    assert "fat loser" not in listing  # bullying is not the chair's
    page = chair.get(f"/queue/{item_id}")
    assert page.status_code == 200 and "hit a child" in page.text
    assert chair.get(f"/queue/{env.item_id('c02')}").status_code == 404


def test_admin_and_dpo_see_no_other_comment_text(env: WebEnv) -> None:
    admin = env.client()
    login(admin, "admin")
    assert admin.get("/queue").status_code == 403
    for page in ("/health", "/audit"):
        text = admin.get(page).text
        for _, _, _, comment_text, _, _, _ in __import__(
            "tests.web.conftest"
        ).web.conftest.COMMENTS:
            assert comment_text[:20] not in text
    dpo = env.client()
    login(dpo, "dpo")
    listing = dpo.get("/queue?status=all").text
    assert "fat loser" not in listing and "Open item" not in listing


def test_head_audit_log_leaves_out_an_allegation_about_the_head(env: WebEnv) -> None:
    comment_id = env.comment("c09").id
    dsl = env.client()
    login(dsl, "dsl")
    dsl_page = dsl.get(f"/audit?subject={comment_id}").text
    assert "evidence.saved" in dsl_page
    head = env.client()
    login(head, "head")
    assert "0 events" in head.get(f"/audit?subject={comment_id}").text
    exported = head.get("/audit.csv").text
    with session_scope(env.runtime.factory) as session:
        key = session.scalars(
            select(AuditEvent.subject_id).where(
                AuditEvent.event == "alert.raised",
                AuditEvent.details["category"].as_string() == "staff_allegation",
            )
        ).first()
    assert key and key not in exported
    assert key in dsl.get("/audit.csv").text


def test_referred_items_show_the_comms_lead_only_the_referral_and_the_time(env: WebEnv) -> None:
    client = env.client()
    login(client, "comms")
    listing = client.get("/queue?status=all").text
    blocks = re.findall(r'<li class="item[^"]*">.*?</li>', listing, re.DOTALL)
    referred = [b for b in blocks if "Referred to the DSL" in b]
    assert len(referred) == 2  # self-harm and the staff allegation
    for block in referred:
        assert block.startswith('<li class="item referred">')  # no sev-N class either
        assert "<time" in block
        for hidden in (
            "badge",
            "critical",
            "high",
            "Facebook",
            "On platform",
            "Status:",
            "/queue/",
        ):
            assert hidden not in block, hidden
    full = [b for b in blocks if "Referred to the DSL" not in b]
    assert full and all('class="badge sev"' in b and "Facebook" in b for b in full)
    # Their place in the list does not reveal their severity: last, newest first.
    assert blocks[-len(referred) :] == referred
    times = [re.search(r'datetime="([^"]+)"', b).group(1) for b in referred]  # type: ignore[union-attr]
    assert times == sorted(times, reverse=True)
    item = client.get(f"/queue/{env.item_id('c06')}").text.split('<main id="main"', 1)[1]
    assert "Referred to the DSL" in item and "<time" in item
    for hidden in ("badge", "critical", "Facebook", "On platform", "Status:", "hidden"):
        assert hidden not in item, hidden
    dsl = env.client()
    login(dsl, "dsl")
    page = dsl.get(f"/queue/{env.item_id('c06')}").text
    assert 'class="badge sev">critical' in page and "On platform: hidden" in page
