"""The digest job: queued once per scheduled time, caught up once after downtime."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import threading
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import deliver_pending
from alerts.digest_job import run_due_digest, scheduled_time, week_reported
from config.policy import Digest as DigestSettings
from config.policy import SchoolPolicy
from config.settings import Settings, load_settings
from storage.db import make_engine, session_factory, session_scope
from storage.tables import AuditEvent, Delivery, JobRun


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(
        _env_file=None,
        mode="demo",
        mail_transport="outbox",
        outbox_dir=tmp_path / "outbox",
        database_url=f"sqlite:///{tmp_path / 'reports.db'}",
    )


def digests_in_outbox(folder: Path) -> list[str]:
    subjects = []
    for path in sorted(folder.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if "Weekly digest" in str(msg["Subject"]):
            subjects.append(str(msg["Subject"]))
    return subjects


def count(factory: sessionmaker[Session], model: type, **where: object) -> int:
    with session_scope(factory) as session:
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(session.scalar(stmt) or 0)


def test_schedule_is_the_latest_time_at_or_before_now(policy: SchoolPolicy) -> None:
    # Monday 07:00 UK time. In summer UK time is UTC+1.
    assert scheduled_time(policy, utc(2026, 11, 16, 7, 0)) == utc(2026, 11, 16, 7, 0)
    assert scheduled_time(policy, utc(2026, 11, 16, 6, 59)) == utc(2026, 11, 9, 7, 0)
    assert scheduled_time(policy, utc(2026, 11, 21, 12, 0)) == utc(2026, 11, 16, 7, 0)
    assert scheduled_time(policy, utc(2026, 7, 6, 6, 30)) == utc(2026, 7, 6, 6, 0)
    friday = policy.model_copy(update={"digest": DigestSettings(weekday="fri", time="16:30")})
    assert scheduled_time(friday, utc(2026, 11, 16, 7, 0)) == utc(2026, 11, 13, 16, 30)
    assert week_reported(policy, utc(2026, 11, 16, 7, 0)).label == "2026-W46"


def test_digest_missed_while_stopped_is_sent_exactly_once_after_restart(
    known_week: object, factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    outbox = settings.outbox_dir
    # Running on Monday 9 November: that morning's digest (week 45) goes out on time.
    monday = utc(2026, 11, 9, 7, 2)
    assert run_due_digest(factory, settings, policy, now=monday) == "2026-W45"
    deliver_pending(factory, settings, policy, now=monday)
    for day in range(1, 7):  # the rest of the week: nothing more is due
        later = monday + dt.timedelta(days=day)
        assert run_due_digest(factory, settings, policy, now=later) is None
    assert len(digests_in_outbox(outbox)) == 1
    # The machine is switched off before Monday 07:00 and back on Tuesday morning.
    factory.kw["bind"].dispose()
    engine = make_engine(settings.database_url)
    restarted = session_factory(engine)
    tuesday = utc(2026, 11, 17, 9, 15)
    assert run_due_digest(restarted, settings, policy, now=tuesday) == "2026-W46"
    # Start-up call, then the periodic calls every few minutes, then a second start-up.
    for minutes in (5, 10, 15, 20):
        later = tuesday + dt.timedelta(minutes=minutes)
        assert run_due_digest(restarted, settings, policy, now=later) is None
        deliver_pending(restarted, settings, policy, now=later)
    subjects = digests_in_outbox(outbox)
    assert len(subjects) == 2
    assert sum("9–15 November 2026" in s for s in subjects) == 1
    assert count(restarted, JobRun, job="digest", period="2026-W46", status="done") == 1
    assert count(restarted, Delivery, kind="digest", status="sent") == 2
    assert count(restarted, AuditEvent, event="digest.queued") == 2
    with session_scope(restarted) as session:
        job = session.scalars(select(JobRun).where(JobRun.period == "2026-W46")).one()
        assert job.details["late"] is True  # caught up, not on time
    engine.dispose()


def test_on_time_digest_is_not_held_for_working_hours(
    factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    monday = utc(2026, 11, 16, 7, 1)  # 07:01, before the 08:00 start of the working day
    assert run_due_digest(factory, settings, policy, now=monday) == "2026-W46"
    with session_scope(factory) as session:
        rows = session.scalars(select(Delivery).where(Delivery.kind == "digest")).all()
        assert [(r.recipient_role, r.status) for r in rows] == [("headteacher", "pending")]
        assert rows[0].payload["week"] == "2026-W46"
    stats = deliver_pending(factory, settings, policy, now=monday)
    assert stats.sent == 1
    msg = email.message_from_bytes(
        next(settings.outbox_dir.glob("*.eml")).read_bytes(), policy=email.policy.default
    )
    assert msg["To"].addresses[0].addr_spec == policy.roles["headteacher"].email
    assert sum(p.get_content_type() == "image/png" for p in msg.walk()) == 2
    assert msg.get_body(("plain",)) is not None


def test_two_workers_claim_the_digest_once(
    factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    now = utc(2026, 11, 16, 7, 0)
    second = session_factory(make_engine(settings.database_url))
    barrier = threading.Barrier(2)
    results: list[str | None] = []

    def worker(f: sessionmaker[Session]) -> None:
        barrier.wait()
        results.append(run_due_digest(f, settings, policy, now=now))

    threads = [threading.Thread(target=worker, args=(f,)) for f in (factory, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=str) == ["2026-W46", None]
    assert count(factory, Delivery, kind="digest") == 1
    second.kw["bind"].dispose()


def test_late_catch_up_at_night_waits_for_working_hours(
    factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path)
    night = utc(2026, 11, 17, 23, 30)  # Tuesday night: Monday's digest was missed
    assert run_due_digest(factory, settings, policy, now=night) == "2026-W46"
    assert deliver_pending(factory, settings, policy, now=night).sent == 0
    with session_scope(factory) as session:
        row = session.scalars(select(Delivery).where(Delivery.kind == "digest")).one()
        assert row.status == "held" and row.not_before == utc(2026, 11, 18, 8, 0)
    morning = utc(2026, 11, 18, 8, 0)
    assert run_due_digest(factory, settings, policy, now=morning) is None
    assert deliver_pending(factory, settings, policy, now=morning).sent == 1
