"""The pipeline cycle: store once, route, alert, and survive crashes without loss or duplicates."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from config.policy import SchoolPolicy
from connectors.fake import ScenarioConnector
from connectors.scenarios import Scenario, demo_scenario_path
from core.errors import AuthError, RateLimited
from core.models import Batch, Category, Comment, Platform
from monitor.pipeline import CycleReport, ingest_batch, run_cycle
from storage.tables import (
    AlertRow,
    AuditEvent,
    CommentRow,
    ConnectorCursor,
    DecisionRow,
    Delivery,
    EvidenceRecord,
    PlatformAction,
    QueueItem,
    VerdictRow,
)
from tests.oracle import OracleClassifier


class Crash(Exception):
    """Stands for the process dying at a given point."""


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return Scenario.load(demo_scenario_path())


@pytest.fixture(scope="module")
def classifier() -> OracleClassifier:
    return OracleClassifier()


def _count(factory: sessionmaker[Session], table: type, **where: object) -> int:
    with factory() as session:
        stmt = select(func.count()).select_from(table)
        for key, value in where.items():
            stmt = stmt.where(getattr(table, key) == value)
        return int(session.scalar(stmt) or 0)


def _cycle(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    connector: ScenarioConnector,
    classifier: OracleClassifier,
    source: str = "facebook",
) -> CycleReport:
    return run_cycle(
        factory=factory,
        policy=policy,
        channel=policy.channel(source),
        connector=connector,
        classifier=classifier,
    )


def _ingest(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    connector: ScenarioConnector,
    classifier: OracleClassifier,
    batch: Batch,
) -> CycleReport:
    return ingest_batch(
        factory=factory,
        policy=policy,
        channel=policy.channel("facebook"),
        connector=connector,
        classifier=classifier,
        batch=batch,
    )


def _drain(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    connector: ScenarioConnector,
    classifier: OracleClassifier,
    source: str = "facebook",
    limit: int = 25,
    crash: Callable[[str], None] | None = None,
) -> None:
    for _ in range(100):
        report = run_cycle(
            factory=factory,
            policy=policy,
            channel=policy.channel(source),
            connector=connector,
            classifier=classifier,
            limit=limit,
            crash=crash,
        )
        if not report.more:
            return
    raise AssertionError("source never drained")


def test_cycle_stores_every_comment_once_and_moves_the_cursor(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    expected = connector.comment_count()
    _drain(factory, policy, connector, classifier)
    assert _count(factory, CommentRow) == expected
    assert _count(factory, VerdictRow) == expected
    # A second pass finds nothing new and changes nothing.
    report = _cycle(factory, policy, connector, classifier)
    assert (report.fetched, report.stored) == (0, 0)
    assert _count(factory, CommentRow) == expected
    with factory() as session:
        cursor = session.scalars(select(ConnectorCursor)).one()
    assert cursor.cursor is not None and cursor.comments_total == expected


def test_refetch_from_an_old_cursor_is_harmless(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    _drain(factory, policy, connector, classifier)
    alerts = _count(factory, AlertRow)
    with factory.begin() as session:
        session.scalars(select(ConnectorCursor)).one().cursor = None  # as if the cursor were lost
    _drain(factory, policy, connector, classifier)
    assert _count(factory, CommentRow) == connector.comment_count()
    assert _count(factory, AlertRow) == alerts


@pytest.mark.parametrize("stage", ["stored", "dispatched", "before_commit"])
def test_crash_before_commit_loses_and_duplicates_nothing(
    stage: str,
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    calls = {"n": 0}

    def crash_on_third_batch(at: str) -> None:
        if at == stage:
            calls["n"] += 1
            if calls["n"] == 3:
                raise Crash(at)

    with pytest.raises(Crash):
        _drain(factory, policy, connector, classifier, crash=crash_on_third_batch)
    stored_before_restart = _count(factory, CommentRow)
    assert stored_before_restart == 2 * 25  # the third batch rolled back whole
    _drain(factory, policy, connector, classifier)  # the "restarted" worker
    assert _count(factory, CommentRow) == connector.comment_count()
    with factory() as session:
        dupes = session.execute(
            select(CommentRow.external_id).group_by(CommentRow.external_id).having(func.count() > 1)
        ).all()
        per_comment_alerts = session.execute(
            select(AlertRow.comment_id).group_by(AlertRow.comment_id).having(func.count() > 1)
        ).all()
        per_delivery = session.execute(
            select(Delivery.dedupe_key).group_by(Delivery.dedupe_key).having(func.count() > 1)
        ).all()
    assert dupes == [] and per_comment_alerts == [] and per_delivery == []
    assert _count(factory, VerdictRow) == connector.comment_count()


def test_safeguarding_comment_is_alerted_queued_and_hidden_with_evidence_first(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    post = next(p for p in scenario.posts if p.platform is Platform.FACEBOOK)
    new_id = connector.add_comment(
        post_id=post.id,
        text="my friend in year 5 told me her stepdad hits her and she is scared to go home",
        author_name="Worried Parent",
        author_id="u-999",
        expected=Category.ABUSE_DISCLOSURE,
    ).external_id
    _drain(factory, policy, connector, classifier)
    with factory() as session:
        row = session.scalars(select(CommentRow).where(CommentRow.external_id == new_id)).one()
        assert row.primary_category == "abuse_disclosure"
        alert = session.scalars(select(AlertRow).where(AlertRow.comment_id == row.id)).one()
        roles = {r["role"] for r in alert.recipients}
        assert {"dsl", "deputy_dsl"} <= roles and alert.urgent
        deliveries = session.scalars(select(Delivery).where(Delivery.alert_id == alert.id)).all()
        assert {d.recipient_role for d in deliveries} >= {"dsl", "deputy_dsl"}
        assert all(d.status == "pending" for d in deliveries)  # urgent: not held for hours
        evidence = session.scalars(
            select(EvidenceRecord).where(EvidenceRecord.comment_id == row.id)
        ).one()
        action = session.scalars(
            select(PlatformAction).where(PlatformAction.comment_id == row.id)
        ).one()
        assert evidence.snapshot["comment"]["text"].startswith("my friend")
        assert action.action == "hide" and action.status == "pending"
        assert (
            session.scalars(select(QueueItem).where(QueueItem.comment_id == row.id))
            .one()
            .safeguarding
        )
        decision = session.scalars(
            select(DecisionRow).where(DecisionRow.comment_id == row.id)
        ).one()
        assert "Aycliffe" in decision.clause or "Preston Grange" in decision.clause
        events = set(session.scalars(select(AuditEvent.event)))
    assert {"alert.raised", "evidence.saved"} <= events


def test_a_reply_joining_a_disclosure_is_alerted_like_it(
    factory: sessionmaker[Session], policy: SchoolPolicy, scenario: Scenario
) -> None:
    """A child's "same 😭" under a comment about wanting to die, posted a cycle later,
    reaches the DSL: the pipeline gives the classifier the stored parent comment, and
    the reply joins the parent's open incident (same thread, same category)."""
    from classifiers.rules import RuleClassifier

    rules = RuleClassifier(policy)
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    post = next(p for p in scenario.posts if p.platform is Platform.FACEBOOK)
    parent = connector.add_comment(
        post_id=post.id, text="i dont want to be here anymore. i want to die"
    )
    _drain(factory, policy, connector, rules)  # type: ignore[arg-type]
    reply = connector.add_comment(post_id=post.id, text="same 😭", parent_id=parent.external_id)
    aside = connector.add_comment(post_id=post.id, text="same 😭")  # no parent: nothing joined
    _drain(factory, policy, connector, rules)  # type: ignore[arg-type]
    with factory() as session:
        rows = {
            r.external_id: r
            for r in session.scalars(
                select(CommentRow).where(
                    CommentRow.external_id.in_([reply.external_id, aside.external_id])
                )
            )
        }
        assert rows[reply.external_id].primary_category == "self_harm"
        assert rows[aside.external_id].primary_category == "benign"
        parent_row = session.scalars(
            select(CommentRow).where(CommentRow.external_id == parent.external_id)
        ).one()
        alert = session.scalars(select(AlertRow).where(AlertRow.comment_id == parent_row.id)).one()
        joined = session.scalars(
            select(AuditEvent).where(
                AuditEvent.event == "alert.joined", AuditEvent.subject_id == alert.alert_key
            )
        ).all()
    assert "dsl" in {r["role"] for r in alert.recipients}
    assert alert.comment_count == 2
    assert [e.details["comment_id"] for e in joined] == [rows[reply.external_id].id]


