"""The cursor all three connectors share, and the batching that keeps it forward-only.

A cursor is compact JSON: ``{"v": 1, "hw": "<ISO time>", "id": "<external id>", ...}``.
``(hw, id)`` is the position of the newest comment delivered so far, ordered
by ``(created_at, external_id)``; connectors add their own keys (YouTube keeps
its quota count and sweep position, Reddit the threads it watches). A new
cursor is never behind the one it came from.

Each poll re-reads ``overlap`` before the position (the store ignores the
repeats) so a comment the platform shows a little late is still caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from core.errors import ConnectorError
from core.models import Comment

_EPOCH_KEY = ("", "")


@dataclass(frozen=True)
class Position:
    """Where a connector has got to: newest delivered comment, plus connector state."""

    hw: datetime | None = None
    last_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """The sort key of the position (``("", "")`` before anything)."""
        return (self.hw.isoformat(), self.last_id) if self.hw is not None else _EPOCH_KEY

    def encode(self) -> str:
        """The opaque cursor string."""
        body: dict[str, Any] = {
            "v": 1,
            "hw": self.hw.isoformat() if self.hw else None,
            "id": self.last_id,
        }
        body.update(self.extra)
        return json.dumps(body, separators=(",", ":"), sort_keys=True)

    @classmethod
    def decode(cls, cursor: str | None, *, platform: str = "") -> Position:
        """Read a cursor (``None`` means the first run).

        Raises:
            ConnectorError: The cursor is not one this code wrote.
        """
        if cursor is None:
            return cls()
        try:
            body = json.loads(cursor)
            if body.pop("v") != 1:
                raise ValueError("unknown cursor version")
            hw = body.pop("hw")
            last_id = str(body.pop("id"))
            return cls(datetime.fromisoformat(hw) if hw else None, last_id, body)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConnectorError(
                f"unreadable cursor for {platform}", platform=platform, code="bad_cursor"
            ) from exc

    def with_extra(self, **extra: Any) -> Position:
        """The same position with connector state replaced or added."""
        return replace(self, extra={**self.extra, **extra})


def initial_cursor(since: datetime) -> str:
    """A cursor that starts at ``since`` (for ``schoolwatch backfill --since``)."""
    return Position(since, "").encode()


def sort_key(comment: Comment) -> tuple[str, str]:
    """Delivery order: creation time, then external id."""
    return (comment.created_at.isoformat(), comment.external_id)


def dedupe(comments: Iterable[Comment]) -> tuple[list[Comment], int]:
    """Drop repeated external ids (the last copy wins); returns the list and how many dropped."""
    seen: dict[str, Comment] = {}
    total = 0
    for c in comments:
        total += 1
        seen[c.external_id] = c
    return list(seen.values()), total - len(seen)


@dataclass
class Selection:
    """What one batch delivers and what is left for the next."""

    delivered: list[Comment]
    position: Position
    more: bool
    remaining: list[Comment]


def select(
    candidates: list[Comment], position: Position, *, limit: int, overlap: timedelta
) -> Selection:
    """Choose the next batch from ``candidates`` (already deduplicated).

    New comments (after the position) go out oldest first, at most ``limit``.
    When that empties the new ones, comments within ``overlap`` before the
    position are sent again too, so a late arrival there is not lost.
    """
    ordered = sorted(candidates, key=sort_key)
    pos_key = position.key
    new = [c for c in ordered if sort_key(c) > pos_key]
    take, rest = new[:limit], new[limit:]
    more = bool(rest)
    out = take
    if not more and position.hw is not None:
        floor = position.hw - overlap
        late = [c for c in ordered if sort_key(c) <= pos_key and c.created_at >= floor]
        out = late + take
    new_pos = position
    if take:
        last = take[-1]
        new_pos = replace(position, hw=last.created_at, last_id=last.external_id)
    return Selection(out, new_pos, more, rest)
