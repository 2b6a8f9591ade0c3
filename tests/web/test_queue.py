"""Working the queue: order, filters, evidence, actions on the platform, bulk spam, replies."""

from __future__ import annotations

import re
from pathlib import Path
from typing import cast

from sqlalchemy import func, select

from config.loader import DEFAULT_POLICY, load_policy
from config.policy import Channel
from connectors.base import Connector
from connectors.fake import ScenarioConnector
from core.errors import TransientError
from core.models import Action, ActionResult, Batch, Platform
from storage.db import session_scope
from storage.tables import (
    AlertRow,
    AuditEvent,
    EvidenceRecord,
    ModerationLabel,
    PlatformAction,
    QueueItem,
)
from tests.web.conftest import XSS_AUTHOR, WebEnv, build_env, login


def _act(env: WebEnv, client, csrf: str, ext: str, action: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf, "action": action, "reason": f"test {action}", **extra}
    return client.post(f"/queue/{env.item_id(ext)}/action", data=data)


def _fb(env: WebEnv) -> ScenarioConnector:
    connector = env.connectors["facebook"]
    assert isinstance(connector, ScenarioConnector)
    return connector


def test_queue_is_most_severe_then_newest_first(env: WebEnv) -> None:
    client = env.client()
    login(client, "dsl")
    page = client.get("/queue?status=all").text
    ids = [int(i) for i in re.findall(r'href="/queue/(\d+)"', page)]
    with session_scope(env.runtime.factory) as session:
        rows = {i.id: i for i in session.scalars(select(QueueItem))}
    severities = [rows[i].severity for i in ids]
    assert severities == sorted(severities, reverse=True)
    assert severities[0] == 4  # the self-harm item leads
    # Among the three bullying items (same severity), the newest comes first.
    bullying = [i for i in ids if rows[i].category == "bullying"]
    assert bullying == [env.item_id("c10"), env.item_id("c08"), env.item_id("c02")]


def test_filters_narrow_the_queue_and_bad_values_are_ignored(env: WebEnv) -> None:
    client = env.client()
    login(client, "comms")
    spam = client.get("/queue?category=spam&status=all").text
    assert spam.count('name="item_id"') == 3
    assert "everyone hates her" not in spam
    none = client.get("/queue?platform=youtube&status=all").text
    assert "0 items" in none
    for evil in (
        "spam' OR '1'='1",
        "spam; DROP TABLE comments;--",
        "x' UNION SELECT password_hash FROM users--",
    ):
        response = client.get(
            "/queue", params={"category": evil, "status": evil, "date_from": evil}
        )
        assert response.status_code == 200
        assert "$argon2" not in response.text
    with session_scope(env.runtime.factory) as session:
        assert session.scalar(select(func.count()).select_from(QueueItem)) == 9


def test_date_filter(env: WebEnv) -> None:
    client = env.client()
    login(client, "comms")
    assert "0 items" in client.get("/queue?status=all&date_to=2000-01-01").text
    assert "0 items" not in client.get("/queue?status=all&date_from=2000-01-01").text


def test_comment_text_and_author_names_are_escaped(env: WebEnv) -> None:
    client = env.client()
    login(client, "comms")
    for page in (client.get("/queue").text, client.get(f"/queue/{env.item_id('c08')}").text):
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert XSS_AUTHOR not in page
        assert "&lt;img src=x onerror=" in page


def test_item_page_shows_evidence_thread_and_author_history(env: WebEnv) -> None:
    client = env.client()
    login(client, "comms")
    page = client.get(f"/queue/{env.item_id('c02')}").text
    assert "<mark>fat loser</mark>" in page
    assert "Matched the phrase" in page
    assert "Harvest festival assembly" in page  # the post
    assert "nobody likes you Ellie" in page  # the reply, and the author's other comment
    assert "1 other comment on Facebook" in page
    reply = client.get(f"/queue/{env.item_id('c10')}").text
    assert "In reply to" in reply and "everyone hates her" in reply


