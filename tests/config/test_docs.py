"""Every settings and policy field has a description and is documented in docs/configuration.md."""

from __future__ import annotations

import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config.policy import SchoolPolicy
from config.settings import Settings, env_name

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _models_in(tp: Any) -> list[type[BaseModel]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _models_in(arg)]
    return []


def _item_type(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        for arg in get_args(tp):
            item = _item_type(arg)
            if item is not None:
                return item
        return None
    if get_origin(tp) in (tuple, list):
        return get_args(tp)[0]
    if get_origin(tp) is dict:
        return get_args(tp)[1]
    return None


def field_paths(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, FieldInfo]]:
    """Every field of ``model`` and of the models nested in it; ``*`` stands for each item."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, info
        for sub in _models_in(info.annotation):
            yield from field_paths(sub, f"{path}.")
        for sub in _models_in(_item_type(info.annotation)):
            yield from field_paths(sub, f"{path}.*.")


POLICY_FIELDS = dict(field_paths(SchoolPolicy))
SETTINGS_FIELDS = dict(Settings.model_fields)


def test_walker_reaches_nested_models() -> None:
    for path in (
        "school.id",
        "routes.*.escalation.*.after_minutes",
        "roster.staff.*.aliases",
        "routes.*.if_headteacher_subject.add_notify",
        "lexicon.*.weight",
    ):
        assert path in POLICY_FIELDS
    assert len(POLICY_FIELDS) > 90


@pytest.mark.parametrize("path", sorted(POLICY_FIELDS))
def test_policy_field_described_and_documented(path: str) -> None:
    assert (POLICY_FIELDS[path].description or "").strip(), f"{path} has no description"
    assert f"`{path}`" in DOC.read_text(encoding="utf-8"), f"`{path}` not in {DOC.name}"


@pytest.mark.parametrize("name", sorted(SETTINGS_FIELDS))
def test_setting_described_and_documented(name: str) -> None:
    assert (SETTINGS_FIELDS[name].description or "").strip(), f"{name} has no description"
    assert f"`{env_name(name)}`" in DOC.read_text(encoding="utf-8"), f"{env_name(name)} missing"
