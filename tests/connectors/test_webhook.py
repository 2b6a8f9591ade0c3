"""Facebook Page webhooks: handshake, signature over raw bytes, events into the same batches."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from connectors.facebook import FacebookConnector
from connectors.sandbox import Sandbox
from connectors.sandbox.webhooks import feed_event, post_signed, sign
from connectors.webhook import (
    WebhookEvent,
    WebhookMalformed,
    WebhookRejected,
    handshake,
    parse_events,
    verify_signature,
)
from tests.connectors.sandbox_support import DictStore, make_connector, make_sandbox

SECRET = "sandbox-app-secret"
VERIFY = "sandbox-verify-token"


def test_signature_is_checked_on_the_raw_bytes() -> None:
    payload = feed_event(
        "1",
        verb="add",
        post_id="1_2",
        comment_id="2_3",
        parent_id="1_2",
        created_time=1790000000,
        message="Brilliant – thank you 😀",
    )
    body = json.dumps(payload).encode()
    assert b"\\u2013" in body  # sent ASCII-escaped, as Meta does
    verify_signature(body, sign(SECRET, body), SECRET)
    events = parse_events(body, sign(SECRET, body), SECRET)
    assert events == [
        WebhookEvent(
            page_id="1",
            verb="add",
            item="comment",
            comment_id="2_3",
            post_id="1_2",
            parent_id=None,
            created_at=events[0].created_at,
        )
    ]
    assert events[0].created_at is not None and events[0].created_at.timestamp() == 1790000000
    reparsed = json.dumps(json.loads(body), ensure_ascii=False).encode()
    with pytest.raises(WebhookRejected):  # same JSON, different bytes: not what was signed
        verify_signature(reparsed, sign(SECRET, body), SECRET)
    with pytest.raises(WebhookRejected):
        parse_events(body, sign("another-secret", body), SECRET)
    with pytest.raises(WebhookRejected):
        parse_events(body, None, SECRET)
    with pytest.raises(WebhookRejected):
        parse_events(body, "sha1=" + "0" * 40, SECRET)
    with pytest.raises(WebhookMalformed):
        parse_events(b"not json", sign(SECRET, b"not json"), SECRET)


def test_reply_events_carry_the_parent_comment() -> None:
    payload = feed_event(
        "1",
        verb="remove",
        post_id="1_2",
        comment_id="2_9",
        parent_id="2_3",
        created_time=1790000000,
    )
    body = json.dumps(payload).encode()
    (event,) = parse_events(body, sign(SECRET, body), SECRET)
    assert (event.verb, event.parent_id, event.post_id) == ("remove", "2_3", "1_2")


def test_handshake() -> None:
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY}
    assert handshake(params, VERIFY) == "1158201444"
    with pytest.raises(WebhookRejected):
        handshake({**params, "hub.verify_token": "guess"}, VERIFY)
    with pytest.raises(WebhookRejected):
        handshake({**params, "hub.mode": "unsubscribe"}, VERIFY)
    with pytest.raises(WebhookRejected):
        handshake(params, "")


class _Receiver:
    """A tiny web app that mounts the webhook functions, like the real one does."""

    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                params = dict(parse_qsl(urlsplit(self.path).query))
                try:
                    self._answer(200, handshake(params, VERIFY).encode())
                except WebhookRejected:
                    self._answer(403)

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    events = parse_events(raw, self.headers.get("X-Hub-Signature-256"), SECRET)
                except WebhookRejected:
                    receiver.refused += 1
                    self._answer(403)
                    return
                receiver.events.extend(events)
                self._answer(200)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/facebook"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def world() -> Iterator[tuple[Sandbox, _Receiver]]:
    box = make_sandbox()
    receiver = _Receiver()
    yield box, receiver
    receiver.stop()
    box.stop()


def test_events_flow_into_the_same_batches_as_polling(world: tuple[Sandbox, _Receiver]) -> None:
    sandbox, receiver = world
    sandbox.subscribe_webhook(receiver.url)
    fb = make_connector("facebook", sandbox)
    assert isinstance(fb, FacebookConnector)
    new = sandbox.post_comment("facebook", "fb-p1", "Is the fair still on? 😀")
    old = sorted(sandbox.comment_ids("facebook"))[0]
    sandbox.delete_comment("facebook", old)
    assert [(e.verb, e.comment_id) for e in receiver.events] == [("add", new), ("remove", old)]
    edited = sorted(sandbox.comment_ids("facebook"))[1]
    sandbox.edit_comment("facebook", edited, "Edited: all sorted now, thanks")
    (edit_event,) = receiver.events[2:]
    assert edit_event.verb == "edited"
    edit_batch = fb.batch_from_events([edit_event])
    assert [c.text for c in edit_batch.comments] == ["Edited: all sorted now, thanks"]
    del receiver.events[2:]
    batch = fb.batch_from_events(receiver.events)
    assert batch.cursor is None  # webhooks never move the polling cursor
    assert [c.external_id for c in batch.comments] == [new]
    assert batch.removed == (old,)
    pushed = batch.comments[0]
    polled = DictStore()
    polled.cycle(fb)
    assert polled.comments[new] == pushed
    assert pushed.text == "Is the fair still on? 😀"
    assert pushed.thread_title
    assert sandbox.webhooks.deliveries == [
        (receiver.url, "add", 200),
        (receiver.url, "remove", 200),
        (receiver.url, "edited", 200),
    ]


def test_forged_events_are_refused(world: tuple[Sandbox, _Receiver]) -> None:
    sandbox, receiver = world
    payload = feed_event(
        sandbox.world.page_id,
        verb="add",
        post_id="x",
        comment_id="y",
        parent_id="x",
        created_time=1790000000,
    )
    assert post_signed(receiver.url, payload, "not-the-app-secret") == 403
    assert receiver.refused == 1 and receiver.events == []
    with pytest.raises(ValueError):
        sandbox.subscribe_webhook(receiver.url, verify_token="wrong-token")


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "page", "entry": {"id": "1"}},
        {"object": "page", "entry": [{"id": "1", "changes": "feed"}]},
        {
            "object": "page",
            "entry": [
                {
                    "id": "1",
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "comment_id": "2_3",
                                "post_id": "1_2",
                                "verb": "add",
                                "created_time": 10**20,
                            },
                        }
                    ],
                }
            ],
        },
    ],
    ids=["entry-not-a-list", "changes-not-a-list", "created-time-out-of-range"],
)
def test_signed_but_odd_bodies_are_malformed(payload: dict[str, object]) -> None:
    body = json.dumps(payload).encode()
    with pytest.raises(WebhookMalformed):
        parse_events(body, sign(SECRET, body), SECRET)
