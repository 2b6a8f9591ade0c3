"""Fixtures for the classifier tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.policy import SchoolPolicy

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def policy() -> SchoolPolicy:
    """A small valid policy (fictional Hollybrook) with a roster and a lexicon entry."""
    data = yaml.safe_load((HERE / "policy.yaml").read_text(encoding="utf-8"))
    return SchoolPolicy.model_validate(data)
