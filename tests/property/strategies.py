"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=25,
)


def mutate(value: Any, draw: st.DrawFn) -> Any:
    """``value`` with one node replaced, removed or retyped (a plausible platform mistake)."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value, key=str)))
        copy = dict(value)
        choice = draw(st.integers(0, 3))
        if choice == 0:
            del copy[key]
        elif choice == 1:
            copy[key] = draw(JSON)
        else:
            copy[key] = mutate(copy[key], draw)
        return copy
    if isinstance(value, list) and value and draw(st.booleans()):
        i = draw(st.integers(0, len(value) - 1))
        copy = list(value)
        copy[i] = mutate(copy[i], draw) if draw(st.booleans()) else draw(JSON)
        return copy
    return draw(JSON)


@st.composite
def mutated_json(draw: st.DrawFn, value: Any) -> Any:
    """A strategy of mutations of ``value``."""
    return mutate(value, draw)


def dumps(value: Any) -> bytes:
    """JSON bytes (big integers and odd floats kept as Python writes them)."""
    return json.dumps(value).encode()
