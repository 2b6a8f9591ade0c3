"""Ingest a 20,000-comment backlog per platform from the sandbox, within the platforms' limits.

Each connector reads its whole backlog through its real client library, in
batches of 500 as the pipeline asks for them, into an in-memory store. The
sandbox enforces the real limits: Graph usage headers (4,800 calls an hour),
YouTube's 10,000 units a day, and Reddit's 1,000 requests per 600 seconds
(prawcore paces itself from the ``x-ratelimit-*`` headers, so Reddit's time is
set by that limit, not by the machine).

Run: ``.venv/bin/python benchmarks/ingest.py [--comments 20000] [--platforms facebook,youtube]``
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.policy import Channel, School  # noqa: E402
from connectors.polling import PollingConnector  # noqa: E402
from connectors.registry import build_connector  # noqa: E402
from connectors.sandbox import Sandbox  # noqa: E402
from core.errors import ConnectorError, RateLimited  # noqa: E402

SCHOOL = School(id="hollybrook", name="Hollybrook Primary School", aliases=("Hollybrook",))
START = datetime(2026, 9, 1, tzinfo=UTC)


def backlog(platforms: list[str], per_platform: int, posts: int) -> dict[str, Any]:
    """A scenario with ``per_platform`` comments on each platform (a third are replies)."""
    out: dict[str, Any] = {
        "scenario_version": 1,
        "school_id": "hollybrook",
        "description": "ingest benchmark",
        "posts": [],
        "comments": [],
    }
    for platform in platforms:
        for p in range(posts):
            out["posts"].append(
                {
                    "platform": platform,
                    "id": f"{platform}-p{p}",
                    "title": f"Hollybrook Primary School news {p}",
                    "text": "Weekly news",
                    "created_at": (START + timedelta(hours=p)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "privacy": "unlisted",
                    "subreddit": "Ashcombe",
                }
            )
        last_top: dict[int, str] = {}
        for n in range(per_platform):
            p = n % posts
            reply = n % 3 == 2 and p in last_top
            cid = f"{platform}-c{n}"
            out["comments"].append(
                {
                    "platform": platform,
                    "id": cid,
                    "post_id": f"{platform}-p{p}",
                    "parent_id": last_top[p] if reply else None,
                    "author_id": f"u{n % 97}",
                    "author_name": f"Parent {n % 97}",
                    "text": f"Comment {n} about the school",
                    "created_at": (START + timedelta(hours=posts, seconds=30 * n)).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "expected": "benign",
                }
            )
            if not reply:
                last_top[p] = cid
    return out


def channel(platform: str, box: Sandbox) -> Channel:
    """The channel to read on ``platform``."""
    if platform == "facebook":
        return Channel(
            id="facebook", platform="facebook", name="Page", account_id=box.world.page_id
        )
    if platform == "youtube":
        return Channel(
            id="youtube", platform="youtube", name="Videos", account_id=box.world.channel_id
        )
    return Channel(
        id="reddit", platform="reddit", name="Reddit", subreddits=("Ashcombe",), moderated=False
    )


def ingest(platform: str, box: Sandbox, limit: int) -> dict[str, Any]:
    """Drain one platform's backlog; returns the figures."""
    connector = build_connector(
        channel(platform, box), SCHOOL, box.settings(lookback_days=365, reddit_max_pages=1000)
    )
    assert isinstance(connector, PollingConnector)
    before = box.call_counts()
    store: set[str] = set()
    cursor: str | None = None
    batches = waits = 0
    started = time.monotonic()
    while True:
        try:
            batch = connector.fetch_since(cursor, limit=limit)
        except RateLimited as exc:  # the pipeline would come back later; here we wait
            waits += 1
            time.sleep(min(exc.retry_after or 1.0, 60.0))
            continue
        except ConnectorError as exc:
            raise SystemExit(f"{platform}: {type(exc).__name__}: {exc}") from exc
        batches += 1
        store.update(c.external_id for c in batch.comments)
        cursor = batch.cursor
        if not batch.more:
            break
    seconds = time.monotonic() - started
    after = box.call_counts()
    connector.close()
    calls = after[platform] - before[platform]
    expected = len(box.comment_ids(platform)) + (
        sum(1 for p in box.world.posts.values() if p.platform == "reddit")
        if platform == "reddit"
        else 0
    )
    figures: dict[str, Any] = {
        "platform": platform,
        "comments": len(store),
        "complete": len(store) == expected,
        "seconds": round(seconds, 1),
        "comments_per_second": round(len(store) / seconds, 1),
        "batches": batches,
        "api_calls": calls,
        "calls_per_1000": round(calls * 1000 / max(1, len(store)), 1),
        "rate_waits": waits,
    }
    if platform == "youtube":
        units = after["youtube_units"] - before["youtube_units"]
        figures.update(
            quota_units=units,
            units_per_1000=round(units * 1000 / max(1, len(store)), 1),
            quota_left=box.youtube.daily_quota - box.youtube.units_used,
        )
    if platform == "facebook":
        figures["peak_usage_percent"] = getattr(connector, "last_usage", 0)
    return figures


def main() -> None:
    """Parse arguments, run each platform, print a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20_000, help="backlog per platform")
    parser.add_argument("--posts", type=int, default=40, help="posts/videos/submissions")
    parser.add_argument("--limit", type=int, default=500, help="comments per batch")
    parser.add_argument("--platforms", default="facebook,youtube,reddit")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    platforms = [p.strip() for p in args.platforms.split(",") if p.strip()]
    box = Sandbox(backlog(platforms, args.comments, args.posts)).start()
    try:
        rows = [ingest(p, box, args.limit) for p in platforms]
    finally:
        box.stop()
    print(
        f"{'platform':10} {'comments':>8} {'seconds':>8} {'per s':>8} {'calls':>6} "
        f"{'calls/1k':>8} {'units':>6} {'units/1k':>8}"
    )
    for r in rows:
        print(
            f"{r['platform']:10} {r['comments']:>8} {r['seconds']:>8} "
            f"{r['comments_per_second']:>8} {r['api_calls']:>6} {r['calls_per_1000']:>8} "
            f"{r.get('quota_units', '-'):>6} {r.get('units_per_1000', '-'):>8}"
        )
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
