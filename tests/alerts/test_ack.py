"""Acknowledgement: signed expiring links, the confirm page, and stopping escalation."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from alerts.ack import (
    AckLinkError,
    UnknownAlert,
    ack_page,
    acknowledge,
    handle_ack_post,
    make_ack_link,
    make_ack_token,
    verify_ack_token,
)
from alerts.delivery import deliver_pending
from alerts.escalation import run_escalations
from config.policy import SchoolPolicy
from config.settings import Settings
from storage.db import session_scope
from storage.tables import AlertRow, AuditEvent, Delivery, User

from .conftest import NIGHT, ListConnector, body_text, ingest, make_comment, read_outbox

DISCLOSURE = "[self_harm] I cut myself again last night"


def raise_alert(factory, settings, policy) -> str:
    ingest(factory, policy, ListConnector([make_comment(1, DISCLOSURE)]), NIGHT)
    deliver_pending(factory, settings, policy, now=NIGHT)
    with factory() as session:
        return session.scalars(select(AlertRow.alert_key)).one()


def test_link_round_trip_and_expiry(settings: Settings, policy: SchoolPolicy) -> None:
    link = make_ack_link(settings, policy, "abc123", "D.Osei@Hollybrook.example", NIGHT)
    assert link.startswith("https://schoolwatch.hollybrook.example/ack/")
    token = link.rsplit("/", 1)[1]
    assert verify_ack_token(settings, token, NIGHT + timedelta(hours=71)) == (
        "abc123",
        "d.osei@hollybrook.example",
    )
    with pytest.raises(AckLinkError) as info:
        verify_ack_token(settings, token, NIGHT + timedelta(hours=72, seconds=1))
    assert info.value.expired
    assert "expired" in str(info.value)


def test_tampered_or_foreign_links_are_refused(settings: Settings, policy: SchoolPolicy) -> None:
    token = make_ack_token(settings, policy, "abc123", "x@hollybrook.example", NIGHT)
    body, _, sig = token.rpartition(".")
    forged = body[:-2] + ("AA" if not body.endswith("AA") else "BB") + "." + sig
    for bad in (forged, token + "x", "not-a-token", ""):
        with pytest.raises(AckLinkError) as info:
            verify_ack_token(settings, bad, NIGHT)
        assert not info.value.expired
    other = settings.model_copy(
        update={"secret_key": type(settings.secret_key)("another-key-" * 4)}
    )
    with pytest.raises(AckLinkError):
        verify_ack_token(other, token, NIGHT)


def test_the_email_link_acknowledges_only_after_confirming(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    key = raise_alert(factory, settings, policy)
    dsl_mail = next(
        m for m in read_outbox(settings.outbox_dir) if policy.roles["dsl"].email in str(m["To"])
    )
    token = next(
        line.rsplit("/ack/", 1)[1].strip()
        for line in body_text(dsl_mail).splitlines()
        if "/ack/" in line and line.strip().startswith("Acknowledge")
    )
    later = NIGHT + timedelta(minutes=5)
    with session_scope(factory) as session:
        page = ack_page(session, settings, policy, token, later)  # what a mail scanner sees
    assert page.status_code == 200 and page.can_confirm and page.alert_key == key
    assert all("cut" not in value for _, value in page.facts)
    with factory() as session:
        assert session.scalars(select(AlertRow.status)).one() == "open"  # GET changed nothing

    with session_scope(factory) as session:
        done = handle_ack_post(session, settings, policy, token, later)
    assert done.title == "Acknowledged"
    with session_scope(factory) as session:
        again = handle_ack_post(session, settings, policy, token, later)
        page = ack_page(session, settings, policy, token, later)
    assert again.title == "Already acknowledged"
    assert not page.can_confirm and policy.roles["dsl"].email in page.message

    with factory() as session:
        alert = session.scalars(select(AlertRow)).one()
        assert (alert.status, alert.acknowledged_by) == ("acknowledged", policy.roles["dsl"].email)
        assert alert.acknowledged_at == later and alert.next_escalation_at is None
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == "alert.acknowledged"))
        )
    assert len(events) == 1 and events[0].details["via"] == "email"

    # No escalation now, however long we wait.
    assert run_escalations(factory, policy, now=NIGHT + timedelta(hours=2)) == 0
    # The deputy, who was also told, hears in the same thread that it is being handled.
    deliver_pending(factory, settings, policy, now=later)
    follow = read_outbox(settings.outbox_dir)[-1]
    assert policy.roles["deputy_dsl"].email in str(follow["To"])
    assert str(follow["Subject"]).startswith("Re: [URGENT]")
    assert "acknowledged by" in body_text(follow)
    assert follow["In-Reply-To"] is not None


def test_expired_and_invalid_links_show_a_clear_page(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    key = raise_alert(factory, settings, policy)
    token = make_ack_token(settings, policy, key, policy.roles["dsl"].email, NIGHT)
    with session_scope(factory) as session:
        expired = handle_ack_post(session, settings, policy, token, NIGHT + timedelta(days=4))
        invalid = ack_page(session, settings, policy, "rubbish", NIGHT)
        unknown = ack_page(
            session,
            settings,
            policy,
            make_ack_token(settings, policy, "no-such-alert", "a@b.example", NIGHT),
            NIGHT,
        )
    assert (expired.status_code, invalid.status_code, unknown.status_code) == (410, 400, 404)
    assert "Acknowledge on the alert page" in expired.message
    with factory() as session:
        assert session.scalars(select(AlertRow.status)).one() == "open"


def test_acknowledge_from_the_web_app_is_idempotent_and_cancels_queued_escalations(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    key = raise_alert(factory, settings, policy)
    dsl = policy.roles["dsl"]
    with session_scope(factory) as session:
        session.add(
            User(
                school_id="hollybrook",
                username="tbrennan",
                display_name=dsl.name,
                email=dsl.email,
                role="dsl",
                password_hash="-",
            )
        )
    # The 15-minute step has been recorded but not sent yet when the DSL presses the button.
    assert run_escalations(factory, policy, now=NIGHT + timedelta(minutes=15)) == 1
    at = NIGHT + timedelta(minutes=15, seconds=5)
    with session_scope(factory) as session:
        assert acknowledge(
            session, school_id="hollybrook", alert_key=key, actor="tbrennan", via="web", now=at
        )
    with session_scope(factory) as session:
        assert not acknowledge(
            session, school_id="hollybrook", alert_key=key, actor="arahman", via="web", now=at
        )
        with pytest.raises(UnknownAlert):
            acknowledge(
                session, school_id="hollybrook", alert_key="nope", actor="x", via="web", now=at
            )
    with factory() as session:
        statuses = Counter((d.kind, d.status) for d in session.scalars(select(Delivery)))
        alert = session.scalars(select(AlertRow)).one()
        events = Counter(session.scalars(select(AuditEvent.event)))
    assert statuses[("escalation", "cancelled")] == 1
    assert alert.acknowledged_by == "tbrennan"
    assert events["alert.acknowledged"] == 1
    stats = deliver_pending(factory, settings, policy, now=at)
    # One "acknowledged by" follow-up, to the deputy: not to the DSL who acknowledged, and the
    # cancelled reminder is not sent.
    assert stats.sent == 1
    follow = read_outbox(settings.outbox_dir)[-1]
    assert policy.roles["deputy_dsl"].email in str(follow["To"])
    assert f"acknowledged by {dsl.name}" in body_text(follow)