def test_criticism_is_queued_for_the_comms_lead_and_never_hidden(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    _drain(factory, policy, connector, classifier)
    with factory() as session:
        items = session.scalars(select(QueueItem).where(QueueItem.category == "criticism")).all()
        hidden = session.scalars(
            select(PlatformAction.id)
            .join(CommentRow, CommentRow.id == PlatformAction.comment_id)
            .where(CommentRow.primary_category == "criticism")
        ).all()
    assert items and all(i.queue_role == "comms_lead" for i in items)
    assert hidden == []


def test_dead_token_pauses_the_source_and_tells_the_admin(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    fb = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    yt = ScenarioConnector(scenario, Platform.YOUTUBE, policy.school.id)
    fb.fail_next(
        AuthError(
            "token expired", platform="facebook", code="190", fix="Run schoolwatch connect facebook"
        )
    )
    report = _cycle(factory, policy, fb, classifier)
    assert report.status == "paused"
    again = _cycle(factory, policy, fb, classifier)
    assert again.status == "paused" and again.fetched == 0
    _drain(factory, policy, yt, classifier, source="youtube")  # other sources keep running
    assert _count(factory, CommentRow, platform="youtube") == yt.comment_count()
    with factory() as session:
        admin_mail = session.scalars(select(Delivery).where(Delivery.kind == "admin")).one()
        state = session.get(ConnectorCursor, (policy.school.id, "facebook"))
    assert admin_mail.recipient_role == "admin" and "connect facebook" in admin_mail.payload["fix"]
    assert state is not None and state.paused


def test_rate_limit_backs_off_and_then_resumes(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.YOUTUBE, policy.school.id)
    connector.fail_next(RateLimited("slow down", platform="youtube", retry_after=120))
    first = _cycle(factory, policy, connector, classifier, "youtube")
    assert first.status == "retry"
    skipped = _cycle(factory, policy, connector, classifier, "youtube")
    assert skipped.status == "skipped"
    with factory.begin() as session:
        session.get(ConnectorCursor, (policy.school.id, "youtube")).retry_after = None  # type: ignore[union-attr]
    _drain(factory, policy, connector, classifier, source="youtube")
    assert _count(factory, CommentRow) == connector.comment_count()


def _edited_copy(comment: Comment, text: str, expected: Category) -> Comment:
    raw = dict(comment.raw)
    raw["expected"] = expected.value
    return dataclasses.replace(comment, text=text, raw=raw)


def test_an_edit_that_makes_a_comment_harmful_is_reclassified_and_routed(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    post = next(p for p in scenario.posts if p.platform is Platform.FACEBOOK)
    original = connector.add_comment(post_id=post.id, text="Lovely assembly today")
    _drain(factory, policy, connector, classifier)
    with factory() as session:
        cursor_before = session.get(ConnectorCursor, (policy.school.id, "facebook"))
        assert cursor_before is not None
        saved_cursor = cursor_before.cursor
    edited = _edited_copy(
        original, "he hurts me at home and I am scared", Category.ABUSE_DISCLOSURE
    )
    report = _ingest(factory, policy, connector, classifier, Batch(comments=(edited,), cursor=None))
    assert (report.stored, report.edited, report.alerts) == (0, 1, 1)
    with factory() as session:
        row = session.scalars(
            select(CommentRow).where(CommentRow.external_id == original.external_id)
        ).one()
        assert row.text.startswith("he hurts me") and row.primary_category == "abuse_disclosure"
        assert session.scalars(select(QueueItem).where(QueueItem.comment_id == row.id)).one()
        assert (
            len(session.scalars(select(VerdictRow).where(VerdictRow.comment_id == row.id)).all())
            == 2
        )
        events = set(session.scalars(select(AuditEvent.event)))
        state = session.get(ConnectorCursor, (policy.school.id, "facebook"))
    assert "comment.edited" in events
    assert state is not None and state.cursor == saved_cursor  # a webhook batch never moves it


def test_an_edit_never_lowers_a_category_by_itself(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    post = next(p for p in scenario.posts if p.platform is Platform.FACEBOOK)
    original = connector.add_comment(
        post_id=post.id, text="you are all losers", expected=Category.BULLYING
    )
    _drain(factory, policy, connector, classifier)
    calm = _edited_copy(original, "sorry, lovely assembly", Category.BENIGN)
    _ingest(
        factory, policy, connector, classifier, Batch(comments=(calm,), cursor=None, removed=())
    )
    with factory() as session:
        row = session.scalars(
            select(CommentRow).where(CommentRow.external_id == original.external_id)
        ).one()
        item = session.scalars(select(QueueItem).where(QueueItem.comment_id == row.id)).one()
    assert row.primary_category == "bullying" and row.text == "sorry, lovely assembly"
    assert item.status == "open"


def test_removed_comments_are_marked_not_forgotten(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    scenario: Scenario,
    classifier: OracleClassifier,
) -> None:
    connector = ScenarioConnector(scenario, Platform.FACEBOOK, policy.school.id)
    _drain(factory, policy, connector, classifier)
    with factory() as session:
        gone = session.scalars(select(CommentRow.external_id).limit(1)).one()
    _ingest(
        factory, policy, connector, classifier, Batch(comments=(), cursor=None, removed=(gone,))
    )
    with factory() as session:
        row = session.scalars(select(CommentRow).where(CommentRow.external_id == gone)).one()
    assert row.platform_state == "removed_on_platform"
