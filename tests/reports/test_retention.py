"""Retention: the purge removes exactly what the policy says and keeps evidence records."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config.policy import SchoolPolicy
from monitor.retention import purge
from storage import repo
from storage.db import session_scope
from storage.tables import (
    AlertRow,
    AuditEvent,
    CommentRow,
    DecisionRow,
    Delivery,
    EvidenceRecord,
    QueueItem,
    User,
    VerdictRow,
    WebSession,
)

if TYPE_CHECKING:
    from tests.reports.conftest import Builder

NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


def ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def table_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    out = {}
    with session_scope(factory) as session:
        for model in (
            CommentRow,
            VerdictRow,
            DecisionRow,
            QueueItem,
            AlertRow,
            EvidenceRecord,
            AuditEvent,
            WebSession,
            Delivery,
        ):
            out[model.__tablename__] = int(
                session.scalar(select(func.count()).select_from(model)) or 0
            )
    return out


def scenario(b: Builder, factory: sessionmaker[Session]) -> None:
    b.comment("benign_old", ago(31))
    b.comment("benign_new", ago(29))
    b.comment("spam_old", ago(8), "spam")
    b.comment("spam_new", ago(6), "spam")
    b.comment("spam_open", ago(10), "spam")
    b.queue("spam_open", ago(10), "spam")  # nobody has looked at it yet: held
    b.comment("spam_done", ago(9), "spam")
    b.queue("spam_done", ago(9), "spam", status="deleted", decided=ago(8.5))
    b.comment("crit_old", ago(181), "criticism")
    b.comment("crit_new", ago(179), "criticism")
    b.comment("harm", ago(400), "self_harm", text="a safeguarding disclosure")
    b.comment("threat_old", ago(366), "threat", text="a threat kept as evidence")
    b.alert("threat_old", ago(366), "threat", acked=ago(365.9), closed=ago(360))
    b.evidence("threat_old", ago(366), keep_days=365 * 25)  # kept though the comment goes
    b.evidence("harm", ago(400), keep_days=10)  # past keep_until: goes, comment stays
    with session_scope(factory) as session:
        unclassified = CommentRow(
            school_id="hollybrook",
            source_id="facebook",
            platform="facebook",
            external_id="never-classified",
            thread_id="t",
            parent_id=None,
            author_id="a",
            author_name="A Parent",
            text="hello",
            created_at=ago(40),
            permalink="https://facebook.example/x",
            primary_category=None,
        )
        session.add(unclassified)
        repo.record(session, school_id="hollybrook", event="old.event", at=ago(2556))
        repo.record(session, school_id="hollybrook", event="recent.event", at=ago(2554))
        user = User(
            school_id="hollybrook",
            username="j.hart",
            display_name="Ms J Hart",
            role="comms_lead",
            password_hash="x",
        )
        session.add(user)
        session.flush()
        session.add(
            WebSession(
                id="a" * 64,
                school_id="hollybrook",
                user_id=user.id,
                csrf_token="c",
                expires_at=ago(1),
            )
        )
        session.add(
            WebSession(
                id="b" * 64,
                school_id="hollybrook",
                user_id=user.id,
                csrf_token="c",
                expires_at=NOW + dt.timedelta(hours=2),
            )
        )
        for key, status, sent in (
            ("d-old", "sent", ago(91)),
            ("d-new", "sent", ago(89)),
            ("d-held", "held", None),
        ):
            session.add(
                Delivery(
                    school_id="hollybrook",
                    dedupe_key=key,
                    kind="alert",
                    recipient_role="dsl",
                    recipient_name="Mr Daniel Osei",
                    recipient_email="d.osei@hollybrook.example",
                    message_id=f"<{key}@x>",
                    status=status,
                    created_at=ago(95),
                    sent_at=sent,
                )
            )


def test_purge_removes_exactly_what_the_policy_says(
    build: Builder, factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    scenario(build, factory)
    before = table_counts(factory)
    dry = purge(factory, policy, now=NOW, dry_run=True)
    assert table_counts(factory) == before  # a dry run changes nothing
    report = purge(factory, policy, now=NOW)
    assert report.comments == dry.comments == {"threat": 1, "spam": 2, "criticism": 1, "benign": 2}
    assert report.held == dry.held == {"spam": 1}
    assert (report.evidence, report.evidence_unlinked) == (1, 1)
    assert (report.audit_events, report.web_sessions, report.deliveries) == (1, 1, 1)
    ids = build.comment_ids
    with session_scope(factory) as session:
        left = set(session.scalars(select(CommentRow.id)))
        gone = {ids[n] for n in ("benign_old", "spam_old", "spam_done", "crit_old", "threat_old")}
        kept = {ids[n] for n in ("benign_new", "spam_new", "spam_open", "crit_new", "harm")}
        assert left.isdisjoint(gone)
        assert kept <= left
        assert len(left) == len(kept)  # the never-classified comment went as benign
        # Nothing hangs off a removed comment any more.
        for model in (VerdictRow, DecisionRow, QueueItem):
            assert set(session.scalars(select(model.comment_id))) <= left
        # The threat's evidence record is kept, unlinked; the expired one is gone.
        evidence = session.scalars(select(EvidenceRecord)).all()
        assert [(e.category, e.comment_id) for e in evidence] == [("threat", None)]
        assert evidence[0].snapshot["comment"]["text"] == "a threat kept as evidence"
        alert = session.scalars(select(AlertRow)).one()
        assert (alert.category, alert.comment_id, alert.decision_id) == ("threat", None, None)
        events = [e.event for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        assert "old.event" not in events and "recent.event" in events
        purged = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "retention.purged")
        ).one()
        assert purged.details["comments"] == report.comments
        assert "a threat" not in str(purged.details)
        assert [s.id[0] for s in session.scalars(select(WebSession))] == ["b"]
        assert sorted(d.dedupe_key for d in session.scalars(select(Delivery))) == [
            "d-held",
            "d-new",
        ]
    # Running again straight away removes nothing more.
    again = purge(factory, policy, now=NOW)
    assert again.comments_total == 0 and again.evidence == 0


def test_moderators_judgements_go_after_their_own_period(
    factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    from storage.tables import ModerationLabel

    days = policy.retention.training_label_days
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id=policy.school.id, name=policy.school.name)
        for name, age in (("old", days + 1), ("new", days - 1)):
            session.add(
                ModerationLabel(
                    school_id=policy.school.id,
                    text=f"{name} judged text",
                    predicted="bullying",
                    label="benign",
                    kind="false_positive",
                    actor="comms",
                    created_at=NOW - dt.timedelta(days=age),
                )
            )
    assert purge(factory, policy, now=NOW, dry_run=True).training_labels == 1
    report = purge(factory, policy, now=NOW)
    assert report.training_labels == 1
    with session_scope(factory) as session:
        left = session.scalars(select(ModerationLabel.text)).all()
    assert left == ["new judged text"]
