"""The weekly digest in the web app: ``GET /digest?week=2026-W47``.

The digest email links here. The page is the digest itself (rendered by
:func:`alerts.digest_render.render_digest_html`, charts embedded), inside the
web app's frame with a week picker. It holds counts only: no names and no
comment text, so the chair of governors may read it as well as the
headteacher and the safeguarding leads.
"""

from __future__ import annotations

import re
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from markupsafe import Markup

from alerts.digest import IsoWeek
from alerts.digest_queries import digest_for_week, last_full_week
from alerts.digest_render import render_digest_html
from config.policy import SchoolPolicy
from core.clock import utc_now
from storage.db import session_scope
from web.deps import DigestViewer, get_runtime
from web.views import allow_inline_styles, render

router = APIRouter()

_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL | re.IGNORECASE)


def parse_week(text: str, policy: SchoolPolicy, now: datetime) -> IsoWeek:
    """The week asked for, or the last full week when ``text`` is empty.

    Raises:
        HTTPException: 400 with a plain-words reason when ``text`` is not an ISO
            week such as ``2026-W47``, or the week has not started yet.
    """
    if not text.strip():
        return last_full_week(policy, now)
    try:
        week = IsoWeek.parse(text[:20])
    except ValueError as exc:
        raise HTTPException(
            400, f"{exc}. Give the week as year and week number, for example 2026-W47."
        ) from exc
    today = now.astimezone(policy.tz).date()
    if week.monday > today:
        raise HTTPException(400, f"Week {week.label} has not started yet.")
    return week


def digest_body(html: str) -> Markup:
    """The inside of the ``<body>`` of a rendered digest (to show inside the web app's page).

    The digest template autoescapes everything it prints and holds no comment
    text, so its markup is trusted.
    """
    found = _BODY.search(html)
    return Markup(found.group(1) if found else html)


@router.get("/digest")
def digest_page(request: Request, user: DigestViewer, week: str = "") -> Response:
    """The digest for ``week`` (default: the last full week)."""
    runtime = get_runtime(request)
    now = utc_now()
    chosen = parse_week(week, runtime.policy, now)
    with session_scope(runtime.factory) as session:
        digest = digest_for_week(session, runtime.policy, chosen, now)
    html = render_digest_html(digest)
    this_week = IsoWeek.of(now.astimezone(runtime.policy.tz).date())
    allow_inline_styles(request)
    return render(
        request,
        "digest.html",
        {
            "week": chosen,
            "body": digest_body(html),
            "previous": chosen.shift(-1).label,
            "following": chosen.shift(1).label if chosen < this_week else "",
        },
    )
