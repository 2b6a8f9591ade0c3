"""Hypothesis settings for the property suite: modest example counts, no deadlines.

``CI=true`` runs a few more examples; ``PROPERTY_EXAMPLES=n`` sets the count outright.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def examples(default: int) -> int:
    """How many examples a property runs (``default`` locally, twice that in CI)."""
    if os.environ.get("PROPERTY_EXAMPLES"):
        return int(os.environ["PROPERTY_EXAMPLES"])
    return default * 2 if os.environ.get("CI") else default


def prop(default: int = 100) -> settings:
    """A ``@settings`` for one property."""
    return settings(
        max_examples=examples(default),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
