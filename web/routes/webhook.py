"""The Facebook Page webhook: Meta tells us a comment was added, edited or removed.

The signature is checked over the raw body before anything is parsed. For a
valid event the named comments are fetched from the Graph API and go through
the same pipeline as polled ones (new ones stored and routed, edited ones
re-classified, removed ones marked), then a polling cycle runs as the safety
net and sends any alerts at once. A forged request gets 403 and an audit
entry that holds no part of the body.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import PlainTextResponse, Response

from connectors.webhook import (
    WebhookEvent,
    WebhookMalformed,
    WebhookRejected,
    handshake,
    parse_events,
)
from core.models import Platform
from storage import repo
from storage.db import session_scope
from web.deps import PUBLIC, get_runtime

if TYPE_CHECKING:
    from monitor.runtime import Runtime

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


def _ingest(runtime: Runtime, source_ids: list[str], events: list[WebhookEvent]) -> None:
    from connectors.facebook import FacebookConnector
    from monitor.pipeline import ingest_batch
    from monitor.scheduler import poll_source

    for source_id in source_ids:
        try:
            connector = runtime.connector(source_id)
            if isinstance(connector, FacebookConnector):
                ingest_batch(
                    factory=runtime.factory,
                    policy=runtime.policy,
                    channel=runtime.policy.channel(source_id),
                    connector=connector,
                    classifier=runtime.classifier(),
                    batch=connector.batch_from_events(events),
                )
            poll_source(runtime, source_id)
        except Exception as exc:  # noqa: BLE001 - the scheduler polls again anyway
            log.warning("webhook-triggered cycle for %s failed: %s", source_id, type(exc).__name__)


def sources_for(runtime: Runtime, page_ids: set[str]) -> list[str]:
    """The enabled Facebook channels whose Page sent these events."""
    return [
        c.id
        for c in runtime.policy.channels
        if c.platform is Platform.FACEBOOK
        and c.enabled
        and (not c.account_id or c.account_id in page_ids)
    ]


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
    sources = sources_for(runtime, {e.page_id for e in events}) if events else []
    if sources:
        background.add_task(_ingest, runtime, sources, events)
    return PlainTextResponse("ok", background=background)
