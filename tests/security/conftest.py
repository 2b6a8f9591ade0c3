"""The security suite reuses the web tests' world (``tests/web/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.conftest import WebEnv, build_env
from tests.web.conftest import fast_password_hashing as fast_password_hashing  # noqa: F401


@pytest.fixture
def env(tmp_path: Path) -> Iterator[WebEnv]:
    """The standard web test world: comments through the real pipeline, one user per role."""
    built = build_env(tmp_path)
    yield built
    built.runtime.engine.dispose()
