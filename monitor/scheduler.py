"""The scheduler: one polling job per source, plus email, escalation, digest and purge jobs.

APScheduler 3.x runs each job at most once at a time (``max_instances=1``)
and folds missed runs into one (``coalesce=True``). Every job reads what it
needs from the database, so stopping and starting the process loses nothing:
a digest missed while the machine was off is sent once when it comes back.
SIGTERM and SIGINT stop the scheduler cleanly after running jobs finish.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler

from core.clock import utc_now
from monitor.pipeline import CycleReport, run_cycle

if TYPE_CHECKING:
    from monitor.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BATCHES_PER_RUN = 20
"""A polling job stops after this many batches and continues at its next run."""


def poll_source(
    runtime: Runtime, source_id: str, *, now: datetime | None = None
) -> list[CycleReport]:
    """Run cycles for one source until it has nothing more (bounded), then act and deliver."""
    channel = runtime.policy.channel(source_id)
    reports: list[CycleReport] = []
    for _ in range(MAX_BATCHES_PER_RUN):
        report = run_cycle(
            factory=runtime.factory,
            policy=runtime.policy,
            channel=channel,
            connector=runtime.connector(source_id),
            classifier=runtime.classifier(),
            now=now,
        )
        reports.append(report)
        if report.status != "ok" or not report.more:
            break
    after_cycle(runtime, now=now)
    return reports


def after_cycle(runtime: Runtime, *, now: datetime | None = None) -> None:
    """Perform recorded platform actions and send recorded emails."""
    from alerts.delivery import deliver_pending
    from monitor.actions import process_platform_actions

    process_platform_actions(runtime, now=now)
    deliver_pending(runtime.factory, runtime.settings, runtime.policy, now=now)


def _guarded(name: str, fn: Callable[[], Any]) -> Callable[[], None]:
    """Run a job, logging (not raising) any failure so the scheduler keeps going."""

    def job() -> None:
        try:
            fn()
        except Exception:  # noqa: BLE001 - a failing job must not stop the others
            log.exception("job %s failed", name)

    return job


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """A scheduler with every job for the runtime's school. Not started."""
    from alerts.delivery import deliver_pending
    from alerts.digest_job import run_due_digest
    from alerts.escalation import run_escalations
    from monitor.actions import process_platform_actions
    from monitor.retention import purge

    policy = runtime.policy
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    start = datetime.now(UTC)
    for channel in runtime.channels():
        scheduler.add_job(
            _guarded(f"poll:{channel.id}", partial(poll_source, runtime, channel.id)),
            "interval",
            minutes=channel.poll_minutes,
            id=f"poll:{channel.id}",
            next_run_time=start,
        )
    jobs: list[tuple[str, Callable[[], Any], int]] = [
        ("deliver", lambda: deliver_pending(runtime.factory, runtime.settings, policy), 30),
        ("escalate", lambda: run_escalations(runtime.factory, policy), 60),
        ("actions", lambda: process_platform_actions(runtime), 60),
        ("digest", lambda: run_due_digest(runtime.factory, runtime.settings, policy), 300),
    ]
    for name, fn, seconds in jobs:
        scheduler.add_job(
            _guarded(name, fn), "interval", seconds=seconds, id=name, next_run_time=start
        )
    scheduler.add_job(
        _guarded("purge", lambda: purge(runtime.factory, policy)),
        "cron",
        hour=2,
        minute=30,
        timezone=policy.tz,
        id="purge",
    )
    return scheduler


def run_forever(runtime: Runtime, *, stop: threading.Event | None = None) -> None:
    """Start the scheduler and block until SIGTERM/SIGINT (or ``stop`` is set)."""
    stop = stop or threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received signal %d: stopping after running jobs finish", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    scheduler = build_scheduler(runtime)
    scheduler.start()
    log.info(
        "scheduler started with %d jobs at %s", len(scheduler.get_jobs()), utc_now().isoformat()
    )
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("scheduler stopped cleanly")
