"""Stored XSS through comment text, author names and user names; SQL injection through filters.

Every page a role can open is fetched (paths filled with real ids) while the
store holds hostile comment text and author names; the raw markup must never
come back unescaped, in a page or in an alert email. Then every filter of
every list page gets SQL-shaped input: the app answers, the answer is no
wider than an impossible filter's, and nothing in the database changed.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from alerts.models import CommentView, RenderContext
from alerts.render import KINDS, render_delivery
from storage.db import session_scope
from storage.tables import AuditEvent, CommentRow, Delivery, User
from tests.security.routes import all_gates, path_values, urls
from tests.web.conftest import ROLE_USERS, XSS_AUTHOR, XSS_TEXT, WebEnv, csrf_of, login
from web.deps import Requires
from web.permissions import has

RAW = ("<script>alert(1)</script>", XSS_AUTHOR, 'onerror="alert(', "<svg onload=alert(3)>")
HOSTILE_NAME = "<svg onload=alert(3)>"
SQL = [
    "' OR '1'='1",
    "x' OR 1=1 --",
    '" OR ""="',
    "1; DROP TABLE comments; --",
    "') UNION SELECT password_hash, username FROM users --",
    "%",
    "_",
    "\\",
    "1 AND 1=(SELECT COUNT(*) FROM sqlite_master)",
    "2026-01-01' OR '1'='1",
    "-1",
    "99999999999999999999999",
]
FILTERS = ["platform", "category", "status", "date_from", "date_to", "page", "event", "actor",
           "subject", "q", "sort"]  # fmt: skip
LIST_PAGES = ["/queue", "/alerts", "/audit", "/audit.csv", "/replies", "/health", "/users"]
ERRORS = re.compile(r"OperationalError|ProgrammingError|sqlite3|psycopg|syntax error|Traceback")


def _rows(html: str) -> int:
    return len(re.findall(r"<tr[ >]", html))


def _hostile_user(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "admin")
    response = client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "hostile",
            "display_name": HOSTILE_NAME,
            "role": "comms_lead",
            "password": "another-long-password-9",
            "password_again": "another-long-password-9",
        },
    )
    assert response.status_code in (200, 303), response.status_code


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_no_page_returns_hostile_markup_unescaped(env: WebEnv, role: str) -> None:
    _hostile_user(env)
    values = path_values(env)
    client = env.client()
    login(client, ROLE_USERS[role])
    pages = 0
    for gate in all_gates(env):
        if gate.method != "GET" or not isinstance(gate.gate, Requires):
            continue
        if not has(role, gate.gate.permission):
            continue
        for url in urls(gate.path, values, every=True):
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            kind = response.headers.get("content-type", "")
            if "text/html" not in kind:
                assert (
                    "csv" in kind
                    or kind == "application/pdf"
                    or response.status_code
                    in (
                        303,
                        404,
                    )
                )
                for raw in RAW:
                    assert raw.encode() not in response.content, (role, url, raw)
                continue
            for raw in RAW:
                assert raw not in response.text, (role, url, raw)
            pages += 1
    assert pages >= 2


def test_the_dsl_sees_the_hostile_comment_escaped(env: WebEnv) -> None:
    client = env.client()
    login(client, "dsl")
    page = client.get(f"/queue/{env.item_id('c08')}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "&lt;img src=x onerror=" in page


def test_alert_emails_escape_comment_text_and_author_names(env: WebEnv) -> None:
    """Every email template, fed hostile comment text, names and payload values."""
    with session_scope(env.runtime.factory) as session:
        payloads = [d.payload for d in session.scalars(select(Delivery))]
    assert payloads, "the pipeline recorded no emails"
    view = CommentView(
        text=XSS_TEXT, author_name=XSS_AUTHOR, permalink="https://x.example/", thread_title=XSS_TEXT
    )
    context = RenderContext(
        school_name="Hollybrook Primary School",
        comment=view,
        alert_url="https://schoolwatch.hollybrook.example/alerts/1",
        ack_url="https://schoolwatch.hollybrook.example/ack/t",
        acknowledged_by=HOSTILE_NAME,
    )
    rendered = shown = 0
    for kind in sorted(KINDS):
        for payload in payloads:
            hostile = {k: (HOSTILE_NAME if isinstance(v, str) else v) for k, v in payload.items()}
            for p in (payload, {**payload, "reason": HOSTILE_NAME, "channel": XSS_TEXT}, hostile):
                row = SimpleNamespace(
                    kind=kind,
                    recipient_role="dsl",
                    recipient_name=XSS_AUTHOR,
                    subject=HOSTILE_NAME,
                    payload=p,
                )
                try:
                    content = render_delivery(row, context)
                except (KeyError, TypeError, ValueError):
                    continue  # a payload of another kind; not this template's input
                for raw in RAW:
                    assert raw not in content.html, (kind, raw)
                rendered += 1
                shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in content.html
    assert rendered >= len(KINDS)
    assert shown >= 1, "no template showed the comment (escaped): the test would prove nothing"


@pytest.mark.parametrize("page", LIST_PAGES)
def test_sql_shaped_filters_change_nothing_and_widen_nothing(env: WebEnv, page: str) -> None:
    client = env.client()
    login(client, "dsl" if page not in ("/users",) else "admin")
    with session_scope(env.runtime.factory) as session:
        before = (
            session.scalar(select(func.count()).select_from(CommentRow)),
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(Delivery)),
        )
    baseline = client.get(page, params=dict.fromkeys(FILTERS, "zz-nothing-matches-zz"))
    assert baseline.status_code in (200, 400, 403)
    for name in FILTERS:
        for payload in SQL:
            response = client.get(page, params={name: payload})
            assert response.status_code in (200, 400, 403), (page, name, payload)
            assert not ERRORS.search(response.text), (page, name, payload)
            assert "$argon2" not in response.text
            if name in ("event", "actor", "subject") and page == "/audit" and payload != "%":
                assert _rows(response.text) <= _rows(baseline.text) + 1, (name, payload)
    with session_scope(env.runtime.factory) as session:
        after = (
            session.scalar(select(func.count()).select_from(CommentRow)),
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(Delivery)),
        )
    assert after == before


def test_sql_shaped_form_values_are_stored_as_plain_text(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "admin")
    name = "robert'); DROP TABLE users;--"
    response = client.post(
        "/users",
        data={
            "csrf_token": csrf,
            "username": "bobby",
            "display_name": name,
            "role": "comms_lead",
            "password": "another-long-password-9",
            "password_again": "another-long-password-9",
        },
    )
    assert response.status_code in (200, 303)
    with session_scope(env.runtime.factory) as session:
        stored = session.scalars(select(User.display_name).where(User.username == "bobby")).one()
        assert stored == name
        assert session.scalar(select(func.count()).select_from(User)) == len(ROLE_USERS) + 1
    dsl = env.client()
    csrf = login(dsl, "dsl")
    item = env.item_id("c02")
    reason = "x'); DELETE FROM audit_events; --"
    client_response = dsl.post(
        f"/queue/{item}/action", data={"csrf_token": csrf, "action": "approve", "reason": reason}
    )
    assert client_response.status_code in (200, 303)
    with session_scope(env.runtime.factory) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent))
    assert csrf_of(dsl.get(f"/queue/{item}").text)
