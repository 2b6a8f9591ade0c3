"""Fixtures for the digest, report, chronology and retention tests.

``known_week`` builds a fixed scenario for week 2026-W46 (Monday 9 to Sunday
15 November 2026, when UK time is GMT) by inserting rows directly, so every
figure of the digest is known in advance.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from config.loader import DEFAULT_POLICY, load_policy
from config.policy import SchoolPolicy
from core.models import Category
from storage import repo
from storage.db import make_engine, migrate, session_factory, session_scope
from storage.tables import (
    AlertRow,
    CommentRow,
    DecisionRow,
    EvidenceRecord,
    QueueItem,
    VerdictRow,
)

SCHOOL = "hollybrook"


def utc(*args: int) -> datetime:
    """A UTC datetime (November 2026 is GMT, so UK time equals UTC)."""
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="session")
def policy() -> SchoolPolicy:
    """The shipped default policy (fictional Hollybrook Primary School)."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture
def factory(tmp_path: Path, policy: SchoolPolicy) -> Iterator[sessionmaker[Session]]:
    """A migrated SQLite database in a temporary folder, with the school row."""
    engine = make_engine(f"sqlite:///{tmp_path / 'reports.db'}")
    migrate(engine)
    made = session_factory(engine)
    with session_scope(made) as session:
        repo.ensure_school(session, school_id=SCHOOL, name=policy.school.name)
    yield made
    engine.dispose()


_ids = itertools.count(1)


@dataclass
class Builder:
    """Inserts comments (with verdict and decision), alerts, queue items and evidence."""

    factory: sessionmaker[Session]
    policy: SchoolPolicy
    comment_ids: dict[str, int] = field(default_factory=dict)

    def comment(
        self,
        name: str,
        at: datetime,
        category: str = "benign",
        *,
        platform: str = "facebook",
        text: str = "A lovely assembly today",
        author: str = "A Parent",
        thread: str = "post-1",
    ) -> int:
        """Store a comment with a verdict and, unless benign, a decision."""
        severity = int(self.policy.categories[Category(category)].severity)
        with session_scope(self.factory) as session:
            row = CommentRow(
                school_id=SCHOOL,
                source_id=platform,
                platform=platform,
                external_id=f"{platform}-{next(_ids)}",
                thread_id=thread,
                parent_id=None,
                author_id=f"author-{author.lower().replace(' ', '-')}",
                author_name=author,
                text=text,
                thread_title="Harvest festival photos",
                created_at=at,
                permalink=f"https://{platform}.example/{name}",
                primary_category=category,
                severity=severity,
                fetched_at=at,
            )
            session.add(row)
            session.flush()
            verdict = VerdictRow(
                school_id=SCHOOL,
                comment_id=row.id,
                classifier="test@1",
                scores={category: 0.99},
                flagged=[] if category == "benign" else [category],
                primary_category=category,
                evidence=[],
                created_at=at,
            )
            session.add(verdict)
            session.flush()
            if category != "benign":
                session.add(
                    DecisionRow(
                        school_id=SCHOOL,
                        comment_id=row.id,
                        verdict_id=verdict.id,
                        category=category,
                        severity=severity,
                        disposition="queue",
                        notify=[],
                        inform=[],
                        queue_role="comms_lead",
                        urgent=False,
                        escalation=[],
                        clause="test",
                        reason="test",
                        created_at=at,
                    )
                )
            self.comment_ids[name] = row.id
            return row.id

    def alert(
        self,
        comment: str | None,
        at: datetime,
        category: str,
        *,
        acked: datetime | None = None,
        closed: datetime | None = None,
        status: str | None = None,
        next_escalation_at: datetime | None = None,
        escalation_level: int = 0,
        recipients: list[dict[str, object]] | None = None,
    ) -> str:
        """Store an alert; returns its key."""
        key = f"alert{next(_ids):04d}" + "0" * 23
        with session_scope(self.factory) as session:
            session.add(
                AlertRow(
                    school_id=SCHOOL,
                    alert_key=key,
                    comment_id=self.comment_ids[comment] if comment else None,
                    incident_key=f"facebook:thread:{key}",
                    category=category,
                    severity=int(self.policy.categories[Category(category)].severity),
                    urgent=Category(category).is_safeguarding,
                    clause="Aycliffe 6",
                    recipients=recipients
                    or [{"role": "dsl", "name": "Mr Daniel Osei", "email": "d.osei@x.example"}],
                    escalation=[],
                    escalation_level=escalation_level,
                    next_escalation_at=next_escalation_at,
                    status=status or ("closed" if closed else "acknowledged" if acked else "open"),
                    message_id=f"<{key}@hollybrook.schoolwatch.invalid>",
                    created_at=at,
                    acknowledged_at=acked,
                    acknowledged_by="d.osei" if acked else None,
                    closed_at=closed,
                )
            )
        return key

    def queue(
        self,
        comment: str,
        at: datetime,
        category: str,
        *,
        status: str = "open",
        decided: datetime | None = None,
        role: str = "comms_lead",
    ) -> None:
        """Store a moderation-queue item."""
        with session_scope(self.factory) as session:
            session.add(
                QueueItem(
                    school_id=SCHOOL,
                    comment_id=self.comment_ids[comment],
                    queue_role=role,
                    category=category,
                    severity=int(self.policy.categories[Category(category)].severity),
                    status=status,
                    safeguarding=Category(category).is_safeguarding,
                    created_at=at,
                    updated_at=decided or at,
                    closed_by="j.hart" if decided else None,
                    closed_reason="dealt with" if decided else None,
                )
            )

    def evidence(self, comment: str, at: datetime, *, keep_days: int) -> str:
        """Store an evidence record for a comment; returns its reference."""
        ref = f"EV-TEST-{next(_ids):06d}"
        with session_scope(self.factory) as session:
            row = session.get(CommentRow, self.comment_ids[comment])
            assert row is not None
            session.add(
                EvidenceRecord(
                    school_id=SCHOOL,
                    reference=ref,
                    comment_id=row.id,
                    platform=row.platform,
                    external_id=row.external_id,
                    category=row.primary_category or "benign",
                    snapshot={
                        "comment": {
                            "platform": row.platform,
                            "text": row.text,
                            "permalink": row.permalink,
                            "created_at": row.created_at.isoformat(),
                        },
                        "author": {"id": row.author_id, "name": row.author_name},
                        "thread": {"id": row.thread_id, "title": row.thread_title},
                    },
                    sha256="0" * 64,
                    reason="before hide",
                    created_at=at,
                    keep_until=at + timedelta(days=keep_days),
                )
            )
        return ref

    def source(self, source_id: str, **values: object) -> None:
        """Set a source's health row."""
        with session_scope(self.factory) as session:
            row = repo.get_cursor(
                session, school_id=SCHOOL, source_id=source_id, platform=source_id
            )
            for key, value in values.items():
                setattr(row, key, value)


