"""Browser tests in real headless Chromium, against uvicorn and the platform sandbox.

Debian's ``/usr/bin/chromium`` driven by Playwright (never ``playwright
install``). Moderation goes through the real Facebook connector to the
sandbox's Graph API, so "hidden" means the sandbox reports it hidden. The
tests save screenshots of the main pages to ``docs/screenshots/``.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.sandbox import Sandbox
from monitor.pipeline import run_cycle
from tests.web.conftest import PASSWORD, ScriptedClassifier, WebEnv, live_app

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's /usr/bin/chromium is not installed"),
]


@dataclass
class Live:
    """A running web app over the sandbox."""

    env: WebEnv
    sandbox: Sandbox
    base: str

    def ext(self, scenario_id: str) -> str:
        return self.sandbox.external_id("facebook", scenario_id)

    def item(self, scenario_id: str) -> int:
        return self.env.item_id(self.ext(scenario_id))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live_app(tmp_path_factory.mktemp("browser")) as (env, sandbox, base):
        yield Live(env=env, sandbox=sandbox, base=base)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, live: Live, username: str, *, shot: str = "") -> None:
    page.goto(f"{live.base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    if shot:
        page.screenshot(path=str(SHOTS / shot))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def test_each_role_signs_in_to_its_start_page(live: Live, new_page: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    expected = {
        "dsl": "/queue",
        "deputy": "/queue",
        "head": "/queue",
        "comms": "/queue",
        "chair": "/queue",
        "dpo": "/queue",
        "admin": "/health",
    }
    for username, path in expected.items():
        page = new_page()
        sign_in(page, live, username, shot="login.png" if username == "dsl" else "")
        assert page.url.endswith(path), (username, page.url)
        nav = page.get_by_role("navigation", name="Main").inner_text()
        assert ("Users" in nav) == (username == "admin")
        assert ("Queue" in nav) == (username != "admin")


def test_comms_lead_works_the_queue_and_hides_a_comment(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "comms")
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    ext = live.ext("c07")
    assert live.sandbox.state("facebook", ext)["hidden"] is False
    page.get_by_role("link", name=f"Open item {live.item('c02')}").click()
    assert page.locator("mark", has_text="fat loser").count() == 1
    page.screenshot(path=str(SHOTS / "item.png"), full_page=True)
    page.goto(f"{live.base}/queue/{live.item('c07')}")
    page.get_by_label("Hide on the platform").check()
    page.get_by_label("Reason (kept in the audit log)").fill("Names a member of staff")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    assert "The result on the platform is shown below" in page.inner_text("main")
    assert "On platform: hidden" in page.inner_text("main")
    assert live.sandbox.state("facebook", ext)["hidden"] is True


def test_comms_lead_bulk_removes_spam(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "comms")
    page.goto(f"{live.base}/queue?category=spam")
    spam = ("c03", "c04", "c05")
    for scenario_id in spam:
        page.get_by_label(f"Select spam item {live.item(scenario_id)}").check()
    page.get_by_label("Action", exact=True).select_option("delete")
    page.get_by_role("button", name="Apply to ticked spam").click()
    page.wait_for_load_state()
    assert "Bulk action recorded" in page.inner_text("main")
    for scenario_id in spam:
        assert live.sandbox.state("facebook", live.ext(scenario_id))["deleted"] is True


def test_dsl_acknowledges_an_alert(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "dsl")
    page.goto(f"{live.base}/alerts")
    page.screenshot(path=str(SHOTS / "alerts.png"), full_page=True)
    before = page.get_by_role("button", name="Acknowledge").count()
    assert before >= 1
    page.get_by_role("button", name="Acknowledge").first.click()
    page.wait_for_load_state()
    assert "Alert acknowledged" in page.inner_text("main")
    assert page.get_by_role("button", name="Acknowledge").count() == before - 1


def test_comms_lead_never_sees_safeguarding_text(live: Live, new_page: Any) -> None:
    page = new_page(390, 844)  # a phone
    sign_in(page, live, "comms")
    page.goto(f"{live.base}/queue?status=all")
    main = page.inner_text("main")
    assert "Referred to the DSL" in main
    assert "hurt myself" not in page.content() and "Worried Child" not in page.content()
    page.screenshot(path=str(SHOTS / "queue-phone-comms.png"), full_page=True)


def test_dsl_reads_a_safeguarding_item(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "dsl")
    page.goto(f"{live.base}/queue/{live.item('c06')}")
    assert page.locator("mark", has_text="hurt myself").count() == 1


def test_comment_text_cannot_run_script(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "comms")
    page.goto(f"{live.base}/queue/{live.item('c08')}")
    assert page.get_by_text("<script>alert(1)</script>", exact=False).count() >= 1
    assert page.get_by_text('<img src=x onerror="alert(2)">').count() >= 1
    page.goto(f"{live.base}/queue")
    assert page.dialogs == []
    assert page.locator("main script").count() == 0
    assert page.locator("main img").count() == 0


class _Attacker(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:  # noqa: N802
        body = (
            f'<form method="post" action="{self.target}">'
            '<input type="hidden" name="action" value="delete">'
            '<input type="hidden" name="reason" value="pwned">'
            '<button type="submit">Win a prize</button></form>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_cross_site_form_post_is_refused(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "comms")
    ext = live.ext("c10")
    _Attacker.target = f"{live.base}/queue/{live.item('c10')}/action"
    evil = http.server.HTTPServer(("127.0.0.1", 0), _Attacker)
    thread = threading.Thread(target=evil.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        page.get_by_role("button", name="Win a prize").click()
        page.wait_for_load_state()
        assert "Form expired" in page.content() or "Please sign in" in page.content()
    finally:
        evil.shutdown()
        evil.server_close()
    assert live.sandbox.state("facebook", ext)["deleted"] is False


def test_role_escalation_attempts_fail(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "comms")
    for path in ("/users", "/audit"):
        response = page.goto(f"{live.base}{path}")
        assert response is not None and response.status == 403
        assert "Not available to your role" in page.inner_text("main")
    page.goto(f"{live.base}/queue")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    made = page.request.post(
        f"{live.base}/users",
        form={
            "csrf_token": token or "",
            "username": "sneaky",
            "role": "admin",
            "password": "sneaky-admin-password",
            "password_again": "sneaky-admin-password",
        },
    )
    assert made.status == 403
    fresh = new_page()
    fresh.goto(f"{live.base}/login")
    fresh.get_by_label("Username").fill("sneaky")
    fresh.get_by_label("Password").fill("sneaky-admin-password")
    fresh.get_by_role("button", name="Sign in").click()
    assert "username or password is wrong" in fresh.inner_text("main")


def test_admin_sees_source_health(live: Live, new_page: Any) -> None:
    runtime = live.env.runtime
    live.sandbox.faults.set("youtube", "server_error", count=20)
    live.sandbox.faults.set("reddit", "expired_token", count=20)
    for source in ("youtube", "reddit"):
        report = run_cycle(
            factory=runtime.factory,
            policy=runtime.policy,
            channel=runtime.policy.channel(source),
            connector=runtime.connector(source),
            classifier=ScriptedClassifier(runtime.policy),
        )
        assert report.status in ("retry", "paused"), report
    live.sandbox.faults.clear()
    page = new_page()
    sign_in(page, live, "admin")
    page.goto(f"{live.base}/health")
    main = page.inner_text("main")
    assert "paused" in main and "waiting" in main and "ok" in main
    assert "TransientError" in main and "AuthError" in main
    page.screenshot(path=str(SHOTS / "health.png"), full_page=True)
    page.goto(f"{live.base}/audit")
    assert page.get_by_role("link", name="Download as CSV").count() == 1
    page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)
    assert "hurt myself" not in page.content()


def test_keyboard_only_sign_in_and_skip_link(live: Live, new_page: Any) -> None:
    page = new_page()
    page.goto(f"{live.base}/login")
    # The username field has focus on arrival (autofocus).
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'")
    page.keyboard.type("comms")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live.base}/queue")
    page.wait_for_load_state()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_dsl_opens_an_alert_page_and_acknowledges_it(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "dsl")
    page.goto(f"{live.base}/alerts?status=all")
    page.get_by_role("link", name="Open alert").first.click()
    page.wait_for_load_state()
    assert "/alerts/" in page.url
    main = page.inner_text("main")
    assert "Who was told" in main and "Escalation" in main and "Comments" in main
    page.screenshot(path=str(SHOTS / "alert.png"), full_page=True)
    if page.get_by_role("button", name="Acknowledge").count():
        page.get_by_role("button", name="Acknowledge").click()
        page.wait_for_load_state()
        assert "Alert acknowledged" in page.inner_text("main")
    assert "Acknowledged by" in page.inner_text("main")
    assert page.dialogs == []


def test_head_reads_the_digest_and_the_chair_the_termly_report(live: Live, new_page: Any) -> None:
    page = new_page()
    sign_in(page, live, "head")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Digest").click()
    page.wait_for_load_state()
    heading = page.locator(".digest h1")
    assert heading.count() == 1
    # The digest's inline styles are allowed on this page (and only styles: no scripts).
    assert heading.evaluate("e => getComputedStyle(e).fontSize") == "22px"
    assert page.locator(".digest img").first.evaluate("e => e.naturalWidth") > 0
    page.screenshot(path=str(SHOTS / "digest-page.png"), full_page=True)
    chair = new_page()
    sign_in(chair, live, "chair")
    chair.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    chair.wait_for_load_state()
    chair.get_by_role("link", name="View").first.click()
    chair.wait_for_load_state()
    assert "report to governors" in chair.inner_text("body")
    assert chair.locator("h1").evaluate("e => getComputedStyle(e).fontSize") == "24px"
    chair.screenshot(path=str(SHOTS / "report.png"), full_page=True)
