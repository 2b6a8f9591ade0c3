"""Evidence before any hide, one incident for related comments, and the audit trail."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import timedelta

from sqlalchemy import delete, select

from alerts.delivery import deliver_pending
from alerts.incidents import incident_comment_ids
from config.policy import SchoolPolicy
from config.settings import Settings
from storage.db import session_scope
from storage.tables import (
    AlertRow,
    AuditEvent,
    CommentRow,
    Delivery,
    EvidenceRecord,
    PlatformAction,
    QueueItem,
)

from .conftest import NIGHT, ListConnector, ingest, make_comment


def test_evidence_is_saved_before_any_hide_and_outlives_the_comment(
    factory, policy: SchoolPolicy
) -> None:
    parent = make_comment(1, "[criticism] the trip was badly organised", author="p1")
    child = make_comment(
        2,
        "[personal_data] her address is 12 Example Road, call 07700 900123",
        author="x9",
        author_name="Sam Sample",
        parent="c1",
    )
    ingest(factory, policy, ListConnector([parent, child]), NIGHT)
    with factory() as session:
        ev = session.scalars(select(EvidenceRecord)).one()
        action = session.scalars(select(PlatformAction)).one()
        saved = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "evidence.saved")
        ).one()
    assert action.action == "hide" and ev.external_id == "c2"
    assert ev.id is not None and saved.details["reference"] == ev.reference
    # Recorded in the same transaction as the hide request, before anything touched the platform.
    assert action.status == "pending" and ev.created_at <= action.created_at
    snap = ev.snapshot
    assert snap["comment"]["text"] == child.text
    assert snap["comment"]["permalink"] == child.permalink
    assert snap["author"] == {"id": "x9", "name": "Sam Sample"}
    assert snap["thread"]["title"] == child.thread_title
    assert snap["thread"]["parent_text"] == parent.text  # its thread context
    assert snap["verdict"]["primary"] == "personal_data"
    body = json.dumps(snap, sort_keys=True, ensure_ascii=False)
    assert ev.sha256 == hashlib.sha256(body.encode()).hexdigest()  # tamper evidence
    assert ev.keep_until >= NIGHT + timedelta(days=365 * policy.retention.evidence_years)
    # Criticism is never hidden and needs no evidence record.
    with factory() as session:
        assert session.scalars(select(EvidenceRecord.external_id)).all() == ["c2"]

    # The platform deletes the comment and we purge our copy: the evidence stays.
    with session_scope(factory) as session:
        session.execute(delete(CommentRow).where(CommentRow.external_id == "c2"))
    with factory() as session:
        kept = session.scalars(select(EvidenceRecord)).one()
    assert kept.comment_id is None
    assert kept.snapshot["comment"]["text"] == child.text


def test_further_comments_in_the_thread_or_by_the_author_join_the_open_incident(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    conn = ListConnector(
        [make_comment(1, "[bullying] you are all losers", thread="t1", author="a")]
    )
    report = ingest(factory, policy, conn, NIGHT)
    assert (report.alerts, report.alerts_joined, report.emails) == (1, 0, 1)
    later = NIGHT + timedelta(minutes=30)
    conn.comments += [
        make_comment(2, "[bullying] and your kid is ugly", thread="t1", author="b", at=later),
        make_comment(3, "[bullying] same again elsewhere", thread="t9", author="a", at=later),
        make_comment(4, "[bullying] unrelated person", thread="t5", author="c", at=later),
        # A more serious category in the same thread is never hidden inside the bullying one.
        make_comment(5, "[self_harm] I can't go on", thread="t1", author="b", at=later),
    ]
    report = ingest(factory, policy, conn, later)
    assert (report.alerts, report.alerts_joined) == (2, 2)
    with factory() as session:
        alerts = {a.category: a for a in session.scalars(select(AlertRow))}
        first = session.scalars(select(AlertRow).order_by(AlertRow.id)).first()
        joined = list(session.scalars(select(AuditEvent).where(AuditEvent.event == "alert.joined")))
        queued = session.scalars(select(QueueItem)).all()
    assert first is not None and first.comment_count == 3
    with factory() as session:
        assert incident_comment_ids(session, school_id="hollybrook", alert_key=first.alert_key) == [
            1,
            2,
            3,
        ]
        assert incident_comment_ids(session, school_id="hollybrook", alert_key="nope") == []
    assert sorted(e.details["comment_id"] for e in joined) == [2, 3]
    assert set(alerts) == {"bullying", "self_harm"}
    assert len(queued) == 5  # every comment is still in a queue for a person to look at

    # Outside the window, or once acknowledged, a new comment starts a new incident.
    much_later = NIGHT + timedelta(minutes=policy.alerts.incident_window_minutes + 1)
    conn.comments.append(
        make_comment(6, "[bullying] back again", thread="t1", author="a", at=much_later)
    )
    assert ingest(factory, policy, conn, much_later).alerts == 1


def test_acknowledged_incident_is_not_joined(factory, policy: SchoolPolicy) -> None:
    conn = ListConnector([make_comment(1, "[threat] I will find you", thread="t1")])
    ingest(factory, policy, conn, NIGHT)
    with session_scope(factory) as session:
        session.scalars(select(AlertRow)).one().status = "acknowledged"
    conn.comments.append(
        make_comment(2, "[threat] tonight", thread="t1", at=NIGHT + timedelta(minutes=5))
    )
    assert ingest(factory, policy, conn, NIGHT + timedelta(minutes=5)).alerts == 1


def test_every_alert_and_delivery_is_audited_without_comment_text(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    text = "[abuse_disclosure] my uncle touches me at weekends"
    ingest(factory, policy, ListConnector([make_comment(1, text)]), NIGHT)
    deliver_pending(factory, settings, policy, now=NIGHT)
    with factory() as session:
        events = list(session.scalars(select(AuditEvent)))
        rows = list(session.scalars(select(Delivery)))
    counts = Counter(e.event for e in events)
    assert counts["alert.raised"] == 1 and counts["delivery.sent"] == 2
    assert counts["evidence.saved"] == 1
    raised = next(e for e in events if e.event == "alert.raised")
    assert raised.details["recipients"] == ["dsl", "deputy_dsl"]
    assert "Aycliffe" in raised.details["clause"]
    # Neither the audit trail nor the outbox rows hold the comment's words or its author.
    dumped = json.dumps([e.details for e in events] + [d.payload for d in rows])
    assert "uncle" not in dumped and "Jordan Example" not in dumped