@pytest.fixture
def build(factory: sessionmaker[Session], policy: SchoolPolicy) -> Builder:
    """A row builder on the test database."""
    return Builder(factory, policy)


DIGEST_NOW = utc(2026, 11, 16, 7, 0)
"""Monday 16 November 2026, 07:00 UK time: the digest for 2026-W46 is due."""


@pytest.fixture
def known_week(build: Builder) -> Builder:
    """The known scenario for week 2026-W46 (see the module docstring and test_digest)."""
    b = build
    # Week 2026-W46: Monday 9 to Sunday 15 November.
    for i in range(3):
        b.comment(f"nice{i}", utc(2026, 11, 9 + i, 10, 0))
    b.comment(
        "park1", utc(2026, 11, 9, 8, 30), "criticism", text="The parking at drop off is dangerous"
    )
    b.comment(
        "park2",
        utc(2026, 11, 12, 8, 40),
        "criticism",
        text="Cars double parked on the zigzags again, nobody replies to emails",
    )
    b.comment("spam1", utc(2026, 11, 10, 3, 0), "spam", platform="youtube", text="Win a prize")
    b.comment(
        "harm1",
        utc(2026, 11, 10, 9, 50),
        "self_harm",
        text="my daughter says she wants to hurt herself",
        author="Worried Parent",
    )
    b.comment(
        "bully1",
        utc(2026, 11, 11, 12, 0),
        "bullying",
        platform="reddit",
        text="kids in year 5 keep bullying my son",
    )
    b.comment("bully2", utc(2026, 11, 15, 23, 30), "bullying", platform="reddit")  # Sun, late
    # Outside the week: Monday 16 November (next week) and week 2026-W45.
    b.comment("next", utc(2026, 11, 16, 0, 10), "threat", platform="reddit")
    b.comment("old1", utc(2026, 11, 2, 9, 0))
    b.comment("old2", utc(2026, 11, 3, 9, 0))
    b.comment("old3", utc(2026, 11, 4, 9, 0), "criticism", text="parking is a nightmare")
    b.comment("old4", utc(2026, 11, 5, 9, 0), "threat", platform="reddit")
    b.comment("older", utc(2026, 10, 1, 9, 0), "spam", platform="youtube")  # 2026-W40
    b.comment("queued_old", utc(2026, 10, 28, 9, 0), "bullying")  # 2026-W44, still queued
    # Alerts: three opened this week, one last week.
    b.alert("harm1", utc(2026, 11, 10, 10, 0), "self_harm", acked=utc(2026, 11, 10, 10, 20))
    b.alert(
        "bully1",
        utc(2026, 11, 11, 12, 0),
        "bullying",
        acked=utc(2026, 11, 11, 13, 0),
        closed=utc(2026, 11, 12, 9, 0),
    )
    b.alert(
        "bully2",
        utc(2026, 11, 15, 23, 30),
        "bullying",
        next_escalation_at=utc(2026, 11, 16, 1, 30),
        escalation_level=1,
    )
    b.alert(
        "old4",
        utc(2026, 11, 5, 9, 0),
        "threat",
        acked=utc(2026, 11, 5, 9, 30),
        closed=utc(2026, 11, 9, 10, 0),
    )
    # Queue: two decided this week (120 and 30 minutes), two still open (one over a week).
    b.queue(
        "park1",
        utc(2026, 11, 9, 9, 0),
        "criticism",
        status="approved",
        decided=utc(2026, 11, 9, 11, 0),
    )
    b.queue(
        "spam1", utc(2026, 11, 10, 3, 0), "spam", status="deleted", decided=utc(2026, 11, 10, 3, 30)
    )
    b.queue("park2", utc(2026, 11, 12, 8, 40), "criticism")
    b.queue("queued_old", utc(2026, 10, 28, 9, 0), "bullying")
    # Sources.
    b.source("facebook", last_success_at=utc(2026, 11, 16, 6, 55), last_run_at=utc(2026, 11, 16))
    b.source(
        "youtube", last_success_at=utc(2026, 11, 16, 6, 45), quota_used=350, quota_day="2026-11-16"
    )
    b.source(
        "reddit",
        last_success_at=utc(2026, 11, 14, 9, 0),
        consecutive_failures=3,
        last_error_at=utc(2026, 11, 16, 6, 50),
    )
    return b
