"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1, STARTTLS and AUTH required)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import SENDING_LEASE, deliver_pending
from alerts.email import EmailNotifier
from alerts.escalation import run_escalations
from config.policy import SchoolPolicy
from config.settings import Settings
from core.errors import DeliveryError
from storage.db import make_engine, session_factory
from storage.tables import AlertRow, AuditEvent, Delivery

from .conftest import NIGHT, ListConnector, SmtpServer, body_text, ingest, make_comment

DISCLOSURE = "[abuse_disclosure] my stepdad hits me when mum is out, I am in Year 4"


class Crash(Exception):
    """Stands in for the process dying."""


def crash_at(stage: str):
    def hook(name: str) -> None:
        if name == stage:
            raise Crash(name)

    return hook


def restart(tmp_path: Path) -> sessionmaker[Session]:
    """A fresh engine and session factory on the same database file, as after a restart."""
    return session_factory(make_engine(f"sqlite:///{tmp_path / 'alerts.db'}"))


def deliveries(factory: sessionmaker[Session]) -> list[Delivery]:
    with factory() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_delivery_uses_starttls_and_login(
    factory, settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    smtp = smtp_server.settings(settings)
    ingest(factory, policy, ListConnector([make_comment(1, DISCLOSURE)]), NIGHT)
    stats = deliver_pending(factory, smtp, policy, now=NIGHT)
    assert (stats.sent, stats.retrying, stats.failed) == (2, 0, 0)
    got = smtp_server.received
    assert sorted(r.rcpt_tos[0] for r in got) == sorted(
        [policy.roles["dsl"].email, policy.roles["deputy_dsl"].email]
    )
    rows = deliveries(factory)
    assert {str(r.message["Message-ID"]) for r in got} == {d.message_id for d in rows}
    assert all(d.status == "sent" and d.sent_at == NIGHT for d in rows)
    for received in got:
        text = body_text(received.message)
        assert "stepdad" not in text and "Jordan Example" not in text  # no words, no names
        assert received.message["Auto-Submitted"] == "auto-generated"
        assert received.message.get_content_type() == "multipart/alternative"
    with factory() as session:
        events = Counter(session.scalars(select(AuditEvent.event)))
    assert events["delivery.sent"] == 2


def test_wrong_password_is_reported_in_plain_words_and_not_retried(
    factory, settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    smtp = smtp_server.settings(settings, smtp_password="not the password")
    ingest(factory, policy, ListConnector([make_comment(1, "[threat] I will be waiting")]), NIGHT)
    stats = deliver_pending(factory, smtp, policy, now=NIGHT)
    assert stats.failed == 1 and stats.sent == 0
    assert stats.errors[0].startswith(
        "Could not log in to the mail server: the username or password is wrong."
    )
    assert "SCHOOLWATCH_SMTP_USERNAME" in stats.errors[0]
    assert "not the password" not in stats.errors[0]
    rows = deliveries(factory)
    failed = [r for r in rows if r.kind == "alert"]
    assert failed[0].status == "failed"
    # The admin is told that an alert email could not be delivered.
    admin = [r for r in rows if r.kind == "admin"]
    assert len(admin) == 1 and admin[0].recipient_email == policy.roles["admin"].email
    assert smtp_server.received == []


def test_untrusted_certificate_is_refused(
    settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    from email.message import EmailMessage

    notifier = EmailNotifier(smtp_server.settings(settings, smtp_cafile=None))
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@hollybrook.example", "b@hollybrook.example", "x"
    msg.set_content("x")
    with pytest.raises(DeliveryError) as info:
        notifier.send(msg)
    assert info.value.permanent
    assert "certificate could not be checked" in str(info.value)
    assert "SCHOOLWATCH_SMTP_CAFILE" in str(info.value)
    assert smtp_server.received == []


def test_server_down_for_a_while_then_back_delivers_every_alert_exactly_once(
    factory, settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    smtp = smtp_server.settings(settings)
    smtp_server.stop()
    comments = [
        make_comment(1, DISCLOSURE, thread="t1", author="a1"),
        make_comment(2, "[threat] watch your back at pick-up", thread="t2", author="a2"),
        make_comment(3, "[self_harm] nobody would miss me", thread="t3", author="a3"),
    ]
    ingest(factory, policy, ListConnector(comments), NIGHT)
    expected = len(deliveries(factory))
    assert expected == 5  # 2 + 1 + 2

    first = deliver_pending(factory, smtp, policy, now=NIGHT)
    assert (first.sent, first.retrying, first.failed) == (0, expected, 0)
    assert "connection was refused" in first.errors[0]
    rows = deliveries(factory)
    assert all(r.status == "pending" and r.attempts == 1 for r in rows)
    assert all(r.next_attempt_at == NIGHT + timedelta(minutes=1) for r in rows)
    # Backing off: nothing is tried again before the minute is up.
    assert deliver_pending(factory, smtp, policy, now=NIGHT + timedelta(seconds=30)).claimed == 0
    second = deliver_pending(factory, smtp, policy, now=NIGHT + timedelta(minutes=1))
    assert second.retrying == expected
    assert all(r.next_attempt_at == NIGHT + timedelta(minutes=3) for r in deliveries(factory))

    smtp_server.start()  # the server is back
    back = NIGHT + timedelta(minutes=3)
    third = deliver_pending(factory, smtp, policy, now=back)
    assert third.sent == expected
    assert deliver_pending(factory, smtp, policy, now=back + timedelta(hours=1)).claimed == 0
    ids = [str(r.message["Message-ID"]) for r in smtp_server.received]
    assert len(ids) == expected and len(set(ids)) == expected
    assert set(ids) == {r.message_id for r in deliveries(factory)}
    with factory() as session:
        events = Counter(session.scalars(select(AuditEvent.event)))
    assert events["delivery.failed"] == 2 * expected
    assert events["delivery.sent"] == expected


def test_crash_between_recorded_and_sent_delivers_exactly_once_after_restart(
    tmp_path: Path, factory, settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    smtp = smtp_server.settings(settings)
    ingest(factory, policy, ListConnector([make_comment(1, DISCLOSURE)]), NIGHT)
    with pytest.raises(Crash):
        deliver_pending(factory, smtp, policy, now=NIGHT, crash=crash_at("claimed"))
    assert smtp_server.received == []
    rows = deliveries(factory)
    assert [r.status for r in rows] == ["sending", "pending"]  # the crash hit the first one

    after = restart(tmp_path)
    soon = deliver_pending(after, smtp, policy, now=NIGHT + timedelta(minutes=1))
    assert soon.sent == 1  # the other one; the claimed one is still leased
    later = deliver_pending(after, smtp, policy, now=NIGHT + SENDING_LEASE + timedelta(minutes=1))
    assert later.sent == 1
    assert deliver_pending(after, smtp, policy, now=NIGHT + timedelta(hours=2)).claimed == 0
    received = Counter(str(r.message["Message-ID"]) for r in smtp_server.received)
    assert sorted(received.values()) == [1, 1]
    assert set(received) == {r.message_id for r in deliveries(after)}
    assert all(r.status == "sent" for r in deliveries(after))


def test_crash_after_the_server_accepted_resends_with_the_same_message_id(
    tmp_path: Path, factory, settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    # The one window no outbox can close: the server took the email, then we died before
    # recording it. It is sent again with the same Message-ID, so mail clients show one email.
    smtp = smtp_server.settings(settings)
    ingest(
        factory, policy, ListConnector([make_comment(1, "[threat] I know where you live")]), NIGHT
    )
    with pytest.raises(Crash):
        deliver_pending(factory, smtp, policy, now=NIGHT, crash=crash_at("sent"))
    after = restart(tmp_path)
    deliver_pending(after, smtp, policy, now=NIGHT + SENDING_LEASE + timedelta(seconds=1))
    ids = [str(r.message["Message-ID"]) for r in smtp_server.received]
    assert len(ids) == 2 and ids[0] == ids[1] == deliveries(after)[0].message_id


def test_unacknowledged_safeguarding_alert_escalates_on_time(
    tmp_path: Path, factory, settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    smtp = smtp_server.settings(settings)
    ingest(factory, policy, ListConnector([make_comment(1, DISCLOSURE)]), NIGHT)
    deliver_pending(factory, smtp, policy, now=NIGHT)
    first_to_deputy = next(
        r for r in smtp_server.received if r.rcpt_tos == [policy.roles["deputy_dsl"].email]
    )

    def step(minutes: float) -> int:
        at = NIGHT + timedelta(minutes=minutes)
        taken = run_escalations(factory, policy, now=at)
        deliver_pending(factory, smtp, policy, now=at)
        return taken

    assert step(14.9) == 0
    assert len(smtp_server.received) == 2
    assert step(15) == 1
    reminder = smtp_server.received[-1]
    assert reminder.rcpt_tos == [policy.roles["deputy_dsl"].email]
    assert reminder.message["In-Reply-To"] == first_to_deputy.message["Message-ID"]
    assert str(reminder.message["Subject"]).startswith("Re: [URGENT] Possible abuse disclosure")
    assert "15 minutes" in body_text(reminder.message)

    # A restart between steps loses nothing: the timetable is in the database.
    factory = restart(tmp_path)
    assert step(29.5) == 0
    assert step(30) == 1
    head = smtp_server.received[-1]
    assert head.rcpt_tos == [policy.roles["headteacher"].email]
    text = body_text(head.message)
    assert "Education Safeguarding Service" in text  # the Aycliffe 8 reminder
    assert "Aycliffe 8" in text
    assert "stepdad" not in text
    with factory() as session:
        root = session.scalars(select(AlertRow)).one().message_id
    assert root in str(head.message["References"])
    assert step(120) == 0
    assert len(smtp_server.received) == 4
    with factory() as session:
        alert = session.scalars(select(AlertRow)).one()
        assert alert.escalation_level == 2 and alert.next_escalation_at is None
        escalated = list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == "alert.escalated"))
        )
    assert [e.details["level"] for e in escalated] == [1, 2]
    assert [e.details["late_by_seconds"] for e in escalated] == [0, 0]


def test_an_email_that_cannot_be_built_does_not_stop_the_others(
    factory, settings: Settings, policy: SchoolPolicy, smtp_server: SmtpServer
) -> None:
    from storage.db import session_scope

    smtp = smtp_server.settings(settings)
    ingest(factory, policy, ListConnector([make_comment(1, DISCLOSURE)]), NIGHT)
    with session_scope(factory) as session:
        first = session.scalars(select(Delivery).order_by(Delivery.id)).first()
        assert first is not None
        first.payload = ["not", "a", "mapping"]  # type: ignore[assignment]  # a corrupt row
    stats = deliver_pending(factory, smtp, policy, now=NIGHT)
    assert (stats.sent, stats.failed) == (1, 1)
    rows = deliveries(factory)
    assert [r.status for r in rows[:2]] == ["failed", "sent"]
    assert rows[0].last_error is not None and "could not be built" in rows[0].last_error
    assert any(r.kind == "admin" for r in rows)
