"""Moderation actions through the real client libraries, as the sandbox sees them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config.policy import Channel
from connectors.registry import build_connector
from connectors.sandbox import Sandbox
from connectors.youtube import YouTubeConnector
from core.errors import PermissionMissing, QuotaExhausted, SkippableItem
from core.models import Action
from tests.connectors.sandbox_support import (
    SCHOOL,
    SUBREDDIT,
    DictStore,
    make_connector,
    make_sandbox,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = make_sandbox()
    yield box
    box.stop()


def _first(sandbox: Sandbox, platform: str, *, reply: bool = False) -> str:
    c = next(
        c for c in sandbox.world.visible_comments(platform) if (c.parent_pid is not None) == reply
    )
    return f"t1_{c.pid}" if platform == "reddit" else c.pid


def test_facebook_hide_unhide_delete_reply(sandbox: Sandbox) -> None:
    fb = make_connector("facebook", sandbox)
    target = _first(sandbox, "facebook")
    assert fb.apply(Action.HIDE, target).ok
    assert sandbox.state("facebook", target)["hidden"] is True
    store = DictStore()
    store.cycle(fb)
    assert store.comments[target].raw["is_hidden"] is True  # hidden comments are still read
    assert fb.apply(Action.UNHIDE, target).ok
    assert sandbox.state("facebook", target)["hidden"] is False
    result = fb.apply(Action.REPLY, target, text="Thank you, we will look into this.")
    reply_id = result.detail.removeprefix("reply ")
    assert sandbox.world.comments[reply_id].parent_pid == target
    assert fb.apply(Action.DELETE, target).ok
    assert sandbox.state("facebook", target)["deleted"] is True
    assert sandbox.state("facebook", target)["history"] == ["hide", "unhide", "delete"]
    with pytest.raises(SkippableItem):
        fb.apply(Action.HIDE, target)  # gone: one item to skip, not a broken source


def test_youtube_moderation_statuses_and_delete(sandbox: Sandbox) -> None:
    yt = make_connector("youtube", sandbox)
    target = _first(sandbox, "youtube")
    yt.apply(Action.HOLD_FOR_REVIEW, target)
    assert sandbox.state("youtube", target)["status"] == "heldForReview"
    store = DictStore()
    store.cycle(yt)
    assert target in store.ids  # held comments are watched too
    assert store.comments[target].raw["snippet"]["moderationStatus"] == "heldForReview"
    yt.apply(Action.APPROVE, target)
    assert sandbox.state("youtube", target)["status"] == "published"
    yt.apply(Action.HIDE, target)
    assert sandbox.state("youtube", target)["status"] == "rejected"
    assert target not in sandbox.comment_ids("youtube")
    reply = _first(sandbox, "youtube", reply=True)
    yt.apply(Action.DELETE, reply)
    assert sandbox.state("youtube", reply)["deleted"] is True
    assert sandbox.youtube.units_used >= 4 * 50
    with pytest.raises(SkippableItem):
        yt.apply(Action.UNHIDE, reply)  # deleted: one item to skip, not a broken source


def test_youtube_reports_private_videos(sandbox: Sandbox) -> None:
    yt = make_connector("youtube", sandbox)
    assert isinstance(yt, YouTubeConnector)
    DictStore().cycle(yt)
    assert len(yt.videos) == 4
    assert yt.private_videos == 1
    assert yt.check()["private"] == 1


def test_youtube_polling_leaves_quota_for_moderation(sandbox: Sandbox) -> None:
    channel = Channel(
        id="youtube",
        platform="youtube",
        name="Channel",
        account_id=sandbox.world.channel_id,
        daily_quota=160,
    )
    settings = sandbox.settings(page_size=5, youtube_reserve_units=100)
    yt = build_connector(channel, SCHOOL, settings)
    assert isinstance(yt, YouTubeConnector)
    store = DictStore()
    for _ in range(5):
        store.cycle(yt)
    assert any(isinstance(e, QuotaExhausted) for e in store.errors)
    assert yt.units_used <= 60  # polling stopped at its budget
    assert sandbox.youtube.units_used <= 60
    target = _first(sandbox, "youtube")
    yt.apply(Action.HIDE, target)  # the reserve pays for moderation
    assert sandbox.state("youtube", target)["status"] == "rejected"
    yt.apply(Action.APPROVE, target)
    with pytest.raises(QuotaExhausted) as caught:
        yt.apply(Action.HIDE, target)
    assert caught.value.retry_after > 0
    # the quota count rides in the cursor, so a restarted process remembers it
    YouTubeConnector._QUOTA.clear()
    again = build_connector(channel, SCHOOL, settings)
    with pytest.raises(QuotaExhausted):
        again.fetch_since(store.cursor)


def test_reddit_remove_and_approve_where_moderator(sandbox: Sandbox) -> None:
    rd = make_connector("reddit", sandbox)
    target = _first(sandbox, "reddit")
    rd.apply(Action.HIDE, target)
    assert sandbox.state("reddit", target)["removed"] is True
    rd.apply(Action.APPROVE, target)
    assert sandbox.state("reddit", target)["removed"] is False
    assert sandbox.state("reddit", target)["history"] == ["remove", "approve"]
    with pytest.raises(PermissionMissing):
        rd.apply(Action.DELETE, target)
    submission = sandbox.external_id("reddit", "rd-s0")
    assert submission.startswith("t3_")
    assert rd.apply(Action.HIDE, submission).ok  # submissions can be removed too


def test_reddit_refuses_to_moderate_elsewhere() -> None:
    box = make_sandbox(moderated_subreddits=())
    try:
        rd = make_connector("reddit", box)
        target = _first(box, "reddit")
        with pytest.raises(PermissionMissing) as caught:
            rd.apply(Action.HIDE, target)
        assert f"r/{SUBREDDIT.lower()}" in caught.value.fix
        assert box.state("reddit", target)["history"] == []
    finally:
        box.stop()
