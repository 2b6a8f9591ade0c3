"""Logs never hold secrets, and never hold comment text or author names at INFO or above.

A demo-like flow runs with schoolwatch's own loggers at DEBUG and everything
else at INFO: all three platforms polled through the real connectors (with a
dead token and a 5xx burst on the way), platform actions, alert emails sent by
SMTP with a login, the web app signed into and browsed, and a forged webhook.
Every record (message, arguments and traceback) is then searched.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.sandbox import Sandbox, SandboxCredentials
from tests.reliability.smtp import MailServer
from tests.reliability.support import (
    START,
    STEP,
    RunLog,
    default_policy,
    final_delivery,
    make_runtime,
    make_settings,
    round_of_cycles,
)
from tests.web.conftest import PASSWORD, build_env, login

OWN = ("core", "config", "connectors", "classifiers", "monitor", "alerts", "storage", "web")
MARKER = "Quillfeather-7731"  # in every test comment's text
AUTHORS = ("Zebedee Marchbanks", "Ottoline Fairweather-Quince")
SECRETS = {
    "page_token": "EAAlogsecretPageToken0909",
    "app_secret": "logsecret-app-5150",
    "verify_token": "logsecret-verify-6161",
    "google_client_secret": "logsecret-google-7272",
    "google_refresh_token": "1//logsecret-refresh-8383",
    "reddit_client_secret": "logsecret-reddit-9494",
    "reddit_password": "logsecret-redditpw-0505",
}
SMTP_PASSWORD = "logsecret-smtp-1616"
SECRET_KEY = "logsecret-signing-key-2727-0123456789abcdefghijklmnop"
# The sandbox and the SMTP server are test stand-ins for the platforms and the
# mail server: their own request logs print what they were sent, as a real
# server's would.
NOT_OURS = ("connectors.sandbox", "mail.log")  # the stand-in platforms and mail server


def _text(record: logging.LogRecord) -> str:
    parts = [record.getMessage()]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


@pytest.fixture
def sandbox() -> Sandbox:
    policy = default_policy()
    box = Sandbox(
        None,
        credentials=SandboxCredentials(**SECRETS),
        page_id=policy.channel("facebook").account_id,
        channel_id=policy.channel("youtube").account_id,
        reddit_requests_per_window=10**6,
    )
    box.add_post("facebook", "p1", "Harvest festival")
    box.add_post("youtube", "v1", "Year 2 harvest song", privacy="unlisted")
    box.add_post("reddit", "s1", "Hollybrook Primary School parking", subreddit="Ashcombe")
    texts = [
        f"{MARKER} lovely assembly",
        f"{MARKER} I know where that teacher lives and she will regret it",
        f"{MARKER} my friend says her stepdad hits her and she is scared to go home",
        f"{MARKER} Hollybrook Primary is a joke, sack the head",
    ]
    for n, text in enumerate(texts):
        for platform, post in (("facebook", "p1"), ("youtube", "v1"), ("reddit", "s1")):
            box.world.add_comment(
                platform=platform,
                post_sid=post,
                text=text,
                author_name=AUTHORS[n % 2],
                expected=["benign", "threat", "abuse_disclosure", "criticism"][n],
            )
    box.start()
    yield box  # type: ignore[misc]
    box.stop()


def test_logs_hold_no_secrets_and_no_comment_text_or_names(
    caplog: pytest.LogCaptureFixture, sandbox: Sandbox, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO)
    for name in OWN:
        caplog.set_level(logging.DEBUG, logger=name)
    mail = MailServer(tmp_path)
    mail.handler.password = SMTP_PASSWORD
    mail.start()
    try:
        policy = default_policy()
        settings = mail.settings(make_settings(tmp_path / "run", secret_key=SECRET_KEY))
        runtime = make_runtime(settings, policy, sandbox)
        log = RunLog()
        sandbox.faults.set("facebook", "expired_token", count=1)
        sandbox.faults.set("youtube", "server_error", count=2)
        for n in range(4):
            round_of_cycles(runtime, START + n * STEP, log)
        final_delivery(runtime, START + 5 * STEP)
        assert sum(mail.handler.message_ids.values()) > 0
        assert log.resumed["facebook"] == 1
        # The web app, with the same kind of secrets in its settings.
        env = build_env(tmp_path / "web")
        env.runtime.settings = env.runtime.settings.model_copy(
            update={
                "secret_key": SecretStr(SECRET_KEY),
                "facebook_app_secret": SecretStr(SECRETS["app_secret"]),
                "smtp_password": SecretStr(SMTP_PASSWORD),
            }
        )
        client = env.client()
        login(client, "dsl")
        for item in ("c02", "c06", "c08"):
            assert client.get(f"/queue/{env.item_id(item)}").status_code == 200
        client.post("/login", data={"username": "dsl", "password": f"wrong-{PASSWORD}"})
        forged = client.post(
            "/webhooks/facebook",
            content=f'{{"object": "page", "text": "{MARKER}"}}'.encode(),
            headers={"X-Hub-Signature-256": "sha256=" + "0" * 64},
        )
        assert forged.status_code == 403
        runtime.engine.dispose()
        env.runtime.engine.dispose()
    finally:
        mail.stop()

    sandbox_log = "\n".join(_text(r) for r in caplog.records if r.name.startswith(NOT_OURS))
    if os.environ.get("LOG_HYGIENE_DEBUG"):
        levels = Counter((r.name, r.levelname) for r in caplog.records)
        print(levels, SECRETS["page_token"] in sandbox_log)
    assert SECRETS["page_token"] in sandbox_log, "the capture must see the requests' tokens"
    records = [r for r in caplog.records if not r.name.startswith(NOT_OURS)]
    assert len(records) > 20, "the flow logged almost nothing: the test would prove nothing"
    secrets = [*SECRETS.values(), SMTP_PASSWORD, SECRET_KEY, PASSWORD]
    for record in records:
        text = _text(record)
        for secret in secrets:
            assert secret not in text, (record.name, record.levelname, secret)
        if record.levelno >= logging.INFO:
            assert MARKER not in text, (record.name, record.levelname, text[:200])
            for author in AUTHORS:
                assert author not in text, (record.name, record.levelname, text[:200])
