"""The Facebook webhook parser: forged bodies are refused, signed ones never crash it."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.webhook import (
    WebhookEvent,
    WebhookMalformed,
    WebhookRejected,
    handshake,
    parse_events,
)
from tests.property.settings import prop
from tests.property.strategies import JSON, dumps, mutated_json

SECRET = "webhook-property-secret"

GOOD = {
    "object": "page",
    "entry": [
        {
            "id": "104000000000001",
            "time": 1764000000,
            "changes": [
                {
                    "field": "feed",
                    "value": {
                        "item": "comment",
                        "verb": "add",
                        "comment_id": "2000000001_3000000001",
                        "post_id": "104000000000001_2000000001",
                        "parent_id": "104000000000001_2000000001",
                        "created_time": 1764000000,
                        "message": "hello",
                        "from": {"id": "1", "name": "A Parent"},
                    },
                }
            ],
        }
    ],
}


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _parse_signed(body: bytes) -> list[WebhookEvent] | None:
    """Parse a correctly signed body; None when it is refused as malformed."""
    try:
        return parse_events(body, sign(body), SECRET)
    except WebhookMalformed:
        return None


def _check(events: list[WebhookEvent] | None) -> None:
    for event in events or []:
        assert isinstance(event.comment_id, str) and event.comment_id
        assert isinstance(event.page_id, str) and isinstance(event.post_id, str)
        assert event.created_at is None or event.created_at.tzinfo is not None


def test_a_good_event_is_parsed() -> None:
    events = _parse_signed(dumps(GOOD))
    assert events is not None and [e.comment_id for e in events] == ["2000000001_3000000001"]


@prop(300)
@given(mutated_json(GOOD))
def test_signed_bodies_of_any_shape_give_events_or_a_clear_rejection(payload: Any) -> None:
    _check(_parse_signed(dumps(payload)))


@pytest.mark.parametrize(
    "payload",
    [
        {**GOOD, "entry": 5},
        {"object": "page", "entry": [{"id": "1", "changes": 7}]},
        {"object": "page", "entry": [{"changes": [{"field": "feed", "value": {
            "comment_id": "1_2", "created_time": 10**20}}]}]},
    ],
    ids=["entry-not-a-list", "changes-not-a-list", "created-time-out-of-range"],
)  # fmt: skip
def test_signed_but_oddly_typed_bodies_are_refused_as_malformed(payload: Any) -> None:
    _check(_parse_signed(dumps(payload)))


@prop(200)
@given(st.binary(max_size=300))
def test_signed_bytes_give_events_or_a_clear_rejection(body: bytes) -> None:
    _check(_parse_signed(body))


@prop(200)
@given(JSON, st.one_of(st.none(), st.text(max_size=80)))
def test_a_forged_or_missing_signature_is_always_refused(payload: Any, header: str | None) -> None:
    body = dumps(payload)
    if header == sign(body):  # pragma: no cover - hypothesis cannot guess an HMAC
        return
    with pytest.raises(WebhookRejected):
        parse_events(body, header, SECRET)


@prop(100)
@given(mutated_json(GOOD))
def test_a_signature_by_another_secret_or_over_other_bytes_is_refused(payload: Any) -> None:
    body = dumps(payload)
    with pytest.raises(WebhookRejected):
        parse_events(body, sign(body, "someone-else"), SECRET)
    with pytest.raises(WebhookRejected):
        parse_events(body + b" ", sign(body), SECRET)  # altered after signing
    with pytest.raises(WebhookRejected):
        parse_events(body, sign(body), "")  # no secret configured: nothing is trusted


@prop(200)
@given(st.dictionaries(st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "x"]),
                       st.text(max_size=20)))  # fmt: skip
def test_handshake_answers_only_the_right_token(params: dict[str, str]) -> None:
    try:
        challenge = handshake(params, "the-verify-token")
    except WebhookRejected:
        return
    assert params["hub.mode"] == "subscribe"
    assert params["hub.verify_token"] == "the-verify-token"
    assert challenge == params["hub.challenge"] != ""


def test_json_of_the_good_event_round_trips() -> None:
    assert json.loads(dumps(GOOD)) == GOOD


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The web app with an app secret set (the tests/web world)."""
    from pydantic import SecretStr

    from tests.web.conftest import build_env

    env = build_env(tmp_path_factory.mktemp("webhook"))
    env.runtime.settings = env.runtime.settings.model_copy(
        update={"facebook_app_secret": SecretStr(SECRET)}
    )
    yield env
    env.runtime.engine.dispose()


@prop(60)
@given(st.one_of(mutated_json(GOOD), JSON))
def test_the_webhook_endpoint_answers_every_signed_body_without_failing(
    web: Any, payload: Any
) -> None:
    body = dumps(payload)
    response = web.client().post(
        "/webhooks/facebook", content=body, headers={"X-Hub-Signature-256": sign(body)}
    )
    assert response.status_code in (200, 400), response.status_code
    forged = web.client().post(
        "/webhooks/facebook", content=body, headers={"X-Hub-Signature-256": sign(body, "x")}
    )
    assert forged.status_code == 403
