"""The schema: migrations create exactly the tables the code maps, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.models import Comment, Platform
from storage import repo
from storage.db import migrate, session_scope
from storage.tables import Base, CommentRow

EXPECTED_TABLES = {
    "schools",
    "comments",
    "verdicts",
    "decisions",
    "queue_items",
    "alerts",
    "deliveries",
    "evidence_records",
    "platform_actions",
    "moderation_labels",
    "connector_cursors",
    "audit_events",
    "users",
    "web_sessions",
    "job_runs",
}


def _comment(external_id: str, text_: str = "hello") -> Comment:
    return Comment(
        school_id="hollybrook",
        platform=Platform.FACEBOOK,
        external_id=external_id,
        thread_id="post1",
        parent_id=None,
        author_id="u1",
        author_name="A Parent",
        text=text_,
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        permalink="https://facebook.example/x",
    )


def test_migrations_create_every_table(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_migrate_is_idempotent(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        version = conn.execute(text("select version_num from alembic_version")).scalar_one()
    assert version  # still at one head


def test_every_table_carries_a_school_id() -> None:
    for table in Base.metadata.tables.values():
        if table.name == "schools":
            continue
        assert "school_id" in table.c, table.name


def test_comment_is_unique_per_school_platform_and_id(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id="hollybrook", name="Hollybrook Primary School")
        repo.insert_comment(session, comment=_comment("c1"), source_id="facebook")
    with pytest.raises(IntegrityError), session_scope(factory) as session:
        repo.insert_comment(session, comment=_comment("c1"), source_id="facebook")
    with factory() as session:
        assert (
            session.scalar(select(CommentRow.text).where(CommentRow.external_id == "c1")) == "hello"
        )


def test_text_with_nul_and_huge_text_is_stored_safely(factory: sessionmaker[Session]) -> None:
    huge = "a\x00b\ud83d" + "x" * (repo.MAX_TEXT + 5000)  # NUL and half an emoji
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id="hollybrook", name="Hollybrook Primary School")
        repo.insert_comment(session, comment=_comment("big", huge), source_id="facebook")
    with factory() as session:
        row = session.scalars(select(CommentRow).where(CommentRow.external_id == "big")).one()
    assert len(row.text) == repo.MAX_TEXT
    assert "\x00" not in row.text and row.text.startswith("a\ufffdb\ufffd")
    assert row.text_truncated is True


def test_datetimes_come_back_timezone_aware(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        repo.ensure_school(session, school_id="hollybrook", name="Hollybrook Primary School")
        repo.insert_comment(session, comment=_comment("tz"), source_id="facebook")
    with factory() as session:
        row = session.scalars(select(CommentRow).where(CommentRow.external_id == "tz")).one()
    assert row.created_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert row.created_at.tzinfo is not None
