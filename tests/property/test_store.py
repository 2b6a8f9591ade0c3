"""Whatever a comment holds, the cycle stores it once and reads it back as it was."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.loader import DEFAULT_POLICY, load_policy
from core.models import Action, ActionResult, Batch, Comment, Platform
from monitor.pipeline import run_cycle
from storage.db import make_engine, migrate, session_factory
from storage.repo import MAX_TEXT, clean_text
from storage.tables import CommentRow, VerdictRow
from tests.oracle import OracleClassifier
from tests.property.settings import prop

POLICY = load_policy(DEFAULT_POLICY)
_IDS = itertools.count()
# Text as platforms send it (lone surrogates have their own test below).
TEXT = st.text(st.characters(codec="utf-8"), max_size=200)
LONG = st.integers(MAX_TEXT - 5, MAX_TEXT + 50).map(lambda n: "é" * n)


class OneBatch:
    """A connector that returns the comments it is given, once."""

    platform: ClassVar[Platform] = Platform.FACEBOOK
    supports: ClassVar[frozenset[Action]] = frozenset()

    def __init__(self, comments: Sequence[Comment]) -> None:
        self.comments = tuple(comments)

    def fetch_since(self, cursor: str | None, *, limit: int = 500) -> Batch:
        return Batch(self.comments, f"c{next(_IDS)}")

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        raise AssertionError("no actions in this test")


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> sessionmaker[Session]:
    path = Path(tmp_path_factory.mktemp("store")) / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return session_factory(engine)


def comment(text: str, author: str, title: str = "") -> Comment:
    n = next(_IDS)
    return Comment(
        school_id=POLICY.school.id,
        platform=Platform.FACEBOOK,
        external_id=f"2000000001_{n}",
        thread_id="104000000000001_2000000001",
        parent_id=None,
        author_id=f"user-{n}",
        author_name=author,
        text=text,
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        permalink=f"https://www.facebook.com/{n}",
        raw={"message": text[:50]},
        thread_title=title,
    )


def store(factory: sessionmaker[Session], comments: list[Comment]) -> None:
    report = run_cycle(
        factory=factory,
        policy=POLICY,
        channel=POLICY.channel("facebook"),
        connector=OneBatch(comments + comments),  # the platform repeated itself
        classifier=OracleClassifier(),
    )
    assert report.status == "ok" and report.stored == len(comments)


def check(factory: sessionmaker[Session], comments: list[Comment]) -> None:
    with factory() as session:
        for c in comments:
            rows = session.scalars(
                select(CommentRow).where(CommentRow.external_id == c.external_id)
            ).all()
            assert len(rows) == 1
            row = rows[0]
            text, truncated = clean_text(c.text)
            assert row.text == text and row.text_truncated == truncated
            assert row.author_name == clean_text(c.author_name)[0][:300]
            assert row.thread_title == clean_text(c.thread_title)[0][:4000]
            verdicts = session.scalars(select(VerdictRow).where(VerdictRow.comment_id == row.id))
            assert len(verdicts.all()) == 1


@prop(60)
@given(st.lists(st.tuples(st.one_of(TEXT, LONG), TEXT, TEXT), min_size=1, max_size=4))
def test_every_comment_is_stored_once_and_reads_back_as_sent(
    factory: sessionmaker[Session], items: list[tuple[str, str, str]]
) -> None:
    comments = [comment(text, author, title) for text, author, title in items]
    store(factory, comments)
    check(factory, comments)


def test_nul_characters_and_overlong_text_are_kept_readable(
    factory: sessionmaker[Session],
) -> None:
    comments = [comment("a\x00b", "N\x00L"), comment("x" * (MAX_TEXT + 10), "Long")]
    store(factory, comments)
    check(factory, comments)
    with factory() as session:
        row = session.scalars(
            select(CommentRow).where(CommentRow.external_id == comments[1].external_id)
        ).one()
    assert row.text_truncated and len(row.text) == MAX_TEXT


@pytest.mark.parametrize(
    ("text", "author"),
    [("half an emoji \ud83d", "Parent"), ("ok", "Name \udc4f")],
    ids=["text", "author"],
)
def test_a_lone_surrogate_is_stored_without_stopping_the_source(
    factory: sessionmaker[Session], text: str, author: str
) -> None:
    store(factory, [comment(text, author)])
    with factory() as session:
        row = session.scalars(select(CommentRow).order_by(CommentRow.id.desc()).limit(1)).one()
    assert "\ufffd" in row.text + row.author_name  # the half character is replaced, not lost
    assert row.text.startswith(text[:4]) and row.author_name.startswith(author[:4])
