"""Working hours and school holidays: when a non-urgent email may go out."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from config.policy import WEEKDAYS, SchoolPolicy


def _parse(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def is_holiday(policy: SchoolPolicy, day: date) -> bool:
    """True when ``day`` is inside one of the policy's school holidays."""
    return any(h.start <= day <= h.end for h in policy.holidays)


def is_working_time(policy: SchoolPolicy, at: datetime) -> bool:
    """True during working hours on a working day that is not a holiday (school time zone)."""
    local = at.astimezone(policy.tz)
    hours = policy.working_hours
    if WEEKDAYS[local.weekday()] not in hours.days or is_holiday(policy, local.date()):
        return False
    return _parse(hours.start) <= local.time() < _parse(hours.end)


def next_working_time(policy: SchoolPolicy, at: datetime) -> datetime:
    """``at`` itself if it is working time, else the start of the next working day.

    The result is timezone-aware in the school's time zone.
    """
    if is_working_time(policy, at):
        return at.astimezone(policy.tz)
    local = at.astimezone(policy.tz)
    start = _parse(policy.working_hours.start)
    day = local.date()
    if local.time() >= start:
        day += timedelta(days=1)
    for _ in range(400):
        candidate = datetime.combine(day, start, tzinfo=policy.tz)
        if is_working_time(policy, candidate):
            return candidate
        day += timedelta(days=1)
    # A policy with no working days at all: send now rather than never.
    return local
