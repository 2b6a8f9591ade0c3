"""The Facebook webhook end to end: sandbox -> signed event -> web app -> pipeline -> outbox.

A comment posted on the sandbox's Page reaches the store and the DSL's outbox
without waiting for the polling interval; an edit that makes a stored comment
harmful is re-classified; a removal is marked. The measured time from posting
to the alert email is printed (the figure in docs/connectors.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from connectors.sandbox import Sandbox
from storage.tables import AlertRow, AuditEvent, CommentRow, Delivery
from tests.web.conftest import WebEnv, live_app

DEADLINE = 30.0  # seconds: generous, so a loaded CI machine does not fail it


def _wait_for(check: Callable[[], bool]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        if check():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError("the webhook did not bring the change through in time")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebEnv, Sandbox]]:
    with live_app(tmp_path_factory.mktemp("webhook"), webhook_secrets=True) as (env, sandbox, base):
        sandbox.subscribe_webhook(f"{base}/webhooks/facebook")
        yield env, sandbox


def _row(env: WebEnv, external_id: str) -> CommentRow | None:
    with env.runtime.factory() as session:
        return session.scalars(
            select(CommentRow).where(CommentRow.external_id == external_id)
        ).one_or_none()


def test_a_posted_comment_arrives_through_the_webhook_and_is_alerted(
    live: tuple[WebEnv, Sandbox],
) -> None:
    env, sandbox = live
    text = "Is anyone from school reading this? my friend says she wants to kill herself tonight"
    external_id = sandbox.post_comment("facebook", "p1", text, author_name="Worried Pupil")

    def alerted() -> bool:
        row = _row(env, external_id)
        if row is None:
            return False
        with env.runtime.factory() as session:
            alert_keys = [
                e.subject_id
                for e in session.scalars(
                    select(AuditEvent).where(AuditEvent.event.in_(("alert.raised", "alert.joined")))
                )
                if e.details.get("comment_id") == row.id
            ]
            sent = session.scalars(
                select(Delivery)
                .join(AlertRow, AlertRow.id == Delivery.alert_id)
                .where(
                    AlertRow.alert_key.in_(alert_keys),
                    Delivery.status == "sent",
                    Delivery.recipient_role == "dsl",
                )
            ).all()
        return bool(sent)

    seconds = _wait_for(alerted)
    print(f"webhook: posted -> DSL alert sent in {seconds:.2f}s")
    row = _row(env, external_id)
    assert row is not None and row.primary_category == "self_harm"


def test_an_edit_through_the_webhook_is_reclassified(live: tuple[WebEnv, Sandbox]) -> None:
    env, sandbox = live
    external_id = sandbox.post_comment("facebook", "p1", "Lovely photos, thank you all")
    _wait_for(lambda: _row(env, external_id) is not None)
    row = _row(env, external_id)
    assert row is not None and row.primary_category == "benign"
    sandbox.edit_comment(
        "facebook", external_id, "she wants to kill herself and nobody at home listens"
    )

    def reclassified() -> bool:
        row = _row(env, external_id)
        return row is not None and row.primary_category == "self_harm"

    _wait_for(reclassified)


def test_a_removal_through_the_webhook_is_marked(live: tuple[WebEnv, Sandbox]) -> None:
    env, sandbox = live
    external_id = sandbox.post_comment("facebook", "p1", "See you all at the fair")
    _wait_for(lambda: _row(env, external_id) is not None)
    sandbox.delete_comment("facebook", external_id)

    def marked() -> bool:
        row = _row(env, external_id)
        return row is not None and row.platform_state == "removed_on_platform"

    _wait_for(marked)
