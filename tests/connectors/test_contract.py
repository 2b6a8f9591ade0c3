"""The contract every connector keeps, checked through its real client library on the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from connectors.cursor import Position, sort_key
from connectors.sandbox import Sandbox
from core.models import Comment, Platform
from tests.connectors.sandbox_support import (
    PLATFORMS,
    DictStore,
    expected_ids,
    make_connector,
    make_sandbox,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = make_sandbox()
    yield box
    box.stop()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_drain_delivers_everything_oldest_first(sandbox: Sandbox, platform: str) -> None:
    connector = make_connector(platform, sandbox)
    store = DictStore()
    store.cycle(connector, limit=7)
    assert store.errors == []
    assert store.ids == expected_ids(sandbox, platform)
    assert len(store.batches) > 3  # the backlog really was paged in small batches
    for batch in store.batches:
        keys = [sort_key(c) for c in batch.comments]
        assert keys == sorted(keys)
        assert len(batch.comments) <= 7 or not batch.more
    firsts = [sort_key(b.comments[0]) for b in store.batches if b.comments]
    assert firsts == sorted(firsts)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_comments_are_normalised(sandbox: Sandbox, platform: str) -> None:
    store = DictStore()
    store.cycle(make_connector(platform, sandbox))
    for c in store.comments.values():
        assert c.platform is Platform(platform)
        assert c.school_id == "hollybrook"
        assert c.created_at.utcoffset() == timedelta(0)
        assert c.permalink.startswith("https://")
        assert c.thread_title
        assert c.raw
    replies = [c for c in store.comments.values() if c.parent_id is not None]
    assert replies and all(r.parent_id in store.comments for r in replies)
    if platform == "reddit":
        assert any(
            c.external_id.startswith("t3_") and c.thread_id == c.external_id
            for c in store.comments.values()
        )
        assert all(c.external_id.startswith(("t1_", "t3_")) for c in store.comments.values())
    if platform == "facebook":
        some = next(iter(store.comments.values()))
        assert some.external_id == sandbox.platform_id("facebook", some_scenario_id(sandbox, some))


def some_scenario_id(sandbox: Sandbox, comment: Comment) -> str:
    """The scenario id the sandbox gave the comment (via its state)."""
    return str(sandbox.state(comment.platform.value, comment.external_id)["scenario_id"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_cursor_only_moves_forward(sandbox: Sandbox, platform: str) -> None:
    connector = make_connector(platform, sandbox)
    store = DictStore()
    for _ in range(3):
        store.cycle(connector, limit=5)
        sandbox.post_comment(
            platform, newest_post(platform), "Another comment about Hollybrook Primary School"
        )
    store.cycle(connector, limit=5)
    positions = [Position.decode(b.cursor).key for b in store.batches]
    assert len(positions) > 4
    assert positions == sorted(positions)
    assert store.ids == expected_ids(sandbox, platform)


def newest_post(platform: str) -> str:
    return {"facebook": "fb-p2", "youtube": "yt-v2", "reddit": "rd-s2"}[platform]


def oldest_post(platform: str) -> str:
    return {"facebook": "fb-p0", "youtube": "yt-v0", "reddit": "rd-s0"}[platform]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_refetch_from_an_old_cursor_is_harmless(sandbox: Sandbox, platform: str) -> None:
    store = DictStore()
    store.cycle(make_connector(platform, sandbox), limit=6)
    complete = dict(store.comments)
    old_cursor = store.batches[len(store.batches) // 2].cursor
    again = DictStore(cursor=old_cursor)
    again.cycle(make_connector(platform, sandbox), limit=6)  # a fresh process
    assert again.ids <= set(complete)
    assert again.ids  # it did re-deliver something
    new = sum(store.save(b) for b in again.batches)
    assert new == 0
    assert store.ids == expected_ids(sandbox, platform)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_new_comment_flows_through(sandbox: Sandbox, platform: str) -> None:
    connector = make_connector(platform, sandbox)
    store = DictStore()
    store.cycle(connector)
    external = sandbox.post_comment(
        platform, newest_post(platform), "Brilliant news for Hollybrook Primary School"
    )
    store.cycle(connector)
    key = f"t1_{external}" if platform == "reddit" else external
    assert key in store.ids
    assert store.ids == expected_ids(sandbox, platform)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_late_comment_on_an_old_post_is_not_missed(sandbox: Sandbox, platform: str) -> None:
    connector = make_connector(platform, sandbox, youtube_sweep_videos=1)
    store = DictStore()
    store.cycle(connector)
    post = oldest_post(platform)
    first = next(
        c
        for c in sandbox.world.visible_comments(platform)
        if c.post_pid == sandbox.platform_id(platform, post) and c.parent_pid is None
    )
    top = sandbox.post_comment(platform, post, "New on an old post")
    reply = sandbox.post_comment(
        platform,
        first.post_pid,
        "A new reply in an old thread",
        parent_id=first.pid,
        platform_ids=True,
    )
    for _ in range(4):  # YouTube's sweep reaches every video within a few polls
        store.cycle(connector)
    wanted = {top, reply} if platform != "reddit" else {f"t1_{top}", f"t1_{reply}"}
    assert wanted <= store.ids
    assert store.ids == expected_ids(sandbox, platform)


@pytest.mark.parametrize("search_all", [False, True])
def test_reddit_search_all_finds_mentions_in_other_subreddits(
    sandbox: Sandbox, search_all: bool
) -> None:
    from config.policy import Channel
    from connectors.polling import PollingConnector
    from connectors.registry import build_connector
    from tests.connectors.sandbox_support import SCHOOL, SUBREDDIT

    elsewhere = sandbox.add_post(
        "reddit", "rd-far", "Hollybrook School uniform swap", subreddit="UKParenting"
    )
    channel = Channel(
        id="reddit",
        platform="reddit",
        name="Reddit",
        subreddits=(SUBREDDIT,),
        search_all=search_all,
    )
    connector = build_connector(channel, SCHOOL, sandbox.settings(page_size=50))
    store = DictStore()
    assert isinstance(connector, PollingConnector)
    store.cycle(connector)
    assert (f"t3_{elsewhere}" in store.ids) is search_all
