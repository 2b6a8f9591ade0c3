"""The weekly digest page and the governors' termly report (page and PDF)."""

from __future__ import annotations

from sqlalchemy import select

from alerts.digest import IsoWeek
from alerts.digest_queries import digest_for_week
from core.clock import utc_now
from storage.db import session_scope
from storage.tables import AuditEvent
from tests.web.conftest import COMMENTS, WebEnv, login
from web.permissions import Perm, roles_with
from web.routes.reports import current_term, previous_term, recent_terms


def _this_week(env: WebEnv) -> IsoWeek:
    return IsoWeek.of(utc_now().astimezone(env.policy.tz).date())


def _assert_no_comment_text_or_names(text: str) -> None:
    for _, _, author, comment_text, _, _, _ in COMMENTS:
        assert comment_text[:20] not in text
        assert author not in text


def test_who_may_see_the_digest_and_the_reports() -> None:
    assert roles_with(Perm.DIGEST_VIEW) == (
        "dsl",
        "deputy_dsl",
        "headteacher",
        "chair_of_governors",
    )
    assert roles_with(Perm.REPORTS_VIEW) == ("headteacher", "chair_of_governors")


def test_digest_page_shows_the_week_asked_for(env: WebEnv) -> None:
    week = IsoWeek.of(env.comment("c10").created_at.astimezone(env.policy.tz).date())
    with session_scope(env.runtime.factory) as session:
        digest = digest_for_week(session, env.policy, week, utc_now())
    assert digest.comments.count > 0
    figure = f'font-weight:bold;color:#1f2328;">{digest.comments.count}</div>'
    for username in ("head", "dsl", "deputy", "chair"):
        client = env.client()
        login(client, username)
        page = client.get(f"/digest?week={week.label}")
        assert page.status_code == 200, username
        assert digest.title in page.text and figure in page.text
        assert f'value="{week.label}"' in page.text
        assert f"/digest?week={week.shift(-1).label}" in page.text
        next_link = f"/digest?week={week.shift(1).label}" in page.text
        assert next_link == (week < _this_week(env))  # no link to a week not started yet
        assert 'src="data:image/png;base64,' in page.text  # charts embedded
        assert 'aria-current="page">Digest' in page.text
        _assert_no_comment_text_or_names(page.text)
    for username in ("comms", "dpo", "admin"):
        client = env.client()
        login(client, username)
        assert client.get("/digest").status_code == 403, username


def test_digest_defaults_to_the_last_full_week_and_links_to_the_next(env: WebEnv) -> None:
    client = env.client()
    login(client, "head")
    page = client.get("/digest")
    last = _this_week(env).shift(-1)
    assert page.status_code == 200 and f'value="{last.label}"' in page.text
    assert f"/digest?week={_this_week(env).label}" in page.text


def test_digest_page_allows_inline_styles_but_never_scripts(env: WebEnv) -> None:
    client = env.client()
    login(client, "head")
    csp = client.get("/digest").headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp.split("script-src")[1][:20]
    assert "'unsafe-inline'" not in client.get("/queue").headers["content-security-policy"]


def test_a_bad_week_is_a_clear_400(env: WebEnv) -> None:
    client = env.client()
    login(client, "head")
    for week, words in (
        ("last-week", "is not an ISO week like 2026-W47"),
        ("2026-W99", "2026 has no week 99"),
        ("<script>x</script>", "for example 2026-W47"),
        (_this_week(env).shift(2).label, "has not started yet"),
    ):
        response = client.get("/digest", params={"week": week})
        assert response.status_code == 400, week
        assert words in response.text, week
        assert "<script>x" not in response.text
    assert client.get("/digest", params={"week": "2026w03"}).status_code == 200


def test_terms_run_back_to_back(env: WebEnv) -> None:
    import datetime as dt

    assert current_term(env.policy, dt.date(2026, 11, 21)) == "autumn-2026"
    assert current_term(env.policy, dt.date(2027, 1, 4)) == "spring-2027"
    assert current_term(env.policy, dt.date(2027, 7, 1)) == "summer-2027"
    assert previous_term("spring-2027") == "autumn-2026"
    assert previous_term("autumn-2026") == "summer-2026"
    assert recent_terms(env.policy, dt.date(2026, 11, 21), 4) == [
        "autumn-2026",
        "summer-2026",
        "spring-2026",
        "autumn-2025",
    ]


def test_reports_page_lists_terms_with_view_and_pdf(env: WebEnv) -> None:
    term = current_term(env.policy, utc_now().astimezone(env.policy.tz).date())
    for username in ("head", "chair"):
        client = env.client()
        login(client, username)
        page = client.get("/reports")
        assert page.status_code == 200, username
        assert f'href="/reports/termly?term={term}"' in page.text
        assert f'href="/reports/termly.pdf?term={term}"' in page.text
        assert 'aria-current="page">Reports' in page.text
    for username in ("dsl", "deputy", "comms", "dpo", "admin"):
        client = env.client()
        login(client, username)
        for path in ("/reports", "/reports/termly", "/reports/termly.pdf"):
            assert client.get(path).status_code == 403, (username, path)


def test_termly_report_as_a_page_and_a_pdf(env: WebEnv) -> None:
    term = current_term(env.policy, utc_now().astimezone(env.policy.tz).date())
    client = env.client()
    login(client, "chair")
    page = client.get(f"/reports/termly?term={term}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "report to governors" in page.text and "Comments read" in page.text
    assert "no comment text" in page.text
    _assert_no_comment_text_or_names(page.text)
    assert "style-src 'self' 'unsafe-inline'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    default = client.get("/reports/termly")
    assert default.status_code == 200 and "report to governors" in default.text
    pdf = client.get(f"/reports/termly.pdf?term={term}")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    disposition = pdf.headers["content-disposition"]
    assert disposition == f'attachment; filename="governors-report-{term}.pdf"'
    with session_scope(env.runtime.factory) as session:
        done = list(
            session.scalars(select(AuditEvent).where(AuditEvent.event == "report.downloaded"))
        )
    assert [(e.actor, e.details["term"]) for e in done] == [("chair", term)]


def test_a_bad_or_future_term_is_a_clear_400(env: WebEnv) -> None:
    client = env.client()
    login(client, "head")
    year = utc_now().year
    for path in ("/reports/termly", "/reports/termly.pdf"):
        bad = client.get(path, params={"term": "winter-2026"})
        assert bad.status_code == 400
        assert "is not a term like autumn-2026" in bad.text
        future = client.get(path, params={"term": f"autumn-{year + 1}"})
        assert future.status_code == 400 and "has not started yet" in future.text
