"""Database tables (SQLAlchemy 2.0 typed mappings).

Every row carries ``school_id``: one deployment may watch several schools.
The schema is created and changed only by the Alembic migrations in
``storage/migrations``; ``tests/storage`` checks the two never drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from core.clock import ensure_utc, utc_now

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return ensure_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return ensure_utc(value)


BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class School(Base):
    """A school watched by this deployment."""

    __tablename__ = "schools"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class CommentRow(Base):
    """A comment, stored once (unique on school + platform + external id)."""

    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("school_id", "platform", "external_id"),
        Index("ix_comments_school_created", "school_id", "created_at"),
        Index("ix_comments_school_author", "school_id", "platform", "author_id"),
        Index("ix_comments_school_thread", "school_id", "platform", "thread_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    source_id: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    thread_id: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(200))
    author_id: Mapped[str] = mapped_column(String(200))
    author_name: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    thread_title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    permalink: Mapped[str] = mapped_column(String(1000))
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utc_now)
    # live | hidden | deleted | removed_on_platform | purged
    platform_state: Mapped[str] = mapped_column(String(24), default="live")
    primary_category: Mapped[str | None] = mapped_column(String(24))
    severity: Mapped[int | None] = mapped_column(Integer)
    text_truncated: Mapped[bool] = mapped_column(Boolean, default=False)


class VerdictRow(Base):
    """A classifier's verdict on a comment."""

    __tablename__ = "verdicts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    classifier: Mapped[str] = mapped_column(String(120))
    scores: Mapped[dict[str, Any]]
    flagged: Mapped[list[Any]]
    primary_category: Mapped[str] = mapped_column(String(24))
    evidence: Mapped[list[Any]]
    explanation: Mapped[str] = mapped_column(Text, default="")
    staff_mentioned: Mapped[list[Any]] = mapped_column(default=list)
    pupils_mentioned: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class DecisionRow(Base):
    """What the policy router decided for a comment."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(24))
    severity: Mapped[int] = mapped_column(Integer)
    disposition: Mapped[str] = mapped_column(String(16))
    notify: Mapped[list[Any]]
    inform: Mapped[list[Any]]
    queue_role: Mapped[str | None] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean)
    escalation: Mapped[list[Any]]
    clause: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class QueueItem(Base):
    """A comment waiting in a moderation queue."""

    __tablename__ = "queue_items"
    __table_args__ = (
        UniqueConstraint("school_id", "comment_id"),
        Index("ix_queue_school_status", "school_id", "status", "severity"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="SET NULL"))
    queue_role: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(24))
    severity: Mapped[int] = mapped_column(Integer)
    # open | approved | hidden | deleted | escalated | false_positive | confirmed | closed
    status: Mapped[str] = mapped_column(String(24), default="open")
    safeguarding: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    closed_by: Mapped[str | None] = mapped_column(String(120))
    closed_reason: Mapped[str | None] = mapped_column(Text)


class AlertRow(Base):
    """An alert (incident): acknowledged once, escalated until acknowledged."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("school_id", "alert_key"),
        Index("ix_alerts_school_status", "school_id", "status", "next_escalation_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    alert_key: Mapped[str] = mapped_column(String(64))  # uuid, public reference
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id", ondelete="SET NULL"))
    incident_key: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[str] = mapped_column(String(24))
    severity: Mapped[int] = mapped_column(Integer)
    urgent: Mapped[bool] = mapped_column(Boolean)
    clause: Mapped[str] = mapped_column(String(300), default="")
    recipients: Mapped[list[Any]]
    escalation: Mapped[list[Any]]  # steps copied from the decision, so restarts keep them
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None]
    # open | acknowledged | closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    comment_count: Mapped[int] = mapped_column(Integer, default=1)
    message_id: Mapped[str] = mapped_column(String(300))  # root Message-ID of the email thread
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    closed_at: Mapped[datetime | None]


class Delivery(Base):
    """An email in the transactional outbox: recorded before it is sent, sent once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("school_id", "dedupe_key"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(
        String(24)
    )  # alert|escalation|reminder|summary|digest|test|admin
    recipient_role: Mapped[str] = mapped_column(String(40))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300), default="")
    message_id: Mapped[str] = mapped_column(String(300))
    in_reply_to: Mapped[str | None] = mapped_column(String(300))
    references: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what the template renders
    # pending | held | sending | sent | failed | cancelled | summarised
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None]  # held until working hours
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None]


class EvidenceRecord(Base):
    """A snapshot kept before any hide or delete; survives the platform deleting the comment."""

    __tablename__ = "evidence_records"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    reference: Mapped[str] = mapped_column(String(64), unique=True)  # e.g. EV-2026-000123
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(24))
    snapshot: Mapped[dict[str, Any]]  # comment, thread context, author, permalink, verdict
    sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    keep_until: Mapped[datetime]


class PlatformAction(Base):
    """A moderation action to perform on a platform; retried until it succeeds or is abandoned."""

    __tablename__ = "platform_actions"
    __table_args__ = (Index("ix_actions_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(120))
    approved_by: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text, default="")
    # pending | awaiting_approval | done | failed | abandoned
    status: Mapped[str] = mapped_column(String(24), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    done_at: Mapped[datetime | None]


class ModerationLabel(Base):
    """A moderator's judgement on a comment, used to retrain the classifier."""

    __tablename__ = "moderation_labels"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)  # kept so training survives comment purges
    predicted: Mapped[str] = mapped_column(String(24))
    label: Mapped[str] = mapped_column(
        String(24)
    )  # confirmed category, or benign for a false positive
    kind: Mapped[str] = mapped_column(String(16))  # confirmed | false_positive
    actor: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ConnectorCursor(Base):
    """Where each source got to, plus its health. Moved in the same transaction as its comments."""

    __tablename__ = "connector_cursors"
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    cursor: Mapped[str | None] = mapped_column(Text)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    retry_after: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    comments_total: Mapped[int] = mapped_column(Integer, default=0)
    rejected_total: Mapped[int] = mapped_column(Integer, default=0)
    quota_used: Mapped[int] = mapped_column(Integer, default=0)
    quota_day: Mapped[str | None] = mapped_column(String(10))
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class AuditEvent(Base):
    """An append-only audit trail of every alert, view and action."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_school_time", "school_id", "created_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(120))  # username, or "system"
    event: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(120), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    """A person who can sign in to the web app."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("school_id", "username"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    username: Mapped[str] = mapped_column(String(120))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    role: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(300))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_login_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser session (server side, so it can expire and be revoked)."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie token
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)


class JobRun(Base):
    """A scheduled job occurrence (digest, purge, report): claimed once, so it runs once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("school_id", "job", "period"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(40), ForeignKey("schools.id"))
    job: Mapped[str] = mapped_column(String(40))  # digest | purge | termly_report
    period: Mapped[str] = mapped_column(String(40))  # e.g. 2026-W47 or 2026-11-21
    status: Mapped[str] = mapped_column(String(16), default="started")  # started | done | failed
    started_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
