"""Fixtures for the web app: a small Hollybrook world, one account per role, and helpers.

Test data goes through the real pipeline (``monitor.pipeline.run_cycle``)
with a scripted classifier, so queue items, alerts, evidence and automatic
hides are exactly what production writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

import web.auth
from config.loader import DEFAULT_POLICY, load_policy
from config.policy import Channel, SchoolPolicy
from config.settings import load_settings
from connectors.base import Connector
from connectors.fake import Scenario, ScenarioConnector
from connectors.scenarios import format_utc
from core.clock import utc_now
from core.models import Category, Comment, Context, Evidence, Verdict
from monitor.actions import process_platform_actions
from monitor.pipeline import run_cycle
from monitor.runtime import Runtime, build_runtime
from storage.db import session_scope
from storage.tables import CommentRow, QueueItem
from web.app import create_app
from web.users import create_user

if TYPE_CHECKING:
    from connectors.sandbox import Sandbox

PASSWORD = "correct-horse-battery-7"
XSS_TEXT = "<script>alert(1)</script> you are all idiots"
XSS_AUTHOR = '<img src=x onerror="alert(2)">'

# (id, author_id, author_name, text, category, matched words, staff mentioned)
COMMENTS: list[tuple[str, str, str, str, Category, str, tuple[str, ...]]] = [
    (
        "c01",
        "u1",
        "Jo Parent",
        "Lovely assembly today, well done everyone!",
        Category.BENIGN,
        "",
        (),
    ),
    (
        "c02",
        "u2",
        "Sam Troll",
        "Ellie T is a fat loser and everyone hates her",
        Category.BULLYING,
        "fat loser",
        (),
    ),
    (
        "c03",
        "u3",
        "Cheap Deals",
        "WIN a free iPhone!!! click bit.example/win",
        Category.SPAM,
        "free iPhone",
        (),
    ),
    (
        "c04",
        "u3",
        "Cheap Deals",
        "Crypto giveaway, DM me now crypto.example",
        Category.SPAM,
        "Crypto giveaway",
        (),
    ),
    (
        "c05",
        "u4",
        "Loan Fast",
        "Payday loans approved in minutes loans.example",
        Category.SPAM,
        "Payday loans",
        (),
    ),
    (
        "c06",
        "u5",
        "Worried Child",
        "i want to hurt myself nobody at home listens",
        Category.SELF_HARM,
        "hurt myself",
        (),
    ),
    (
        "c07",
        "u6",
        "Annoyed Dad",
        "The new pickup system is badly organised, sort it out",
        Category.CRITICISM,
        "badly organised",
        (),
    ),
    ("c08", "u7", XSS_AUTHOR, XSS_TEXT, Category.BULLYING, "idiots", ()),
    (
        "c09",
        "u8",
        "Anon Parent",
        "Mrs Okafor hit a child in the corridor, I saw it",
        Category.STAFF_ALLEGATION,
        "hit a child",
        ("head",),
    ),
    (
        "c10",
        "u2",
        "Sam Troll",
        "nobody likes you Ellie, just leave the school",
        Category.BULLYING,
        "nobody likes you",
        (),
    ),
]
REPLY_TO = {"c10": "c02"}  # c10 replies to c02


class ScriptedClassifier:
    """Gives each test comment the verdict written in :data:`COMMENTS`."""

    name = "scripted"
    version = "1"

    def __init__(self, policy: SchoolPolicy) -> None:
        head = next(s.id for s in policy.roster.staff if s.role == "headteacher")
        self.by_text = {
            text: (cat, words, tuple(head if s == "head" else s for s in staff))
            for _, _, _, text, cat, words, staff in COMMENTS
        }

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]:
        out = []
        for comment in comments:
            cat, words, staff = self.by_text.get(comment.text, (Category.BENIGN, "", ()))
            evidence: tuple[Evidence, ...] = ()
            if words:
                start = comment.text.find(words)
                evidence = (
                    Evidence(
                        category=cat,
                        source="lexicon",
                        rule_id=f"test.{cat.value}",
                        score=0.95,
                        span=(start, start + len(words)) if start >= 0 else None,
                        matched=words,
                        detail="a test phrase",
                    ),
                )
            flagged = () if cat is Category.BENIGN else (cat,)
            out.append(
                Verdict(
                    scores={cat: 0.95},
                    flagged=flagged,
                    evidence=evidence,
                    classifier="scripted@1",
                    explanation=f"Matched the phrase “{words}”." if words else "",
                    staff_mentioned=staff,
                )
            )
        return out


def scenario_dict(school_id: str = "hollybrook") -> dict[str, Any]:
    """A tiny Hollybrook world: one Facebook post and the comments above, all recent."""
    now = utc_now()
    start = now - timedelta(hours=len(COMMENTS) + 2)
    comments = []
    for n, (cid, author_id, author, text, cat, _, _) in enumerate(COMMENTS):
        comments.append(
            {
                "platform": "facebook",
                "id": cid,
                "post_id": "p1",
                "parent_id": REPLY_TO.get(cid),
                "author_id": author_id,
                "author_name": author,
                "text": text,
                "created_at": format_utc(start + timedelta(hours=n + 1)),
                "expected": cat.value,
            }
        )
    return {
        "scenario_version": 1,
        "school_id": school_id,
        "description": "web tests",
        "posts": [
            {
                "platform": "facebook",
                "id": "p1",
                "title": "Harvest festival assembly",
                "text": "Thank you to all our families for coming.",
                "created_at": format_utc(start),
                "author_name": "Hollybrook Primary School",
            }
        ],
        "comments": comments,
    }


ROLE_USERS = {
    "dsl": "dsl",
    "deputy_dsl": "deputy",
    "headteacher": "head",
    "comms_lead": "comms",
    "chair_of_governors": "chair",
    "data_protection_officer": "dpo",
    "admin": "admin",
}


@dataclass
class WebEnv:
    """A running world: runtime, app, the fake platform and the account names."""

    runtime: Runtime
    app: FastAPI
    connectors: dict[str, Connector]
    policy: SchoolPolicy
    users: dict[str, str] = field(default_factory=lambda: dict(ROLE_USERS))

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(self.app, base_url=base_url, follow_redirects=False)

    def item_id(self, external_id: str) -> int:
        with session_scope(self.runtime.factory) as session:
            found = session.execute(
                select(QueueItem.id)
                .join(CommentRow, CommentRow.id == QueueItem.comment_id)
                .where(CommentRow.external_id == external_id)
            ).scalar_one()
            return int(found)

    def comment(self, external_id: str) -> CommentRow:
        with session_scope(self.runtime.factory) as session:
            row = session.scalars(
                select(CommentRow).where(CommentRow.external_id == external_id)
            ).one()
            return row


def build_env(
    tmp_path: Path,
    *,
    policy: SchoolPolicy | None = None,
    connector_factory: Callable[[Channel], Connector] | None = None,
    base_url: str = "http://127.0.0.1:8000",
    database_url: str | None = None,
) -> WebEnv:
    """Migrate a fresh database, run the pipeline over the scenario, add one user per role."""
    policy = policy or load_policy(DEFAULT_POLICY)
    settings = load_settings(
        _env_file=None,
        database_url=database_url or f"sqlite:///{tmp_path / 'web.db'}",
        data_dir=tmp_path,
        outbox_dir=tmp_path / "outbox",
        web_base_url=base_url,
        use_model=False,
    )
    connectors: dict[str, Connector] = {}
    if connector_factory is None:
        scenario = Scenario.from_dict(scenario_dict(policy.school.id))

        def factory(channel: Channel) -> Connector:
            if channel.id not in connectors:
                connectors[channel.id] = ScenarioConnector(
                    scenario, channel.platform, policy.school.id
                )
            return connectors[channel.id]

        connector_factory = factory
    runtime = build_runtime(settings, policy=policy, connector_factory=connector_factory)
    channel = policy.channel("facebook")
    report = run_cycle(
        factory=runtime.factory,
        policy=policy,
        channel=channel,
        connector=runtime.connector("facebook"),
        classifier=ScriptedClassifier(policy),
    )
    assert report.status == "ok", report
    assert report.stored == len(COMMENTS)
    process_platform_actions(runtime)
    with session_scope(runtime.factory) as session:
        for role, username in ROLE_USERS.items():
            holder = policy.roles[role]
            create_user(
                session,
                school_id=policy.school.id,
                username=username,
                password=PASSWORD,
                role=role,
                display_name=holder.name,
            )
    return WebEnv(runtime=runtime, app=create_app(runtime), connectors=connectors, policy=policy)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper argon2 parameters in tests (production keeps argon2-cffi's defaults)."""
    monkeypatch.setattr(
        web.auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    """The standard web test world (ScenarioConnector platform)."""
    built = build_env(tmp_path)
    yield built
    built.runtime.engine.dispose()


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in and return the session's CSRF token."""
    page = client.get("/login")
    assert page.status_code == 200
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_of(page.text),
            "next": "/",
        },
    )
    assert response.status_code == 303, response.text
    return session_csrf(client)


