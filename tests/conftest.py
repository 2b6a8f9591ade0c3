"""Shared fixtures: databases (SQLite and a real PostgreSQL), the default policy, a clock."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.loader import DEFAULT_POLICY, load_policy
from config.policy import SchoolPolicy
from storage.db import make_engine, migrate, session_factory
from tests.pgserver import PostgresServer, find_bindir

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (skipped only outside CI when not installed)."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server packages are missing in CI (make setup installs them)")
        pytest.skip("PostgreSQL server not installed; run `make setup`")
    server = PostgresServer(bindir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(f"t{os.getpid()}_{next(_counter)}")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    eng = make_engine(db_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite engine (for tests that need only one backend)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory on a migrated database (each backend)."""
    return session_factory(engine)


@pytest.fixture(scope="session")
def policy() -> SchoolPolicy:
    """The packaged default policy (fictional Hollybrook Primary School)."""
    return load_policy(DEFAULT_POLICY)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands configure logging for the whole process; put it back after each test."""
    import logging

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
