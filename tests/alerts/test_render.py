"""What alert emails say, and what they never say."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from alerts.delivery import deliver_pending
from alerts.models import CommentView, RenderContext
from alerts.render import KINDS, local_time, render_delivery
from config.policy import SchoolPolicy
from config.settings import Settings
from storage.db import session_scope
from storage.tables import Delivery

from .conftest import (
    DAY,
    NIGHT,
    KeywordClassifier,
    ListConnector,
    body_text,
    ingest,
    make_comment,
    read_outbox,
)


@dataclass
class Row:
    kind: str
    recipient_role: str = "dsl"
    recipient_name: str = "Mr Tom Brennan"
    subject: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


PAYLOAD = {
    "alert_key": "0123456789abcdef",
    "category": "bullying",
    "severity": 2,
    "platform": "facebook",
    "channel": "Hollybrook Primary School Facebook Page",
    "posted_at": "2026-11-24T09:58:00+00:00",
    "raised_at": "2026-11-24T10:00:00+00:00",
    "urgent": False,
    "reason": "Bullying or harassment: the DSL is told in working hours (Preston Grange 601).",
    "clause": "Aycliffe 3, 6; Preston Grange 601",
}


def test_html_is_escaped_and_text_is_not() -> None:
    nasty = '<script>alert("x")</script> & <a href="https://evil.example">click</a>'
    ctx = RenderContext(
        school_name="Hollybrook Primary School, Ashcombe",
        comment=CommentView(
            text=nasty, author_name="<b>Eve</b>", permalink="https://facebook.example/1"
        ),
        alert_url="https://sw.example/alerts/0123456789abcdef",
    )
    content = render_delivery(Row("alert", payload=PAYLOAD), ctx)
    assert "<script>" not in content.html and "&lt;script&gt;" in content.html
    assert "<b>Eve</b>" not in content.html
    assert nasty in content.text  # plain text shows the words as written
    assert content.subject == "Bullying or harassment on Facebook (ref 01234567)"
    assert "Tue 24 Nov 2026, 09:58 (UK time)" in content.text


@pytest.mark.parametrize("kind", [*KINDS, "digest-like-unknown"])
def test_every_kind_renders(kind: str) -> None:
    payload = {
        **PAYLOAD,
        "items": [PAYLOAD],
        "sent_at": PAYLOAD["raised_at"],
        "minutes": 15,
        "reminder": "Please look now.",
        "acknowledged_by": "tbrennan",
        "acknowledged_at": PAYLOAD["raised_at"],
        "problem": "Token expired",
        "fix": "Reconnect",
        "intro": "Hello",
        "lines": ["one", "two"],
    }
    content = render_delivery(Row(kind, payload=payload), RenderContext(school_name="Hollybrook"))
    assert content.subject and content.text.strip() and content.html.strip().endswith("</html>")
    assert "Mr Tom Brennan" in content.text
    assert "Hollybrook" in content.text


def test_local_time_follows_summer_time() -> None:
    assert (
        local_time("2026-06-01T12:00:00+00:00", "Europe/London")
        == "Mon 1 Jun 2026, 13:00 (UK time)"
    )
    assert local_time("", "Europe/London") == ""
    assert local_time("not a time", "Europe/London") == ""


def _emails_for(factory, settings, policy, text, *, at=NIGHT, staff=None):
    ingest(
        factory,
        policy,
        ListConnector([make_comment(1, text, at=at)]),
        at,
        classifier=KeywordClassifier(staff),
    )
    deliver_pending(factory, settings, policy, now=at + timedelta(days=3))
    return read_outbox(settings.outbox_dir)


def test_safeguarding_email_has_no_words_or_names_by_default(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    text = "[sexual] a man called Gary keeps messaging my daughter"
    mails = _emails_for(factory, settings, policy, text)
    assert len(mails) == 2
    for mail in mails:
        body = body_text(mail)
        for secret in ("Gary", "messaging", "Jordan Example", "facebook.example/hollybrook/posts"):
            assert secret not in body
        for fact in (
            "Sexual content or grooming",
            "critical",
            "Facebook",
            "(UK time)",
            "https://schoolwatch.hollybrook.example/alerts/",
        ):
            assert fact in body
        assert "Aycliffe 8" in body  # why the words are missing


def test_a_school_may_choose_to_include_the_text(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    chosen = policy.model_copy(
        update={
            "alerts": policy.alerts.model_copy(update={"safeguarding_email_includes_text": True})
        }
    )
    mails = _emails_for(factory, settings, chosen, "[self_harm] I want it all to stop")
    assert all("I want it all to stop" in body_text(m) for m in mails)
    assert all("Jordan Example" in body_text(m) for m in mails)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("[bullying] nobody likes that family", True),
        ("[defamation] the head is stealing the school fund money", True),
        ("[personal_data] they live at 4 Example Close", False),  # not copied into email
    ],
)
def test_other_alerts_show_the_comment_unless_it_holds_personal_data(
    factory, settings: Settings, policy: SchoolPolicy, text: str, shown: bool
) -> None:
    mails = _emails_for(factory, settings, policy, text, at=DAY)
    assert mails
    for mail in mails:
        body = body_text(mail)
        assert (text in body) is shown
        assert ("Jordan Example" in body) is shown
        assert text not in str(mail["Subject"])


def test_a_comment_naming_a_pupil_is_not_copied_into_email(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    ingest(
        factory,
        policy,
        ListConnector([make_comment(1, "[bullying] Oscar is a loser", at=DAY)]),
        DAY,
    )
    with session_scope(factory) as session:
        for row in session.scalars(select(Delivery)):
            row.payload = {**row.payload, "pupils_mentioned": 1}
    deliver_pending(factory, settings, policy, now=DAY)
    body = body_text(read_outbox(settings.outbox_dir)[0])
    assert "Oscar" not in body and "names a pupil" in body


def test_an_alert_email_recorded_with_few_facts_is_completed_from_its_alert(
    factory, settings: Settings, policy: SchoolPolicy
) -> None:
    # E.g. the web app's "escalate to the DSL" records only the key and category.
    ingest(factory, policy, ListConnector([make_comment(1, "[threat] you will regret it")]), NIGHT)
    with session_scope(factory) as session:
        for row in session.scalars(select(Delivery)):
            row.payload = {"alert_key": row.payload["alert_key"], "category": "threat"}
    deliver_pending(factory, settings, policy, now=NIGHT)
    mail = read_outbox(settings.outbox_dir)[0]
    body = body_text(mail)
    for fact in (
        "Threat (high)",
        "Facebook - Hollybrook Primary School Facebook Page",
        "Sat 21 Nov 2026, 21:13 (UK time)",
        "URGENT",
    ):
        assert fact in body
