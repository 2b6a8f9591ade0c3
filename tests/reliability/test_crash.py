"""Kill the worker with SIGKILL at random points, many times; nothing is lost or sent twice.

The sandbox lives in this (the test) process so it survives the kills; the
worker (``tests/reliability/worker.py``) is a real separate process working on
a shared SQLite file. Between runs the platforms keep changing: new comments
(some harmful), deleted comments, and now and then a 5xx burst. After the
kills a clean worker run finishes the work and the store is compared with the
sandbox's world.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from connectors.sandbox import Sandbox
from storage.db import make_engine, migrate, session_factory
from storage.tables import CommentRow, DecisionRow, Delivery, PlatformAction, VerdictRow
from tests.reliability.support import (
    PLATFORMS,
    START,
    STEP,
    RunLog,
    check_alerts,
    check_sent_once,
    check_store,
    default_policy,
    final_delivery,
    make_runtime,
    make_settings,
    outbox_message_ids,
    round_of_cycles,
    start_sandbox,
    stored_ids,
)

RUNS = 50
ROOT = Path(__file__).resolve().parents[2]

NEW_COMMENTS = [
    ("facebook", "fb-p03", "Thank you to the PTA for the cake sale"),
    ("facebook", "fb-p05", "Mr Brennan is a disgrace and should be sacked, he grabbed my son"),
    ("youtube", "yt-v03", "the boy in the red jumper is ugly and everyone hates him"),
    ("youtube", "yt-v04", "Great sports afternoon, well done all"),
    ("reddit", "rd-s03", "Hollybrook Primary deserved that Ofsted grade"),
    ("reddit", "rd-s01", "Parking at Hollybrook School is dangerous, someone will get hurt"),
]


def _progress(url: str) -> dict[str, int]:
    """What the killed workers got done between them (before any clean run)."""
    engine = make_engine(url)
    factory = session_factory(engine)
    with factory() as session:
        out = {
            p: int(session.scalar(sql_select(func.count()).where(CommentRow.platform == p)) or 0)
            for p in PLATFORMS
        }
        out["emails sent"] = int(
            session.scalar(sql_select(func.count()).where(Delivery.status == "sent")) or 0
        )
        out["actions done"] = int(
            session.scalar(sql_select(func.count()).where(PlatformAction.status == "done")) or 0
        )
    engine.dispose()
    return out


def total_stored(runtime: Any) -> int:
    return sum(sum(stored_ids(runtime.factory, p).values()) for p in PLATFORMS)


class Zygote:
    """The worker process: forks a child per run, which the test kills."""

    def __init__(self, db_url: str, port: int, base: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.worker", "--db", db_url, "--port", str(port),
             "--base", str(base), "--rounds", "3"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self._line(120) == "ready"
        self.last_seconds = 0.0

    def _line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "the worker stopped answering"
        return self.proc.stdout.readline().strip()

    def _send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def run(self, n: int, kill_after: float | None) -> str:
        """Start run ``n``; SIGKILL it after ``kill_after`` seconds (if still running)."""
        started = time.monotonic()
        self._send(f"run {n}")
        words = self._line(30).split()
        assert words[0] == "pid", words
        pid = int(words[1])
        if kill_after is not None:
            time.sleep(kill_after)
            os.kill(pid, signal.SIGKILL)  # a zombie (finished, not yet reaped) ignores it
        self._send("reap")
        words = self._line(300).split()
        assert words[:2] == ["exit", str(pid)], words
        self.last_seconds = time.monotonic() - started
        return " ".join(words[2:])

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = start_sandbox(default_policy())
    yield box
    box.stop()


def _change_the_world(sandbox: Sandbox, rng: random.Random, n: int) -> None:
    for platform, post, text in rng.sample(NEW_COMMENTS, 2):
        sandbox.world.add_comment(
            platform=platform, post_sid=post, text=f"{text} #{n}", author_name=f"Parent {n}"
        )
    if rng.random() < 0.3:
        platform = rng.choice(PLATFORMS)
        ids = sorted(i for i in sandbox.comment_ids(platform) if not i.startswith("t3_"))
        sandbox.delete_comment(platform, rng.choice(ids))
    if rng.random() < 0.2:
        sandbox.faults.set(rng.choice(PLATFORMS), "server_error", count=rng.randint(1, 3))


def test_sigkill_at_random_points_loses_and_repeats_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    policy = default_policy()
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    rng = random.Random(int(os.environ.get("CRASH_SEED", "8")))
    zygote = Zygote(settings.database_url, sandbox.port, tmp_path)
    outcomes: Counter[str] = Counter()
    try:
        window = 1.5  # seconds; shrunk to fit how long a whole life takes on this machine
        for n in range(RUNS):
            _change_the_world(sandbox, rng, n)
            outcome = zygote.run(n, kill_after=rng.uniform(0.02, window))
            if outcome == "code 0":  # it finished before the kill: aim earlier next time
                window = max(0.1, 0.9 * zygote.last_seconds)
            outcomes[outcome] += 1
            assert outcome in ("signal 9", "code 0"), f"run {n} died on its own: {outcome}"
        progress = _progress(settings.database_url)
        # A last clean worker life, then this process finishes the work and checks.
        assert zygote.run(RUNS, kill_after=None) == "code 0"
    finally:
        zygote.close()
    assert outcomes["signal 9"] >= RUNS // 2, f"too few runs were killed mid-work: {outcomes}"
    sandbox.faults.clear()
    runtime = make_runtime(settings, policy, sandbox, migrate_schema=False)
    now = START + (RUNS + 2) * STEP
    for k in range(3):
        round_of_cycles(runtime, now + k * STEP, RunLog())
    final_delivery(runtime, now + 4 * STEP)
    for platform in PLATFORMS:
        check_store(runtime.factory, sandbox, policy, platform)
    counts = check_alerts(runtime.factory)
    assert counts["alerts"] > 0 and counts["sent"] > 0
    received = outbox_message_ids(settings.outbox_dir)
    check_sent_once(runtime.factory, received)
    print(  # shown with -s; the figures in docs/reliability.md come from here
        f"crash test: {dict(outcomes)}; killed workers got done {progress}; "
        f"{total_stored(runtime)} comments stored; "
        f"{counts}; {sum(received.values())} emails for {len(received)} Message-IDs"
    )
    with runtime.factory() as session:
        for table in (VerdictRow, DecisionRow):
            twice = session.execute(
                sql_select(table.comment_id, func.count())
                .group_by(table.comment_id)
                .having(func.count() > 1)
            ).all()
            assert twice == [], f"{table.__tablename__}: comments handled twice: {twice}"
    total = total_stored(runtime)
    with runtime.factory() as session:
        verdicts = session.scalar(sql_select(func.count()).select_from(VerdictRow))
    assert verdicts == total  # every stored comment was classified exactly once
    runtime.engine.dispose()
