"""The policy loader: any file gives a policy or a clear, line-numbered refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from config.loader import DEFAULT_POLICY, load_policy, policy_from_text
from config.policy import SchoolPolicy
from core.errors import PolicyError
from tests.property.settings import prop
from tests.property.strategies import mutated_json

DEFAULT_TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")
DEFAULT_LINES = DEFAULT_TEXT.splitlines()
DEFAULT_DATA = yaml.safe_load(DEFAULT_TEXT)
SOURCE = "policy.yaml"
ODD_VALUES = ["yes", "no", "017", "1e3", "~", "[]", "{}", "17:00", "2026-02-30", '""', "x" * 300]


def _outcome(text: str) -> SchoolPolicy | PolicyError:
    try:
        return policy_from_text(text, SOURCE)
    except PolicyError as exc:
        return exc


def _clear(error: PolicyError) -> None:
    assert error.problems, "a refusal must say what is wrong"
    for problem in error.problems:
        assert isinstance(problem, str) and problem.startswith(SOURCE), problem
        assert len(problem) < 2000


@prop(150)
@given(st.text(max_size=400))
@example("")
@example("- a\n- b")
@example("policy_version: 1\nschool: [")
@example("a: &a [*a, *a]")
@example("!!python/object/apply:os.system ['true']")
def test_any_text_is_a_policy_or_a_clear_refusal(text: str) -> None:
    result = _outcome(text)
    if isinstance(result, PolicyError):
        _clear(result)


@st.composite
def edited_lines(draw: st.DrawFn) -> str:
    """The default policy with a few lines deleted, duplicated, re-indented or retyped."""
    lines = list(DEFAULT_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.integers(0, 4))
        if kind == 0:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[i])
        elif kind == 2:
            lines[i] = " " * draw(st.integers(0, 6)) + lines[i].lstrip()
        elif kind == 3 and ":" in lines[i]:
            head = lines[i].split(":", 1)[0]
            lines[i] = f"{head}: {draw(st.sampled_from(ODD_VALUES))}"
        else:
            lines[i] = draw(st.text(max_size=30))
    return "\n".join(lines)


@prop(150)
@given(edited_lines())
def test_an_edited_default_policy_is_a_policy_or_a_clear_refusal(text: str) -> None:
    result = _outcome(text)
    if isinstance(result, PolicyError):
        _clear(result)


@prop(150)
@given(mutated_json(DEFAULT_DATA))
def test_a_policy_with_wrong_values_is_refused_clearly(data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    result = _outcome(text)
    if isinstance(result, PolicyError):
        _clear(result)
    else:
        assert result.school.id  # accepted: a complete, valid policy


@prop(60)
@given(st.binary(max_size=400))
def test_any_file_is_a_policy_or_a_clear_refusal(tmp_path_factory: Any, raw: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("policy")) / "policy.yaml"
    path.write_bytes(raw)
    try:
        load_policy(path)
    except PolicyError as exc:
        assert exc.problems and all(p.startswith(str(path)) for p in exc.problems)


def test_the_default_policy_still_loads() -> None:
    assert policy_from_text(DEFAULT_TEXT, SOURCE).school.id == "hollybrook"


@pytest.mark.parametrize("text", ["\x00", "school:\n  id: x\x1fy\n"], ids=["nul", "unit-separator"])
def test_a_control_character_is_refused_with_its_line(text: str) -> None:
    result = _outcome(text)
    assert isinstance(result, PolicyError)
    _clear(result)
