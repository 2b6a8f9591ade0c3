"""Alerts, acknowledgement links, the audit log, the health page, headers and the webhook."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from datetime import timedelta

from sqlalchemy import select

from alerts.ack import make_ack_token
from core.clock import utc_now
from storage.db import session_scope
from storage.tables import AlertRow, AuditEvent
from tests.web.conftest import WebEnv, login


def _open_alert(env: WebEnv, category: str) -> AlertRow:
    with session_scope(env.runtime.factory) as session:
        return session.scalars(
            select(AlertRow).where(AlertRow.category == category, AlertRow.status == "open")
        ).first()  # type: ignore[return-value]


def test_alerts_page_and_acknowledge(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "dsl")
    alert = _open_alert(env, "self_harm")
    page = client.get("/alerts").text
    assert "Self-harm concern" in page and "Step 0 of 2" in page
    assert "hurt myself" not in page  # no comment text on the alerts page
    response = client.post(f"/alerts/{alert.alert_key}/ack", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/alerts?notice=acknowledged"
    with session_scope(env.runtime.factory) as session:
        row = session.get(AlertRow, alert.id)
        assert row is not None and row.status == "acknowledged" and row.acknowledged_by == "dsl"
    done = client.get("/alerts?status=acknowledged").text
    assert "by dsl" in done
    again = client.post(f"/alerts/{alert.alert_key}/ack", data={"csrf_token": csrf})
    assert again.headers["location"] == "/alerts?notice=already"


def test_comms_lead_cannot_see_or_acknowledge_safeguarding_alerts(env: WebEnv) -> None:
    client = env.client()
    csrf = login(client, "comms")
    alert = _open_alert(env, "self_harm")
    assert "Self-harm concern" not in client.get("/alerts?status=all").text
    refused = client.post(f"/alerts/{alert.alert_key}/ack", data={"csrf_token": csrf})
    assert refused.status_code == 404
    assert _open_alert(env, "self_harm").status == "open"


def test_ack_link_confirms_before_acknowledging(env: WebEnv) -> None:
    alert = _open_alert(env, "self_harm")
    token = make_ack_token(
        env.runtime.settings, env.policy, alert.alert_key, "dsl@hollybrook.example", utc_now()
    )
    client = env.client()
    page = client.get(f"/ack/{token}")
    assert page.status_code == 200 and "Yes, I acknowledge" in page.text
    assert f'href="/alerts/{alert.alert_key}"' in page.text  # the alert page, after sign-in
    assert _open_alert(env, "self_harm") is not None  # GET changed nothing
    done = client.post(f"/ack/{token}")
    assert done.status_code == 200 and "Acknowledged" in done.text
    with session_scope(env.runtime.factory) as session:
        row = session.get(AlertRow, alert.id)
        assert row is not None and row.acknowledged_by == "dsl@hollybrook.example"


def test_bad_and_expired_ack_links_get_a_clear_page(env: WebEnv) -> None:
    alert = _open_alert(env, "self_harm")
    client = env.client()
    bad = client.get("/ack/not-a-real-token")
    assert bad.status_code == 400 and "not valid" in bad.text
    old = make_ack_token(
        env.runtime.settings,
        env.policy,
        alert.alert_key,
        "dsl@hollybrook.example",
        utc_now() - timedelta(days=30),
    )
    expired = client.post(f"/ack/{old}")
    assert expired.status_code == 410 and "expired" in expired.text
    assert _open_alert(env, "self_harm").status == "open"


def test_audit_log_filters_and_csv_export(env: WebEnv) -> None:
    client = env.client()
    login(client, "admin")
    page = client.get("/audit?event=alert.raised").text
    assert "alert.raised" in page and "auth.login" not in page.split("<table")[-1]
    export = client.get("/audit.csv?event=alert.")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ["time_utc", "actor", "event", "subject_type", "subject_id", "details"]
    assert rows[1:] and all(r[2].startswith("alert.") for r in rows[1:])
    injected = client.get("/audit", params={"actor": "x' OR 1=1 --"})
    assert injected.status_code == 200 and "0 events" in injected.text
    with session_scope(env.runtime.factory) as session:
        assert session.scalars(
            select(AuditEvent).where(AuditEvent.event == "audit.exported")
        ).first()


def test_csv_cells_cannot_become_formulas() -> None:
    from web.routes.audit import csv_cell

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("plain") == "plain"


def test_health_page_lists_every_source(env: WebEnv) -> None:
    client = env.client()
    login(client, "admin")
    page = client.get("/health").text
    for channel in env.policy.channels:
        assert channel.name in page
    assert "never" in page  # YouTube and Reddit were never polled in this world
    assert "<strong>ok</strong>" in page  # Facebook was


def test_security_headers(env: WebEnv) -> None:
    client = env.client()
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def test_webhook_rejects_forged_signatures_without_recording_the_body(env: WebEnv) -> None:
    client = env.client()
    body = json.dumps({"object": "page", "entry": [{"id": "1", "changes": []}]}).encode()
    forged = client.post(
        "/webhooks/facebook",
        content=body,
        headers={"X-Hub-Signature-256": "sha256=" + "0" * 64, "content-type": "application/json"},
    )
    assert forged.status_code == 403
    with session_scope(env.runtime.factory) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.event == "webhook.rejected")
        ).one()
    assert "page" not in json.dumps(event.details)


def test_webhook_handshake_and_signed_event(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import build_env

    env = build_env(tmp_path)
    settings = env.runtime.settings.model_copy(
        update={
            "facebook_app_secret": __import__("pydantic").SecretStr("test-app-secret"),
            "facebook_verify_token": __import__("pydantic").SecretStr("test-verify-token"),
        }
    )
    env.runtime.settings = settings
    client = env.client()
    ok = client.get(
        "/webhooks/facebook",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "test-verify-token",
            "hub.challenge": "12345",
        },
    )
    assert ok.status_code == 200 and ok.text == "12345"
    wrong = client.get(
        "/webhooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403
    page = env.connectors["facebook"]
    new = page.add_comment(post_id="p1", text="Great photos from the harvest festival!")  # type: ignore[attr-defined]
    page_id = env.policy.channel("facebook").account_id
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": page_id,
                    "changes": [
                        {
                            "field": "feed",
                            "value": {
                                "item": "comment",
                                "verb": "add",
                                "comment_id": new.external_id,
                                "post_id": "p1",
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    signature = hmac.new(b"test-app-secret", body, hashlib.sha256).hexdigest()
    signed = client.post(
        "/webhooks/facebook", content=body, headers={"X-Hub-Signature-256": f"sha256={signature}"}
    )
    assert signed.status_code == 200
    # The background cycle fetched the new comment through the normal pipeline.
    assert env.comment(new.external_id).text.startswith("Great photos")
