"""Each sandbox fault through the real client libraries: mapped errors, no lost comments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.sandbox import FaultMode, Sandbox
from core.errors import (
    AuthError,
    ConnectorError,
    QuotaExhausted,
    RateLimited,
    TransientError,
)
from tests.connectors.sandbox_support import (
    PLATFORMS,
    DictStore,
    expected_ids,
    make_connector,
    make_sandbox,
)

ERRORS: dict[FaultMode, type[ConnectorError]] = {
    FaultMode.SERVER_ERROR: TransientError,
    FaultMode.THROTTLE: RateLimited,
    FaultMode.EXPIRED_TOKEN: AuthError,
    FaultMode.MALFORMED: TransientError,
    FaultMode.SLOW: TransientError,
    FaultMode.REPEAT_CURSOR: TransientError,
    FaultMode.QUOTA: QuotaExhausted,
}
SOAK_MODES = [m for m in FaultMode if m is not FaultMode.QUOTA]


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = make_sandbox()
    yield box
    box.stop()


def _count(platform: str, mode: FaultMode) -> int:
    """How many requests to spoil so the fault gets past the library's own retries."""
    if platform == "reddit" and mode in (FaultMode.SERVER_ERROR, FaultMode.SLOW):
        return 3  # prawcore retries 5xx and timeouts twice by itself
    return 1


CASES = [(p, m) for p in PLATFORMS for m in ERRORS if m is not FaultMode.QUOTA] + [
    ("youtube", FaultMode.QUOTA)
]


@pytest.mark.parametrize(("platform", "mode"), CASES)
def test_fault_maps_to_one_error_vocabulary(
    sandbox: Sandbox, platform: str, mode: FaultMode
) -> None:
    connector = make_connector(platform, sandbox, timeout=0.5)
    sandbox.faults.set(platform, mode, _count(platform, mode), delay=1.5)
    with pytest.raises(ERRORS[mode]) as caught:
        connector.fetch_since(None)
    err = caught.value
    assert err.platform == platform
    assert sandbox.faults.count(platform, mode) >= 1
    if mode is FaultMode.EXPIRED_TOKEN:
        assert isinstance(err, AuthError)
        assert err.fatal
        assert "schoolwatch connect" in err.fix
    if mode is FaultMode.THROTTLE:
        assert isinstance(err, RateLimited)
        assert err.retry_after is not None and err.retry_after > 0
    if mode is FaultMode.QUOTA:
        assert isinstance(err, QuotaExhausted)
        assert err.retry_after > 0
    if mode is FaultMode.REPEAT_CURSOR:
        assert err.code == "repeat_cursor"
        assert connector.stats["repeat_cursor"] == 1
    assert sum(v for k, v in connector.stats.items() if k.startswith("errors.")) == 1
    # The fault is gone: the next poll works and delivers everything.
    store = DictStore()
    store.cycle(connector)
    assert store.errors == []
    assert store.ids == expected_ids(sandbox, platform)


def _visible(mode: FaultMode, store: DictStore, stats: dict[str, int]) -> bool:
    if mode is FaultMode.DUPLICATE_IDS:
        return stats.get("duplicate_ids", 0) > 0
    if mode is FaultMode.DELETE_BETWEEN_PAGES:
        return True  # invisible to a client by nature; the sandbox's count is checked instead
    wanted = ERRORS[mode]
    return any(isinstance(e, wanted) for e in store.errors) and any(
        k.startswith("errors.") for k in stats
    )


@pytest.mark.parametrize("mode", SOAK_MODES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_long_run_under_fault_ends_with_exactly_the_sandbox_comments(
    sandbox: Sandbox, platform: str, mode: FaultMode
) -> None:
    connector = make_connector(platform, sandbox, timeout=0.5)
    sandbox.faults.set(platform, mode, 2 * _count(platform, mode), delay=1.0)
    store = DictStore()
    posts = [
        p.sid
        for p in sandbox.world.posts.values()
        if p.platform == platform and p.privacy != "private"
    ]
    for n in range(8):
        store.cycle(connector, limit=9)
        post = posts[n % len(posts)]
        sandbox.post_comment(platform, post, f"Hollybrook Primary School update {n}")
        if n == 3 and mode is not FaultMode.DELETE_BETWEEN_PAGES:
            # Strike again mid-run. (Deleting comments already stored is not a paging fault:
            # polling cannot see it; webhooks report it as Batch.removed.)
            sandbox.faults.set(platform, mode, _count(platform, mode), delay=1.0)
    for _ in range(3):  # faults used up: clean polls catch up
        store.cycle(connector, limit=9)
    assert sandbox.faults.armed(platform) == []
    assert sandbox.faults.count(platform, mode) >= 2
    assert _visible(mode, store, dict(connector.stats))
    if mode is FaultMode.DELETE_BETWEEN_PAGES:
        deleted = {
            c.pid for c in sandbox.world.comments.values() if c.platform == platform and c.deleted
        }
        assert deleted
        assert not {d for d in store.ids if d.removeprefix("t1_") in deleted}
    assert store.ids == expected_ids(sandbox, platform)


def test_facebook_backs_off_on_its_usage_headers() -> None:
    box = make_sandbox(graph_hourly_budget=10)  # every Graph call uses 10% of the budget
    try:
        connector = make_connector("facebook", box)
        with pytest.raises(RateLimited) as caught:
            connector.fetch_since(None)
        assert caught.value.code == "usage"
        assert caught.value.retry_after is not None and caught.value.retry_after >= 60
        assert connector.stats["usage_pauses"] >= 1  # slowed down first, from 75%
        assert connector.stats["usage_stops"] == 1
        assert box.graph.calls == 9  # stopped at 90%, before Facebook itself refuses
    finally:
        box.stop()
