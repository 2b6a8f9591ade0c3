"""Several workers sending the same outbox at once send every email exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import Engine, select

from alerts.delivery import deliver_pending
from alerts.escalation import run_escalations
from config.policy import SchoolPolicy
from config.settings import Settings
from storage.db import session_factory
from storage.tables import AuditEvent, Delivery

from .conftest import NIGHT, ListConnector, ingest, make_comment, read_outbox


def run_together(n: int, target) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def work() -> None:
        try:
            barrier.wait()
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_concurrent_workers_send_each_email_once(
    engine: Engine, settings: Settings, policy: SchoolPolicy
) -> None:
    factory = session_factory(engine)
    comments = [
        make_comment(i, f"[self_harm] message {i}", thread=f"t{i}", author=f"a{i}")
        for i in range(1, 11)
    ]
    ingest(factory, policy, ListConnector(comments), NIGHT)
    errors = run_together(4, lambda: deliver_pending(factory, settings, policy, now=NIGHT))
    assert errors == []
    ids = Counter(str(m["Message-ID"]) for m in read_outbox(settings.outbox_dir))
    assert len(ids) == 20 and set(ids.values()) == {1}
    with factory() as session:
        assert {d.status for d in session.scalars(select(Delivery))} == {"sent"}

    # Escalation from several schedulers at once: each step is taken once.
    later = NIGHT + timedelta(minutes=31)
    errors = run_together(3, lambda: run_escalations(factory, policy, now=later))
    assert errors == []
    with factory() as session:
        escalated = Counter(
            (e.subject_id, e.details["level"])
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.event == "alert.escalated")
            )
        )
        reminders = session.scalars(select(Delivery).where(Delivery.kind == "escalation")).all()
    assert len(escalated) == 20 and set(escalated.values()) == {1}  # 10 alerts x 2 steps
    assert len(reminders) == 20
