"""Every link into the web app that an email carries opens a real page (no 404).

The emails are rendered by the real code (``alerts.compose.build_email`` and
``alerts.digest_render.digest_message``) from alerts the pipeline raised in
the test world, and each link is requested as the DSL.
"""

from __future__ import annotations

import html
import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import select

from alerts.compose import alert_facts, build_email
from alerts.digest_queries import digest_for_week, last_full_week
from alerts.digest_render import digest_message
from core.clock import utc_now
from storage.db import session_scope
from storage.tables import AlertRow, Delivery
from tests.web.conftest import WebEnv, login

_URL = re.compile(r"https?://[^\s\"'<>)]+")


def _parts(message: EmailMessage) -> str:
    out = []
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            content = part.get_content()
            assert isinstance(content, str)
            out.append(html.unescape(content))
    return "\n".join(out)


def _emails(env: WebEnv) -> dict[str, str]:
    """Each kind of email about an alert, and the digest, as text (both parts)."""
    settings, policy = env.runtime.settings, env.policy
    now = utc_now()
    out: dict[str, str] = {}
    with session_scope(env.runtime.factory) as session:
        rows = list(session.scalars(select(Delivery).where(Delivery.kind == "alert")))
        assert rows, "the pipeline recorded no alert emails"
        for row in rows:
            out[f"alert:{row.id}"] = _parts(build_email(session, settings, policy, row, now))
        first = rows[0]
        alert = session.get(AlertRow, first.alert_id)
        assert alert is not None
        for kind in ("escalation", "acknowledged"):
            extra = Delivery(
                school_id=first.school_id,
                alert_id=first.alert_id,
                dedupe_key=f"links:{kind}",
                kind=kind,
                recipient_role=first.recipient_role,
                recipient_name=first.recipient_name,
                recipient_email=first.recipient_email,
                subject=first.subject,
                message_id=f"<links-{kind}@hollybrook.example>",
                payload={**first.payload, "acknowledged_by": "dsl"},
            )
            out[kind] = _parts(build_email(session, settings, policy, extra, now))
        items = [alert_facts(session, policy, a) for a in session.scalars(select(AlertRow))]
        summary = Delivery(
            school_id=first.school_id,
            alert_id=None,
            dedupe_key="links:summary",
            kind="summary",
            recipient_role="dsl",
            recipient_name=first.recipient_name,
            recipient_email=first.recipient_email,
            subject="",
            message_id="<links-summary@hollybrook.example>",
            payload={"items": items},
        )
        out["summary"] = _parts(build_email(session, settings, policy, summary, now))
        digest = digest_for_week(session, policy, last_full_week(policy, now), now)
    out["digest"] = _parts(
        digest_message(
            digest,
            sender=settings.mail_from,
            to_name="Head",
            to_email="head@hollybrook.example",
            message_id="<links-digest@hollybrook.example>",
        )
    )
    return out


def test_every_web_app_link_in_an_email_opens_a_page(env: WebEnv) -> None:
    bases = {
        env.runtime.settings.web_base_url.rstrip("/"),
        env.policy.school.web_url.rstrip("/"),
    }
    emails = _emails(env)
    links: set[str] = set()
    for name, text in emails.items():
        found = {u.rstrip(".,") for u in _URL.findall(text)}
        ours = {u for u in found if any(u.startswith(b + "/") for b in bases)}
        assert ours, f"{name}: no link into the web app"
        links |= ours
    paths = {urlsplit(u).path.split("/")[1] for u in links}
    assert {"alerts", "ack", "digest"} <= paths
    client = env.client()
    login(client, "dsl")
    for link in sorted(links):
        parts = urlsplit(link)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        response = client.get(target)
        assert response.status_code == 200, (link, response.status_code)
    assert any(re.fullmatch(r"/alerts/[0-9a-f]{32}", urlsplit(u).path) for u in links)
