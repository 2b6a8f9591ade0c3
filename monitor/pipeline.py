"""One pipeline cycle: a unit of work for one school and one source.

    fetch since cursor -> store -> classify -> route -> queue / alert -> commit

The cursor moves in the same transaction as the rows it covers, so a crash
at any point re-fetches from the old cursor, and the unique key (school,
platform, external id) makes the re-fetch harmless: nothing is lost and
nothing is stored, queued or alerted twice. No state is kept in memory
between cycles, so the same code runs on many workers against PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.outbox import enqueue
from alerts.router import resolve_role, route
from config.policy import Channel, SchoolPolicy
from connectors.base import Connector, ReportsQuota
from core.clock import utc_now
from core.errors import AuthError, ConnectorError, QuotaExhausted, TransientError
from core.models import Batch, Category, Comment, Context, Recipient, Verdict
from monitor.dispatch import dispatch
from storage import repo
from storage.db import session_scope
from storage.tables import CommentRow, ConnectorCursor, VerdictRow

log = logging.getLogger(__name__)

CrashHook = Callable[[str], None]
"""Called with a stage name ("stored", "dispatched", "before_commit"); tests raise from it."""


class Classifier(Protocol):
    """What the pipeline needs from a classifier (see ``classifiers.base``)."""

    name: str
    version: str

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]: ...


@dataclass
class CycleReport:
    """What one cycle did, for logs, the CLI summary and the health page."""

    school_id: str
    source_id: str
    platform: str
    status: str = "ok"  # ok | skipped | paused | retry | error | conflict
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    edited: int = 0
    rejected: int = 0
    truncated: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    queued: int = 0
    alerts: int = 0
    alerts_joined: int = 0
    emails: int = 0
    actions: int = 0
    more: bool = False
    error: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (no comment text)."""
        out = {k: v for k, v in self.__dict__.items() if k != "categories"}
        out["categories"] = dict(self.categories)
        return out


def run_cycle(
    *,
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    channel: Channel,
    connector: Connector,
    classifier: Classifier,
    now: datetime | None = None,
    limit: int = 500,
    crash: CrashHook | None = None,
) -> CycleReport:
    """Run one cycle for one school and one source.

    Args:
        factory: Session factory for the database.
        policy: The school's policy.
        channel: The source being polled.
        connector: A connector for that source (built by the caller).
        classifier: The classifier to use.
        now: The time to record (defaults to the clock).
        limit: Most comments fetched in this cycle.
        crash: Test hook called at named stages inside the transaction.

    Returns:
        A report of what happened. Connector errors are caught, recorded on
        the source's health row and reported; they never raise.
    """
    started = time.monotonic()
    now = now or utc_now()
    school_id = policy.school.id
    report = CycleReport(school_id, channel.id, channel.platform.value)
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id=school_id, name=policy.school.name)
        state = repo.get_cursor(
            session, school_id=school_id, source_id=channel.id, platform=channel.platform.value
        )
        cursor, paused, retry_after = state.cursor, state.paused, state.retry_after
    if paused:
        report.status = "paused"
        return report
    if retry_after is not None and retry_after > now:
        report.status = "skipped"
        return report
    try:
        batch = connector.fetch_since(cursor, limit=limit)
    except ConnectorError as exc:
        _record_failure(factory, policy, channel, exc, now, report)
        _record_quota(factory, policy, channel, connector)
        report.seconds = time.monotonic() - started
        return report
    report.fetched = len(batch.comments)
    report.more = batch.more
    try:
        _store_batch(
            factory, policy, channel, connector, classifier, batch, cursor, now, report, crash
        )
    finally:
        report.seconds = time.monotonic() - started
    _record_quota(factory, policy, channel, connector)
    log.info(
        "cycle %s/%s: fetched %d, stored %d, duplicates %d, rejected %d, alerts %d in %.1fs",
        school_id,
        channel.id,
        report.fetched,
        report.stored,
        report.duplicates,
        report.rejected,
        report.alerts,
        report.seconds,
    )
    return report


