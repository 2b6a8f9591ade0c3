"""A burst of non-urgent alerts to one person becomes one summary; safeguarding never does."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from alerts.delivery import deliver_pending
from config.policy import SchoolPolicy
from config.settings import Settings
from storage.tables import AuditEvent, Delivery

from .conftest import DAY, ListConnector, body_text, ingest, make_comment, read_outbox


def burst(category: str, n: int) -> ListConnector:
    return ListConnector(
        [
            make_comment(
                i, f"[{category}] comment number {i}", at=DAY, thread=f"t{i}", author=f"a{i}"
            )
            for i in range(1, n + 1)
        ]
    )


def test_burst_becomes_one_summary_email(factory, settings: Settings, policy: SchoolPolicy) -> None:
    budget = policy.alerts.hourly_budget_per_recipient
    ingest(factory, policy, burst("bullying", budget + 3), DAY)
    stats = deliver_pending(factory, settings, policy, now=DAY)
    assert (stats.sent, stats.summarised) == (budget, 3)
    assert deliver_pending(factory, settings, policy, now=DAY + timedelta(minutes=59)).sent == 0
    end_of_hour = DAY.replace(minute=0) + timedelta(hours=1)
    assert deliver_pending(factory, settings, policy, now=end_of_hour).sent == 1
    mails = read_outbox(settings.outbox_dir)
    assert len(mails) == budget + 1
    summary = mails[-1]
    assert str(summary["Subject"]) == "schoolwatch: summary of recent alerts"
    body = body_text(summary)
    assert body.count("Bullying or harassment on Facebook") == 2 * 3  # text and HTML parts
    assert "comment number" not in body  # a summary lists facts and links, not words
    with factory() as session:
        statuses = Counter(d.status for d in session.scalars(select(Delivery)))
        events = Counter(session.scalars(select(AuditEvent.event)))
    assert statuses == {"sent": budget + 1, "summarised": 3}
    assert events["delivery.summarised"] == 3


def test_safeguarding_is_never_summarised(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    n = policy.alerts.hourly_budget_per_recipient + 4
    ingest(factory, policy, burst("self_harm", n), DAY)
    stats = deliver_pending(factory, settings, policy, now=DAY)
    assert (stats.sent, stats.summarised) == (2 * n, 0)
