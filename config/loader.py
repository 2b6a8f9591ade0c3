"""Load and validate a school policy file, naming file, line and field for every problem.

Usage::

    from config.loader import load_policy
    policy = load_policy(Path("config/policies/default.yaml"))

Every problem found is reported at once, one per line, like::

    school.yaml:212: routes.bullying.notify.0: unknown role 'dls' (did you mean 'dsl'?)

Field checks (types, unknown keys, missing keys) are all reported together.
Cross-checks that need the whole file to be well-formed (for example a route
naming a role that is not defined) run once every field is well-formed.
"""

from __future__ import annotations

import difflib
import logging
import re
import stat
import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from config.policy import SchoolPolicy
from config.yamlmap import LineMap, YamlProblem, parse
from config.yamlmap import Path as KeyPath
from core.errors import PolicyError

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
"""Largest policy file accepted (1 MB). A real policy is a few kilobytes."""

DEFAULT_POLICY = Path(__file__).resolve().parent / "policies" / "default.yaml"
"""The demonstration policy shipped with schoolwatch."""

_PART = re.compile(r"^([A-Za-z_][\w\-]*(?:\.[\w\-]+)*): (.+)$", re.S)
_UNKNOWN_ROLE = re.compile(r"unknown role '([^']*)'$")


def load_policy(path: Path) -> SchoolPolicy:
    """Read, parse and validate a school policy file.

    Args:
        path: The YAML policy file.

    Returns:
        The validated policy.

    Raises:
        PolicyError: The file is missing, unreadable, larger than 1 MB, not
            YAML, or not a valid policy. ``problems`` lists every problem as
            ``file:line: field: message``.

    Example:
        >>> load_policy(DEFAULT_POLICY).school.id
        'hollybrook'
    """
    name = str(path)
    try:
        info = path.stat()
        size = info.st_size
        if stat.S_ISDIR(info.st_mode):
            _fail(name, f"{name}: is a folder, not a policy file")
        if not stat.S_ISREG(info.st_mode):
            _fail(name, f"{name}: is not an ordinary file")
        if size > MAX_BYTES:
            _fail(
                name,
                f"{name}: the file is {size / 1024 / 1024:.1f} MB; a policy file may be at "
                "most 1 MB (is this the right file?)",
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        _fail(name, f"{name}: policy file not found")
    except OSError as exc:
        _fail(name, f"{name}: cannot read the policy file ({exc.strerror or exc})")
    if len(raw) > MAX_BYTES:
        _fail(name, f"{name}: the file is larger than 1 MB; a policy file may be at most 1 MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        _fail(name, f"{name}:{line}: the file is not UTF-8 text (save it as UTF-8)")
    policy = policy_from_text(text, name)
    log.info("loaded policy for school %s from %s", policy.school.id, name)
    return policy


def policy_from_text(text: str, source: str = "<policy>") -> SchoolPolicy:
    """Parse and validate policy YAML held in memory.

    Args:
        text: The YAML text.
        source: The name used in problem messages (usually the file path).

    Returns:
        The validated policy.

    Raises:
        PolicyError: As for :func:`load_policy`.
    """
    try:
        data, lines = parse(text)
    except YamlProblem as exc:
        where = f"{source}:{exc.line}" if exc.line else source
        _fail(source, f"{where}: {exc.message}")
    problems: list[tuple[int, str]] = [
        (line, _format(source, line, path, f"duplicate key (first on line {first}); keep one"))
        for path, line, first in lines.duplicates
    ]
    if data is None:
        problems.append((1, f"{source}:1: the file is empty; start from the default policy"))
    elif not isinstance(data, dict):
        problems.append(
            (
                1,
                f"{source}:1: the file must be a set of 'key: value' settings starting with "
                f"'policy_version: 1', not a {_kind(data)}",
            )
        )
    else:
        try:
            policy = SchoolPolicy.model_validate(data)
        except ValidationError as exc:
            problems.extend(_validation_problems(exc, lines, source, data))
        else:
            if not problems:
                return policy
    problems.sort(key=lambda item: item[0])
    _fail(source, *(text for _, text in problems))


def _fail(source: str, *problems: str) -> NoReturn:
    """Raise a PolicyError listing ``problems``."""
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    message = f"{source}: {count} {noun} in the policy file:\n  " + "\n  ".join(problems)
    raise PolicyError(message, list(problems))


def _format(source: str, line: int, path: KeyPath, message: str) -> str:
    field = ".".join(str(p) for p in path) or "(top level)"
    return f"{source}:{line}: {field}: {message}"


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "single piece of text"
    return type(value).__name__


def _validation_problems(
    exc: ValidationError, lines: LineMap, source: str, data: Mapping[str, Any]
) -> Iterator[tuple[int, str]]:
    for err in exc.errors(include_url=False):
        for path, message in _explain(err, data):
            if err["type"] == "invalid_key":
                line = lines.line_of(path)
                path = path[:-1]
            else:
                line = lines.line_of(path)
            yield line, _format(source, line, path, message)


def _explain(err: Mapping[str, Any], data: Mapping[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Turn one pydantic error into (field path, plain message) pairs."""
    loc: KeyPath = tuple(err["loc"])
    kind: str = err["type"]
    msg: str = err["msg"]
    if "[key]" in loc:
        at = loc.index("[key]")
        yield loc[:at], f"{loc[at - 1]!r} is not allowed here: {msg}"
        return
    if kind == "extra_forbidden":
        yield loc, _unknown_key(loc)
        return
    if kind == "invalid_key":
        yield (
            loc,
            (
                f"a key here is read as {err.get('input')!r}, not as text (yes, no, on, off, "
                "true, false and numbers are not text): put the key in quotes or fix its spelling"
            ),
        )
        return
    if kind == "missing":
        yield loc, f"missing required key {loc[-1]!r}"
        return
    if kind in ("value_error", "assertion_error"):
        text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        for part in text.split("; "):
            match = _PART.match(part)
            if match is None:
                yield loc, part
                continue
            sub = tuple(int(s) if s.isdigit() else s for s in match[1].split("."))
            yield loc + sub, _suggest_role(match[2], data)
        return
    found = err.get("input")
    if isinstance(found, str | int | float | bool) and len(repr(found)) <= 60:
        msg = f"{msg} (found {found!r})"
    yield loc, msg


def _unknown_key(loc: KeyPath) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    return f"unknown key {key!r} (allowed here: {', '.join(allowed)})"


def _suggest_role(message: str, data: Mapping[str, Any]) -> str:
    match = _UNKNOWN_ROLE.search(message)
    roles = data.get("roles")
    if match is None or not isinstance(roles, dict):
        return message
    close = difflib.get_close_matches(match[1], [str(r) for r in roles], n=1, cutoff=0.6)
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _model_at(loc: KeyPath) -> type[BaseModel] | None:
    """The policy model found at ``loc`` (skipping list indexes and dict keys)."""
    tp: Any = SchoolPolicy
    for seg in loc:
        tp = _strip_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(seg))
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) in (tuple, list):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = _strip_optional(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _strip_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp
