"""Accessibility checks that need no browser: colour contrast and labelled form controls."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sqlalchemy import select

from storage.db import session_scope
from storage.tables import AlertRow
from tests.web.conftest import WebEnv, login
from web.views import STATIC


def _vars() -> dict[str, str]:
    css = (STATIC / "style.css").read_text()
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_meet_wcag_aa() -> None:
    v = _vars()
    v["white"] = "#ffffff"
    v["mark"] = "#ffe36e"
    pairs = [
        ("ink", "paper"),
        ("ink", "wash"),
        ("ink", "mark"),
        ("muted", "paper"),
        ("muted", "wash"),
        ("link", "paper"),
        ("link", "wash"),
        ("brand", "paper"),
        ("white", "brand"),
        ("white", "crit"),
        ("white", "high"),
        ("white", "med"),
        ("white", "low"),
        ("white", "info"),
        ("ok-ink", "ok-bg"),
        ("err-ink", "err-bg"),
        ("err-ink", "paper"),
    ]
    for fg, bg in pairs:
        ratio = contrast(v[fg], v[bg])
        assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}"


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a)


def test_every_form_control_has_a_label(env: WebEnv) -> None:
    with session_scope(env.runtime.factory) as session:
        key = session.scalars(select(AlertRow.alert_key)).first()
    pages = {
        "comms": ["/queue?category=spam", f"/queue/{env.item_id('c02')}"],
        "dsl": ["/alerts", f"/alerts/{key}", "/audit", "/health", "/queue", "/digest"],
        "head": ["/reports"],
        "admin": ["/users"],
    }
    checked = 0
    for user, paths in pages.items():
        client = env.client()
        login(client, user)
        for path in paths:
            parser = _Controls()
            parser.feed(client.get(path).text)
            for control in parser.controls:
                assert control.get("aria-label") or control.get("id") in parser.labels, (
                    path,
                    control,
                )
                checked += 1
    login_page = _Controls()
    login_page.feed(env.client().get("/login").text)
    assert all(c.get("id") in login_page.labels for c in login_page.controls)
    assert checked > 20
