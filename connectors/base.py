"""The connector plug point: how the pipeline talks to a platform.

A connector is built by ``connectors.registry`` and handed to the pipeline;
the pipeline never builds one. Connectors normalise platform objects into
:class:`core.models.Comment` at the edge and map their library's exceptions
into :mod:`core.errors` once.
"""

from __future__ import annotations

from typing import ClassVar, Protocol, runtime_checkable

from core.models import Action, ActionResult, Batch, Platform


@runtime_checkable
class Connector(Protocol):
    """A source of comments on one platform for one school.

    Attributes:
        platform: The platform this connector talks to.
        supports: The moderation actions it can perform. The router only
            offers auto-hide where ``Action.HIDE`` is supported.
    """

    platform: ClassVar[Platform]
    supports: ClassVar[frozenset[Action]]

    def fetch_since(self, cursor: str | None, *, limit: int = 500) -> Batch:
        """Fetch comments newer than ``cursor``, oldest first.

        Args:
            cursor: The opaque cursor returned by the previous batch, or
                ``None`` on the first run.
            limit: The most comments to return in one batch.

        Returns:
            A :class:`Batch` whose ``cursor`` is to be stored in the same
            transaction as its comments. Re-fetching from an older cursor
            returns the same comments again (the store ignores duplicates).

        Raises:
            AuthError: The credentials no longer work.
            TransientError: Retry later (``RateLimited`` says when).
            QuotaExhausted: No more calls until the quota resets.
        """
        ...

    def apply(self, action: Action, external_id: str, *, text: str = "") -> ActionResult:
        """Perform a moderation action on the platform.

        Args:
            action: One of ``supports``.
            external_id: The comment's platform id.
            text: The reply text, for ``Action.REPLY`` only.

        Returns:
            The platform's answer. A failed action raises instead.

        Raises:
            ConnectorError: The action failed (see :mod:`core.errors`).
        """
        ...


@runtime_checkable
class ReportsQuota(Protocol):
    """A connector whose platform has a daily quota (YouTube): the health page shows it."""

    def quota_status(self) -> tuple[str, int]:
        """The quota day (as the platform counts days) and the units spent on it."""
        ...
