"""The demo's promise: a disclosure reaches the DSL and deputy within one cycle, with no
words in the email, and the headteacher after 30 minutes when nobody acknowledges it."""

from __future__ import annotations

from datetime import timedelta

from alerts.delivery import deliver_pending
from alerts.escalation import run_escalations
from config.policy import SchoolPolicy
from config.settings import Settings

from .conftest import NIGHT, ListConnector, body_text, ingest, make_comment, read_outbox

TEXT = "[abuse_disclosure] please help, my brother in year 2 gets locked in the shed at home"


def test_disclosure_to_outbox_in_one_cycle_then_headteacher_escalation(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    report = ingest(factory, policy, ListConnector([make_comment(1, TEXT)]), NIGHT)
    assert report.alerts == 1
    deliver_pending(factory, settings, policy, now=NIGHT)
    mails = read_outbox(settings.outbox_dir)
    assert sorted(str(m["To"]) for m in mails) == sorted(
        f"{policy.roles[r].name} <{policy.roles[r].email}>" for r in ("dsl", "deputy_dsl")
    )
    for mail in mails:
        assert "locked in the shed" not in body_text(mail)
        assert "brother" not in body_text(mail)

    # What `schoolwatch demo` does to show escalation without waiting half an hour.
    later = NIGHT + timedelta(minutes=31)
    assert run_escalations(factory, policy, now=later) == 2  # the 15- and 30-minute steps
    deliver_pending(factory, settings, policy, now=later)
    mails = read_outbox(settings.outbox_dir)
    head = [m for m in mails if policy.roles["headteacher"].email in str(m["To"])]
    assert len(head) == 1
    assert "locked in the shed" not in body_text(head[0])
    assert "30 minutes" in body_text(head[0])
    assert len(mails) == 4  # DSL, deputy, deputy reminder, headteacher
