"""The demo: the whole system on a made-up school, with no credentials and no network.

It uses a fresh SQLite database and a mail outbox folder under ``var/demo``,
feeds a month of realistic comments for the fictional Hollybrook Primary
School through the pipeline, sends the alert emails to the outbox as .eml
files, shows an unacknowledged safeguarding alert escalating, and prints a
summary of what it found.
"""

from __future__ import annotations

import logging
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from config.policy import Channel, SchoolPolicy
from config.settings import Settings, load_settings
from connectors.base import Connector
from connectors.registry import build_connector
from connectors.sandbox import Sandbox
from connectors.scenarios import demo_scenario_path
from core.clock import utc_now
from core.models import Platform
from monitor.runtime import ConnectorFactory, Runtime, build_runtime
from monitor.scheduler import after_cycle, poll_source
from monitor.summary import summarise

log = logging.getLogger(__name__)

ESCALATION_PREVIEW_MINUTES = 31


@dataclass
class DemoResult:
    """What the demo did."""

    summary: dict[str, Any]
    outbox: Path
    eml_files: int
    escalations: int
    cycles: list[dict[str, Any]] = field(default_factory=list)


def demo_settings(base: Path, **overrides: Any) -> Settings:
    """Settings for a demo under ``base``: SQLite, an outbox folder, demo mode."""
    values: dict[str, Any] = {
        "mode": "demo",
        "database_url": f"sqlite:///{base / 'schoolwatch.db'}",
        "data_dir": base,
        "outbox_dir": base / "outbox",
        "mail_transport": "outbox",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


def reset(base: Path) -> None:
    """Start the demo from nothing: remove its old database and outbox."""
    if base.exists():
        shutil.rmtree(base)
    (base / "outbox").mkdir(parents=True)


@contextmanager
def demo_platforms(policy: SchoolPolicy) -> Iterator[Sandbox]:
    """Start the platform sandbox with the demo scenario and the policy's account ids."""
    ids = {c.platform: c.account_id for c in policy.channels if c.account_id}
    sandbox = Sandbox(
        demo_scenario_path(),
        port=0,
        page_id=ids.get(Platform.FACEBOOK, "104000000000001"),
        channel_id=ids.get(Platform.YOUTUBE, "UChollybrookPrimary00000"),
        moderated_subreddits=tuple(
            s
            for c in policy.channels
            if c.platform is Platform.REDDIT and c.moderated
            for s in c.subreddits
        ),
    ).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def sandbox_connectors(sandbox: Sandbox, policy: SchoolPolicy) -> ConnectorFactory:
    """Real connectors (real client libraries) pointed at the sandbox."""
    conn_settings = sandbox.settings()

    def factory(channel: Channel) -> Connector:
        return build_connector(channel, policy.school, conn_settings)

    return factory


def connect_webhook(runtime: Runtime, sandbox: Sandbox, port: int) -> threading.Thread:
    """Subscribe the web app on ``port`` to the sandbox Page's webhook once it is listening.

    The web app checks the webhook's signature with the app secret the
    sandbox signs with, as it would with Meta's.
    """
    runtime.settings = runtime.settings.model_copy(
        update={
            "facebook_app_secret": SecretStr(sandbox.credentials.app_secret),
            "facebook_verify_token": SecretStr(sandbox.credentials.verify_token),
        }
    )

    def subscribe() -> None:
        for _ in range(300):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        try:
            sandbox.subscribe_webhook(f"http://127.0.0.1:{port}/webhooks/facebook")
        except Exception as exc:  # noqa: BLE001 - polling still brings comments in
            log.warning("could not connect the demo webhook: %s", type(exc).__name__)

    thread = threading.Thread(target=subscribe, name="demo-webhook", daemon=True)
    thread.start()
    return thread


def ingest_all(runtime: Runtime, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Poll every channel until each has nothing more, acting and delivering after each."""
    cycles: list[dict[str, Any]] = []
    for channel in runtime.channels():
        cycles.extend(r.as_dict() for r in poll_source(runtime, channel.id, now=now))
    return cycles


def preview_escalation(runtime: Runtime, now: datetime) -> int:
    """Act as if nobody acknowledged for a while: run escalations and send them."""
    from alerts.escalation import run_escalations

    later = now + timedelta(minutes=ESCALATION_PREVIEW_MINUTES)
    escalated = run_escalations(runtime.factory, runtime.policy, now=later)
    after_cycle(runtime, now=later)
    return escalated


def run_demo(
    settings: Settings, sandbox: Sandbox, policy: SchoolPolicy
) -> tuple[DemoResult, Runtime]:
    """Run the demo once through. Returns the result and the runtime (for serving)."""
    runtime = build_runtime(
        settings, policy=policy, connector_factory=sandbox_connectors(sandbox, policy)
    )
    now = utc_now()
    cycles = ingest_all(runtime, now=now)
    escalations = preview_escalation(runtime, now)
    outbox = settings.outbox_dir
    result = DemoResult(
        summary=summarise(runtime.factory, runtime.policy.school.id),
        outbox=outbox,
        eml_files=len(list(outbox.glob("*.eml"))),
        escalations=escalations,
        cycles=cycles,
    )
    return result, runtime
