"""Render an outbox delivery into an email: subject, plain text and HTML.

Pure: no database, no clock, no network. :mod:`alerts.delivery` loads what a
template needs (the alert, and the comment only when the policy allows it)
into a :class:`~alerts.models.RenderContext` and calls :func:`render_delivery`.

Templates live in ``alerts/templates/``: ``<kind>.txt`` and ``<kind>.html``
for each kind of email. HTML templates are autoescaped, so text from a
comment can never inject markup into an email.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from alerts.models import DeliveryLike, EmailContent, RenderContext
from alerts.router import category_label, role_label
from core.clock import ensure_utc
from core.models import Category, Severity

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("alert", "escalation", "acknowledged", "summary", "test", "admin", "generic")
"""Delivery kinds with their own templates; any other kind uses ``generic``."""

_PLATFORMS = {"facebook": "Facebook", "youtube": "YouTube", "reddit": "Reddit"}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def local_time(value: str | datetime | None, timezone: str) -> str:
    """A time in the school's zone in plain words, e.g. "Sat 21 Nov 2026, 21:14 (UK time)".

    Args:
        value: An ISO 8601 string or a datetime (naive values are UTC).
        timezone: IANA zone name.

    Returns:
        The formatted time, or "" when ``value`` is empty or unreadable.
    """
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return ""
    zone = ZoneInfo(timezone)
    local = ensure_utc(value).astimezone(zone)
    label = "UK time" if timezone == "Europe/London" else timezone
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({label})"


def category_name(value: object) -> str:
    """Plain-English category name from a category value; unknown values pass through."""
    try:
        return category_label(Category(str(value)))
    except ValueError:
        return str(value)


def severity_name(value: object) -> str:
    """ "critical", "high", ... from a stored severity number."""
    try:
        return Severity(int(str(value))).name.lower()
    except ValueError:
        return str(value)


def platform_name(value: object) -> str:
    """ "Facebook", "YouTube" or "Reddit" from a platform value."""
    return _PLATFORMS.get(str(value), str(value).title())


_env.filters["local_time"] = local_time
_env.filters["category_name"] = category_name
_env.filters["severity_name"] = severity_name
_env.filters["platform_name"] = platform_name
_env.filters["role_label"] = role_label


def render_delivery(delivery: DeliveryLike, context: RenderContext) -> EmailContent:
    """Render one delivery row into an email.

    Args:
        delivery: The outbox row (or anything with ``kind``, ``recipient_role``,
            ``recipient_name``, ``subject`` and ``payload``).
        context: Links, the school's name and zone, and the comment when the
            policy allows it to be shown.

    Returns:
        The subject, plain-text part and HTML part.

    Example:
        >>> content = render_delivery(row, RenderContext(school_name="Hollybrook"))
        >>> content.subject
        '[URGENT] Self-harm concern on Facebook (ref 1a2b3c4d)'
    """
    kind = delivery.kind if delivery.kind in KINDS else "generic"
    payload: Mapping[str, Any] = delivery.payload or {}
    values: dict[str, Any] = {
        "kind": delivery.kind,
        "p": payload,
        "ctx": context,
        "recipient_name": delivery.recipient_name,
        "recipient_role": delivery.recipient_role,
        "tz": context.timezone,
    }
    subject = delivery.subject or default_subject(delivery.kind, payload)
    values["subject"] = subject
    text = _env.get_template(f"{kind}.txt").render(values)
    html = _env.get_template(f"{kind}.html").render(values)
    return EmailContent(subject=" ".join(subject.split())[:250], text=text, html=html)


def alert_ref(alert_key: str) -> str:
    """The short reference people quote for an alert (first 8 characters of its key)."""
    return alert_key[:8]


def default_subject(kind: str, payload: Mapping[str, Any]) -> str:
    """A subject line for a delivery that was recorded without one."""
    if kind in ("alert", "escalation", "acknowledged"):
        return alert_subject(payload)
    if kind == "summary":
        return "schoolwatch: summary of recent alerts"
    if kind == "test":
        return "schoolwatch test email"
    return "schoolwatch"


def alert_subject(payload: Mapping[str, Any]) -> str:
    """The subject every email about one incident shares (so clients thread them).

    It names the category and platform only: never the comment's words or names.
    """
    urgent = "[URGENT] " if payload.get("urgent") else ""
    ref = alert_ref(str(payload.get("alert_key", "")))
    return (
        f"{urgent}{category_name(payload.get('category', ''))} on "
        f"{platform_name(payload.get('platform', ''))} (ref {ref})"
    )
