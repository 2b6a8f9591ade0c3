"""Shared pieces of the reliability suite: a sandbox-backed runtime, a world oracle, checks.

Everything here drives the real code paths: the real connectors (real client
libraries over HTTP to :class:`connectors.sandbox.Sandbox`), ``run_cycle``,
``process_platform_actions`` and ``deliver_pending``. Only the classifier is a
stand-in (:class:`WorldOracle` reads each comment's intended label from the
sandbox's world), so the suite tests the plumbing, quickly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.delivery import deliver_pending
from config.loader import DEFAULT_POLICY, load_policy
from config.policy import SchoolPolicy
from config.settings import Settings, load_settings
from connectors.base import Connector
from connectors.registry import build_connector
from connectors.sandbox import Sandbox
from connectors.scenarios import demo_scenario_path
from core.models import Category, Comment, Context, Evidence, Verdict
from monitor.actions import process_platform_actions
from monitor.pipeline import CycleReport, resume_source, run_cycle
from monitor.runtime import Runtime
from storage.db import make_engine, migrate, session_factory
from storage.tables import AlertRow, AuditEvent, CommentRow, ConnectorCursor, Delivery

PLATFORMS = ("facebook", "youtube", "reddit")
SECRET = "reliability-test-signing-key-0123456789abcdef-not-a-real-one"
# Tuesday 24 November 2026, 09:00 UK time: a school day.
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STEP = timedelta(hours=1)


class WorldOracle:
    """Labels each comment with the category the sandbox scenario says it is."""

    name = "world-oracle"
    version = "1"

    def __init__(self, sandbox: Sandbox) -> None:
        self.world = sandbox.world

    def label(self, comment: Comment) -> Category:
        """The scenario's ``expected`` label of ``comment`` (benign when it has none)."""
        pid = comment.external_id
        if comment.platform.value == "reddit":
            pid = pid.partition("_")[2]
        with self.world.lock:
            held = self.world.comments.get(pid)
        try:
            return (
                Category(held.expected) if held is not None and held.expected else Category.BENIGN
            )
        except ValueError:
            return Category.BENIGN

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]:
        out = []
        for comment in comments:
            category = self.label(comment)
            out.append(
                Verdict(
                    scores={category: 0.99},
                    flagged=(category,),
                    evidence=(Evidence(category, "oracle", "oracle.world", 0.99),),
                    classifier="world-oracle@1",
                    explanation=f"Scenario label {category.value}.",
                )
            )
        return out


def default_policy() -> SchoolPolicy:
    """The packaged Hollybrook policy."""
    return load_policy(DEFAULT_POLICY)


def start_sandbox(policy: SchoolPolicy, scenario: Any = None, *, port: int = 0) -> Sandbox:
    """A started sandbox holding ``scenario`` (the demo by default) for ``policy``'s accounts."""
    return Sandbox(
        scenario if scenario is not None else demo_scenario_path(),
        port=port,
        page_id=policy.channel("facebook").account_id,
        channel_id=policy.channel("youtube").account_id,
        reddit_requests_per_window=1_000_000,
    ).start()


def make_settings(base: Path, db_url: str | None = None, **overrides: Any) -> Settings:
    """Deployment settings for a test run under ``base`` (outbox mail unless overridden)."""
    values: dict[str, Any] = {
        "_env_file": None,
        "mode": "demo",
        "database_url": db_url or f"sqlite:///{base / 'schoolwatch.db'}",
        "data_dir": base,
        "outbox_dir": base / "outbox",
        "mail_transport": "outbox",
        "secret_key": SECRET,
        "web_base_url": "https://schoolwatch.hollybrook.example",
        "mail_from": "schoolwatch <alerts@hollybrook.example>",
    }
    values.update(overrides)
    return load_settings(**values)


def connector_overrides() -> dict[str, Any]:
    """Small pages and short time-outs, so paging faults bite and slow replies time out.

    Three seconds, not one: on a busy two-core machine an ordinary sandbox reply
    took more than a second, and a test that expected that source to be untouched
    failed. The "slow" fault waits longer than this (test_faults.py)."""
    return {"page_size": 10, "timeout": 3.0, "reddit_max_pages": 100, "overlap_seconds": 600}