def _valid(comment: Comment, policy: SchoolPolicy, channel: Channel) -> str:
    """Why a fetched comment cannot be stored, or "" when it can."""
    if comment.school_id != policy.school.id:
        return "wrong school"
    if comment.platform is not channel.platform:
        return "wrong platform"
    if not comment.external_id or len(comment.external_id) > 200:
        return "bad id"
    if repo.storable(comment.external_id) != comment.external_id:
        return "unstorable id"
    if comment.created_at.tzinfo is None:
        return "naive timestamp"
    return ""


def ingest_batch(
    *,
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    channel: Channel,
    connector: Connector,
    classifier: Classifier,
    batch: Batch,
    now: datetime | None = None,
) -> CycleReport:
    """Store, classify and route a batch that did not come from polling (a webhook).

    New comments are handled as in a cycle; edited ones are re-classified;
    removed ones are marked. The polling cursor is left alone, so polling
    stays the safety net and re-fetching later is harmless.
    """
    started = time.monotonic()
    report = CycleReport(policy.school.id, channel.id, channel.platform.value)
    report.fetched = len(batch.comments)
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id=policy.school.id, name=policy.school.name)
    _store_batch(
        factory,
        policy,
        channel,
        connector,
        classifier,
        batch,
        None,
        now or utc_now(),
        report,
        None,
        move_cursor=False,
    )
    report.seconds = time.monotonic() - started
    return report


def _store_batch(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    channel: Channel,
    connector: Connector,
    classifier: Classifier,
    batch: Batch,
    old_cursor: str | None,
    now: datetime,
    report: CycleReport,
    crash: CrashHook | None,
    *,
    move_cursor: bool = True,
) -> None:
    school_id = policy.school.id
    platform = channel.platform.value
    fresh: dict[str, Comment] = {}
    for comment in batch.comments:
        problem = _valid(comment, policy, channel)
        if problem:
            report.rejected += 1
            log.warning("rejected comment from %s: %s", channel.id, problem)
            continue
        fresh.setdefault(comment.external_id, comment)
    with session_scope(factory) as session:
        stored = repo.texts_by_external_id(
            session, school_id=school_id, platform=platform, external_ids=fresh
        )
        parents = repo.texts_by_external_id(
            session,
            school_id=school_id,
            platform=platform,
            external_ids=[c.parent_id for c in fresh.values() if c.parent_id],
        )
    new = [c for c in fresh.values() if c.external_id not in stored]
    edited = [
        c
        for c in fresh.values()
        if c.external_id in stored and repo.clean_text(c.text)[0] != stored[c.external_id]
    ]
    report.duplicates = len(batch.comments) - report.rejected - len(new) - len(edited)
    todo = new + edited
    batch_texts = {c.external_id: c.text for c in todo}
    contexts = [
        Context(
            post_text=c.thread_title,
            parent_text=batch_texts.get(c.parent_id or "", parents.get(c.parent_id or "", "")),
        )
        for c in todo
    ]
    verdicts = classifier.classify(todo, contexts) if todo else []
    with session_scope(factory) as session:
        state = repo.get_cursor(
            session, school_id=school_id, source_id=channel.id, platform=platform, lock=True
        )
        if move_cursor and state.cursor != old_cursor:
            # Another worker processed this source meanwhile; its commit stands.
            report.status = "conflict"
            return
        # Re-check inside the write transaction: another worker may have stored some.
        known = repo.existing_external_ids(
            session, school_id=school_id, platform=platform, external_ids=batch_texts
        )
        rows: list[tuple[CommentRow, Verdict]] = []
        for comment, verdict in zip(new, verdicts[: len(new)], strict=True):
            if comment.external_id in known:
                report.duplicates += 1
                continue
            row = repo.insert_comment(session, comment=comment, source_id=channel.id)
            row.primary_category = verdict.primary.value
            row.severity = int(policy.categories[verdict.primary].severity)
            report.truncated += int(row.text_truncated)
            rows.append((row, verdict))
        session.flush()
        for comment, verdict in zip(edited, verdicts[len(new) :], strict=True):
            _edited(session, policy, connector, comment, verdict, now, report)
        if crash:
            crash("stored")
        for row, verdict in rows:
            _route_one(session, policy, connector, row, verdict, now, report)
        if crash:
            crash("dispatched")
        _mark_removed(session, school_id, platform, batch.removed)
        if move_cursor:
            if batch.cursor is not None:
                state.cursor = batch.cursor
            state.last_run_at = now
            state.last_success_at = now
            state.last_error = None
            state.consecutive_failures = 0
        state.comments_total += len(rows)
        state.rejected_total += report.rejected
        report.stored = len(rows)
        if crash:
            crash("before_commit")


