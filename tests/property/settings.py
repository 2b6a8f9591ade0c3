"""Hypothesis settings for the property suite: modest example counts, no deadlines.

``CI=true`` runs a few more examples; ``PROPERTY_EXAMPLES=n`` sets the count outright.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings


def examples(default: int) -> int:
    """How many examples a property runs (``default`` locally, twice that in CI)."""
    if os.environ.get("PROPERTY_EXAMPLES"):
        return int(os.environ["PROPERTY_EXAMPLES"])
    return default * 2 if os.environ.get("CI") else default


def prop(default: int = 100, *, derandomize: bool = False, shrink: bool = True) -> settings:
    """A ``@settings`` for one property.

    ``derandomize``: the same examples every run (for properties marked as
    known failures). ``shrink=False``: stop at the first failure.
    """
    phases = list(Phase) if shrink else [Phase.explicit, Phase.reuse, Phase.generate]
    return settings(
        phases=phases,
        max_examples=examples(default),
        deadline=None,
        derandomize=derandomize,
        database=None if derandomize else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
