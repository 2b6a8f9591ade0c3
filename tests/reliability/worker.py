"""A schoolwatch worker that the crash test kills with SIGKILL at random points.

Run as ``python -m tests.reliability.worker --db URL --port PORT --base DIR``.
It starts as a *zygote*: it imports everything and builds the classifier once,
then for each ``run <n>`` line on stdin it forks a child that does real work
(polls every source through the real connectors against the sandbox on
``PORT``, performs platform actions, sends email to the outbox folder, in an
order shuffled per run so that kills land in every step) and
answers ``pid <pid>``. The test kills that pid whenever it likes, then sends
``reap`` and the zygote answers ``exit <pid> <status>``. Forking from a
single-threaded zygote keeps each run's start-up to milliseconds, so the kills
land in the middle of the work, not during imports.

The child never shares a database connection with the zygote: it opens its
own engine after the fork.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

from alerts.delivery import deliver_pending
from classifiers.rules import RuleClassifier
from config.policy import SchoolPolicy
from config.settings import Settings
from connectors.registry import build_connector
from connectors.sandbox import SandboxCredentials
from connectors.settings import ConnectorSettings
from monitor.actions import process_platform_actions
from monitor.runtime import Runtime
from storage.db import make_engine, session_factory
from tests.reliability.support import (
    PLATFORMS,
    START,
    STEP,
    RunLog,
    connector_overrides,
    default_policy,
    make_settings,
    poll,
)


def sandbox_settings(port: int) -> ConnectorSettings:
    """What ``Sandbox.settings()`` returns, rebuilt from the port (the sandbox is in the parent)."""
    from pydantic import SecretStr

    c = SandboxCredentials()
    root = f"http://127.0.0.1:{port}"
    return ConnectorSettings(
        graph_url=root,
        facebook_page_token=SecretStr(c.page_token),
        facebook_app_secret=SecretStr(c.app_secret),
        facebook_verify_token=SecretStr(c.verify_token),
        youtube_url=root + "/",
        youtube_token_url=root + "/token",
        youtube_auth_url=root + "/o/oauth2/auth",
        google_client_id=c.google_client_id,
        google_client_secret=SecretStr(c.google_client_secret),
        google_refresh_token=SecretStr(c.google_refresh_token),
        reddit_url=root,
        reddit_oauth_url=root,
        reddit_client_id=c.reddit_client_id,
        reddit_client_secret=SecretStr(c.reddit_client_secret),
        reddit_username=c.reddit_username,
        reddit_password=SecretStr(c.reddit_password),
        lookback_days=3650,
        **connector_overrides(),
    )


def work(
    settings: Settings,
    policy: SchoolPolicy,
    conn: ConnectorSettings,
    classifier: RuleClassifier,
    run: int,
    rounds: int,
) -> None:
    """One worker life: a few rounds of polling, actions and email, the clock moving on."""
    engine = make_engine(settings.database_url)
    runtime = Runtime(
        settings=settings,
        policy=policy,
        engine=engine,
        factory=session_factory(engine),
        connector_factory=lambda channel: build_connector(channel, policy.school, conn),
        _classifier=classifier,  # type: ignore[arg-type]
    )
    now = START + run * STEP
    rng = random.Random(run)
    log = RunLog()
    for k in range(rounds):
        at = now + k * timedelta(minutes=20)
        # The steps in a different order each life, so kills land in every one of them.
        steps: list[Callable[[], object]] = [
            *(partial(poll, runtime, source, at, log) for source in PLATFORMS),
            partial(process_platform_actions, runtime, now=at),
            partial(deliver_pending, runtime.factory, settings, policy, now=at),
        ]
        rng.shuffle(steps)
        for step in steps:
            step()
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Serve ``run``/``reap`` commands on stdin until it closes."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    policy = default_policy()
    settings = make_settings(args.base, args.db)
    conn = sandbox_settings(args.port)
    classifier = RuleClassifier(policy)
    child = 0
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        if not command:
            continue
        if command[0] == "run":
            child = os.fork()
            if child == 0:
                code = 0
                try:
                    work(settings, policy, conn, classifier, int(command[1]), args.rounds)
                except BaseException as exc:  # noqa: BLE001 - reported to the test
                    print(f"error {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                    code = 1
                os._exit(code)
            print(f"pid {child}", flush=True)
        elif command[0] == "reap" and child:
            _, status = os.waitpid(child, 0)
            if os.WIFSIGNALED(status):
                print(f"exit {child} signal {os.WTERMSIG(status)}", flush=True)
            else:
                print(f"exit {child} code {os.WEXITSTATUS(status)}", flush=True)
            child = 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
