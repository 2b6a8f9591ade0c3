"""The sandbox's wire details that the client libraries (and the research notes) depend on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.sandbox import Sandbox

DEMO = Path("connectors/scenarios/demo.json")


@pytest.fixture
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox(DEMO).start()
    yield sandbox
    sandbox.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_demo_scenario_loads_with_platform_shaped_ids(box: Sandbox) -> None:
    scenario = json.loads(DEMO.read_text())
    for comment in scenario["comments"]:
        pid = box.platform_id(comment["platform"], comment["id"])
        if comment["platform"] == "facebook":
            assert pid.count("_") == 1 and pid.replace("_", "").isdigit()
        elif comment["platform"] == "youtube":
            assert pid.startswith("Ugz")
            assert ("." in pid) == (comment["parent_id"] is not None)  # replies: thread.suffix
        else:
            assert pid.isalnum() and pid == pid.lower()
    assert box.platform_id("facebook", "fb-p01").startswith(box.world.page_id + "_")


def test_graph_paging_next_carries_token_fields_and_limit(box: Sandbox) -> None:
    post = box.platform_id("facebook", "fb-p01")
    token = box.credentials.page_token
    url = (
        f"{box.urls.graph}/v25.0/{post}/comments?access_token={token}&fields=id,message"
        "&filter=stream&limit=2&summary=true"
    )
    status, headers, body = _get(url)
    assert status == 200
    assert "json" in headers["Content-Type"]
    assert json.loads(headers["X-Business-Use-Case-Usage"])[box.world.page_id][0]["type"] == (
        "pages"
    )
    assert set(body["data"][0]) == {"id", "message"}
    query = parse_qs(urlsplit(body["paging"]["next"]).query)
    assert query["access_token"] == [token]
    assert query["fields"] == ["id,message"] and query["limit"] == ["2"]
    assert query["after"] == [body["paging"]["cursors"]["after"]]
    assert body["summary"]["total_count"] >= 2


def test_graph_error_body(box: Sandbox) -> None:
    status, _, body = _get(f"{box.urls.graph}/v25.0/me?access_token=wrong")
    assert status == 400
    assert body["error"]["code"] == 190
    assert body["error"]["type"] == "OAuthException"


def test_reddit_sends_all_three_rate_headers_or_none(box: Sandbox) -> None:
    status, headers, _ = _get(
        f"{box.urls.reddit}/r/Ashcombe/comments?limit=1", {"Authorization": "bearer nope"}
    )
    assert status == 401
    names = {"x-ratelimit-used", "x-ratelimit-remaining", "x-ratelimit-reset"}
    assert names <= {k.lower() for k in headers}


def test_youtube_accepts_repeated_and_comma_parts(box: Sandbox) -> None:
    token = _google_token(box)
    auth = {"Authorization": f"Bearer {token}"}
    base = f"{box.urls.youtube}youtube/v3/commentThreads?allThreadsRelatedToChannelId="
    base += box.world.channel_id
    _, _, one = _get(base + "&part=snippet,replies&maxResults=100", auth)
    _, _, two = _get(base + "&part=snippet&part=replies&maxResults=100", auth)
    assert one["items"] and one == two
    assert any("replies" in item for item in one["items"])
    assert box.youtube.units_used == 2


def _google_token(box: Sandbox) -> str:
    c = box.credentials
    data = (
        f"grant_type=refresh_token&client_id={c.google_client_id}&client_secret="
        f"{c.google_client_secret}&refresh_token={c.google_refresh_token}"
    ).encode()
    request = urllib.request.Request(
        box.urls.youtube_token,
        data=data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


def test_control_api_posts_comments_and_arms_faults(box: Sandbox) -> None:
    body = json.dumps({"platform": "facebook", "post_id": "fb-p02", "text": "Hello"}).encode()
    request = urllib.request.Request(f"{box.urls.root}/_sandbox/comments", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        new_id = json.loads(response.read())["id"]
    assert new_id in box.comment_ids("facebook")
    body = json.dumps({"platform": "reddit", "mode": "throttle", "count": 2}).encode()
    request = urllib.request.Request(f"{box.urls.root}/_sandbox/faults", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read()) == {"armed": ["throttle"]}
    _, _, state = _get(f"{box.urls.root}/_sandbox/state")
    assert new_id in state["facebook"]
