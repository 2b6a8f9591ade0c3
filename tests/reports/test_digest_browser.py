"""Render the digest in headless Chromium and keep a screenshot in docs/screenshots/digest.png."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.orm import Session, sessionmaker

from alerts.digest import IsoWeek
from alerts.digest_queries import digest_for_week
from alerts.digest_render import render_digest_html
from config.policy import SchoolPolicy
from storage.db import session_scope

if TYPE_CHECKING:
    from tests.reports.conftest import Builder

CHROMIUM = Path("/usr/bin/chromium")
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
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "digest.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium"),
]


def test_digest_renders_in_chromium(
    known_week: Builder, factory: sessionmaker[Session], policy: SchoolPolicy, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    now = dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC)
    with session_scope(factory) as session:
        digest = digest_for_week(session, policy, IsoWeek(2026, 46), now)
    page_file = tmp_path / "digest.html"
    page_file.write_text(render_digest_html(digest, recipient_name="Mrs Helen Carter"), "utf-8")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 720, "height": 900})
            page.goto(page_file.as_uri())
            heading = page.locator("h1").inner_text()
            # Both charts decoded and laid out at their full display width.
            widths = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.clientWidth])"
            )
            tiles = page.locator("td[width='25%']").all_inner_texts()
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert heading == "Weekly digest 9–15 November 2026"
    assert len(widths) == 2
    for complete, natural, shown in widths:
        assert complete and natural == 1200 and shown >= 580
    assert [t.split("\n")[:2] for t in tiles] == [
        ["Comments read", "9"],
        ["Comments flagged", "6"],
        ["Safeguarding concerns", "1"],
        ["Incidents opened", "3"],
    ]
    assert SCREENSHOT.read_bytes()[:4] == b"\x89PNG"
    assert SCREENSHOT.stat().st_size > 50_000
