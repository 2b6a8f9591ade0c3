"""Facebook Page webhooks: the subscription handshake and signed ``feed`` events.

Pure functions, no web framework: the web app mounts them. The signature is
checked over the **raw request bytes** before anything is parsed::

    @app.get("/webhooks/facebook")
    def verify(request):
        return PlainTextResponse(handshake(dict(request.query_params), verify_token))

    @app.post("/webhooks/facebook")
    async def receive(request):
        body = await request.body()
        events = parse_events(body, request.headers.get("X-Hub-Signature-256"), app_secret)
        batch = facebook_connector.batch_from_events(events)   # then the normal pipeline
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.errors import SchoolwatchError


class WebhookRejected(SchoolwatchError):
    """A webhook request must be refused (answer 403): forged, unsigned or a bad handshake."""


class WebhookMalformed(SchoolwatchError):
    """A correctly signed body that is not a Page webhook payload (answer 400)."""


@dataclass(frozen=True)
class WebhookEvent:
    """One comment change from a Page ``feed`` webhook."""

    page_id: str
    verb: str  # add, edited, remove (hide/unhide passed through if Meta sends them)
    item: str  # comment (other items are passed through for the caller to ignore)
    comment_id: str
    post_id: str
    parent_id: str | None  # parent comment id; None when the parent is the post
    created_at: datetime | None


def handshake(params: Mapping[str, str], verify_token: str) -> str:
    """Answer Meta's ``GET ?hub.mode=subscribe&hub.challenge=...&hub.verify_token=...``.

    Returns:
        The ``hub.challenge`` value, to send back as the plain-text 200 body.

    Raises:
        WebhookRejected: Wrong mode or token (answer 403).
    """
    if not verify_token:
        raise WebhookRejected("no webhook verify token is configured")
    if params.get("hub.mode") != "subscribe":
        raise WebhookRejected("hub.mode is not subscribe")
    given = params.get("hub.verify_token", "")
    if not hmac.compare_digest(given.encode(), verify_token.encode()):
        raise WebhookRejected("hub.verify_token does not match")
    challenge = params.get("hub.challenge", "")
    if not challenge:
        raise WebhookRejected("hub.challenge missing")
    return challenge


def verify_signature(raw_body: bytes, signature_header: str | None, app_secret: str) -> None:
    """Check ``X-Hub-Signature-256: sha256=<hex>`` against HMAC-SHA256(app secret, raw body).

    Raises:
        WebhookRejected: The header is missing, malformed or does not match.
    """
    if not app_secret:
        raise WebhookRejected("no Facebook app secret is configured")
    if not signature_header or not signature_header.startswith("sha256="):
        raise WebhookRejected("X-Hub-Signature-256 header missing or malformed")
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    given = signature_header[len("sha256=") :].strip().lower()
    if not hmac.compare_digest(given, expected):
        raise WebhookRejected("X-Hub-Signature-256 does not match the body (forged or altered)")


def parse_events(
    raw_body: bytes, signature_header: str | None, app_secret: str
) -> list[WebhookEvent]:
    """Verify the signature on the raw body, then parse the ``feed`` comment changes.

    Raises:
        WebhookRejected: The signature is wrong (nothing is parsed).
        WebhookMalformed: The signed body is not a Page payload.
    """
    verify_signature(raw_body, signature_header, app_secret)
    try:
        payload = json.loads(raw_body)
    except ValueError as exc:
        raise WebhookMalformed("webhook body is not JSON") from exc
    if not isinstance(payload, dict) or payload.get("object") != "page":
        raise WebhookMalformed("webhook object is not 'page'")
    entries = payload.get("entry") or []
    if not isinstance(entries, list):
        raise WebhookMalformed("webhook 'entry' is not a list")
    events: list[WebhookEvent] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        page_id = str(entry.get("id", ""))
        changes = entry.get("changes") or []
        if not isinstance(changes, list):
            raise WebhookMalformed("webhook 'changes' is not a list")
        for change in changes:
            if not isinstance(change, dict) or change.get("field") != "feed":
                continue
            value = change.get("value")
            if isinstance(value, dict) and value.get("comment_id"):
                events.append(_event(page_id, value))
    return events


def _event(page_id: str, value: dict[str, Any]) -> WebhookEvent:
    post_id = str(value.get("post_id", ""))
    parent = value.get("parent_id")
    created = value.get("created_time")
    when: datetime | None = None
    if isinstance(created, int | float) and not isinstance(created, bool):
        try:
            when = datetime.fromtimestamp(created, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise WebhookMalformed("webhook created_time is out of range") from exc
    return WebhookEvent(
        page_id=page_id,
        verb=str(value.get("verb", "")),
        item=str(value.get("item", "")),
        comment_id=str(value["comment_id"]),
        post_id=post_id,
        parent_id=str(parent) if parent and parent != post_id else None,
        created_at=when,
    )
