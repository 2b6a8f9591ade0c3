"""Working hours and school holidays hold back non-urgent emails; urgent ones go at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.delivery import deliver_pending
from alerts.hours import is_holiday, is_working_time, next_working_time
from config.policy import SchoolPolicy
from config.settings import Settings
from storage.tables import Delivery

from .conftest import ListConnector, ingest, make_comment, read_outbox


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "working"),
    [
        (utc(2026, 11, 24, 10, 0), True),  # Tuesday 10:00 GMT
        (utc(2026, 11, 24, 7, 59), False),  # before 08:00
        (utc(2026, 11, 24, 8, 0), True),  # 08:00 exactly
        (utc(2026, 11, 24, 17, 0), False),  # 17:00 is the end
        (utc(2026, 11, 21, 12, 0), False),  # Saturday
        (utc(2026, 12, 22, 10, 0), False),  # Christmas holiday (a Tuesday)
        (utc(2026, 10, 26, 10, 0), False),  # October half term (Monday)
        (utc(2026, 6, 2, 7, 30), True),  # 08:30 BST in summer (UTC+1)
        (utc(2026, 6, 2, 16, 30), False),  # 17:30 BST
    ],
)
def test_is_working_time(policy: SchoolPolicy, at: datetime, working: bool) -> None:
    assert is_working_time(policy, at) is working


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Friday 18:00 -> Monday 08:00
        (utc(2026, 11, 27, 18, 0), utc(2026, 11, 30, 8, 0)),
        # Tuesday 06:00 -> the same day 08:00
        (utc(2026, 11, 24, 6, 0), utc(2026, 11, 24, 8, 0)),
        # Saturday night -> Monday 08:00
        (utc(2026, 11, 21, 21, 14), utc(2026, 11, 23, 8, 0)),
        # Friday 18 December (last day of term) evening -> Monday 4 January 08:00
        (utc(2026, 12, 18, 19, 0), utc(2027, 1, 4, 8, 0)),
        # Friday before the clocks go back to GMT, in the evening -> Monday 08:00 GMT
        (utc(2026, 10, 23, 19, 0), utc(2026, 11, 2, 8, 0)),  # half term 26-30 Oct
        # Working time now -> now
        (utc(2026, 11, 24, 10, 0), utc(2026, 11, 24, 10, 0)),
        # Summer: Monday 06:00 BST -> 08:00 BST = 07:00 UTC
        (utc(2026, 6, 1, 5, 0), utc(2026, 6, 1, 7, 0)),
    ],
)
def test_next_working_time(policy: SchoolPolicy, at: datetime, expected: datetime) -> None:
    assert next_working_time(policy, at) == expected


def test_holidays(policy: SchoolPolicy) -> None:
    assert is_holiday(policy, utc(2026, 12, 25).date())
    assert not is_holiday(policy, utc(2026, 11, 24).date())


def test_out_of_hours_non_urgent_emails_wait_until_the_morning(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    friday_night = utc(2026, 11, 27, 20, 0)
    monday_morning = utc(2026, 11, 30, 8, 0)
    conn = ListConnector(
        [
            make_comment(1, "[bullying] everyone laugh at her", at=friday_night, thread="t1"),
            make_comment(
                2, "[self_harm] I want to hurt myself", at=friday_night, thread="t2", author="a2"
            ),
        ]
    )
    ingest(factory, policy, conn, friday_night)
    with factory() as session:
        rows = session.scalars(select(Delivery).order_by(Delivery.id)).all()
        by_kind = {(r.payload["category"], r.recipient_role): r for r in rows}
    bullying = by_kind[("bullying", "dsl")]
    assert bullying.status == "held"
    assert bullying.not_before == monday_morning
    for role in ("dsl", "deputy_dsl"):
        assert by_kind[("self_harm", role)].status == "pending"
        assert by_kind[("self_harm", role)].not_before is None

    # Friday night: only the urgent safeguarding emails go.
    stats = deliver_pending(factory, settings, policy, now=friday_night)
    assert stats.sent == 2
    subjects = [str(m["Subject"]) for m in read_outbox(settings.outbox_dir)]
    assert all("Self-harm" in s for s in subjects)
    # Sunday: still held.
    assert deliver_pending(factory, settings, policy, now=utc(2026, 11, 29, 12, 0)).sent == 0
    # Monday 07:59: still held; 08:00: sent.
    assert (
        deliver_pending(factory, settings, policy, now=monday_morning - timedelta(minutes=1)).sent
        == 0
    )
    assert deliver_pending(factory, settings, policy, now=monday_morning).sent == 1
    last = read_outbox(settings.outbox_dir)[-1]
    assert "Bullying" in str(last["Subject"])
    assert "URGENT" not in str(last["Subject"])


def test_urgent_threat_goes_out_in_the_holidays(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    christmas = utc(2026, 12, 25, 3, 0)
    ingest(
        factory,
        policy,
        ListConnector([make_comment(1, "[threat] see you at the gates", at=christmas)]),
        christmas,
    )
    stats = deliver_pending(factory, settings, policy, now=christmas)
    assert stats.sent == 1
    msg = read_outbox(settings.outbox_dir)[0]
    assert policy.roles["dsl"].email in str(msg["To"])
    assert str(msg["Subject"]).startswith("[URGENT] Threat")


def test_urgent_emails_go_before_a_backlog(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    monday = utc(2026, 11, 30, 8, 0)
    night = utc(2026, 11, 28, 22, 0)
    conn = ListConnector(
        [
            make_comment(i, f"[bullying] number {i}", at=night, thread=f"t{i}", author=f"a{i}")
            for i in range(1, 4)
        ]
    )
    ingest(factory, policy, conn, night)  # three held until Monday morning
    conn.comments.append(make_comment(9, "[self_harm] help", at=monday, thread="t9", author="z"))
    ingest(factory, policy, conn, monday)
    stats = deliver_pending(factory, settings, policy, now=monday, limit=2)
    assert stats.sent == 2
    assert all("Self-harm" in str(m["Subject"]) for m in read_outbox(settings.outbox_dir))
