"""One-click acknowledgement links from alert emails.

``GET /ack/{token}`` only shows a confirmation page (mail scanners open
links); ``POST /ack/{token}`` acknowledges. No sign-in is needed: the signed,
expiring token is the credential, and the page shows no comment text.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from alerts.ack import AckPage, ack_page, handle_ack_post
from core.clock import utc_now
from storage.db import session_scope
from web.deps import PUBLIC, get_runtime
from web.views import render

router = APIRouter()


def _show(request: Request, page: AckPage, token: str) -> Response:
    request.state.user = None
    return render(request, "ack.html", {"page": page, "token": token}, status_code=page.status_code)


@router.get("/ack/{token}", dependencies=[Depends(PUBLIC)])
def ack_confirm(request: Request, token: str) -> Response:
    """The confirmation page (never acknowledges by itself)."""
    runtime = get_runtime(request)
    with session_scope(runtime.factory) as session:
        page = ack_page(session, runtime.settings, runtime.policy, token[:2000], utc_now())
    return _show(request, page, token)


@router.post("/ack/{token}", dependencies=[Depends(PUBLIC)])
def ack_post(request: Request, token: str) -> Response:
    """Acknowledge as the link's recipient."""
    runtime = get_runtime(request)
    with session_scope(runtime.factory) as session:
        page = handle_ack_post(session, runtime.settings, runtime.policy, token[:2000], utc_now())
    return _show(request, page, token)
