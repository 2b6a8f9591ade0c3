"""Read a YAML file into plain data plus a map from each key path to its line.

``yaml.safe_load`` loses line numbers. Here the document is composed into
PyYAML's node tree first, duplicate keys are found (PyYAML silently keeps the
last one), and every key and list item is indexed by its path, e.g.
``("routes", "bullying", "notify", 0) -> 212``. The data is then built from
the same nodes with safe_load semantics, with one deliberate difference:
times such as ``17:00`` stay text instead of becoming YAML 1.1 base-60
numbers (``17:00`` would otherwise be the integer 1020).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]

MAX_NODES = 200_000
"""Most nodes walked, counting alias repeats: stops 'billion laughs' files."""

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 base-60 numbers, and with checked dates."""

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise ConstructorError(
                None, None, f"{node.value!r} is not a real date ({exc})", node.start_mark
            ) from exc


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _INT,
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class YamlProblem(Exception):
    """The text is not usable YAML. ``line`` is 1-based, or 0 when unknown."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class LineMap:
    """Where each key path sits in the file (1-based lines)."""

    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)
    """(path, line of the repeat, line of the first occurrence)."""
    _nodes: dict[Path, Node] = field(default_factory=dict)
    _budget: int = MAX_NODES

    def line_of(self, path: Path) -> int:
        """The line of ``path``, or of its nearest ancestor that exists (1 at worst)."""
        for end in range(len(path), -1, -1):
            found = self._find(path[:end])
            if found is not None:
                return found
        return 1

    def _find(self, path: Path) -> int | None:
        if path in self.lines:
            return self.lines[path]
        alt = tuple(str(p) if isinstance(p, int) else _as_int(p) for p in path)
        if alt in self.lines:
            return self.lines[alt]
        return self._by_item_id(path)

    def _by_item_id(self, path: Path) -> int | None:
        """Resolve a segment naming a list item by its ``id:`` (``roster.staff.head``)."""
        for i in range(len(path) - 1, -1, -1):
            parent = self._nodes.get(path[:i])
            if not isinstance(parent, SequenceNode) or isinstance(path[i], int):
                continue
            for n, item in enumerate(parent.value):
                if isinstance(item, MappingNode) and any(
                    isinstance(k, ScalarNode) and k.value == "id" and v.value == path[i]
                    for k, v in item.value
                ):
                    rest = path[:i] + (n,) + path[i + 1 :]
                    return self.lines.get(rest, item.start_mark.line + 1)
        return None

    def walk(self, node: Node, path: Path = ()) -> None:
        """Index ``node`` and everything under it."""
        self._budget -= 1
        if self._budget < 0:
            raise YamlProblem(
                "the file expands to too many values (check anchors and aliases '*')",
                node.start_mark.line + 1,
            )
        self._nodes.setdefault(path, node)
        if isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                self.lines.setdefault(path + (i,), item.start_mark.line + 1)
                self.walk(item, path + (i,))
        elif isinstance(node, MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if key.tag == _MERGE:
                    for merged in value.value if isinstance(value, SequenceNode) else [value]:
                        self.walk(merged, path)
                    continue
                name = key.value if isinstance(key, ScalarNode) else f"<{key.id}>"
                line = key.start_mark.line + 1
                if name in seen:
                    self.duplicates.append((path + (name,), line, seen[name]))
                else:
                    seen[name] = line
                self.lines[path + (name,)] = line
                typed = _typed_key(key)
                if typed is not None:
                    self.lines.setdefault(path + (typed,), line)
                self.walk(value, path + (name,))


def _typed_key(key: Node) -> int | None:
    """A YAML 1.1 boolean or integer key as pydantic reports it (``yes`` -> 1)."""
    if key.tag == "tag:yaml.org,2002:bool":
        return int(str(key.value).lower() in ("yes", "true", "on"))
    if key.tag == _INT:
        try:
            return int(str(key.value).replace("_", ""))
        except ValueError:
            return None
    return None


def _as_int(part: str | int) -> str | int:
    return int(part) if isinstance(part, str) and part.isdigit() else part


def parse(text: str) -> tuple[Any, LineMap]:
    """Parse one YAML document.

    Args:
        text: The file's text.

    Returns:
        The data (as ``yaml.safe_load`` would build it, times kept as text)
        and the line map. An empty document gives ``None``.

    Raises:
        YamlProblem: Bad syntax, several documents, an impossible date, or
            nesting or aliases beyond sane limits.
    """
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character, found before parsing
        line = text.count("\n", 0, exc.position) + 1
        raise YamlProblem(
            f"not valid YAML: character {exc.character!r} is not allowed in a policy file",
            line,
        ) from exc
    try:
        node = loader.get_single_node()
        lines = LineMap()
        if node is None:
            return None, lines
        lines.walk(node)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise YamlProblem(f"not valid YAML: {message}", mark.line + 1 if mark else 0) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}") from exc
    except RecursionError as exc:
        raise YamlProblem("the file is nested too deeply to read") from exc
    finally:
        loader.dispose()
    return data, lines


__all__ = ["LineMap", "Path", "YamlProblem", "parse"]