def test_hide_happens_on_the_platform_and_the_result_is_shown(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    assert _fb(env).state("c07") == "visible"
    response = _act(env, client, csrf, "c07", "hide")
    assert response.status_code == 303
    assert response.headers["location"].endswith("?notice=done#result")
    assert _fb(env).state("c07") == "hidden"
    page = client.get(response.headers["location"]).text
    assert "On platform: hidden" in page and "<strong>done</strong>" in page
    with session_scope(env.runtime.factory) as session:
        evidence = session.scalar(
            select(func.count())
            .select_from(EvidenceRecord)
            .where(EvidenceRecord.external_id == "c07")
        )
        events = set(session.scalars(select(AuditEvent.event)))
    assert evidence == 1  # kept before hiding
    assert {"queue.hide", "platform.action_done", "evidence.saved"} <= events


def test_actions_need_a_reason_and_a_csrf_token(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    no_reason = client.post(
        f"/queue/{env.item_id('c07')}/action",
        data={"csrf_token": csrf, "action": "hide", "reason": "  "},
    )
    assert no_reason.status_code == 400 and "Give a reason" in no_reason.text
    forged = client.post(
        f"/queue/{env.item_id('c07')}/action",
        data={"csrf_token": "forged", "action": "hide", "reason": "x"},
    )
    assert forged.status_code == 403 and "Form expired" in forged.text
    missing = client.post(
        f"/queue/{env.item_id('c07')}/action", data={"action": "hide", "reason": "x"}
    )
    assert missing.status_code == 403
    other = env.client()
    other_csrf = login(other, "deputy")
    stolen = client.post(
        f"/queue/{env.item_id('c07')}/action",
        data={"csrf_token": other_csrf, "action": "hide", "reason": "x"},
    )
    assert stolen.status_code == 403
    assert _fb(env).state("c07") == "visible"


def test_unhide_and_delete(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    assert _fb(env).state("c02") == "hidden"  # bullying was hidden automatically
    assert _act(env, client, csrf, "c02", "unhide").status_code == 303
    assert _fb(env).state("c02") == "visible"
    assert _act(env, client, csrf, "c02", "delete").status_code == 303
    assert _fb(env).state("c02") == "deleted"
    assert env.comment("c02").platform_state == "deleted"


def test_false_positive_and_confirm_write_training_labels(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    assert _act(env, client, csrf, "c07", "false_positive").status_code == 303
    assert _act(env, client, csrf, "c10", "confirm", category="bullying").status_code == 303
    with session_scope(env.runtime.factory) as session:
        labels = {
            (row.predicted, row.label, row.kind, row.actor)
            for row in session.scalars(select(ModerationLabel))
        }
        statuses = {i.id: i.status for i in session.scalars(select(QueueItem))}
    assert labels == {
        ("criticism", "benign", "false_positive", "comms"),
        ("bullying", "bullying", "confirmed", "comms"),
    }
    assert statuses[env.item_id("c07")] == "false_positive"
    assert statuses[env.item_id("c10")] == "confirmed"


def test_false_positive_restores_an_automatically_hidden_comment(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    assert _fb(env).state("c03") == "hidden"
    assert _act(env, client, csrf, "c03", "false_positive").status_code == 303
    assert _fb(env).state("c03") == "visible"


def test_escalating_raises_an_alert_to_the_dsl(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    response = _act(env, client, csrf, "c07", "escalate")
    assert response.headers["location"].endswith("notice=escalated#result")
    with session_scope(env.runtime.factory) as session:
        item = session.get(QueueItem, env.item_id("c07"))
        assert item is not None and item.status == "escalated" and item.queue_role == "dsl"
        alert = session.scalars(
            select(AlertRow).where(AlertRow.incident_key.contains(":escalated:"))
        ).one()
    assert alert.urgent and [r["role"] for r in alert.recipients] == ["dsl"]


def test_confirming_as_safeguarding_moves_it_to_the_dsl(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    response = _act(env, client, csrf, "c10", "confirm", category="self_harm")
    assert response.status_code == 303
    page = client.get(f"/queue/{env.item_id('c10')}").text
    assert "Referred to the DSL" in page and "nobody likes you" not in page


def test_bulk_removes_spam_only(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    spam = [env.item_id(c) for c in ("c03", "c04", "c05")]
    response = client.post(
        "/queue/bulk",
        data={
            "csrf_token": csrf,
            "action": "delete",
            "reason": "spam",
            "item_id": [str(i) for i in [*spam, env.item_id("c07")]],
        },
    )
    assert response.status_code == 303
    assert all(_fb(env).state(c) == "deleted" for c in ("c03", "c04", "c05"))
    assert _fb(env).state("c07") == "visible"  # criticism is never bulk-removed
    with session_scope(env.runtime.factory) as session:
        bulk = session.scalars(select(AuditEvent).where(AuditEvent.event == "queue.bulk")).one()
        evidence = session.scalars(
            select(EvidenceRecord).where(EvidenceRecord.external_id == "c03")
        ).all()
    assert bulk.details == {"action": "delete", "items": 4, "skipped": 1}
    # Spam hidden by the pipeline already had evidence; every record carries the verdict.
    assert evidence and all(e.snapshot["verdict"] is not None for e in evidence)


class FlakyFacebook:
    """A scenario Facebook Page whose moderation calls fail ``failures`` times first."""

    def __init__(self, inner: ScenarioConnector, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.platform = inner.platform
        self.supports = inner.supports

    def fetch_since(self, cursor: str | None, *, limit: int = 500) -> Batch:
        return self.inner.fetch_since(cursor, limit=limit)

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        if self.failures > 0:
            self.failures -= 1
            raise TransientError("Graph API 503", platform="facebook", code="503")
        return self.inner.apply(action, external_id, text=text)


def test_a_failed_platform_action_stays_visible_and_can_be_retried(tmp_path: Path) -> None:
    from connectors.fake import Scenario
    from tests.web.conftest import scenario_dict

    policy = load_policy(DEFAULT_POLICY)
    inner = ScenarioConnector(Scenario.from_dict(scenario_dict()), Platform.FACEBOOK, "hollybrook")
    flaky = FlakyFacebook(inner, failures=0)

    def factory(channel: Channel) -> Connector:
        return (
            cast(Connector, flaky)
            if channel.id == "facebook"
            else ScenarioConnector(
                Scenario.from_dict(scenario_dict()), channel.platform, "hollybrook"
            )
        )

    env = build_env(tmp_path, policy=policy, connector_factory=factory)
    flaky.failures = 2
    client = env.client()
    csrf = login(client, "comms")
    response = _act(env, client, csrf, "c07", "hide")
    assert response.headers["location"].endswith("notice=queued#result")
    assert inner.state("c07") == "visible"
    page = client.get(f"/queue/{env.item_id('c07')}").text
    assert "retrying" in page and "Graph API 503" in page
    listing = client.get("/queue").text
    assert "Platform action waiting" in listing
    with session_scope(env.runtime.factory) as session:
        row = session.scalars(
            select(PlatformAction).where(PlatformAction.requested_by == "comms")
        ).one()
    assert row.status == "pending" and row.attempts == 1
    health = env.client()
    login(health, "admin")
    assert "Graph API 503" in health.get("/health").text
    # Retry now: fails once more, then succeeds.
    client.post(f"/actions/{row.id}/retry", data={"csrf_token": csrf})
    assert inner.state("c07") == "visible"
    client.post(f"/actions/{row.id}/retry", data={"csrf_token": csrf})
    assert inner.state("c07") == "hidden"


def test_public_replies_need_a_second_colleague(tmp_path: Path) -> None:
    from connectors.fake import Scenario
    from tests.web.conftest import scenario_dict

    base = load_policy(DEFAULT_POLICY)
    policy = base.model_copy(
        update={"public_replies": base.public_replies.model_copy(update={"enabled": True})}
    )
    scenario = Scenario.from_dict(scenario_dict())
    replies: list[tuple[str, str]] = []

    class ReplyingFacebook(FlakyFacebook):
        supports = frozenset(
            {*ScenarioConnector(scenario, Platform.FACEBOOK, "h").supports, Action.REPLY}
        )

        def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
            if action is Action.REPLY:
                replies.append((external_id, text))
                return ActionResult(ok=True, action=action, external_id=external_id)
            return super().apply(action, external_id, text=text)

    page = ReplyingFacebook(ScenarioConnector(scenario, Platform.FACEBOOK, "hollybrook"), 0)
    page.supports = ReplyingFacebook.supports

    def factory(channel: Channel) -> Connector:
        return (
            cast(Connector, page)
            if channel.id == "facebook"
            else ScenarioConnector(scenario, channel.platform, "hollybrook")
        )

    env = build_env(tmp_path, policy=policy, connector_factory=factory)
    comms = env.client()
    csrf = login(comms, "comms")
    item = env.item_id("c07")
    assert "Reply publicly" in comms.get(f"/queue/{item}").text
    response = comms.post(
        f"/queue/{item}/reply", data={"csrf_token": csrf, "text": "Thanks, we are on it."}
    )
    assert response.headers["location"].endswith("notice=reply_waiting#result")
    assert replies == []
    with session_scope(env.runtime.factory) as session:
        action_id = session.scalars(
            select(PlatformAction.id).where(PlatformAction.action == "reply")
        ).one()
    own = comms.post(f"/replies/{action_id}/approve", data={"csrf_token": csrf})
    assert own.status_code == 400 and "different colleague" in own.text
    assert replies == []
    head = env.client()
    head_csrf = login(head, "head")
    assert "Thanks, we are on it." in head.get("/replies").text
    assert (
        head.post(f"/replies/{action_id}/approve", data={"csrf_token": head_csrf}).status_code
        == 303
    )
    assert replies == [("c07", "Thanks, we are on it.")]
    with session_scope(env.runtime.factory) as session:
        row = session.get(PlatformAction, action_id)
        assert row is not None and row.status == "done" and row.approved_by == "head"


def test_replies_are_off_by_default(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    item = env.item_id("c07")
    assert "Reply publicly" not in client.get(f"/queue/{item}").text
    refused = client.post(f"/queue/{item}/reply", data={"csrf_token": csrf, "text": "hello"})
    assert refused.status_code == 400
