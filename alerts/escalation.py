"""Escalate alerts nobody has acknowledged, on the policy's timetable.

An alert keeps its escalation steps (copied from the decision when it was
raised) and two counters in the database: ``escalation_level`` (the next step
to take) and ``next_escalation_at`` (when). Each step's ``after_minutes`` is
measured from when the alert was raised. Because all of this lives in the
database, escalation carries on correctly after a restart: a step that fell
due while schoolwatch was stopped is taken on the next run.

The scheduler calls :func:`run_escalations` every minute or so, and
:func:`alerts.delivery.deliver_pending` sends the emails it records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.compose import alert_facts
from alerts.models import rowcount
from alerts.outbox import enqueue
from alerts.render import alert_subject
from alerts.router import resolve_role
from config.policy import SchoolPolicy
from core.clock import utc_now
from core.models import Recipient
from storage import repo
from storage.db import session_scope
from storage.tables import AlertRow, Delivery

log = logging.getLogger(__name__)


class AlertLike(Protocol):
    """What :func:`due_escalations` reads from an alert row."""

    @property
    def status(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def escalation(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def escalation_level(self) -> int: ...


@dataclass(frozen=True, slots=True)
class DueStep:
    """One escalation step that is due for one alert."""

    alert: AlertLike
    level: int  # index into the alert's escalation steps
    after_minutes: int
    notify: tuple[str, ...]
    reminder: str
    clause: str


def step_time(alert: AlertLike, level: int) -> datetime | None:
    """When step ``level`` of ``alert`` falls due, or None if there is no such step."""
    steps = alert.escalation or []
    if level >= len(steps):
        return None
    return alert.created_at + timedelta(minutes=int(steps[level]["after_minutes"]))


def due_escalations(alerts: Iterable[AlertLike], now: datetime) -> list[DueStep]:
    """The escalation steps due at ``now``, oldest alert first, steps in order.

    Pure. Only open (unacknowledged) alerts escalate. If several steps of one
    alert are due (schoolwatch was stopped for a while), all are returned.
    """
    out: list[DueStep] = []
    for alert in sorted(alerts, key=lambda a: a.created_at):
        if alert.status != "open":
            continue
        steps = list(alert.escalation or [])
        for level in range(alert.escalation_level, len(steps)):
            at = step_time(alert, level)
            if at is None or at > now:
                break
            step = steps[level]
            out.append(
                DueStep(
                    alert=alert,
                    level=level,
                    after_minutes=int(step["after_minutes"]),
                    notify=tuple(str(r) for r in step.get("notify", ())),
                    reminder=str(step.get("reminder", "")),
                    clause=str(step.get("clause", "")),
                )
            )
    return out


def run_escalations(
    factory: sessionmaker[Session], policy: SchoolPolicy, *, now: datetime | None = None
) -> int:
    """Record escalation emails for every open, unacknowledged alert whose next step is due.

    Each alert is handled in its own transaction and moved on with a
    conditional update, so two schedulers running at once never escalate the
    same step twice.

    Args:
        factory: Session factory.
        policy: The school's policy (who holds each role today).
        now: The time to act at (defaults to the clock). The demo passes a
            time 31 minutes ahead to show an escalation without waiting.

    Returns:
        The number of escalation steps taken.
    """
    now = now or utc_now()
    school_id = policy.school.id
    with session_scope(factory) as session:
        ids = list(
            session.scalars(
                select(AlertRow.id)
                .where(
                    AlertRow.school_id == school_id,
                    AlertRow.status == "open",
                    AlertRow.next_escalation_at.is_not(None),
                    AlertRow.next_escalation_at <= now,
                )
                .order_by(AlertRow.created_at)
            )
        )
    taken = 0
    for alert_id in ids:
        with session_scope(factory) as session:
            taken += _escalate_one(session, policy, alert_id, now)
    if taken:
        log.info("escalation: %d steps taken for school %s", taken, school_id)
    return taken


def _escalate_one(session: Session, policy: SchoolPolicy, alert_id: int, now: datetime) -> int:
    alert = session.get(AlertRow, alert_id)
    if alert is None or alert.status != "open":
        return 0
    due = due_escalations([alert], now)
    if not due:
        return 0
    old_level = alert.escalation_level
    new_level = due[-1].level + 1
    following = step_time(alert, new_level)
    moved = rowcount(
        session.execute(
            update(AlertRow)
            .where(
                AlertRow.id == alert.id,
                AlertRow.status == "open",
                AlertRow.escalation_level == old_level,
            )
            .values(escalation_level=new_level, next_escalation_at=following)
            .execution_options(synchronize_session=False)
        )
    )
    if not moved:
        return 0  # acknowledged or escalated by another worker meanwhile
    day = now.astimezone(policy.tz).date()
    base_payload = _alert_payload(session, policy, alert)
    for step in due:
        people: list[Recipient] = []
        for role in step.notify:
            person = resolve_role(role, policy, day) if role in policy.roles else None
            if person is not None and person.email not in {p.email for p in people}:
                people.append(person)
        for person in people:
            prev = _latest_to(session, alert, person.email)
            refs = [alert.message_id] + ([prev.message_id] if prev else [])
            enqueue(
                session,
                policy=policy,
                alert=alert,
                recipient=person,
                kind="escalation",
                dedupe_key=f"escalation:{alert.alert_key}:{step.level}:{person.email.lower()}",
                urgent=alert.urgent,
                now=now,
                subject="Re: " + alert_subject(base_payload),
                payload={
                    **base_payload,
                    "level": step.level,
                    "minutes": step.after_minutes,
                    "reminder": step.reminder,
                    "step_clause": step.clause,
                    "fallback": person.is_fallback,
                },
                in_reply_to=prev.message_id if prev else alert.message_id,
                references=" ".join(dict.fromkeys(refs)),
            )
        repo.record(
            session,
            school_id=alert.school_id,
            event="alert.escalated",
            subject_type="alert",
            subject_id=alert.alert_key,
            details={
                "level": step.level + 1,
                "after_minutes": step.after_minutes,
                "roles": [p.role for p in people],
                "clause": step.clause,
                "late_by_seconds": int(
                    (
                        now - (alert.created_at + timedelta(minutes=step.after_minutes))
                    ).total_seconds()
                ),
            },
            at=now,
        )
    return len(due)


def _alert_payload(session: Session, policy: SchoolPolicy, alert: AlertRow) -> dict[str, Any]:
    """The facts about an alert that its emails show (its first email's, completed from the row)."""
    first = session.scalars(
        select(Delivery)
        .where(Delivery.alert_id == alert.id, Delivery.kind == "alert")
        .order_by(Delivery.id)
        .limit(1)
    ).one_or_none()
    payload: dict[str, Any] = dict(first.payload) if first is not None else {}
    payload.pop("fallback", None)
    return {**alert_facts(session, policy, alert), **payload}


def _latest_to(session: Session, alert: AlertRow, email: str) -> Delivery | None:
    """The latest email about this alert to this person, to reply to."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.alert_id == alert.id, Delivery.recipient_email == email)
        .order_by(Delivery.id.desc())
        .limit(1)
    ).one_or_none()
