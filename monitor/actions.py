"""Carry out moderation actions on the platforms, from the ``platform_actions`` table.

Actions are recorded first (by the cycle or the web app) and performed here,
after commit. A failed action is retried with backoff and stays visible with
its error; after ``MAX_ATTEMPTS`` it is marked failed and shown to staff,
never silently dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.clock import utc_now
from core.errors import AuthError, ConnectorError, QuotaExhausted, RateLimited, TransientError
from core.models import Action
from storage import repo
from storage.db import session_scope
from storage.tables import CommentRow, PlatformAction

if TYPE_CHECKING:
    from monitor.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8

_STATE_AFTER = {
    Action.HIDE: "hidden",
    Action.HOLD_FOR_REVIEW: "hidden",
    Action.UNHIDE: "live",
    Action.APPROVE: "live",
    Action.DELETE: "deleted",
}


@dataclass
class ActionStats:
    """What one pass over the pending actions did."""

    done: int = 0
    retrying: int = 0
    failed: int = 0


def process_platform_actions(
    runtime: Runtime,
    *,
    now: datetime | None = None,
    limit: int = 50,
    ids: list[int] | None = None,
) -> ActionStats:
    """Perform due pending actions (or just ``ids``), one transaction each."""
    now = now or utc_now()
    stats = ActionStats()
    school_id = runtime.policy.school.id
    with session_scope(runtime.factory) as session:
        stmt = select(PlatformAction.id).where(
            PlatformAction.school_id == school_id, PlatformAction.status == "pending"
        )
        if ids is not None:
            stmt = stmt.where(PlatformAction.id.in_(ids))
        else:
            stmt = stmt.where(PlatformAction.next_attempt_at <= now)
        due = list(session.scalars(stmt.order_by(PlatformAction.id).limit(limit)))
    for action_id in due:
        _perform(runtime, action_id, now, stats)
    return stats


def _perform(runtime: Runtime, action_id: int, now: datetime, stats: ActionStats) -> None:
    with session_scope(runtime.factory) as session:
        row = session.get(PlatformAction, action_id, with_for_update=True)
        if row is None or row.status != "pending":
            return
        comment = session.get(CommentRow, row.comment_id)
        if comment is None:
            row.status = "abandoned"
            row.last_error = "the comment is no longer stored"
            return
        action = Action(row.action)
        row.attempts += 1
        try:
            connector = runtime.connector(row.source_id)
            if action not in connector.supports:
                raise ConnectorError(f"{comment.platform} does not support {action.value} here")
            result = connector.apply(action, comment.external_id, text=row.text)
        except ConnectorError as exc:
            _failed(row, exc, now, stats)
            repo.record(
                session,
                school_id=row.school_id,
                event="platform.action_failed",
                actor=row.requested_by,
                subject_type="comment",
                subject_id=comment.id,
                details={"action": action.value, "attempt": row.attempts, "status": row.status},
                at=now,
            )
            log.warning(
                "action %s on comment %d failed: %s", action.value, comment.id, type(exc).__name__
            )
            return
        row.status = "done"
        row.done_at = now
        row.last_error = None
        if action in _STATE_AFTER:
            comment.platform_state = _STATE_AFTER[action]
        stats.done += 1
        repo.record(
            session,
            school_id=row.school_id,
            event="platform.action_done",
            actor=row.requested_by,
            subject_type="comment",
            subject_id=comment.id,
            details={"action": action.value, "detail": result.detail[:200]},
            at=now,
        )


def _failed(row: PlatformAction, exc: ConnectorError, now: datetime, stats: ActionStats) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:1000]
    if isinstance(exc, AuthError) or row.attempts >= MAX_ATTEMPTS or not _retriable(exc):
        row.status = "failed"
        stats.failed += 1
        return
    delay = 30 * 2 ** min(row.attempts - 1, 6)
    if isinstance(exc, RateLimited) and exc.retry_after:
        delay = max(delay, int(exc.retry_after))
    row.next_attempt_at = now + timedelta(seconds=delay)
    stats.retrying += 1


def _retriable(exc: ConnectorError) -> bool:
    return isinstance(exc, TransientError | QuotaExhausted)
