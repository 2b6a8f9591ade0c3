"""The alert page (``/alerts/{alert_key}``) that alert emails link to."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from storage.db import session_scope
from storage.tables import AlertRow, AuditEvent
from tests.web.conftest import PASSWORD, WebEnv, csrf_of, login
from web.permissions import FULL, NONE, REFERRED, visibility


def _alert(env: WebEnv, category: str) -> AlertRow:
    with session_scope(env.runtime.factory) as session:
        row = session.scalars(select(AlertRow).where(AlertRow.category == category)).one()
        return row


def _events(env: WebEnv, event: str) -> list[AuditEvent]:
    with session_scope(env.runtime.factory) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)
            )
        )


def test_dsl_sees_the_whole_incident(env: WebEnv) -> None:
    alert = _alert(env, "self_harm")
    client = env.client()
    login(client, "dsl")
    page = client.get(f"/alerts/{alert.alert_key}")
    assert page.status_code == 200
    text = page.text
    assert "Self-harm concern" in text and "critical" in text and "urgent" in text
    assert "hurt myself" in text and "Worried Child" in text
    assert env.policy.roles["dsl"].name in text and env.policy.roles["deputy_dsl"].name in text
    assert "No step reached yet (2 steps)" in text and "next, at" in text
    assert "Not acknowledged yet" in text
    assert f'action="/alerts/{alert.alert_key}/ack"' in text
    assert f'href="/queue/{env.item_id("c06")}"' in text
    assert page.headers["cache-control"] == "no-store"


def test_incident_lists_each_comment_with_a_link_to_its_queue_item(env: WebEnv) -> None:
    alert = _alert(env, "bullying")
    client = env.client()
    login(client, "comms")  # bullying is the comms lead's to see in full
    page = client.get(f"/alerts/{alert.alert_key}")
    assert page.status_code == 200
    for external_id, words in (("c02", "everyone hates her"), ("c10", "just leave the school")):
        assert words in page.text
        assert f'href="/queue/{env.item_id(external_id)}"' in page.text
    # The stored XSS comment joined this incident: shown as text, never as markup.
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert 'onerror="alert(2)"' not in page.text
    assert f'href="/queue/{env.item_id("c08")}"' in page.text


def test_comms_lead_sees_a_safeguarding_alert_only_as_referred(env: WebEnv) -> None:
    alert = _alert(env, "self_harm")
    client = env.client()
    csrf = login(client, "comms")
    page = client.get(f"/alerts/{alert.alert_key}")
    assert page.status_code == 200
    text = page.text.split('<main id="main"', 1)[1]
    assert "Referred to the DSL" in text
    for hidden in (
        "hurt myself",
        "Worried Child",
        "Self-harm",
        "critical",
        "badge sev",
        "Facebook",
        env.policy.roles["dsl"].name,
        "Escalation",
        "/queue/",
        "/ack",
    ):
        assert hidden not in text, hidden
    assert "<time" in text  # the time is shown
    refused = client.post(f"/alerts/{alert.alert_key}/ack", data={"csrf_token": csrf})
    assert refused.status_code == 404
    assert _alert(env, "self_harm").status == "open"


def test_other_roles_see_only_their_own_alerts(env: WebEnv) -> None:
    keys = {c: _alert(env, c).alert_key for c in ("self_harm", "staff_allegation", "bullying")}
    expected = {
        "head": {"self_harm": 200, "staff_allegation": 404, "bullying": 200},  # about the head
        "chair": {"self_harm": 404, "staff_allegation": 200, "bullying": 404},
        "dpo": {"self_harm": 404, "staff_allegation": 404, "bullying": 404},
        "deputy": {"self_harm": 200, "staff_allegation": 200, "bullying": 200},
    }
    for username, codes in expected.items():
        client = env.client()
        login(client, username)
        got = {c: client.get(f"/alerts/{k}").status_code for c, k in keys.items()}
        assert got == codes, username
    chair = env.client()
    login(chair, "chair")
    assert "hit a child" in chair.get(f"/alerts/{keys['staff_allegation']}").text
    admin = env.client()
    login(admin, "admin")
    refused = admin.get(f"/alerts/{keys['bullying']}")
    assert refused.status_code == 403 and "Not available to your role" in refused.text


def test_each_full_view_of_a_safeguarding_alert_is_audited(env: WebEnv) -> None:
    alert = _alert(env, "self_harm")
    dsl = env.client()
    login(dsl, "dsl")
    for _ in range(2):
        assert dsl.get(f"/alerts/{alert.alert_key}").status_code == 200
    comms = env.client()
    login(comms, "comms")
    assert comms.get(f"/alerts/{alert.alert_key}").status_code == 200  # referred: no text
    assert dsl.get(f"/alerts/{_alert(env, 'bullying').alert_key}").status_code == 200
    views = _events(env, "safeguarding.viewed")
    assert [(v.actor, v.subject_type, v.subject_id) for v in views] == [
        ("dsl", "alert", alert.alert_key)
    ] * 2
    assert views[0].details["comment_ids"] == [env.comment("c06").id]
    assert all("hurt" not in str(v.details) for v in views)


def test_acknowledge_from_the_alert_page(env: WebEnv) -> None:
    alert = _alert(env, "self_harm")
    client = env.client()
    login(client, "deputy")
    page = client.get(f"/alerts/{alert.alert_key}")
    form = page.text.split(f'action="/alerts/{alert.alert_key}/ack"', 1)[1]
    assert 'name="back" value="alert"' in form.split("</form>")[0]
    assert client.post(f"/alerts/{alert.alert_key}/ack", data={"back": "alert"}).status_code == 403
    assert _alert(env, "self_harm").status == "open"  # no CSRF token: refused
    done = client.post(
        f"/alerts/{alert.alert_key}/ack", data={"csrf_token": csrf_of(form), "back": "alert"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/alerts/{alert.alert_key}?notice=acknowledged"
    after = client.get(done.headers["location"]).text
    assert "Alert acknowledged. Escalation has stopped." in after
    assert "Acknowledged by <strong>deputy</strong>" in after
    assert f'action="/alerts/{alert.alert_key}/ack"' not in after
    assert "not needed (acknowledged)" in after
    row = _alert(env, "self_harm")
    assert row.status == "acknowledged" and row.acknowledged_by == "deputy"
    acks = _events(env, "alert.acknowledged")
    assert [(a.actor, a.subject_id, a.details["via"]) for a in acks] == [
        ("deputy", alert.alert_key, "web")
    ]
    again = client.post(
        f"/alerts/{alert.alert_key}/ack", data={"csrf_token": csrf_of(after), "back": "alert"}
    )
    assert again.headers["location"] == f"/alerts/{alert.alert_key}?notice=already"


def test_escalation_steps_reached_are_shown_as_done(env: WebEnv) -> None:
    alert = _alert(env, "self_harm")
    with session_scope(env.runtime.factory) as session:
        row = session.get(AlertRow, alert.id)
        assert row is not None
        row.escalation_level = 1
    client = env.client()
    login(client, "dsl")
    text = client.get(f"/alerts/{alert.alert_key}").text
    assert "Step 1 of 2 reached" in text
    steps = re.findall(r"<strong>(done|next[^<]*|waiting)</strong>", text)
    assert steps[0] == "done" and steps[1].startswith("next")


def test_unknown_alert_is_404(env: WebEnv) -> None:
    client = env.client()
    login(client, "dsl")
    for key in ("0" * 32, "x" * 500, "%2e%2e"):
        response = client.get(f"/alerts/{key}")
        assert response.status_code == 404, key
        assert "There is nothing here" in response.text


def test_anonymous_user_signs_in_and_comes_back_to_the_alert(env: WebEnv) -> None:
    alert = _alert(env, "self_harm")
    client = env.client()
    first = client.get(f"/alerts/{alert.alert_key}")
    assert first.status_code == 303
    target = f"/alerts/{alert.alert_key}"
    assert first.headers["location"] == f"/login?next={quote(target, safe='')}"
    form = client.get(first.headers["location"])
    assert f'name="next" value="{target}"' in form.text
    signed_in = client.post(
        "/login",
        data={
            "username": "dsl",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": target,
        },
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == target
    assert "hurt myself" in client.get(target).text
    # A next= pointing off the site is never followed.
    other = env.client()
    form = other.get("/login?next=//evil.example/alerts")
    response = other.post(
        "/login",
        data={
            "username": "dsl",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "//evil.example/alerts",
        },
    )
    assert response.headers["location"] == "/"


def test_those_the_route_told_see_what_they_were_told_about(env: WebEnv) -> None:
    assert visibility("comms_lead", "self_harm") == REFERRED
    assert visibility("comms_lead", "self_harm", told=True) == FULL
    assert visibility("chair_of_governors", "self_harm", told=True) == FULL
    assert visibility("headteacher", "staff_allegation", headteacher_subject=True, told=True) == (
        NONE
    )
    alert = _alert(env, "self_harm")
    with session_scope(env.runtime.factory) as session:
        row = session.get(AlertRow, alert.id)
        assert row is not None
        holder = env.policy.roles["comms_lead"]
        row.recipients = [
            *row.recipients,
            {"role": "comms_lead", "name": holder.name, "email": holder.email, "fallback": False},
        ]
    client = env.client()
    login(client, "comms")
    page = client.get(f"/alerts/{alert.alert_key}").text
    assert "hurt myself" in page and "Referred to the DSL" not in page
    assert "Self-harm concern" in client.get("/alerts").text
    views = _events(env, "safeguarding.viewed")
    assert [(v.actor, v.subject_id) for v in views] == [("comms", alert.alert_key)]
