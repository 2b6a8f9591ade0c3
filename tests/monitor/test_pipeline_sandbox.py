"""The pipeline with the real connectors against the sandbox: health figures are kept."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from config.policy import SchoolPolicy
from connectors.registry import build_connector
from connectors.sandbox import Sandbox
from connectors.scenarios import demo_scenario_path
from monitor.pipeline import run_cycle
from storage.tables import ConnectorCursor
from tests.oracle import OracleClassifier


def test_youtube_quota_use_is_recorded_for_the_health_page(
    factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    channel = policy.channel("youtube")
    with Sandbox(demo_scenario_path(), channel_id=channel.account_id) as sandbox:
        connector = build_connector(channel, policy.school, sandbox.settings())
        report = run_cycle(
            factory=factory,
            policy=policy,
            channel=channel,
            connector=connector,
            classifier=OracleClassifier(),
        )
    assert report.status == "ok" and report.stored > 0
    with factory() as session:
        state = session.get(ConnectorCursor, (policy.school.id, "youtube"))
    assert state is not None
    assert 0 < state.quota_used < channel.daily_quota
    assert state.quota_day is not None and len(state.quota_day) == 10
