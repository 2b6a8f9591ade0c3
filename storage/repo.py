"""Repository functions: the only SQL the pipeline and CLI use directly.

Keyword-only, session passed in, no commits: the caller owns the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import utc_now
from core.models import Comment
from storage.tables import (
    AuditEvent,
    CommentRow,
    ConnectorCursor,
    ModerationLabel,
    School,
)

log = logging.getLogger(__name__)

MAX_TEXT = 20_000
"""Longest comment text stored. Longer text is cut here and flagged ``text_truncated``."""


def ensure_school(session: Session, *, school_id: str, name: str) -> School:
    """Create the school row if it does not exist yet."""
    school = session.get(School, school_id)
    if school is None:
        school = School(id=school_id, name=name)
        session.add(school)
        session.flush()
    elif school.name != name:
        school.name = name
    return school


def get_cursor(
    session: Session, *, school_id: str, source_id: str, platform: str, lock: bool = False
) -> ConnectorCursor:
    """The cursor row for a source, created on first use. ``lock`` takes a row lock (PostgreSQL)."""
    stmt = select(ConnectorCursor).where(
        ConnectorCursor.school_id == school_id, ConnectorCursor.source_id == source_id
    )
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    if row is None:
        row = ConnectorCursor(school_id=school_id, source_id=source_id, platform=platform)
        session.add(row)
        session.flush()
    return row


def existing_external_ids(
    session: Session, *, school_id: str, platform: str, external_ids: Iterable[str]
) -> set[str]:
    """Which of ``external_ids`` are already stored for this school and platform."""
    ids = list(dict.fromkeys(external_ids))
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            session.scalars(
                select(CommentRow.external_id).where(
                    CommentRow.school_id == school_id,
                    CommentRow.platform == platform,
                    CommentRow.external_id.in_(chunk),
                )
            )
        )
    return found


def storable(text: str) -> str:
    """``text`` with what no database can store replaced by U+FFFD.

    That is NUL, and lone UTF-16 surrogates (half an emoji, as platform JSON
    sometimes sends: ``"\\ud83d"``), which no UTF-8 encoder accepts.
    """
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return text


def clean_text(text: str) -> tuple[str, bool]:
    """Make text storable everywhere (see ``storable``), at most ``MAX_TEXT`` characters."""
    cleaned = storable(text)
    if len(cleaned) > MAX_TEXT:
        return cleaned[:MAX_TEXT], True
    return cleaned, False


def insert_comment(session: Session, *, comment: Comment, source_id: str) -> CommentRow:
    """Store a comment. The caller has checked it is not stored yet."""
    text, truncated = clean_text(comment.text)
    row = CommentRow(
        school_id=comment.school_id,
        source_id=source_id,
        platform=comment.platform.value,
        external_id=comment.external_id,
        thread_id=storable(comment.thread_id)[:200],
        parent_id=storable(comment.parent_id)[:200] if comment.parent_id else None,
        author_id=storable(comment.author_id)[:200],
        author_name=clean_text(comment.author_name)[0][:300],
        text=text,
        thread_title=clean_text(comment.thread_title)[0][:4000],
        created_at=comment.created_at,
        permalink=storable(comment.permalink)[:1000],
        raw=_jsonable(comment.raw),
        text_truncated=truncated,
    )
    session.add(row)
    return row


def _jsonable(raw: Any) -> dict[str, Any]:
    """Keep the raw platform metadata small and JSON-safe."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in list(raw.items())[:50]:
        if isinstance(value, str):
            out[storable(str(key))] = storable(value)[:2000]
        elif isinstance(value, int | float | bool) or value is None:
            out[storable(str(key))] = value
        elif isinstance(value, dict):
            out[storable(str(key))] = _jsonable(value)
        elif isinstance(value, list):
            out[storable(str(key))] = [
                storable(v)[:2000]
                if isinstance(v, str)
                else _jsonable(v)
                if isinstance(v, dict)
                else v
                if isinstance(v, int | float | bool) or v is None
                else str(v)
                for v in value[:20]
            ]
    return out


def texts_by_external_id(
    session: Session, *, school_id: str, platform: str, external_ids: Iterable[str]
) -> dict[str, str]:
    """Stored comment texts by platform id (for parent-comment context)."""
    ids = [i for i in dict.fromkeys(external_ids) if i]
    if not ids:
        return {}
    rows = session.execute(
        select(CommentRow.external_id, CommentRow.text).where(
            CommentRow.school_id == school_id,
            CommentRow.platform == platform,
            CommentRow.external_id.in_(ids),
        )
    )
    return {str(external_id): str(text) for external_id, text in rows}


def record(
    session: Session,
    *,
    school_id: str,
    event: str,
    actor: str = "system",
    subject_type: str = "",
    subject_id: str | int = "",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append an audit event. ``details`` must never hold comment text or secrets."""
    row = AuditEvent(
        school_id=school_id,
        created_at=at or utc_now(),
        actor=actor,
        event=event,
        subject_type=subject_type,
        subject_id=str(subject_id),
        details=details or {},
    )
    session.add(row)
    return row


def training_labels(session: Session, *, school_id: str) -> list[tuple[str, str]]:
    """Moderators' judgements as (text, category) pairs for retraining the classifier."""
    rows = session.execute(
        select(ModerationLabel.text, ModerationLabel.label)
        .where(ModerationLabel.school_id == school_id)
        .order_by(ModerationLabel.id)
    )
    return [(text, label) for text, label in rows]
