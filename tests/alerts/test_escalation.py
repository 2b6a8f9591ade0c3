"""Escalation timetable: pure due-step logic and the database-backed runner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from alerts.delivery import deliver_pending
from alerts.escalation import due_escalations, run_escalations, step_time
from config.policy import SchoolPolicy
from config.settings import Settings
from storage.db import session_scope
from storage.tables import AlertRow, Delivery

from .conftest import (
    NIGHT,
    KeywordClassifier,
    ListConnector,
    body_text,
    ingest,
    make_comment,
    read_outbox,
)

STEPS = [
    {"after_minutes": 15, "notify": ["deputy_dsl"], "reminder": "look now", "clause": "Aycliffe 6"},
    {
        "after_minutes": 30,
        "notify": ["headteacher"],
        "reminder": "get advice",
        "clause": "Aycliffe 8",
    },
]


@dataclass
class FakeAlert:
    created_at: datetime
    status: str = "open"
    escalation_level: int = 0
    escalation: list[dict[str, Any]] = field(default_factory=lambda: list(STEPS))


def test_due_escalations_is_a_pure_timetable() -> None:
    alert = FakeAlert(NIGHT)
    assert step_time(alert, 0) == NIGHT + timedelta(minutes=15)
    assert step_time(alert, 2) is None
    assert due_escalations([alert], NIGHT + timedelta(minutes=14, seconds=59)) == []
    due = due_escalations([alert], NIGHT + timedelta(minutes=15))
    assert [(d.level, d.notify, d.clause) for d in due] == [(0, ("deputy_dsl",), "Aycliffe 6")]
    # Stopped for 40 minutes: both steps are due, in order.
    assert [d.level for d in due_escalations([alert], NIGHT + timedelta(minutes=40))] == [0, 1]
    # Step 1 already taken: only step 2.
    alert.escalation_level = 1
    assert [d.level for d in due_escalations([alert], NIGHT + timedelta(minutes=40))] == [1]
    # Acknowledged or closed alerts never escalate.
    for status in ("acknowledged", "closed"):
        assert due_escalations([FakeAlert(NIGHT, status=status)], NIGHT + timedelta(hours=9)) == []
    # No steps: nothing.
    assert due_escalations([FakeAlert(NIGHT, escalation=[])], NIGHT + timedelta(hours=9)) == []


def test_non_safeguarding_alerts_do_not_escalate(factory, policy: SchoolPolicy) -> None:
    ingest(factory, policy, ListConnector([make_comment(1, "[threat] you will see")]), NIGHT)
    with factory() as session:
        alert = session.scalars(select(AlertRow)).one()
    assert alert.next_escalation_at is None
    assert run_escalations(factory, policy, now=NIGHT + timedelta(days=2)) == 0


def test_headteacher_subject_escalates_to_the_chair(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    # A disclosure that alleges something of the headteacher: the 30-minute step goes to the chair.
    classifier = KeywordClassifier({"Mrs Okafor": ("okafor",)})
    text = "[abuse_disclosure] [staff_allegation] Mrs Okafor hurt my son"
    ingest(factory, policy, ListConnector([make_comment(1, text)]), NIGHT, classifier)
    assert run_escalations(factory, policy, now=NIGHT + timedelta(minutes=31)) == 2
    deliver_pending(factory, settings, policy, now=NIGHT + timedelta(minutes=31))
    to = [str(m["To"]) for m in read_outbox(settings.outbox_dir)]
    assert not any(policy.roles["headteacher"].email in t for t in to)
    assert any(policy.roles["chair_of_governors"].email in t for t in to)


def test_escalation_of_an_alert_raised_with_few_facts_keeps_a_full_subject(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    # E.g. an alert raised by a colleague's "escalate to the DSL" in the web app.
    ingest(factory, policy, ListConnector([make_comment(1, "[self_harm] goodbye")]), NIGHT)
    with session_scope(factory) as session:
        for row in session.scalars(select(Delivery)):
            row.payload = {"alert_key": row.payload["alert_key"], "category": "self_harm"}
    run_escalations(factory, policy, now=NIGHT + timedelta(minutes=15))
    deliver_pending(factory, settings, policy, now=NIGHT + timedelta(minutes=15))
    last = read_outbox(settings.outbox_dir)[-1]
    assert str(last["Subject"]).startswith("Re: [URGENT] Self-harm concern on Facebook (ref ")
    assert "goodbye" not in body_text(last)
