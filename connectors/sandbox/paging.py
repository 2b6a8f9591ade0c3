"""Keyset paging shared by the three fake platforms, with the listing faults applied."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from connectors.sandbox.faults import FaultMode

T = TypeVar("T")


def encode_token(key: tuple[str, int]) -> str:
    """An opaque page token for the position just after ``key``."""
    raw = json.dumps([key[0], key[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, int] | None:
    """The position in ``token``; ``None`` when it is not one of ours."""
    try:
        padded = token + "=" * (-len(token) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return (str(value[0]), int(value[1]))
    except (ValueError, TypeError, IndexError, KeyError):
        return None


START = encode_token(("", -1))


@dataclass
class Page(Generic[T]):
    """One page of a listing."""

    items: list[T]
    next_token: str | None  # None at the end


def paginate(
    items: Sequence[T],
    key: Callable[[T], tuple[str, int]],
    *,
    token: str | None,
    limit: int,
    descending: bool,
    fault: FaultMode | None = None,
    delete: Callable[[T], object] | None = None,
    echo: set[str] | None = None,
) -> Page[T]:
    """Serve one page of ``items`` (already sorted in listing order) after ``token``.

    ``echo`` holds tokens whose page must repeat its own token (the
    ``repeat_cursor`` fault armed on a first page takes effect on the second).

    Raises:
        ValueError: ``token`` is not a token this sandbox issued.
    """
    start = 0
    if token and token != START:
        position = decode_token(token)
        if position is None:
            raise ValueError("invalid page token")
        if descending:
            start = next((i for i, it in enumerate(items) if key(it) < position), len(items))
        else:
            start = next((i for i, it in enumerate(items) if key(it) > position), len(items))
    chunk = list(items[start : start + limit])
    rest = items[start + limit :]
    next_token = encode_token(key(chunk[-1])) if chunk and rest else None
    if fault is FaultMode.REPEAT_CURSOR:
        if token:
            next_token = token
        elif chunk:  # first page: hand out a cursor that the next page will repeat
            next_token = next_token or encode_token(key(chunk[-1]))
            if echo is not None:
                echo.add(next_token)
    elif token and echo is not None and token in echo:
        echo.discard(token)
        next_token = token
    elif fault is FaultMode.DUPLICATE_IDS and chunk:
        chunk = chunk + chunk[: max(1, len(chunk) // 2)]
    elif fault is FaultMode.DELETE_BETWEEN_PAGES and rest and delete is not None:
        delete(rest[0])
    return Page(chunk, next_token)
