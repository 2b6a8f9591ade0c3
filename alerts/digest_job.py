"""The weekly digest job: queue the digest once per scheduled time, even after downtime.

The scheduler calls :func:`run_due_digest` at start-up and every few
minutes. It works out the most recent scheduled time (``policy.digest``
weekday and time in the school's time zone) at or before now. If the
``job_runs`` row for that occurrence does not exist yet, it inserts it and,
in the same transaction, builds the digest of the week before and records
one outbox email per recipient. The unique key on ``job_runs`` (school,
job, period) makes this exactly once: a second worker, a restart or a crash
half-way (which rolls everything back) can never queue it twice, and a
machine that was off at the scheduled time queues it when it comes back.

Sending is done by the outbox worker; :func:`message_for_delivery` builds
the email (charts redrawn from the figures stored in the row's payload).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alerts.digest import Digest, IsoWeek
from alerts.digest_queries import digest_for_week
from alerts.digest_render import digest_message, digest_subject
from alerts.outbox import enqueue
from alerts.router import resolve_role
from config.policy import WEEKDAYS, SchoolPolicy
from config.settings import Settings
from core.clock import utc_now
from core.models import Recipient
from storage import repo
from storage.db import session_scope
from storage.tables import JobRun

log = logging.getLogger(__name__)

JOB = "digest"
ON_TIME = dt.timedelta(hours=1)
"""A digest queued within this long of its scheduled time goes at once; a late
catch-up waits for working hours, so nobody gets it at midnight."""


def scheduled_time(policy: SchoolPolicy, now: dt.datetime) -> dt.datetime:
    """The most recent scheduled digest time at or before ``now`` (UTC).

    Args:
        policy: Its ``digest.weekday`` and ``digest.time`` are in the school's zone.
        now: The current time (aware).

    Returns:
        The scheduled time, in UTC.
    """
    tz = policy.tz
    local_now = now.astimezone(tz)
    hour, minute = (int(x) for x in policy.digest.time.split(":"))
    target = WEEKDAYS.index(policy.digest.weekday)
    day = local_now.date() - dt.timedelta(days=(local_now.weekday() - target) % 7)
    when = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
    if when > local_now:
        when = dt.datetime.combine(day - dt.timedelta(days=7), dt.time(hour, minute), tzinfo=tz)
    return when.astimezone(dt.UTC)


def week_reported(policy: SchoolPolicy, scheduled: dt.datetime) -> IsoWeek:
    """The week a digest sent at ``scheduled`` reports on: the last full week before it."""
    return IsoWeek.of(scheduled.astimezone(policy.tz).date()).shift(-1)


def recipients(policy: SchoolPolicy, day: dt.date) -> list[Recipient]:
    """The people the digest goes to (``policy.digest.roles``), absences followed, no repeats."""
    people: dict[str, Recipient] = {}
    for role in policy.digest.roles:
        person = resolve_role(role, policy, day)
        if person is not None and person.email.lower() not in people:
            people[person.email.lower()] = person
    return list(people.values())


def queue_digest(
    session: Session,
    policy: SchoolPolicy,
    digest: Digest,
    *,
    now: dt.datetime,
    urgent: bool,
    dedupe_prefix: str,
) -> int:
    """Record one digest email per recipient in the outbox. Returns how many."""
    people = recipients(policy, now.astimezone(policy.tz).date())
    payload: dict[str, object] = {"week": digest.week, "digest": digest.to_dict()}
    for person in people:
        enqueue(
            session,
            policy=policy,
            alert=None,
            recipient=person,
            kind="digest",
            dedupe_key=f"{dedupe_prefix}:{person.role}:{person.email.lower()}",
            urgent=urgent,
            now=now,
            subject=digest_subject(digest),
            payload=payload,
        )
    return len(people)


def run_due_digest(
    factory: sessionmaker[Session],
    settings: Settings | None,
    policy: SchoolPolicy,
    *,
    now: dt.datetime | None = None,
) -> str | None:
    """Queue the digest for the most recent scheduled time if nobody has yet.

    Args:
        factory: Session factory.
        settings: Deployment settings (unused today; kept so the scheduler's
            call does not change when sending options are added).
        policy: The school policy (schedule, recipients, time zone).
        now: The current time (defaults to the clock).

    Returns:
        The week queued (e.g. ``"2026-W46"``), or ``None`` when it had
        already been queued (by this or another worker), or when the
        database was too busy to claim it (the next call tries again).
    """
    now = now or utc_now()
    school_id = policy.school.id
    scheduled = scheduled_time(policy, now)
    week = week_reported(policy, scheduled)
    period = week.label
    with session_scope(factory) as session:
        done = session.scalars(
            select(JobRun.id).where(
                JobRun.school_id == school_id, JobRun.job == JOB, JobRun.period == period
            )
        ).first()
    if done is not None:
        return None
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id=school_id, name=policy.school.name)
    try:
        with session_scope(factory) as session:
            # The claim is the transaction's first statement, so on SQLite it takes the
            # write lock before reading anything (a stale read snapshot could not upgrade).
            job = JobRun(
                school_id=school_id, job=JOB, period=period, status="started", started_at=now
            )
            session.add(job)
            session.flush()  # claims the occurrence: a second claim fails here or at commit
            digest = digest_for_week(session, policy, week, now)
            late = now - scheduled > ON_TIME
            count = queue_digest(
                session,
                policy,
                digest,
                now=now,
                urgent=not late,
                dedupe_prefix=f"digest:{period}",
            )
            job.status = "done"
            job.finished_at = now
            job.details = {
                "scheduled_for": scheduled.isoformat(),
                "recipients": count,
                "late": late,
            }
            repo.record(
                session,
                school_id=school_id,
                event="digest.queued",
                subject_type="digest",
                subject_id=period,
                details={
                    "week": period,
                    "scheduled_for": scheduled.isoformat(),
                    "recipients": count,
                    "roles": list(policy.digest.roles),
                    "late": late,
                    "flagged": digest.flagged.count,
                    "safeguarding": digest.safeguarding.count,
                },
                at=now,
            )
    except IntegrityError:
        log.info("digest %s for %s was already queued by another worker", period, school_id)
        return None
    except OperationalError as exc:
        # Nothing was claimed (the transaction rolled back): the next call tries again.
        log.warning("digest %s not queued yet, database busy: %s", period, type(exc).__name__)
        return None
    log.info("digest %s queued for %d recipient(s)%s", period, count, " (late)" if late else "")
    return period


class _DeliveryRow(Protocol):
    @property
    def payload(self) -> Mapping[str, Any]: ...
    @property
    def recipient_name(self) -> str: ...
    @property
    def recipient_email(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def subject(self) -> str: ...


def message_for_delivery(delivery: _DeliveryRow, *, sender: str) -> EmailMessage:
    """Build the email for a ``kind == "digest"`` outbox row (charts inline as ``cid:`` images).

    Args:
        delivery: The outbox row; its payload holds the digest figures.
        sender: The From header (``settings.mail_from``).

    Returns:
        The message to hand to :class:`alerts.email.EmailNotifier`.
    """
    digest = Digest.from_dict(delivery.payload["digest"])
    return digest_message(
        digest,
        sender=sender,
        to_name=delivery.recipient_name,
        to_email=delivery.recipient_email,
        message_id=delivery.message_id,
        subject=delivery.subject or None,
    )
