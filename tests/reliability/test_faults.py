"""Many cycles against a misbehaving sandbox: nothing lost, nothing twice, others unaffected.

Each test arms one fault on one platform (twice: during the backlog and again
while new comments arrive), runs the scheduler's work round after round with
the clock moving an hour each time (so backoff windows pass without sleeping),
deletes and adds comments between rounds, and then compares the store with
the sandbox's world.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connectors.sandbox import Sandbox
from monitor.runtime import Runtime
from storage.tables import Delivery
from tests.reliability.smtp import MailServer
from tests.reliability.support import (
    PLATFORMS,
    START,
    STEP,
    RunLog,
    check_alerts,
    check_sent_once,
    check_store,
    default_policy,
    failed_actions,
    final_delivery,
    make_runtime,
    make_settings,
    outbox_message_ids,
    round_of_cycles,
    source_health,
    start_sandbox,
    stored_ids,
)

# (platform, fault, how many requests it hits each time it is armed)
FAULTS = [
    (platform, mode, count)
    for platform in PLATFORMS
    for mode, count in (
        ("server_error", 3),
        ("throttle", 2),
        ("expired_token", 1),
        ("slow", 1),
        ("malformed", 2),
        ("repeat_cursor", 1),
        ("duplicate_ids", 3),
        ("delete_between_pages", 2),
    )
] + [("youtube", "quota", 1)]

# Faults that must show up as a failed cycle or a failed platform action (the listing
# faults are absorbed silently, and PRAW retries a slow Reddit reply by itself).
FAILING = {"server_error", "throttle", "expired_token", "slow", "malformed"}

# New comments posted while the run goes on: (platform, post scenario id, text, label).
LIVE = [
    ("facebook", "fb-p01", "Brilliant harvest display, well done everyone", "benign"),
    ("facebook", "fb-p02", "I know where that teacher lives and she will regret it", "threat"),
    ("youtube", "yt-v01", "Lovely singing from year 2", "benign"),
    ("youtube", "yt-v02", "that kid in the front row is a fat loser lol", "bullying"),
    ("reddit", "rd-s01", "Hollybrook Primary parking is still awful at 3pm", "criticism"),
    ("reddit", "rd-s02", "my kid at Hollybrook says a teacher hit him", "staff_allegation"),
]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = start_sandbox(default_policy())
    yield box
    box.stop()


@pytest.fixture
def runtime(tmp_path: Path, sandbox: Sandbox) -> Iterator[Runtime]:
    policy = default_policy()
    rt = make_runtime(make_settings(tmp_path), policy, sandbox)
    yield rt
    rt.engine.dispose()


def _arm(sandbox: Sandbox, platform: str, mode: str, count: int) -> None:
    delay = 5.0 if mode == "slow" else 0.0  # the connectors give up after 3 seconds
    sandbox.faults.set(platform, mode, count=count, delay=delay)


def _add_live(sandbox: Sandbox, round_no: int) -> None:
    for platform, post, text, label in LIVE:
        sandbox.world.add_comment(
            platform=platform,
            post_sid=post,
            text=f"{text} (round {round_no})",
            author_name=f"Live Author {round_no}",
            expected=label,
        )


def _delete_one_stored(sandbox: Sandbox, runtime: Runtime, platform: str) -> None:
    """Delete, on the platform, a comment the store already holds (as its author might)."""
    stored = sorted(stored_ids(runtime.factory, platform))
    world_ids = sandbox.comment_ids(platform)
    for external_id in stored:
        if external_id in world_ids and not external_id.startswith("t3_"):
            sandbox.delete_comment(platform, external_id)
            return


@pytest.mark.parametrize(("platform", "mode", "count"), FAULTS, ids=lambda v: str(v))
def test_fault_run_stores_every_comment_once(
    platform: str, mode: str, count: int, sandbox: Sandbox, runtime: Runtime, tmp_path: Path
) -> None:
    policy = runtime.policy
    log = RunLog()
    others = [p for p in PLATFORMS if p != platform]
    _arm(sandbox, platform, mode, count)
    now = START
    round_of_cycles(runtime, now, log)
    # The other sources finished their whole backlog in the first round, untouched.
    for other in others:
        check_store(runtime.factory, sandbox, policy, other)
    for n in range(1, 40):
        now += STEP
        if n in (1, 2, 3):
            _add_live(sandbox, n)
        if n == 2:
            _arm(sandbox, platform, mode, count)
            for p in PLATFORMS:
                _delete_one_stored(sandbox, runtime, p)
        round_of_cycles(runtime, now, log)
        if n >= 4 and not sandbox.faults.armed(platform) and log.reports[-1].status == "ok":
            break
    # One clean round after the last fault, a day later: past any YouTube quota reset
    # (the connector dates the reset from the real clock, the run from simulated time).
    now += timedelta(hours=25)
    round_of_cycles(runtime, now, log)
    final_delivery(runtime, now + STEP)

    assert sandbox.faults.count(platform) >= 2 * min(count, 1), "the fault never fired"
    assert not sandbox.faults.armed(platform), "the run ended before the faults were used up"
    for p in PLATFORMS:
        check_store(runtime.factory, sandbox, policy, p)
    if mode in FAILING and (platform, mode) != ("reddit", "slow"):
        bad = log.statuses(platform)
        seen = bad["retry"] + bad["paused"] + bad["error"] + failed_actions(runtime.factory)
        assert seen >= 1, (bad, sandbox.faults.injected)
    if mode == "expired_token":
        assert log.resumed[platform] >= 1
    for other in others:
        assert set(log.statuses(other)) == {"ok"}, (other, log.statuses(other))
        health = source_health(runtime.factory, other)
        assert health.consecutive_failures == 0 and health.last_error is None
    counts = check_alerts(runtime.factory)
    assert counts["alerts"] > 0
    check_sent_once(runtime.factory, outbox_message_ids(runtime.settings.outbox_dir))
    print(  # shown with -s; the table in docs/reliability.md comes from here
        f"FAULT {platform} {mode} x{count}: injected {sandbox.faults.count(platform)}, "
        f"rounds {log.rounds}, cycles {dict(log.statuses(platform))}, "
        f"resumed {log.resumed[platform]}, failed actions {failed_actions(runtime.factory)}, "
        f"stored {sum(sum(stored_ids(runtime.factory, p).values()) for p in PLATFORMS)}, {counts}"
    )


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[MailServer]:
    server = MailServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_mail_server_down_and_back_sends_every_alert_once(
    tmp_path: Path, sandbox: Sandbox, mail: MailServer
) -> None:
    policy = default_policy()
    settings = mail.settings(make_settings(tmp_path))
    runtime = make_runtime(settings, policy, sandbox)
    log = RunLog()
    now = START
    mail.stop()  # down before the first alert is sent
    for n in range(4):
        if n:
            _add_live(sandbox, n)
        round_of_cycles(runtime, now, log)
        now += STEP
    with runtime.factory() as session:
        waiting = session.scalar(
            select(func.count()).where(Delivery.status == "pending", Delivery.attempts > 0)
        )
    assert waiting and not mail.handler.message_ids  # retried, nothing got through
    mail.start()
    sandbox.faults.set("youtube", "server_error", count=2)  # and a platform hiccup meanwhile
    for n in range(4, 8):
        _add_live(sandbox, n)
        round_of_cycles(runtime, now, log)
        now += STEP
    mail.stop()  # down again for a while, then back for good
    round_of_cycles(runtime, now, log)
    mail.start()
    final_delivery(runtime, now + STEP)
    for p in PLATFORMS:
        check_store(runtime.factory, sandbox, policy, p)
    counts = check_alerts(runtime.factory)
    assert counts["sent"] > 0
    received = mail.handler.message_ids
    assert {m: n for m, n in received.items() if n > 1} == {}  # no crash here: strictly once
    check_sent_once(runtime.factory, received)
    runtime.engine.dispose()


def test_fault_run_on_each_database(db_url: str, tmp_path: Path, sandbox: Sandbox) -> None:
    """The same guarantees on SQLite and PostgreSQL: 5xx bursts and throttling everywhere."""
    policy = default_policy()
    runtime = make_runtime(make_settings(tmp_path, db_url), policy, sandbox)
    log = RunLog()
    for platform in PLATFORMS:
        sandbox.faults.set(platform, "server_error", count=2)
    now = START
    for n in range(6):
        if n == 2:
            _add_live(sandbox, n)
            for platform in PLATFORMS:
                sandbox.faults.set(platform, "throttle", count=1)
        round_of_cycles(runtime, now, log)
        now += STEP
    final_delivery(runtime, now)
    for p in PLATFORMS:
        check_store(runtime.factory, sandbox, policy, p)
    check_alerts(runtime.factory)
    check_sent_once(runtime.factory, outbox_message_ids(runtime.settings.outbox_dir))
    assert all(log.statuses(p)["retry"] >= 1 for p in ("facebook", "youtube"))
    runtime.engine.dispose()