def make_runtime(
    settings: Settings,
    policy: SchoolPolicy,
    sandbox: Sandbox,
    *,
    migrate_schema: bool = True,
    **connector_settings: Any,
) -> Runtime:
    """A runtime whose connectors are the real ones pointed at ``sandbox``."""
    conn = sandbox.settings(**{**connector_overrides(), **connector_settings})

    def factory(channel: Any) -> Connector:
        return build_connector(channel, policy.school, conn)

    engine = make_engine(settings.database_url)
    if migrate_schema:
        migrate(engine)
    return Runtime(
        settings=settings,
        policy=policy,
        engine=engine,
        factory=session_factory(engine),
        connector_factory=factory,
        _classifier=WorldOracle(sandbox),
    )


@dataclass
class RunLog:
    """What a run of many cycles saw."""

    reports: list[CycleReport] = field(default_factory=list)
    resumed: Counter[str] = field(default_factory=Counter)
    rounds: int = 0

    def statuses(self, source: str) -> Counter[str]:
        """How often each cycle status was seen for ``source``."""
        return Counter(r.status for r in self.reports if r.source_id == source)


def poll(runtime: Runtime, source: str, now: datetime, log: RunLog, *, limit: int = 40) -> None:
    """One scheduled poll of ``source``: cycles until it has no more (bounded)."""
    channel = runtime.policy.channel(source)
    for _ in range(30):
        report = run_cycle(
            factory=runtime.factory,
            policy=runtime.policy,
            channel=channel,
            connector=runtime.connector(source),
            classifier=runtime.classifier(),
            now=now,
            limit=limit,
        )
        log.reports.append(report)
        if report.status == "paused":
            # The admin reconnects the account (what `schoolwatch connect` does) and resumes.
            if resume_source(runtime.factory, school_id=runtime.policy.school.id, source_id=source):
                log.resumed[source] += 1
            return
        if report.status != "ok" or not report.more:
            return
    raise AssertionError(f"source {source} never finished a poll")


def round_of_cycles(runtime: Runtime, now: datetime, log: RunLog) -> None:
    """Poll every source once, then perform actions and send email, as the scheduler does."""
    for source in PLATFORMS:
        poll(runtime, source, now, log)
    process_platform_actions(runtime, now=now)
    deliver_pending(runtime.factory, runtime.settings, runtime.policy, now=now)
    log.rounds += 1


def final_delivery(runtime: Runtime, now: datetime, rounds: int = 6) -> None:
    """Let held (out-of-hours) and summary emails come due and send them."""
    for k in range(rounds):
        deliver_pending(runtime.factory, runtime.settings, runtime.policy, now=now + k * STEP * 12)


# ---- what the store should hold --------------------------------------------------------


def expected_ids(sandbox: Sandbox, policy: SchoolPolicy, platform: str) -> set[str]:
    """External ids a complete store holds for ``platform`` (comments that exist now).

    Reddit: submissions naming the school, every comment under them, and
    comments elsewhere in the watched subreddits that name the school.
    """
    if platform != "reddit":
        return sandbox.comment_ids(platform)
    names = [n.lower() for n in (policy.school.name, *policy.school.aliases) if n.strip()]
    world = sandbox.world
    with world.lock:
        posts = [p for p in world.posts.values() if p.platform == "reddit"]
        matching = {p.pid for p in posts if any(n in f"{p.title}\n{p.text}".lower() for n in names)}
    out = {f"t3_{pid}" for pid in matching}
    for c in world.visible_comments("reddit"):
        if c.post_pid in matching or any(n in c.text.lower() for n in names):
            out.add(f"t1_{c.pid}")
    return out


def ever_existed(sandbox: Sandbox, platform: str) -> set[str]:
    """Every external id the sandbox ever held for ``platform`` (deleted ones too)."""
    world = sandbox.world
    with world.lock:
        comments = [c.pid for c in world.comments.values() if c.platform == platform]
        posts = [p.pid for p in world.posts.values() if p.platform == platform]
    if platform == "reddit":
        return {f"t1_{p}" for p in comments} | {f"t3_{p}" for p in posts}
    return set(comments)


