"""Fixtures for the classifier tests."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from classifiers.ensemble import EnsembleClassifier
from classifiers.registry import build_classifier
from config.loader import DEFAULT_POLICY
from config.policy import SchoolPolicy

ROSTER: dict[str, Any] = {
    "staff": [
        {"id": "head", "name": "Mrs Helen Carter", "aliases": ["Mrs C"], "role": "headteacher"},
        {"id": "mr_reeve", "name": "Mr Tom Reeve", "aliases": ["Mr R", "the Year 5 teacher"]},
        {"id": "miss_bello", "name": "Miss Grace Bello", "aliases": ["Miss B"]},
    ],
    "pupils": [{"name": "Poppy Lindqvist", "aliases": ["Pops Lindqvist"], "class_name": "3B"}],
}


@pytest.fixture(scope="session")
def policy() -> SchoolPolicy:
    """The shipped default policy with a small test roster, a lexicon entry and 0.5 thresholds."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    data["roster"] = ROSTER
    data["lexicon"] = [{"category": "bullying", "terms": ["hollybrook horror"], "weight": 0.8}]
    for rule in data["categories"].values():
        rule["threshold"] = 0.5
    return SchoolPolicy.model_validate(data)


@pytest.fixture(scope="session")
def ensemble(policy: SchoolPolicy) -> EnsembleClassifier:
    """The shipped model (encoder, heads and rules) with the test policy."""
    clf = build_classifier(policy)
    assert isinstance(clf, EnsembleClassifier)
    return clf
