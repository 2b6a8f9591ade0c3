"""What the three real connectors share: cursor handling, batching, the backlog buffer, stats."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import timedelta

from config.policy import Channel, School
from connectors.cursor import Position, dedupe, select, sort_key
from connectors.settings import ConnectorSettings
from core.clock import utc_now
from core.errors import ConnectorError, RateLimited, SkippableItem, TransientError
from core.models import Batch, Comment, Platform

log = logging.getLogger(__name__)

SourceKey = tuple[str, str, str, str]
ODD_DATA = (KeyError, TypeError, AttributeError, IndexError, ValueError, OverflowError)
"""What a client library or our parsing raises on platform JSON of an unexpected shape
(``OverflowError``: google-auth given a token expiry it cannot represent)."""
_LOCK = threading.Lock()
_BACKLOGS: dict[SourceKey, tuple[str, list[Comment], Position]] = {}
_STATS: dict[SourceKey, Counter[str]] = {}


def source_stats(school_id: str, source_id: str) -> dict[str, int]:
    """Counters for one source in this process (API calls, units, faults met, items skipped).

    Summed over every endpoint the source was read from (normally one).
    """
    out: Counter[str] = Counter()
    with _LOCK:
        for key, counter in _STATS.items():
            if key[0] == school_id and key[2] == source_id:
                out.update(counter)
    return dict(out)


class PollingConnector:
    """Base class: subclasses implement :meth:`_collect` (every comment since a time).

    ``fetch_since`` turns what ``_collect`` found into oldest-first batches. When
    a batch is cut at ``limit`` the rest is kept in memory, keyed by the cursor
    just returned, so draining a backlog costs no extra API calls; any other
    cursor reads the platform again. The buffer and ``stats`` live for the
    whole process, keyed by source and endpoint, because the runtime builds a
    fresh connector for every cycle.

    ``stats`` counts API calls, quota units, faults met and items skipped: the
    health page shows it (see :func:`source_stats`).
    """

    platform_name: str = ""

    def __init__(self, channel: Channel, school: School, settings: ConnectorSettings) -> None:
        self.channel = channel
        self.school = school
        self.settings = settings
        endpoints = "|".join((settings.graph_url, settings.youtube_url, settings.reddit_oauth_url))
        self.source_key: SourceKey = (school.id, self.platform_name, channel.id, endpoints)
        with _LOCK:
            self.stats: Counter[str] = _STATS.setdefault(self.source_key, Counter())

    @property
    def _pending(self) -> tuple[str, list[Comment], Position] | None:
        with _LOCK:
            return _BACKLOGS.get(self.source_key)

    @_pending.setter
    def _pending(self, value: tuple[str, list[Comment], Position] | None) -> None:
        with _LOCK:
            if value is None:
                _BACKLOGS.pop(self.source_key, None)
            else:
                _BACKLOGS[self.source_key] = value

    # ---- to implement ------------------------------------------------------------------

    def _collect(self, position: Position, since: float) -> tuple[list[Comment], Position]:
        """Every comment created at or after unix time ``since`` that the source can see.

        Returns the comments (any order, repeats allowed) and the position with
        updated connector state in ``extra``.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Close the client library's HTTP connections (subclasses add theirs)."""

    # ---- shared ----------------------------------------------------------------------

    @property
    def overlap(self) -> timedelta:
        """How far before the cursor each poll re-reads."""
        return timedelta(seconds=self.settings.overlap_seconds)

    def fetch_since(self, cursor: str | None, *, limit: int = 500) -> Batch:
        """Comments newer than ``cursor``, oldest first (see :class:`connectors.base.Connector`)."""
        position = Position.decode(cursor, platform=self.platform_name)
        pending = self._pending
        if cursor is not None and pending is not None and pending[0] == cursor:
            candidates, position = pending[1], pending[2]
            self.stats["backlog_batches"] += 1
        else:
            start = position.hw or (utc_now() - timedelta(days=self.settings.lookback_days))
            since = (start - self.overlap).timestamp()
            try:
                found, position = self._collect(position, since)
            except ConnectorError as exc:
                self._count_error(exc)
                raise
            except ODD_DATA as exc:
                err = self.malformed(exc, "poll")
                self._count_error(err)
                raise err from exc
            candidates, _ = dedupe(found)
        chosen = select(candidates, position, limit=limit, overlap=self.overlap)
        new_cursor = chosen.position.encode()
        self._pending = (new_cursor, chosen.remaining, chosen.position) if chosen.more else None
        self.stats["comments_fetched"] += len(chosen.delivered)
        log.info(
            "%s source %s: %d comments, more=%s",
            self.platform_name,
            self.channel.id,
            len(chosen.delivered),
            chosen.more,
        )
        delivered = sorted(chosen.delivered, key=sort_key)
        return Batch(comments=tuple(delivered), cursor=new_cursor, more=chosen.more)

    def _count_error(self, exc: ConnectorError) -> None:
        kind = (
            "rate_limited"
            if isinstance(exc, RateLimited)
            else "transient"
            if isinstance(exc, TransientError)
            else "auth"
            if exc.fatal
            else type(exc).__name__.lower()
        )
        self.stats[f"errors.{kind}"] += 1
        log.warning(
            "%s source %s: %s (%s)",
            self.platform_name,
            self.channel.id,
            type(exc).__name__,
            exc.code or "-",
        )

    def malformed(self, exc: Exception, where: str) -> TransientError:
        """A :class:`TransientError` for a reply of an unexpected shape (counted and logged)."""
        self.stats["malformed_replies"] += 1
        log.warning(
            "%s: reply of an unexpected shape in %s (%s)",
            self.platform_name,
            where,
            type(exc).__name__,
        )
        return TransientError(
            f"{self.platform_name} sent a reply of an unexpected shape",
            platform=self.platform_name,
            code="malformed",
        )

    def _skip(self, reason: str, item_id: str = "") -> None:
        """Count and log one unusable item (its content is never logged)."""
        self.stats["skipped_items"] += 1
        log.warning("%s: skipped item %s: %s", self.platform_name, item_id or "?", reason)

    def _note_duplicates(self, ids: list[str], where: str) -> None:
        """Count ids a single listing returned more than once (the platform repeated itself)."""
        repeated = len(ids) - len(set(ids))
        if repeated:
            self.stats["duplicate_ids"] += repeated
            log.warning("%s: %d repeated ids in %s", self.platform_name, repeated, where)

    def _guard_cursor(self, seen: set[str], token: str | None, where: str) -> None:
        """Refuse a page cursor already followed in this listing (a paging loop)."""
        if token is None:
            return
        if token in seen:
            self.stats["repeat_cursor"] += 1
            raise TransientError(
                f"{self.platform_name} repeated a page cursor in {where}",
                platform=self.platform_name,
                code="repeat_cursor",
            )
        seen.add(token)


def skippable(platform: Platform, message: str) -> SkippableItem:
    """A :class:`SkippableItem` for ``platform``."""
    return SkippableItem(message, platform=platform.value, code="malformed_item")
