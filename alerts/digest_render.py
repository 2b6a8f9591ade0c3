"""Render a :class:`~alerts.digest.Digest` as an email (HTML with charts, plain text) or a page.

* :func:`render_digest_html` gives a complete HTML page. By default the charts
  are embedded as ``data:`` URIs, so the page stands alone (the web app's
  ``/digest`` view and ``schoolwatch digest --html``).
* :func:`digest_message` gives the email: ``multipart/alternative`` with a
  plain-text part and an HTML part whose charts are ``multipart/related``
  PNG parts referenced by ``cid:``, which Outlook and Gmail both show.

Templates: ``alerts/templates/digest_email.html`` and ``digest_email.txt``
(Jinja2; HTML autoescaped).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.charts import WIDTH_PX, category_chart, trend_chart
from alerts.digest import Digest
from core.models import Category

TEMPLATES = Path(__file__).parent / "templates"
CHARTS: tuple[str, ...] = ("trend", "categories")
"""Names of the digest's charts (also their ``cid`` local parts)."""

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def change(value: int) -> str:
    """ "+3", "−2" or "no change"."""
    if value > 0:
        return f"+{value}"
    if value < 0:
        return f"\u2212{-value}"
    return "no change"


def duration(minutes: float | None) -> str:
    """Minutes in plain words: "45 min", "3 h 20 min", "2 days 4 h", or "–" when unknown."""
    if minutes is None:
        return "\u2013"
    total = round(minutes)
    if total < 60:
        return f"{total} min"
    hours, mins = divmod(total, 60)
    if hours < 24:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    days, hours = divmod(hours, 24)
    unit = "day" if days == 1 else "days"
    return f"{days} {unit} {hours} h" if hours else f"{days} {unit}"


def local(value: dt.datetime | None, timezone: str) -> str:
    """A UTC time shown in the school's zone, e.g. "Mon 23 Nov, 07:00"."""
    if value is None:
        return "never"
    t = value.astimezone(ZoneInfo(timezone))
    return f"{t:%a} {t.day} {t:%b %Y, %H:%M}"


def long_date(value: dt.date) -> str:
    """ "1 September 2027"."""
    return f"{value.day} {value:%B %Y}"


env.filters["change"] = change
env.filters["duration"] = duration
env.filters["local"] = local
env.filters["long_date"] = long_date


def digest_charts(digest: Digest) -> dict[str, bytes]:
    """The digest's charts as PNG bytes, keyed by :data:`CHARTS` names."""
    flagged = [c for c in digest.by_category if c.key != Category.BENIGN.value]
    return {
        "trend": trend_chart(digest.trend, title="Flagged comments per week (last 12 weeks)"),
        "categories": category_chart(flagged, title="Flagged comments by category"),
    }


def digest_subject(digest: Digest) -> str:
    """The email subject, e.g. "Weekly digest 16–22 November 2026: 2 safeguarding concerns"."""
    bits = []
    if digest.safeguarding.count:
        n = digest.safeguarding.count
        bits.append(f"{n} safeguarding concern{'s' if n != 1 else ''}")
    if digest.open.alerts_overdue or digest.open.queue_overdue:
        bits.append("items overdue")
    if digest.review is not None:
        bits.append(
            "policy review due" if digest.review.days_left >= 0 else "policy review overdue"
        )
    suffix = ": " + ", ".join(bits) if bits else ""
    return f"{digest.school_name}: {digest.title}{suffix}"


def _context(digest: Digest, images: Mapping[str, str], recipient_name: str) -> dict[str, object]:
    flagged_cats = [c for c in digest.by_category if c.key != Category.BENIGN.value]
    return {
        "d": digest,
        "img": images,
        "width": WIDTH_PX,
        "recipient_name": recipient_name,
        "flagged_categories": flagged_cats,
        "benign": next(c for c in digest.by_category if c.key == Category.BENIGN.value),
        "subject": digest_subject(digest),
    }


def render_digest_html(
    digest: Digest,
    *,
    images: Mapping[str, str] | None = None,
    charts: Mapping[str, bytes] | None = None,
    recipient_name: str = "",
) -> str:
    """The digest as a complete HTML page.

    Args:
        digest: The digest.
        images: Image ``src`` per chart name (e.g. ``cid:`` links for email).
            When omitted the charts are drawn and embedded as ``data:`` URIs.
        charts: Pre-drawn chart PNGs to embed (saves drawing them twice).
        recipient_name: Name for the greeting; empty for no greeting.

    Returns:
        HTML (UTF-8 text). It contains no names of children and no comment text.
    """
    if images is None:
        pngs = charts if charts is not None else digest_charts(digest)
        images = {
            name: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
            for name, png in pngs.items()
        }
    return env.get_template("digest_email.html").render(_context(digest, images, recipient_name))


def render_digest_text(digest: Digest, *, recipient_name: str = "") -> str:
    """The digest as plain text (the email's text part)."""
    return env.get_template("digest_email.txt").render(_context(digest, {}, recipient_name))


def digest_message(
    digest: Digest,
    *,
    sender: str,
    to_name: str,
    to_email: str,
    message_id: str,
    charts: Mapping[str, bytes] | None = None,
    subject: str | None = None,
) -> EmailMessage:
    """The digest email: plain text, and HTML with the charts inline as ``cid:`` images.

    Args:
        digest: The digest.
        sender: The From header.
        to_name: Recipient's name (greeting and To header).
        to_email: Recipient's address.
        message_id: The Message-ID header (from the outbox row).
        charts: Pre-drawn charts; drawn here when omitted.
        subject: Subject line; :func:`digest_subject` when omitted.

    Returns:
        A ready-to-send message.
    """
    pngs = dict(charts) if charts is not None else digest_charts(digest)
    domain = message_id.strip("<>").partition("@")[2] or "schoolwatch.invalid"
    cids = {name: f"digest-{name}-{digest.week.lower()}@{domain}" for name in pngs}
    msg = EmailMessage()
    msg["Subject"] = subject or digest_subject(digest)
    msg["From"] = sender
    msg["To"] = f"{to_name} <{to_email}>" if to_name else to_email
    msg["Message-ID"] = message_id
    msg["Date"] = formatdate(localtime=False)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(render_digest_text(digest, recipient_name=to_name))
    html = render_digest_html(
        digest, images={n: f"cid:{c}" for n, c in cids.items()}, recipient_name=to_name
    )
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    for name, png in pngs.items():
        html_part.add_related(
            png, maintype="image", subtype="png", cid=f"<{cids[name]}>", filename=f"{name}.png"
        )
    return msg