def session_csrf(client: TestClient) -> str:
    """The signed-in session's CSRF token (from the sign-out form on the start page)."""
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200, page.status_code
    return csrf_of(page.text)


@contextmanager
def live_app(
    folder: Path, *, webhook_secrets: bool = False
) -> Iterator[tuple[WebEnv, Sandbox, str]]:
    """The web app served by uvicorn on 127.0.0.1 over a running platform sandbox.

    Yields the environment, the sandbox and the app's base URL; with
    ``webhook_secrets`` the app is given the sandbox Page's app secret and verify
    token, so signed webhook deliveries are accepted.
    """
    import threading
    import time

    import uvicorn
    from pydantic import SecretStr

    from connectors.registry import build_connector
    from connectors.sandbox import Sandbox
    from tests.netutil import free_port

    policy = load_policy(DEFAULT_POLICY)
    sandbox = Sandbox(
        scenario_dict(policy.school.id),
        page_id=policy.channel("facebook").account_id,
        channel_id=policy.channel("youtube").account_id,
    ).start()

    def factory(channel: Channel) -> Connector:
        return build_connector(channel, policy.school, sandbox.settings())

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = build_env(folder, policy=policy, connector_factory=factory, base_url=base)
    if webhook_secrets:
        env.runtime.settings = env.runtime.settings.model_copy(
            update={
                "facebook_app_secret": SecretStr(sandbox.credentials.app_secret),
                "facebook_verify_token": SecretStr(sandbox.credentials.verify_token),
            }
        )
    server = uvicorn.Server(
        uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield env, sandbox, base
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sandbox.stop()
        env.runtime.engine.dispose()
