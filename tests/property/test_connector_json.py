"""Each connector, fed mutated or broken platform JSON, returns good comments or a clear error.

A proxy in front of the sandbox swaps the answer to one request of a normal
poll for a mutated copy of the real JSON (a field removed, retyped or
replaced) or for junk bytes. Whatever comes back, ``fetch_since`` must either
return a batch of well-formed comments or raise a :mod:`core.errors`
connector error: never another exception, which would stop the source.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.sandbox import Sandbox
from core.errors import ConnectorError
from core.models import Batch, Comment, Platform
from tests.property.proxy import Exchange, Proxy, small_scenario
from tests.property.settings import prop
from tests.property.strategies import mutated_json

PLATFORMS = ("facebook", "youtube", "reddit")
FB_POST = "/v25.0/104000000000001_2000000001/comments"
# Odd replies the properties once found unhandled (fixed since): (platform, request, body).
REGRESSIONS = [
    pytest.param("facebook", (FB_POST, 0), b"true", id="fb-body-true"),
    pytest.param("facebook", (FB_POST, 0), b'{"data": [], "paging": [1]}', id="fb-paging-list"),
    pytest.param("youtube", ("/token", 0), b"[]", id="yt-token-list"),
    pytest.param(
        "youtube",
        ("/token", 0),
        b'{"access_token": "x", "token_type": "Bearer", "expires_in": -63000000000}',
        id="yt-token-expiry-before-year-one",
    ),
    pytest.param("youtube", ("/youtube/v3/playlistItems", 0), b'{"items": [3]}', id="yt-items-int"),
    pytest.param("youtube", ("/youtube/v3/videos", 0), b'{"items": 30.0}', id="yt-items-float"),
    pytest.param("reddit", ("/api/v1/access_token", 0), b"{}", id="rd-token-empty"),
    pytest.param("reddit", ("/r/Ashcombe/comments", 0), b"0", id="rd-listing-number"),
    pytest.param(
        "reddit",
        ("/r/Ashcombe/comments", 0),
        b'{"kind": "Listing", "data": [1]}',
        id="rd-listing-data-list",
    ),
]


@pytest.fixture(scope="module")
def proxy() -> Iterator[Proxy]:
    sandbox = Sandbox(
        small_scenario(), moderated_subreddits=("Ashcombe",), reddit_requests_per_window=10**9
    ).start()
    front = Proxy(sandbox).start()
    yield front
    front.stop()
    sandbox.stop()


_CLEAN: dict[str, tuple[list[Exchange], Batch]] = {}


def clean_run(proxy: Proxy, platform: str) -> tuple[list[Exchange], Batch]:
    """What a normal poll asks and gets (recorded once per platform)."""
    if platform not in _CLEAN:
        proxy.reset()
        batch = proxy.connector(platform).fetch_since(None)
        _CLEAN[platform] = (list(proxy.exchanges), batch)
    return _CLEAN[platform]


def occurrences(exchanges: list[Exchange]) -> list[tuple[tuple[str, int], Exchange]]:
    """Each exchange with its (path, k-th time on that path) address."""
    seen: dict[str, int] = {}
    out = []
    for ex in exchanges:
        k = seen.get(ex.path, 0)
        seen[ex.path] = k + 1
        out.append(((ex.path, k), ex))
    return out


def check_comment(comment: Comment, platform: str) -> None:
    assert comment.platform is Platform(platform)
    assert comment.school_id == "hollybrook"
    assert isinstance(comment.external_id, str) and comment.external_id
    assert isinstance(comment.thread_id, str)
    assert comment.parent_id is None or isinstance(comment.parent_id, str)
    for text in (comment.author_id, comment.author_name, comment.text, comment.permalink):
        assert isinstance(text, str)
    assert comment.created_at.tzinfo is not None


def outcome(proxy: Proxy, platform: str, at: tuple[str, int], body: bytes) -> None:
    """Poll with request ``at`` answered by ``body``; only good comments or ConnectorError."""
    proxy.reset(replace_at=at, replacement=body)
    try:
        batch = proxy.connector(platform).fetch_since(None)
    except ConnectorError:
        return
    for comment in batch.comments:
        check_comment(comment, platform)
    assert batch.cursor is not None


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_clean_poll_reads_every_comment(proxy: Proxy, platform: str) -> None:
    exchanges, batch = clean_run(proxy, platform)
    assert len(exchanges) >= 3
    assert len(batch.comments) >= 6
    for comment in batch.comments:
        check_comment(comment, platform)


def _json_exchanges(exchanges: list[Exchange]) -> list[tuple[tuple[str, int], Any]]:
    out = []
    for at, ex in occurrences(exchanges):
        try:
            out.append((at, json.loads(ex.body)))
        except ValueError:
            continue
    return out


@pytest.mark.parametrize("platform", PLATFORMS)
@prop(40)
@given(data=st.data())
def test_mutated_platform_json_gives_good_comments_or_a_connector_error(
    proxy: Proxy, platform: str, data: st.DataObject
) -> None:
    exchanges, _ = clean_run(proxy, platform)
    n, value = data.draw(st.sampled_from(_json_exchanges(exchanges)), label="request")
    mutated = data.draw(mutated_json(value), label="mutated body")
    outcome(proxy, platform, n, json.dumps(mutated).encode())


@pytest.mark.parametrize("platform", PLATFORMS)
@prop(20)
@given(data=st.data())
def test_junk_bytes_give_a_connector_error(
    proxy: Proxy, platform: str, data: st.DataObject
) -> None:
    exchanges, _ = clean_run(proxy, platform)
    n, ex = data.draw(st.sampled_from(occurrences(exchanges)), label="request")
    real = ex.body
    body = data.draw(
        st.one_of(st.binary(max_size=64), st.just(real[: len(real) // 2]), st.just(b"")),
        label="body",
    )
    outcome(proxy, platform, n, body)


@pytest.mark.parametrize(("platform", "at", "body"), REGRESSIONS)
def test_known_odd_replies_give_a_connector_error(
    proxy: Proxy, platform: str, at: tuple[str, int], body: bytes
) -> None:
    outcome(proxy, platform, at, body)
