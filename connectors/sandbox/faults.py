"""Fault injection: make the next N matching requests to a platform misbehave."""

from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class FaultMode(enum.StrEnum):
    """The faults the sandbox can inject.

    ``server_error``: 5xx with the platform's error body. ``throttle``: the
    platform's rate-limit answer with its headers. ``expired_token``: the token
    is dead (Graph code 190, Google ``invalid_grant`` on refresh, Reddit 401 then
    ``invalid_grant``). ``slow``: the reply is delayed ``delay`` seconds.
    ``malformed``: a 200 with broken JSON. ``repeat_cursor``: a list page whose
    next cursor points at itself. ``duplicate_ids``: a list page that repeats its
    items. ``delete_between_pages``: the first item of the next page is deleted
    before that page is served. ``quota``: YouTube ``quotaExceeded``.
    """

    SERVER_ERROR = "server_error"
    THROTTLE = "throttle"
    EXPIRED_TOKEN = "expired_token"
    SLOW = "slow"
    MALFORMED = "malformed"
    REPEAT_CURSOR = "repeat_cursor"
    DUPLICATE_IDS = "duplicate_ids"
    DELETE_BETWEEN_PAGES = "delete_between_pages"
    QUOTA = "quota"


# Faults that only make sense on a page of a listing.
LIST_FAULTS = frozenset(
    {FaultMode.REPEAT_CURSOR, FaultMode.DUPLICATE_IDS, FaultMode.DELETE_BETWEEN_PAGES}
)


@dataclass
class _Armed:
    mode: FaultMode
    remaining: int
    delay: float = 2.0


@dataclass
class FaultEvent:
    """One fault the sandbox injected (for tests and the health figures)."""

    platform: str
    mode: FaultMode
    path: str


@dataclass
class Faults:
    """Armed faults per platform, consumed by matching requests."""

    _armed: dict[str, list[_Armed]] = field(default_factory=dict)
    injected: list[FaultEvent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(
        self, platform: str, mode: FaultMode | str, count: int = 1, *, delay: float = 2.0
    ) -> None:
        """Make the next ``count`` matching requests to ``platform`` fail with ``mode``.

        Args:
            platform: ``facebook``, ``youtube`` or ``reddit``.
            mode: A :class:`FaultMode` (or its value).
            count: How many requests to affect.
            delay: Seconds to wait, for ``slow``.
        """
        with self._lock:
            self._armed.setdefault(platform, []).append(_Armed(FaultMode(mode), count, delay))

    def clear(self, platform: str | None = None) -> None:
        """Disarm every fault (on one platform, or all)."""
        with self._lock:
            if platform is None:
                self._armed.clear()
            else:
                self._armed.pop(platform, None)

    def armed(self, platform: str) -> list[FaultMode]:
        """Modes still armed for ``platform``."""
        with self._lock:
            return [a.mode for a in self._armed.get(platform, []) if a.remaining > 0]

    def take(self, platform: str, path: str, *, listing: bool) -> tuple[FaultMode, float] | None:
        """Consume one armed fault that applies to this request, if any."""
        with self._lock:
            for armed in self._armed.get(platform, []):
                if armed.remaining <= 0:
                    continue
                if armed.mode in LIST_FAULTS and not listing:
                    continue
                armed.remaining -= 1
                self.injected.append(FaultEvent(platform, armed.mode, path))
                log.info("sandbox injects %s on %s %s", armed.mode.value, platform, path)
                return armed.mode, armed.delay
        return None

    def count(self, platform: str, mode: FaultMode | None = None) -> int:
        """How many faults were injected on ``platform`` (of ``mode``)."""
        with self._lock:
            return sum(
                1
                for e in self.injected
                if e.platform == platform and (mode is None or e.mode == mode)
            )
