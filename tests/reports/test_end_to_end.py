"""End to end on SQLite and PostgreSQL: the demo scenario through the pipeline, then the
digest (figures against the scenario's own labels, queued once by two workers), and the purge."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.digest import IsoWeek
from alerts.digest_job import run_due_digest
from alerts.digest_queries import digest_for_week
from config.policy import SchoolPolicy
from connectors.fake import ScenarioConnector
from connectors.scenarios import Scenario, demo_scenario_path
from core.models import Category, Platform
from monitor.pipeline import run_cycle
from monitor.retention import purge
from storage.db import make_engine, session_factory, session_scope
from storage.tables import AlertRow, CommentRow, Delivery, EvidenceRecord, QueueItem
from tests.oracle import OracleClassifier

PIPELINE_NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)
DIGEST_NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)  # Monday: the digest for W47


@pytest.fixture
def loaded(engine: Engine, policy: SchoolPolicy) -> Iterator[sessionmaker[Session]]:
    """The demo scenario run through the pipeline on this backend."""
    made = session_factory(engine)
    scenario = Scenario.load(demo_scenario_path())
    for platform in (Platform.FACEBOOK, Platform.YOUTUBE, Platform.REDDIT):
        channel = next(c for c in policy.channels if c.platform is platform)
        connector = ScenarioConnector(scenario, platform, policy.school.id)
        for _ in range(50):
            report = run_cycle(
                factory=made,
                policy=policy,
                channel=channel,
                connector=connector,
                classifier=OracleClassifier(),
                now=PIPELINE_NOW,
                limit=100,
            )
            assert report.status == "ok", report.error
            if not report.more:
                break
    yield made


def test_digest_and_purge_on_pipeline_rows(
    loaded: sessionmaker[Session], engine: Engine, policy: SchoolPolicy
) -> None:
    scenario = Scenario.load(demo_scenario_path())
    week = IsoWeek(2026, 47)
    start, end = week.bounds(policy.tz)
    in_week = [c for c in scenario.comments if start <= c.created_at < end]
    expected = Counter(c.expected.value for c in in_week)
    # Two workers start at once after the weekend: exactly one queues the digest.
    second = session_factory(make_engine(engine.url.render_as_string(hide_password=False)))
    barrier = threading.Barrier(2)
    results: list[str | None] = []

    def worker(f: sessionmaker[Session]) -> None:
        barrier.wait()
        results.append(run_due_digest(f, None, policy, now=DIGEST_NOW))

    threads = [threading.Thread(target=worker, args=(f,)) for f in (loaded, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    second.kw["bind"].dispose()
    assert sorted(results, key=str) == ["2026-W47", None]
    with session_scope(loaded) as session:
        digest = digest_for_week(session, policy, week, DIGEST_NOW)
        alerts = int(session.scalar(select(func.count()).select_from(AlertRow)) or 0)
        digests = session.scalars(select(Delivery).where(Delivery.kind == "digest")).all()
    assert len(digests) == 1 and digests[0].payload["digest"]["week"] == "2026-W47"
    assert digest.comments.count == len(in_week) > 0
    assert {c.key: c.count for c in digest.by_category} == {
        cat.value: expected[cat.value] for cat in Category
    }
    assert digest.safeguarding.count == sum(
        expected[c.value] for c in Category if c.is_safeguarding
    )
    per_platform = Counter(c.platform.value for c in in_week)
    assert {p.platform: p.comments for p in digest.by_platform} == {
        p.value: per_platform[p.value] for p in Platform
    }
    assert digest.incidents_opened.count == alerts  # every alert was raised on 18 November
    # A year and a half later the purge removes every comment whose period has passed,
    # except those still waiting for someone, and keeps every evidence record.
    later = dt.datetime(2028, 6, 1, tzinfo=dt.UTC)
    with session_scope(loaded) as session:
        evidence_before = int(session.scalar(select(func.count(EvidenceRecord.id))) or 0)
        rows = session.execute(select(CommentRow.id, CommentRow.primary_category)).all()
        waiting = set(
            session.scalars(select(QueueItem.comment_id).where(QueueItem.status == "open"))
        ) | set(session.scalars(select(AlertRow.comment_id).where(AlertRow.status == "open")))
    long_kept = {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.SEXUAL,
        Category.STAFF_ALLEGATION,
    }
    due = [r for r in rows if Category(r.primary_category) not in long_kept]
    report = purge(loaded, policy, now=later)
    assert report.comments_total == sum(r.id not in waiting for r in due)
    assert sum(report.held.values()) == sum(r.id in waiting for r in due)
    with session_scope(loaded) as session:
        left = set(session.scalars(select(CommentRow.id)))
        assert int(session.scalar(select(func.count(EvidenceRecord.id))) or 0) == evidence_before
    assert left == {r.id for r in rows if r.id in waiting or r not in due}
