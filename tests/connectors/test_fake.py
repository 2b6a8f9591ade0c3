"""The scenario format, the Hollybrook demo scenario and the in-memory ScenarioConnector."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Connector
from connectors.fake import (
    FacebookScenarioConnector,
    ModeratedRedditScenarioConnector,
    RedditScenarioConnector,
    Scenario,
    ScenarioConnector,
    YouTubeScenarioConnector,
    demo_scenario_path,
)
from core.clock import set_clock
from core.errors import AuthError, ConfigError, ConnectorError, RateLimited
from core.models import HARMFUL, Action, Category, Comment, Platform

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scenarios.md"
UK_PHONE = re.compile(r"\b0\d{3}\s?\d{3}\s?\d{3,4}\b|\b07\d{3}\s?\d{6}\b")
LINK = re.compile(r"\b[\w.-]+\.(?:com|co\.uk|org|net|io|uk|ly|me)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo() -> Scenario:
    return Scenario.load(demo_scenario_path())


@pytest.fixture(scope="module")
def demo_raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(demo_scenario_path().read_text(encoding="utf-8"))
    return data


def fetch_all(
    conn: ScenarioConnector, cursor: str | None = None, limit: int = 500
) -> list[Comment]:
    out: list[Comment] = []
    while True:
        batch = conn.fetch_since(cursor, limit=limit)
        out.extend(batch.comments)
        cursor = batch.cursor
        if not batch.more:
            return out


def write(tmp_path: Path, data: Any, name: str = "scenario.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# -- the demo scenario ---------------------------------------------------------------------


def test_demo_scenario_is_packaged_and_loads(demo: Scenario) -> None:
    assert demo_scenario_path().name == "demo.json"
    assert demo_scenario_path().parent.name == "scenarios"
    assert demo.school_id == "hollybrook"
    assert 200 <= len(demo.comments) <= 260
    assert Counter(p.platform for p in demo.posts) == {
        Platform.FACEBOOK: 12,
        Platform.YOUTUBE: 5,
        Platform.REDDIT: 4,
    }


def test_demo_covers_every_category(demo: Scenario) -> None:
    counts = Counter(c.expected for c in demo.comments)
    for category in HARMFUL:
        assert counts[category] >= 4, category
    total = len(demo.comments)
    assert counts[Category.BENIGN] / total >= 0.5
    assert 0.12 <= counts[Category.CRITICISM] / total <= 0.2
    assert counts[Category.BENIGN] > counts[Category.CRITICISM] > max(counts[c] for c in HARMFUL)


def test_demo_youtube_privacy(demo: Scenario) -> None:
    videos = demo.posts_for(Platform.YOUTUBE)
    private = {v.id for v in videos if v.privacy == "private"}
    unlisted = {v.id for v in videos if v.privacy == "unlisted"}
    assert len(private) == 1 and len(unlisted) == 4
    commented = {c.post_id for c in demo.comments_for(Platform.YOUTUBE)}
    assert not private & commented
    assert unlisted <= commented


def test_demo_spans_the_month_and_has_threads(demo: Scenario) -> None:
    times = [c.created_at for c in demo.comments]
    assert min(times) >= datetime(2026, 10, 19, tzinfo=UTC)
    assert max(times) < datetime(2026, 11, 19, tzinfo=UTC)
    assert max(times) >= datetime(2026, 11, 17, tzinfo=UTC)
    replies = [c for c in demo.comments if c.parent_id is not None]
    assert len(replies) >= 30
    assert {c.platform for c in replies} == set(Platform)
    school_replies = [c for c in demo.comments if c.author_id == "fb-page-hollybrook"]
    assert len(school_replies) >= 15
    assert all(c.expected is Category.BENIGN for c in school_replies)


def test_demo_keeps_to_fictional_numbers_and_links(demo: Scenario) -> None:
    texts = [c.text for c in demo.comments] + [p.text for p in demo.posts]
    numbers = [m.group(0) for t in texts for m in UK_PHONE.finditer(t)]
    assert numbers, "the demo should contain personal phone numbers to catch"
    assert all(n.replace(" ", "").startswith("07700900") for n in numbers), numbers
    assert not [m.group(0) for t in texts for m in LINK.finditer(t)]
    assert sum(".example" in t for t in texts) >= 8


def test_demo_has_hard_negatives(demo: Scenario) -> None:
    benign = [c.text.lower() for c in demo.comments if c.expected is Category.BENIGN]
    for phrase in ("killed it", "dying to", "murdered", "will kill me", "nearly died"):
        assert any(phrase in t for t in benign), phrase


def test_demo_ids_are_unique(demo_raw: dict[str, Any]) -> None:
    ids = [p["id"] for p in demo_raw["posts"]] + [c["id"] for c in demo_raw["comments"]]
    assert len(ids) == len(set(ids))


def test_docs_example_is_a_valid_scenario(tmp_path: Path) -> None:
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks
    scenario = Scenario.load(write(tmp_path, json.loads(blocks[0])))
    assert scenario.school_id == "hollybrook"
    assert len(scenario.comments) == 3


# -- the connector ---------------------------------------------------------------------------


def test_constructor_picks_the_platform_class(demo: Scenario) -> None:
    fb = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    yt = ScenarioConnector(demo, Platform.YOUTUBE, "hollybrook")
    rd = ScenarioConnector(demo, Platform.REDDIT, "hollybrook")
    mod = ScenarioConnector(demo, Platform.REDDIT, "hollybrook", moderated=True)
    assert isinstance(fb, FacebookScenarioConnector)
    assert isinstance(yt, YouTubeScenarioConnector)
    assert isinstance(rd, RedditScenarioConnector)
    assert isinstance(mod, ModeratedRedditScenarioConnector)
    for conn in (fb, yt, rd, mod):
        assert isinstance(conn, Connector)
    assert fb.supports == {Action.HIDE, Action.UNHIDE, Action.DELETE}
    assert yt.supports == {Action.HOLD_FOR_REVIEW, Action.APPROVE, Action.DELETE}
    assert rd.supports == frozenset()
    assert mod.supports == {Action.DELETE, Action.APPROVE}
    with pytest.raises(ValueError):
        ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook", moderated=True)


def test_fetch_maps_comments(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    comments = fetch_all(conn)
    assert len(comments) == len(demo.comments_for(Platform.FACEBOOK))
    first = comments[0]
    assert first.school_id == "hollybrook"
    assert first.platform is Platform.FACEBOOK
    assert first.thread_id == "fb-p01"
    assert first.thread_title.startswith("Harvest Festival")
    assert "Ashcombe Food Bank" in first.thread_title
    assert first.permalink == (
        f"https://www.facebook.example/hollybrook/posts/fb-p01?comment_id={first.external_id}"
    )
    assert first.raw["expected"] in {c.value for c in Category}
    assert first.created_at.tzinfo is not None
    reply = next(c for c in comments if c.parent_id is not None)
    assert reply.parent_id in {c.external_id for c in comments}
    yt = fetch_all(ScenarioConnector(demo, Platform.YOUTUBE, "hollybrook"))[0]
    assert yt.permalink.startswith("https://www.youtube.example/watch?v=yt-v")
    rd = fetch_all(ScenarioConnector(demo, Platform.REDDIT, "hollybrook"))[0]
    assert rd.permalink.startswith("https://www.reddit.example/r/Ashcombe/comments/rd-s")


def test_fetch_is_oldest_first_forward_only_and_paged(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    everything = conn.fetch_since(None, limit=10_000)
    assert not everything.more
    keys = [(c.created_at, c.external_id) for c in everything.comments]
    assert keys == sorted(keys)
    assert {c.platform for c in everything.comments} == {Platform.FACEBOOK}

    first = conn.fetch_since(None, limit=25)
    assert len(first.comments) == 25 and first.more
    second = conn.fetch_since(first.cursor, limit=25)
    assert len(second.comments) == 25
    assert second.comments[0].created_at >= first.comments[-1].created_at
    assert not {c.external_id for c in first.comments} & {c.external_id for c in second.comments}
    assert json.loads(second.cursor or "") == {
        "t": second.comments[-1].raw["created_at"],
        "id": second.comments[-1].external_id,
    }

    paged = fetch_all(conn, limit=7)
    assert [c.external_id for c in paged] == [c.external_id for c in everything.comments]

    last = conn.fetch_since(everything.cursor, limit=5)
    assert last.comments == () and not last.more
    assert last.cursor == everything.cursor


def test_exact_limit_reports_no_more(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.REDDIT, "hollybrook")
    total = len(demo.comments_for(Platform.REDDIT))
    batch = conn.fetch_since(None, limit=total)
    assert len(batch.comments) == total and not batch.more
    batch = conn.fetch_since(None, limit=total - 1)
    assert batch.more


def test_refetch_from_older_cursor_returns_the_same(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.YOUTUBE, "hollybrook")
    first = conn.fetch_since(None, limit=10)
    again = conn.fetch_since(None, limit=10)
    assert [c.external_id for c in again.comments] == [c.external_id for c in first.comments]
    mid = conn.fetch_since(first.cursor, limit=10)
    mid_again = conn.fetch_since(first.cursor, limit=10)
    assert mid.comments == mid_again.comments
    assert mid.cursor == mid_again.cursor


def test_bad_cursor_and_limit(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    for cursor in ("not json", '{"t": "yesterday", "id": "x"}', '{"id": "x"}'):
        with pytest.raises(ConnectorError, match="cursor"):
            conn.fetch_since(cursor)
    with pytest.raises(ConnectorError, match="limit"):
        conn.fetch_since(None, limit=0)


def test_add_comment_is_served_after_the_cursor(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    done = conn.fetch_since(None)
    set_clock(lambda: datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    try:
        added = conn.add_comment(
            post_id="fb-p05", text="Still parking on the zigzags this morning", expected="criticism"
        )
    finally:
        set_clock(None)
    assert added.created_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert added.raw["expected"] == "criticism"
    nxt = conn.fetch_since(done.cursor)
    assert [c.external_id for c in nxt.comments] == [added.external_id]
    assert nxt.comments[0].thread_id == "fb-p05"
    reply = conn.add_comment(
        post_id="fb-p05",
        text="agreed",
        parent_id=added.external_id,
        created_at=datetime(2026, 11, 20, 9, 5, tzinfo=UTC),
        comment_id="fb-new-reply",
    )
    assert conn.fetch_since(nxt.cursor).comments == (reply,)
    with pytest.raises(ValueError, match="duplicate"):
        conn.add_comment(post_id="fb-p05", text="again", comment_id="fb-new-reply")
    with pytest.raises(ValueError, match="no facebook post"):
        conn.add_comment(post_id="yt-v01", text="wrong platform")
    with pytest.raises(ValueError, match="no comment"):
        conn.add_comment(post_id="fb-p05", text="orphan", parent_id="fb-p01-c01")
    yt = ScenarioConnector(demo, Platform.YOUTUBE, "hollybrook")
    private = next(p.id for p in demo.posts_for(Platform.YOUTUBE) if p.privacy == "private")
    with pytest.raises(ValueError, match="private"):
        yt.add_comment(post_id=private, text="hello")


def test_added_comment_does_not_leak_between_connectors(demo: Scenario) -> None:
    one = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    two = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    one.add_comment(post_id="fb-p01", text="hello")
    assert one.comment_count() == two.comment_count() + 1


def test_facebook_actions(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    target = "fb-p04-c02"
    result = conn.apply(Action.HIDE, target)
    assert result.ok and result.action is Action.HIDE and result.external_id == target
    assert conn.state(target) == "hidden"
    assert target in {c.external_id for c in fetch_all(conn)}  # hidden comments are still served
    conn.apply(Action.UNHIDE, target)
    assert conn.state(target) == "visible"
    with pytest.raises(ConnectorError, match="not supported") as info:
        conn.apply(Action.HOLD_FOR_REVIEW, target)
    assert info.value.code == "unsupported"
    with pytest.raises(ConnectorError) as missing:
        conn.apply(Action.HIDE, "no-such-comment")
    assert missing.value.code == "not_found"
    assert conn.actions == [(Action.HIDE, target), (Action.UNHIDE, target)]


def test_deleted_comments_are_reported_removed(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    target = "fb-p01-c08"
    conn.apply(Action.DELETE, target)
    assert conn.state(target) == "deleted"
    served: list[str] = []
    removed: list[str] = []
    cursor = None
    while True:
        batch = conn.fetch_since(cursor, limit=6)
        served += [c.external_id for c in batch.comments]
        removed += batch.removed
        cursor = batch.cursor
        if not batch.more:
            break
    assert target not in served and removed == [target]
    assert len(served) == len(demo.comments_for(Platform.FACEBOOK)) - 1
    with pytest.raises(ConnectorError):
        conn.apply(Action.HIDE, target)


def test_youtube_and_reddit_actions(demo: Scenario) -> None:
    yt = ScenarioConnector(demo, Platform.YOUTUBE, "hollybrook")
    yt.apply(Action.HOLD_FOR_REVIEW, "yt-v01-c05")
    assert yt.state("yt-v01-c05") == "held"
    yt.apply(Action.APPROVE, "yt-v01-c05")
    assert yt.state("yt-v01-c05") == "approved"
    yt.apply(Action.DELETE, "yt-v01-c09")
    assert "yt-v01-c09" not in {c.external_id for c in fetch_all(yt)}
    with pytest.raises(ConnectorError):
        yt.apply(Action.HIDE, "yt-v01-c05")

    rd = ScenarioConnector(demo, Platform.REDDIT, "hollybrook")
    for action in Action:
        with pytest.raises(ConnectorError):
            rd.apply(action, "rd-s01-c03")
    mod = ScenarioConnector(demo, Platform.REDDIT, "hollybrook", moderated=True)
    assert mod.apply(Action.DELETE, "rd-s01-c03").ok
    assert mod.state("rd-s01-c03") == "deleted"
    assert rd.state("rd-s01-c03") == "visible"


def test_fail_next_raises_then_recovers(demo: Scenario) -> None:
    conn = ScenarioConnector(demo, Platform.FACEBOOK, "hollybrook")
    conn.fail_next(RateLimited("slow down", platform="facebook", retry_after=30), times=2)
    for _ in range(2):
        with pytest.raises(RateLimited) as info:
            conn.fetch_since(None)
        assert info.value.retry_after == 30
    assert conn.fetch_since(None, limit=3).comments
    conn.fail_next(AuthError("token expired", platform="facebook"))
    with pytest.raises(AuthError):
        conn.fetch_since(None)
    assert conn.fetch_since(None, limit=3).comments
    assert conn.fetch_calls == 5
    with pytest.raises(ValueError):
        conn.fail_next(AuthError("x"), times=0)


# -- validation ------------------------------------------------------------------------------


def minimal() -> dict[str, Any]:
    return {
        "scenario_version": 1,
        "school_id": "hollybrook",
        "description": "tiny",
        "posts": [
            {
                "platform": "facebook",
                "id": "p1",
                "title": "Hello",
                "text": "World",
                "created_at": "2026-10-20T08:00:00Z",
                "author_name": "Hollybrook Primary School",
            },
            {
                "platform": "youtube",
                "id": "v1",
                "title": "Secret",
                "text": "",
                "created_at": "2026-10-20T08:00:00Z",
                "privacy": "private",
                "author_name": "Hollybrook Primary School",
            },
        ],
        "comments": [
            {
                "platform": "facebook",
                "id": "c1",
                "post_id": "p1",
                "parent_id": None,
                "author_id": "u1",
                "author_name": "A Parent",
                "text": "Lovely",
                "created_at": "2026-10-20T09:00:00Z",
                "expected": "benign",
            },
            {
                "platform": "facebook",
                "id": "c2",
                "post_id": "p1",
                "parent_id": "c1",
                "author_id": "u2",
                "author_name": "B Parent",
                "text": "Agreed",
                "created_at": "2026-10-20T09:05:00Z",
                "expected": "benign",
            },
        ],
    }


def test_minimal_scenario_loads(tmp_path: Path) -> None:
    scenario = Scenario.load(write(tmp_path, minimal()))
    assert [c.id for c in scenario.comments_for(Platform.FACEBOOK)] == ["c1", "c2"]
    assert scenario.comments_for(Platform.YOUTUBE) == ()
    assert scenario.post("v1").privacy == "private"


def mutate(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(minimal())
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _DELETE:
        del node[int(last) if last.isdigit() else last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("comments.0.text", _DELETE, "comments[0]: missing field(s) text"),
        ("posts.0.title", _DELETE, "posts[0]: missing field(s) title"),
        ("comments.1.platform", "tiktok", "unknown platform 'tiktok'"),
        ("posts.0.platform", "myspace", "unknown platform 'myspace'"),
        ("comments.1.expected", "rude", "unknown category 'rude'"),
        ("comments.1.id", "c1", "duplicate id 'c1'"),
        ("comments.1.id", "p1", "duplicate id 'p1'"),
        ("comments.1.parent_id", "c99", "parent comment 'c99' not found"),
        ("comments.1.post_id", "p9", "post 'p9' not found"),
        ("comments.1.post_id", "v1", "is on youtube, not facebook"),
        ("comments.0.created_at", "2026-10-20 09:00", "not in UTC"),
        ("comments.0.created_at", "last Tuesday", "is not an ISO-8601 UTC time"),
        ("comments.1.created_at", "2026-10-20T08:30:00Z", "created before its parent 'c1'"),
        ("comments.0.created_at", "2026-10-19T08:30:00Z", "created before its post 'p1'"),
        ("posts.1.privacy", "secret", "'privacy' must be one of public, unlisted, private"),
        ("posts.0.privacy", "public", "'privacy' is for youtube posts only"),
        ("scenario_version", 2, "scenario_version: must be 1"),
        ("school_id", "", "'school_id' must not be empty"),
        ("comments", {}, "comments: must be a list"),
        ("posts", _DELETE, "top: missing field(s) posts"),
    ],
)
def test_bad_scenarios_name_the_file_and_the_problem(
    tmp_path: Path, path: str, value: Any, message: str
) -> None:
    bad = write(tmp_path, mutate(path, value), name="bad-scenario.json")
    with pytest.raises(ConfigError) as info:
        Scenario.load(bad)
    text = str(info.value)
    assert text.startswith(str(bad)), text
    assert message in text, text


def test_comment_on_private_video_is_rejected(tmp_path: Path) -> None:
    data = minimal()
    data["comments"].append(
        {
            **data["comments"][0],
            "platform": "youtube",
            "id": "yc1",
            "post_id": "v1",
        }
    )
    with pytest.raises(ConfigError, match="private; YouTube allows no comments"):
        Scenario.load(write(tmp_path, data))


def test_reddit_post_needs_a_subreddit(tmp_path: Path) -> None:
    data = minimal()
    data["posts"].append({**data["posts"][0], "platform": "reddit", "id": "r1"})
    with pytest.raises(ConfigError, match="'subreddit' must be a non-empty string"):
        Scenario.load(write(tmp_path, data))


def test_unreadable_or_invalid_json_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"scenario_version": 1,, }', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.json: not valid JSON: .* line 1 column"):
        Scenario.load(broken)
    missing = tmp_path / "missing.json"
    with pytest.raises(ConfigError, match=r"missing\.json: cannot read scenario file"):
        Scenario.load(missing)
    with pytest.raises(ConfigError, match=r"list\.json: invalid scenario: top: must be a JSON"):
        Scenario.load(write(tmp_path, [1, 2], name="list.json"))


def test_many_problems_are_reported_together(tmp_path: Path) -> None:
    data = minimal()
    data["comments"][0]["expected"] = "rude"
    data["comments"][1]["platform"] = "tiktok"
    with pytest.raises(ConfigError) as info:
        Scenario.load(write(tmp_path, data))
    assert "unknown category 'rude'" in str(info.value)
    assert "unknown platform 'tiktok'" in str(info.value)
