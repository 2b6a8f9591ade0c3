"""Meta-style Page webhooks sent by the sandbox: the handshake and signed ``feed`` events."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

log = logging.getLogger(__name__)


def sign(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def feed_event(
    page_id: str,
    *,
    verb: str,
    post_id: str,
    comment_id: str,
    parent_id: str,
    created_time: int,
    message: str | None = None,
    author: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One ``object=page`` payload with a single ``feed`` comment change."""
    value: dict[str, Any] = {
        "post_id": post_id,
        "comment_id": comment_id,
        "parent_id": parent_id,
        "created_time": created_time,
        "item": "comment",
        "verb": verb,
    }
    if verb != "remove":
        value["post"] = {"id": post_id, "status_type": "mobile_status_update", "is_published": True}
        if message is not None:
            value["message"] = message
        if author is not None:
            value["from"] = author
    return {
        "object": "page",
        "entry": [
            {"id": page_id, "time": created_time, "changes": [{"field": "feed", "value": value}]}
        ],
    }


def post_signed(url: str, payload: dict[str, Any], app_secret: str, timeout: float = 10.0) -> int:
    """POST ``payload`` to ``url`` signed like Meta does; returns the HTTP status."""
    body = json.dumps(payload).encode()  # ensure_ascii=True, as Meta escapes non-ASCII
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(app_secret, body),
            "User-Agent": "facebookexternalua",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def handshake(url: str, verify_token: str, timeout: float = 10.0) -> bool:
    """Do Meta's subscription handshake against ``url``; True when it echoes the challenge."""
    challenge = str(secrets.randbelow(10**9))
    query = urlencode(
        {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    )
    sep = "&" if "?" in url else "?"
    try:
        with urllib.request.urlopen(f"{url}{sep}{query}", timeout=timeout) as response:
            return int(response.status) == 200 and response.read().decode().strip() == challenge
    except urllib.error.HTTPError:
        return False


@dataclass
class Subscription:
    """A callback URL that passed the handshake."""

    url: str
    app_secret: str


@dataclass
class WebhookSender:
    """Delivers feed events to subscribed callbacks and records each delivery."""

    subscriptions: list[Subscription] = field(default_factory=list)
    deliveries: list[tuple[str, str, int]] = field(default_factory=list)  # (url, verb, status)

    def subscribe(self, url: str, verify_token: str, app_secret: str) -> None:
        """Handshake with ``url`` and, if it answers correctly, send it events.

        Raises:
            ValueError: The callback did not echo ``hub.challenge``.
        """
        if not handshake(url, verify_token):
            raise ValueError(f"webhook handshake failed for {url}")
        self.subscriptions.append(Subscription(url, app_secret))

    def send(self, payload: dict[str, Any], verb: str) -> None:
        """Deliver ``payload`` to every subscription (failures are logged, not raised)."""
        for sub in self.subscriptions:
            try:
                status = post_signed(sub.url, payload, sub.app_secret)
            except OSError as exc:
                log.warning("webhook delivery to %s failed: %s", sub.url, type(exc).__name__)
                status = 0
            self.deliveries.append((sub.url, verb, status))
