"""The weekly digest: figures for a known week, week boundaries, themes, review reminder."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from alerts.digest import Digest, IsoWeek, themes_of
from alerts.digest_queries import digest_for_week
from alerts.digest_render import digest_message, render_digest_html, render_digest_text
from config.policy import Review, SchoolPolicy
from storage.db import session_scope

if TYPE_CHECKING:
    from tests.reports.conftest import Builder

W46 = IsoWeek(2026, 46)
DIGEST_NOW = dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)  # type: ignore[misc]


def make(factory: sessionmaker[Session], policy: SchoolPolicy) -> Digest:
    with session_scope(factory) as session:
        return digest_for_week(session, policy, W46, DIGEST_NOW)


def by_key(rows: tuple[object, ...]) -> dict[str, tuple[int, int]]:
    return {r.key: (r.count, r.previous) for r in rows}  # type: ignore[attr-defined]


def test_known_week_figures(
    known_week: Builder, factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    d = make(factory, policy)
    assert (d.week, d.start, d.end) == ("2026-W46", dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    assert (d.comments.count, d.comments.previous) == (9, 4)
    assert (d.flagged.count, d.flagged.previous) == (6, 2)
    assert (d.safeguarding.count, d.safeguarding.previous) == (1, 0)
    cats = by_key(d.by_category)
    assert cats["criticism"] == (2, 1)
    assert cats["spam"] == (1, 0)
    assert cats["self_harm"] == (1, 0)
    assert cats["bullying"] == (2, 0)
    assert cats["threat"] == (0, 1)  # the Monday-morning threat belongs to next week
    assert cats["benign"] == (3, 2)
    assert sum(c for c, _ in cats.values()) == 9
    platforms = {p.platform: p for p in d.by_platform}
    assert (platforms["facebook"].comments, platforms["facebook"].flagged) == (6, 3)
    assert (platforms["youtube"].comments, platforms["youtube"].flagged) == (1, 1)
    assert (platforms["reddit"].comments, platforms["reddit"].flagged) == (2, 2)
    assert (platforms["facebook"].comments_previous, platforms["reddit"].flagged_previous) == (3, 1)
    sev = by_key(d.by_severity)
    assert sev == {
        "critical": (1, 0),
        "high": (0, 1),
        "medium": (2, 0),
        "low": (1, 0),
        "info": (2, 1),
    }
    # Trend: 12 weeks ending with W46, benign left out.
    assert [w.week for w in d.trend][0] == "2026-W35"
    assert d.trend[-1].week == "2026-W46"
    assert d.trend[-1].counts == {"Safeguarding": 1, "Other harm": 2, "Spam": 1, "Criticism": 2}
    assert d.trend[-2].total == 2
    assert d.trend[-3].counts["Other harm"] == 1  # 2026-W44: the bullying comment still queued
    assert next(w for w in d.trend if w.week == "2026-W40").counts["Spam"] == 1
    # Incidents and response times.
    assert (d.incidents_opened.count, d.incidents_opened.previous) == (3, 1)
    assert d.incidents_closed.count == 2
    assert d.incidents_escalated == 1
    assert (d.ack_median_minutes, d.ack_count) == (40.0, 2)
    assert (d.act_median_minutes, d.act_count) == (75.0, 2)
    # Still open at 07:00 on Monday 16 November.
    assert d.open.queue_open == 2
    assert d.open.queue_overdue == 1
    assert d.open.alerts_unacknowledged == 1
    assert d.open.alerts_overdue == 1
    assert d.open.oldest_open_days == 18
    # Sources.
    src = {s.source_id: s for s in d.sources}
    assert src["facebook"].status == "ok" and src["facebook"].comments_this_week == 6
    assert (src["youtube"].quota_used, src["youtube"].quota_limit) == (350, 10000)
    assert src["reddit"].status == "failing" and src["reddit"].consecutive_failures == 3
    # Themes: parking came up twice this week and last week; the rest only once.
    assert [(t.label, t.count, t.weeks_seen, t.previous) for t in d.themes] == [
        ("Parking and traffic", 2, 2, 1)
    ]
    assert d.review is None  # next review is September 2027


def test_digest_round_trips_through_json(
    known_week: Builder, factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    d = make(factory, policy)
    assert Digest.from_dict(d.to_dict()) == d


def test_digest_text_and_html_have_no_names_or_comment_text(
    known_week: Builder, factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    d = make(factory, policy)
    html = render_digest_html(d, images={"trend": "cid:t", "categories": "cid:c"})
    text = render_digest_text(d)
    for body in (html, text):
        assert "hurt herself" not in body
        assert "Worried Parent" not in body
        assert "zigzags" not in body
        assert "Parking and traffic" in body
        assert "40 min" in body and "1 h 15 min" in body
    assert "Weekly digest 9–15 November 2026" in text
    assert 'src="cid:t"' in html


def test_email_has_text_part_and_inline_png_charts(
    known_week: Builder, factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    d = make(factory, policy)
    msg = digest_message(
        d,
        sender="schoolwatch <alerts@hollybrook.example>",
        to_name="Mrs Helen Carter",
        to_email="head@hollybrook.example",
        message_id="<abc@hollybrook.schoolwatch.invalid>",
    )
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in parsed.walk()]
    assert types[:4] == ["multipart/alternative", "text/plain", "multipart/related", "text/html"]
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 2
    html = next(p for p in parsed.walk() if p.get_content_type() == "text/html").get_content()
    for image in images:
        cid = str(image["Content-ID"]).strip("<>")
        assert f"cid:{cid}" in html
        data = image.get_content()
        assert data.startswith(b"\x89PNG") and len(data) > 5000


def test_week_boundaries_follow_school_time_zone() -> None:
    london = ZoneInfo("Europe/London")
    # 2026-W43 contains the end of British Summer Time (Sunday 25 October).
    start, end = IsoWeek(2026, 43).bounds(london)
    assert start == utc(2026, 10, 18, 23, 0)
    assert end == utc(2026, 10, 26, 0, 0)
    assert IsoWeek.parse("2026-W47").monday == dt.date(2026, 11, 16)
    assert IsoWeek.parse("2020w53").sunday == dt.date(2021, 1, 3)
    assert IsoWeek.parse("2026-W53").monday == dt.date(2026, 12, 28)  # 2026 has 53 weeks
    with pytest.raises(ValueError):
        IsoWeek.parse("2025-W53")
    assert IsoWeek(2027, 1).shift(-1) == IsoWeek(2026, 53)


def test_themes_are_labels_from_a_fixed_list() -> None:
    assert themes_of("Why is nobody told about INSET days?") == frozenset(
        {"Communication with parents", "Term dates and closures"}
    )
    assert themes_of("Jake Smith in 4O is horrible") == frozenset()


def test_review_reminder_when_review_is_near(
    factory: sessionmaker[Session], policy: SchoolPolicy
) -> None:
    near = policy.model_copy(
        update={
            "review": Review(last_reviewed=dt.date(2025, 12, 1), next_review=dt.date(2026, 12, 1))
        }
    )
    d = make(factory, near)
    assert d.review is not None and d.review.days_left == 15
    assert "due in 15 days" in render_digest_html(d, images={"trend": "", "categories": ""})
    late = policy.model_copy(
        update={
            "review": Review(last_reviewed=dt.date(2025, 11, 1), next_review=dt.date(2026, 11, 1))
        }
    )
    d = make(factory, late)
    assert d.review is not None and d.review.days_left == -15
    assert "POLICY REVIEW OVERDUE BY 15 DAYS" in render_digest_text(d)
