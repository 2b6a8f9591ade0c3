"""Small value types shared by the alert modules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class EmailContent:
    """A rendered email: subject line, plain-text part and HTML part."""

    subject: str
    text: str
    html: str


class DeliveryLike(Protocol):
    """What :func:`alerts.render.render_delivery` reads from a delivery row."""

    @property
    def kind(self) -> str: ...

    @property
    def recipient_role(self) -> str: ...

    @property
    def recipient_name(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class CommentView:
    """The parts of a comment an email may show (only when the policy allows)."""

    text: str
    author_name: str
    permalink: str
    thread_title: str = ""


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Everything a template needs that is not in the delivery row itself.

    Attributes:
        school_name: The school's name, for the footer.
        timezone: IANA zone name used to show times (the school's).
        alert_url: The secure page for the alert in the web app, if any.
        ack_url: The one-click acknowledgement link, if the email has one.
        ack_hours: How long ``ack_url`` stays valid.
        comment: The comment itself, or ``None`` when the email must not show it.
        withheld_reason: Why the comment is not shown (plain words), when it is not.
        acknowledged_by: Who acknowledged the alert, for follow-up emails.
        web_base_url: The web app's address.
    """

    school_name: str
    timezone: str = "Europe/London"
    alert_url: str | None = None
    ack_url: str | None = None
    ack_hours: int = 72
    comment: CommentView | None = None
    withheld_reason: str = ""
    acknowledged_by: str | None = None
    web_base_url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class DeliveryStats:
    """What one :func:`alerts.delivery.deliver_pending` run did."""

    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    summarised: int = 0
    errors: list[str] = field(default_factory=list)
    started_at: datetime | None = None

    @property
    def attempted(self) -> int:
        """Deliveries this run tried to send."""
        return self.sent + self.retrying + self.failed


def rowcount(result: object) -> int:
    """Rows an UPDATE changed (``CursorResult.rowcount``, typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)