def _edited(
    session: Session,
    policy: SchoolPolicy,
    connector: Connector,
    comment: Comment,
    verdict: Verdict,
    now: datetime,
    report: CycleReport,
) -> None:
    """A stored comment whose text changed: keep the new text and re-classify it.

    The new verdict is always stored. The comment is routed again only when
    the edit made it more serious; an edit never lowers a category on its own
    (a moderator decides that), and earlier evidence records stay as they were.
    """
    row = session.scalars(
        select(CommentRow).where(
            CommentRow.school_id == comment.school_id,
            CommentRow.platform == comment.platform.value,
            CommentRow.external_id == comment.external_id,
        )
    ).one()
    row.text, row.text_truncated = repo.clean_text(comment.text)
    report.edited += 1
    before = Category(row.primary_category) if row.primary_category else Category.BENIGN
    repo.record(
        session,
        school_id=row.school_id,
        event="comment.edited",
        subject_type="comment",
        subject_id=row.id,
        details={"before": before.value, "after": verdict.primary.value},
        at=now,
    )
    if verdict.primary.priority < before.priority:
        row.primary_category = verdict.primary.value
        row.severity = int(policy.categories[verdict.primary].severity)
        _route_one(session, policy, connector, row, verdict, now, report)
    else:
        _store_verdict(session, row, verdict, now)


def _route_one(
    session: Session,
    policy: SchoolPolicy,
    connector: Connector,
    row: CommentRow,
    verdict: Verdict,
    now: datetime,
    report: CycleReport,
) -> None:
    verdict_row = _store_verdict(session, row, verdict, now)
    report.categories[verdict.primary.value] += 1
    if verdict.primary is Category.BENIGN:
        return
    decision = route(verdict, policy, supports=_supports(connector, policy, row), now=now)
    result = dispatch(
        session, policy=policy, comment=row, verdict=verdict_row, decision=decision, now=now
    )
    report.queued += int(result.queued)
    report.alerts += int(result.alert_raised)
    report.alerts_joined += int(result.alert_joined)
    report.emails += result.emails
    report.actions += int(result.action is not None)


def _store_verdict(
    session: Session, row: CommentRow, verdict: Verdict, now: datetime
) -> VerdictRow:
    verdict_row = VerdictRow(
        school_id=row.school_id,
        comment_id=row.id,
        classifier=verdict.classifier,
        scores={c.value: round(float(s), 4) for c, s in verdict.scores.items()},
        flagged=[c.value for c in verdict.flagged],
        primary_category=verdict.primary.value,
        evidence=[
            {
                "category": e.category.value,
                "source": e.source,
                "rule_id": e.rule_id,
                "score": round(float(e.score), 4),
                "span": list(e.span) if e.span else None,
                "matched": e.matched,
                "model": e.model,
                "detail": e.detail,
            }
            for e in verdict.evidence
        ],
        explanation=verdict.explanation,
        staff_mentioned=list(verdict.staff_mentioned),
        pupils_mentioned=verdict.pupils_mentioned,
        created_at=now,
    )
    session.add(verdict_row)
    session.flush()
    return verdict_row


def _supports(connector: Connector, policy: SchoolPolicy, row: CommentRow) -> frozenset[Any]:
    channel = policy.channel(row.source_id)
    return connector.supports if channel.moderated else frozenset()


