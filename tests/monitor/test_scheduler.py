"""The scheduler: polls on start, and stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.loader import DEFAULT_POLICY, load_policy
from monitor.runtime import build_runtime
from monitor.scheduler import build_scheduler
from storage.db import make_engine, session_factory
from storage.tables import CommentRow

ROOT = Path(__file__).resolve().parents[2]


def _comments(db: Path) -> int:
    if not db.exists():
        return 0
    engine = make_engine(f"sqlite:///{db}")
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(CommentRow)) or 0)
    except Exception:  # noqa: BLE001 - the worker may not have created the tables yet
        return 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_scheduler_polls_then_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "sched.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.monitor.scheduler_worker", str(db), str(tmp_path / "outbox")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _comments(db) == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.3)
        assert _comments(db) > 0, "the scheduler did not poll on start"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-2000:]
    assert "scheduler stopped cleanly" in stderr


def test_scheduler_has_one_job_per_source_and_the_housekeeping_jobs(tmp_path: Path) -> None:
    from config.settings import load_settings

    settings = load_settings(
        mode="demo", database_url=f"sqlite:///{tmp_path / 'j.db'}", use_model=False, _env_file=None
    )
    policy = load_policy(DEFAULT_POLICY)
    runtime = build_runtime(settings, policy=policy, connector_factory=lambda ch: None)  # type: ignore[arg-type,return-value]
    scheduler = build_scheduler(runtime)
    scheduler.start(paused=True)  # job defaults are applied when the scheduler starts
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert {f"poll:{c.id}" for c in policy.channels if c.enabled} <= set(jobs)
    assert {"deliver", "escalate", "actions", "digest", "purge"} <= set(jobs)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    poll = jobs["poll:facebook"]
    assert poll.trigger.interval.total_seconds() == policy.channel("facebook").poll_minutes * 60
