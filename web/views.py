"""Template set-up and the small helpers templates use.

Jinja2 autoescapes everything: comment text and author names are always
shown as text. The only markup built in Python is :func:`highlight`, which
escapes every piece of the comment itself before wrapping matched words in
``<mark>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import Response

from alerts.router import category_label, role_label
from core.models import Category, Severity
from web.permissions import Perm

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

NOTICES: Mapping[str, str] = {
    "done": "Done. The result on the platform is shown below.",
    "queued": "Recorded. The platform action is waiting to be retried; it stays listed below.",
    "escalated": "Escalated: the DSL has been told.",
    "labelled": "Thank you: your judgement was recorded and will help train the classifier.",
    "reply_waiting": "Your reply is waiting for a second colleague to approve it.",
    "reply_approved": "Reply approved. The result on the platform is shown below.",
    "reply_rejected": "Reply rejected; it will not be posted.",
    "acknowledged": "Alert acknowledged. Escalation has stopped.",
    "already": "This alert was already acknowledged.",
    "retrying": "The action will be tried again now.",
    "bulk": "Bulk action recorded.",
    "user_added": "Account created.",
    "user_disabled": "Account disabled and signed out everywhere.",
    "user_unlocked": "Account unlocked.",
}


def _fmt_time(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return "–"
    return value.astimezone(tz).strftime("%a %d %b %Y, %H:%M")


def _fmt_duration(value: timedelta | None) -> str:
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days"


def _category_name(value: str | None) -> str:
    try:
        return category_label(Category(value or "benign"))
    except ValueError:
        return str(value)


_PLATFORM_NAMES = {"facebook": "Facebook", "youtube": "YouTube", "reddit": "Reddit"}


def _platform_name(value: str | None) -> str:
    return _PLATFORM_NAMES.get(value or "", str(value))


def _severity_name(value: int | None) -> str:
    try:
        return Severity(int(value or 0)).name.lower()
    except ValueError:
        return str(value)


def safe_link(url: str | None) -> str:
    """``url`` if it is an http(s) address, else "" (never ``javascript:`` and friends)."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def highlight(text: str, spans: Iterable[tuple[int, int]], words: Iterable[str] = ()) -> Markup:
    """The comment text, escaped, with matched words wrapped in ``<mark>``.

    Args:
        text: The comment text (untrusted).
        spans: Character ranges the classifier matched.
        words: Matched words without a span; every occurrence is marked.
    """
    ranges = [(max(0, a), min(len(text), b)) for a, b in spans if 0 <= a < b]
    lowered = text.lower()
    for word in words:
        needle = word.strip().lower()
        if len(needle) < 2:
            continue
        start = lowered.find(needle)
        while start != -1:
            ranges.append((start, start + len(needle)))
            start = lowered.find(needle, start + len(needle))
    merged: list[list[int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out: list[str] = []
    pos = 0
    for a, b in merged:
        out.append(str(escape(text[pos:a])))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def make_templates(tz: ZoneInfo) -> Jinja2Templates:
    """The Jinja2 environment with autoescaping and our filters."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.autoescape = True
    env.filters["when"] = lambda v: _fmt_time(v, tz)
    env.filters["duration"] = _fmt_duration
    env.filters["category"] = _category_name
    env.filters["severity"] = _severity_name
    env.filters["platform"] = _platform_name
    env.filters["role"] = role_label
    env.filters["safe_link"] = safe_link
    env.globals["Perm"] = Perm
    return templates


def allow_inline_styles(request: Request) -> None:
    """Send this response with inline styles allowed (``web.app.CSP_INLINE_STYLES``).

    Only for pages rendered by :mod:`alerts` (digest, governors' report), which
    style themselves inline and hold no comment text. Scripts stay forbidden.
    """
    request.state.inline_styles = True


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """Render a page with the shared context (user, CSRF token, notice, school)."""
    templates: Jinja2Templates = request.app.state.templates
    runtime = request.app.state.runtime
    ctx: dict[str, Any] = {
        "user": getattr(request.state, "user", None),
        "school": runtime.policy.school.name,
        "notice": NOTICES.get(request.query_params.get("notice", ""), ""),
        "path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