def _mark_removed(
    session: Session, school_id: str, platform: str, removed: tuple[str, ...]
) -> None:
    if not removed:
        return
    for row in session.query(CommentRow).filter(
        CommentRow.school_id == school_id,
        CommentRow.platform == platform,
        CommentRow.external_id.in_(removed),
    ):
        row.platform_state = "removed_on_platform"


def _record_quota(
    factory: sessionmaker[Session], policy: SchoolPolicy, channel: Channel, connector: Connector
) -> None:
    """Keep the platform's quota use on the source's health row (YouTube)."""
    if not isinstance(connector, ReportsQuota):
        return
    day, units = connector.quota_status()
    with session_scope(factory) as session:
        state = repo.get_cursor(
            session,
            school_id=policy.school.id,
            source_id=channel.id,
            platform=channel.platform.value,
        )
        state.quota_day, state.quota_used = day, units


def _record_failure(
    factory: sessionmaker[Session],
    policy: SchoolPolicy,
    channel: Channel,
    exc: ConnectorError,
    now: datetime,
    report: CycleReport,
) -> None:
    """Record a connector failure on the source's health row; pause it on a dead token."""
    report.error = f"{type(exc).__name__}: {exc}"
    with session_scope(factory) as session:
        state = repo.get_cursor(
            session,
            school_id=policy.school.id,
            source_id=channel.id,
            platform=channel.platform.value,
        )
        state.last_run_at = now
        state.last_error_at = now
        state.last_error = report.error[:1000]
        state.consecutive_failures += 1
        if isinstance(exc, AuthError):
            report.status = "paused"
            state.paused = True
            state.paused_reason = exc.fix or str(exc)
            _tell_admin(session, policy, channel, exc, now)
        elif isinstance(exc, QuotaExhausted):
            report.status = "retry"
            state.retry_after = now + timedelta(seconds=max(exc.retry_after, 60.0))
        elif isinstance(exc, TransientError):
            report.status = "retry"
            backoff = min(60 * 2 ** min(state.consecutive_failures - 1, 5), 1800)
            state.retry_after = now + timedelta(seconds=max(exc.retry_after or 0.0, backoff))
        else:
            report.status = "error"
        repo.record(
            session,
            school_id=policy.school.id,
            event="source.failed",
            subject_type="source",
            subject_id=channel.id,
            details={"error": type(exc).__name__, "code": exc.code, "status": report.status},
            at=now,
        )
    log.warning("source %s failed (%s): %s", channel.id, report.status, type(exc).__name__)


def _tell_admin(
    session: Session, policy: SchoolPolicy, channel: Channel, exc: AuthError, now: datetime
) -> None:
    """Email the admin role the exact fix for a dead token (once per pause)."""
    admin: Recipient | None = resolve_role("admin", policy, now.astimezone(policy.tz).date())
    if admin is None:
        return
    enqueue(
        session,
        policy=policy,
        alert=None,
        recipient=admin,
        kind="admin",
        dedupe_key=f"paused:{channel.id}:{now.isoformat()}",
        urgent=True,
        now=now,
        subject=f"schoolwatch stopped watching {channel.name}: action needed",
        payload={
            "source": channel.id,
            "channel": channel.name,
            "problem": str(exc)[:500],
            "fix": exc.fix or "Reconnect the account with `schoolwatch connect`.",
        },
    )


def resume_source(factory: sessionmaker[Session], *, school_id: str, source_id: str) -> bool:
    """Un-pause a source after its credentials were fixed. Returns False if it was not paused."""
    with session_scope(factory) as session:
        state = session.get(ConnectorCursor, (school_id, source_id))
        if state is None or not state.paused:
            return False
        state.paused = False
        state.paused_reason = None
        state.retry_after = None
        repo.record(
            session,
            school_id=school_id,
            event="source.resumed",
            subject_type="source",
            subject_id=source_id,
        )
        return True