def stored_ids(factory: sessionmaker[Session], platform: str) -> Counter[str]:
    """How many times each external id of ``platform`` is stored."""
    with factory() as session:
        rows = session.scalars(
            select(CommentRow.external_id).where(CommentRow.platform == platform)
        )
        return Counter(rows)


def check_store(
    factory: sessionmaker[Session], sandbox: Sandbox, policy: SchoolPolicy, platform: str
) -> None:
    """Every comment that exists is stored exactly once, and nothing invented is stored."""
    stored = stored_ids(factory, platform)
    repeated = {k: n for k, n in stored.items() if n > 1}
    assert repeated == {}, f"{platform}: stored more than once: {repeated}"
    missing = expected_ids(sandbox, policy, platform) - set(stored)
    assert missing == set(), f"{platform}: {len(missing)} comments never stored: {sorted(missing)}"
    invented = set(stored) - ever_existed(sandbox, platform)
    assert invented == set(), f"{platform}: stored ids the platform never had: {invented}"


def check_alerts(factory: sessionmaker[Session]) -> dict[str, int]:
    """At most one alert per comment, and every recorded email ended sent (or summarised).

    Returns:
        Counts: alerts, deliveries by final status.
    """
    with factory() as session:
        per_comment = session.execute(
            select(AlertRow.comment_id, func.count())
            .where(AlertRow.comment_id.is_not(None))
            .group_by(AlertRow.comment_id)
            .having(func.count() > 1)
        ).all()
        statuses = Counter(session.scalars(select(Delivery.status)))
        alerts = int(session.scalar(select(func.count()).select_from(AlertRow)) or 0)
    assert per_comment == [], f"comments with more than one alert: {per_comment}"
    unfinished = {s: n for s, n in statuses.items() if s not in ("sent", "summarised")}
    assert unfinished == {}, f"emails not delivered: {unfinished}"
    return {"alerts": alerts, **statuses}


def sent_message_ids(factory: sessionmaker[Session]) -> dict[str, int]:
    """Message-ID of every sent delivery, with its number of send attempts."""
    with factory() as session:
        rows = session.execute(
            select(Delivery.message_id, Delivery.attempts).where(Delivery.status == "sent")
        ).all()
    return {str(mid): int(attempts) for mid, attempts in rows}


def outbox_message_ids(folder: Path) -> Counter[str]:
    """How many ``.eml`` files the outbox holds per Message-ID."""
    found: Counter[str] = Counter()
    for path in folder.glob("*.eml"):
        if path.name.startswith("."):
            continue  # a temporary file a killed process left half-written: never sent
        msg = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        found[str(msg["Message-ID"])] += 1
    return found


def check_sent_once(factory: sessionmaker[Session], received: Counter[str]) -> None:
    """Each sent delivery reached the mail transport once.

    A second copy with the *same* Message-ID is tolerated only where the row
    shows a re-send after a crash between handing the email over and recording
    it (``attempts`` > 1): mail clients show such copies as one email.
    """
    sent = sent_message_ids(factory)
    never = set(sent) - set(received)
    assert never == set(), f"{len(never)} deliveries marked sent never reached the transport"
    unknown = set(received) - set(sent)
    assert unknown == set(), f"emails sent that no delivery row records as sent: {unknown}"
    unexplained = {m: n for m, n in received.items() if n > sent[m]}
    assert unexplained == {}, f"emails sent more often than they were attempted: {unexplained}"


def source_health(factory: sessionmaker[Session], source: str) -> ConnectorCursor:
    """The cursor/health row of ``source``."""
    with factory() as session:
        row = session.scalars(
            select(ConnectorCursor).where(ConnectorCursor.source_id == source)
        ).one()
        session.expunge(row)
        return row


def failed_actions(factory: sessionmaker[Session]) -> int:
    """How many platform action attempts failed (each is retried later)."""
    with factory() as session:
        stmt = select(func.count()).where(AuditEvent.event == "platform.action_failed")
        return int(session.scalar(stmt) or 0)
