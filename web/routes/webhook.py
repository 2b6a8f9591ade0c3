"""The Facebook Page webhook: a signed ping that new comments are waiting.

The signature is checked over the raw body before anything is parsed. A
valid event starts a polling cycle for the Facebook source in the
background (the cycle fetches through the normal cursor, so a webhook never
bypasses the pipeline). A forged request gets 403 and an audit entry that
holds no part of the body.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from connectors.webhook import WebhookMalformed, WebhookRejected, handshake, parse_events
from core.models import Platform
from storage import repo
from storage.db import session_scope
from web.deps import PUBLIC, get_runtime

log = logging.getLogger(__name__)
router = APIRouter()


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else ""


@router.get("/webhooks/facebook", dependencies=[Depends(PUBLIC)])
def webhook_verify(request: Request) -> Response:
    """Meta's subscription handshake."""
    runtime = get_runtime(request)
    token = _secret(runtime.settings.facebook_verify_token)
    try:
        challenge = handshake(dict(request.query_params), token)
    except WebhookRejected:
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(challenge)


def _poll_facebook(request: Request) -> None:
    from monitor.scheduler import poll_source

    runtime = get_runtime(request)
    for channel in runtime.policy.channels:
        if channel.platform is Platform.FACEBOOK and channel.enabled:
            try:
                poll_source(runtime, channel.id)
            except Exception as exc:  # the scheduler polls again anyway
                log.warning("webhook-triggered cycle for %s failed: %s", channel.id, type(exc))


@router.post("/webhooks/facebook", dependencies=[Depends(PUBLIC)])
async def webhook_receive(request: Request, background: BackgroundTasks) -> Response:
    """Verify the signature, then poll the Facebook source in the background."""
    runtime = get_runtime(request)
    body = await request.body()
    try:
        events = parse_events(
            body,
            request.headers.get("x-hub-signature-256"),
            _secret(runtime.settings.facebook_app_secret),
        )
    except WebhookRejected as exc:
        reason = str(exc)[:200]

        def audit() -> None:
            with session_scope(runtime.factory) as session:
                repo.record(
                    session,
                    school_id=runtime.policy.school.id,
                    event="webhook.rejected",
                    actor="facebook-webhook",
                    details={"reason": reason, "bytes": len(body)},
                )

        background.add_task(audit)
        log.warning("facebook webhook rejected (%d bytes)", len(body))
        return PlainTextResponse("forbidden", status_code=403, background=background)
    except WebhookMalformed:
        return PlainTextResponse("bad request", status_code=400)
    if events:
        background.add_task(_poll_facebook, request)
    return PlainTextResponse("ok", background=background)
