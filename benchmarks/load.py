"""Load run: a large backlog, then a steady stream of new comments, end to end.

The sandbox (in its own process, so it does not share this one's CPU time or
memory figures) starts with ``--backlog`` comments across Facebook, YouTube and
Reddit. The worker here does what the scheduler does (poll every source,
perform platform actions, send email to the outbox folder) until the backlog
is stored, then a feeder posts ``--rate`` comments a minute for ``--minutes``
minutes while the worker polls every ``--poll-seconds``. About one comment in
ten is harmful. It prints, per database:

* ingest rate: backlog comments stored per second of wall time;
* classification rate: comments per second of time spent inside the classifier;
* alert latency p50 / p95: from a live comment appearing on the platform to
  its alert email being sent (includes waiting for the next poll);
* peak memory (maximum resident set of this process) and database size.

The policy is the default one with working hours widened to every hour of
every day and no holidays or email budget, so that every alert is sent at
once and the latency measures the system, not the school's timetable.

Run: ``.venv/bin/python benchmarks/load.py --backlog 100000 --rate 1000 --minutes 10 --db both``
(``--classifier model`` uses the MiniLM ensemble instead of the rules).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from config.loader import DEFAULT_POLICY, policy_from_text  # noqa: E402
from config.policy import SchoolPolicy  # noqa: E402
from config.settings import load_settings  # noqa: E402
from connectors.registry import build_connector  # noqa: E402
from connectors.scenarios import demo_scenario_path  # noqa: E402
from monitor.runtime import Runtime, build_runtime  # noqa: E402
from monitor.scheduler import after_cycle, poll_source  # noqa: E402
from storage.tables import AlertRow, CommentRow, ConnectorCursor, Delivery  # noqa: E402

PLATFORM_SHARE = (("facebook", 0.7, 40), ("youtube", 0.2, 15), ("reddit", 0.1, 10))
START = datetime.now(UTC) - timedelta(days=20)


# ---- the world --------------------------------------------------------------------------


def text_pool() -> tuple[list[str], list[str]]:
    """Benign and harmful comment texts from the demo scenario."""
    data = json.loads(demo_scenario_path().read_text(encoding="utf-8"))
    benign = [c["text"] for c in data["comments"] if c.get("expected") in ("benign", "criticism")]
    harmful = [
        c["text"] for c in data["comments"] if c.get("expected") not in ("benign", "criticism")
    ]
    return benign, harmful


def pick_text(rng: random.Random, pools: tuple[list[str], list[str]]) -> str:
    benign, harmful = pools
    return rng.choice(harmful if rng.random() < 0.1 else benign)


def scenario(backlog: int, rng: random.Random) -> dict[str, Any]:
    """Posts on each platform and ``backlog`` comments spread over the last 20 days."""
    pools = text_pool()
    posts: list[dict[str, Any]] = []
    comments: list[dict[str, Any]] = []
    for platform, share, count in PLATFORM_SHARE:
        for p in range(count):
            post: dict[str, Any] = {
                "platform": platform,
                "id": f"{platform}-p{p}",
                "title": f"Hollybrook Primary School news {p}",
                "text": "This week at Hollybrook Primary School",
                "created_at": (START + timedelta(hours=p)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "author_name": "Hollybrook Primary School",
            }
            if platform == "youtube":
                post["privacy"] = "unlisted"
            if platform == "reddit":
                post["subreddit"] = "Ashcombe"
            posts.append(post)
        n_platform = int(backlog * share)
        span = timedelta(days=18).total_seconds()
        for n in range(n_platform):
            when = START + timedelta(days=2, seconds=span * n / max(1, n_platform))
            comments.append(
                {
                    "platform": platform,
                    "id": f"{platform}-c{n}",
                    "post_id": f"{platform}-p{n % count}",
                    "parent_id": None,
                    "author_id": f"u{rng.randrange(5000)}",
                    "author_name": f"Parent {rng.randrange(5000)}",
                    "text": pick_text(rng, pools),
                    "created_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "expected": "benign",  # the benchmark classifies for real
                }
            )
    return {"scenario_version": 1, "school_id": "hollybrook", "posts": posts, "comments": comments}


def serve_sandbox(scenario_file: Path, port_file: Path, policy: SchoolPolicy) -> None:
    """(Child process.) Run the sandbox until stdin closes."""
    from connectors.sandbox import Sandbox

    sandbox = Sandbox(
        scenario_file,
        page_id=policy.channel("facebook").account_id,
        channel_id=policy.channel("youtube").account_id,
        youtube_daily_quota=10**9,
        reddit_requests_per_window=10**9,
    ).start()
    port_file.write_text(str(sandbox.port))
    sys.stdin.read()
    sandbox.stop()


def bench_policy(youtube_quota: int | None = None) -> SchoolPolicy:
    """The default policy, sending every email at once (see the module docstring).

    ``youtube_quota`` replaces the channel's daily YouTube quota (default 10,000
    units), as if Google had granted an extension.
    """
    data = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    if youtube_quota is not None:
        for channel in data["channels"]:
            if channel["platform"] == "youtube":
                channel["daily_quota"] = youtube_quota
    data["working_hours"] = {
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "start": "00:00",
        "end": "23:59",
    }
    data["holidays"] = []
    data["alerts"]["hourly_budget_per_recipient"] = 1_000_000
    return policy_from_text(yaml.safe_dump(data, sort_keys=False), "benchmark policy")


# ---- measuring --------------------------------------------------------------------------


class TimedClassifier:
    """Wraps a classifier and adds up the time spent in it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.seconds = 0.0
        self.comments = 0

    def classify(self, comments: Any, contexts: Any = None) -> Any:
        started = time.perf_counter()
        out = self.inner.classify(comments, contexts)
        self.seconds += time.perf_counter() - started
        self.comments += len(comments)
        return out


@dataclass
class Result:
    db: str
    backlog_stored: int = 0
    backlog_seconds: float = 0.0
    live_posted: int = 0
    live_stored: int = 0
    classified: int = 0
    classify_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    alerts: int = 0
    emails: int = 0
    peak_mb: float = 0.0
    db_mb: float = 0.0
    missing: dict[str, int] = field(default_factory=dict)
    health: dict[str, str] = field(default_factory=dict)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def db_size(runtime: Runtime, url: str) -> float:
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()) / 2**20
    with runtime.engine.connect() as conn:
        return (
            float(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
            / 2**20
        )


def stored(runtime: Runtime) -> int:
    with runtime.factory() as session:
        return int(session.scalar(select(func.count()).select_from(CommentRow)) or 0)


def poll_all(runtime: Runtime) -> bool:
    """One scheduler pass over every source; True when some source still has more."""
    more = False
    for channel in runtime.channels():
        reports = poll_source(runtime, channel.id)
        more = more or any(r.more and r.status == "ok" for r in reports)
    return more


# ---- the run ----------------------------------------------------------------------------


def feeder(
    port: int, rate: int, minutes: float, appeared: dict[str, float], stop: threading.Event
) -> None:
    """Post ``rate`` comments a minute through the sandbox's control API."""
    rng = random.Random(7)
    pools = text_pool()
    total = int(rate * minutes)
    interval = 60.0 / rate
    started = time.monotonic()
    for n in range(total):
        if stop.is_set():
            return
        wait = started + n * interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        platform = rng.choices(
            [p for p, _, _ in PLATFORM_SHARE], [s for _, s, _ in PLATFORM_SHARE]
        )[0]
        count = next(c for p, _, c in PLATFORM_SHARE if p == platform)
        body = json.dumps(
            {
                "platform": platform,
                "post_id": f"{platform}-p{rng.randrange(count)}",
                "text": pick_text(rng, pools),
                "author_name": f"Live Parent {n}",
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/_sandbox/comments",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            pid = json.loads(answer.read())["id"]
        appeared[f"t1_{pid}" if platform == "reddit" else pid] = time.time()


def source_health(runtime: Runtime) -> dict[str, str]:
    """Each source's last error and failure count at the end of the run."""
    with runtime.factory() as session:
        rows = session.scalars(select(ConnectorCursor)).all()
        return {
            r.source_id: f"failures {r.consecutive_failures}, last error {r.last_error or '-'}, "
            f"quota used {r.quota_used}"
            for r in rows
        }


def missing_by_platform(runtime: Runtime, appeared: dict[str, float]) -> dict[str, int]:
    """Live comments never stored, per platform."""
    with runtime.factory() as session:
        have = set(
            session.scalars(
                select(CommentRow.external_id).where(CommentRow.external_id.in_(list(appeared)))
            )
        )
    out: dict[str, int] = {}
    for external_id in appeared:
        if external_id not in have:
            # Sandbox ids: Reddit "t1_...", Facebook "<post>_<comment>", YouTube the rest.
            kind = (
                "reddit"
                if external_id.startswith("t1_")
                else "facebook"
                if external_id.replace("_", "").isdigit()
                else "youtube"
            )
            out[kind] = out.get(kind, 0) + 1
    return out


def latencies(runtime: Runtime, appeared: dict[str, float]) -> tuple[list[float], int, int]:
    """Seconds from appearing to the first alert email sent, per live comment with an alert."""
    out = []
    with runtime.factory() as session:
        rows = session.execute(
            select(CommentRow.external_id, func.min(Delivery.sent_at))
            .join(AlertRow, AlertRow.comment_id == CommentRow.id)
            .join(Delivery, Delivery.alert_id == AlertRow.id)
            .where(Delivery.kind == "alert", Delivery.status == "sent")
            .group_by(CommentRow.external_id)
        ).all()
        alerts = int(session.scalar(select(func.count()).select_from(AlertRow)) or 0)
        emails = int(session.scalar(select(func.count()).where(Delivery.status == "sent")) or 0)
    for external_id, sent_at in rows:
        if external_id in appeared and sent_at is not None:
            out.append(sent_at.timestamp() - appeared[external_id])
    return out, alerts, emails


def run_one(db: str, args: argparse.Namespace, work: Path, pg_url: str | None) -> Result:
    result = Result(db=db)
    policy = bench_policy(args.youtube_quota)
    rng = random.Random(42)
    scenario_file = work / f"scenario-{db}.json"
    scenario_file.write_text(json.dumps(scenario(args.backlog, rng)), encoding="utf-8")
    port_file = work / f"port-{db}"
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-sandbox",
            str(scenario_file),
            "--port-file",
            str(port_file),
        ],
        stdin=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 600
        while not port_file.exists() or not port_file.read_text():
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError("the sandbox did not start")
            time.sleep(0.2)
        port = int(port_file.read_text())
        url = pg_url or f"sqlite:///{work / f'load-{db}.db'}"
        settings = load_settings(
            _env_file=None,
            mode="demo",
            database_url=url,
            data_dir=work,
            outbox_dir=work / f"outbox-{db}",
            mail_transport="outbox",
            use_model=args.classifier == "model",
        )
        from tests.reliability.worker import sandbox_settings

        conn_settings = replace(
            sandbox_settings(port), page_size=100, timeout=30.0, reddit_max_pages=10
        )
        runtime = build_runtime(
            settings,
            policy=policy,
            connector_factory=lambda channel: build_connector(
                channel, policy.school, conn_settings
            ),
        )
        timed = TimedClassifier(runtime.classifier())
        runtime._classifier = timed  # type: ignore[assignment]
        print(f"[{db}] draining a backlog of {args.backlog} comments ...", flush=True)
        started = time.monotonic()
        while poll_all(runtime):
            pass
        after_cycle(runtime)
        result.backlog_seconds = time.monotonic() - started
        result.backlog_stored = stored(runtime)
        print(
            f"[{db}] backlog: {result.backlog_stored} stored in {result.backlog_seconds:.0f} s",
            flush=True,
        )
        appeared: dict[str, float] = {}
        stop = threading.Event()
        feed = threading.Thread(
            target=feeder, args=(port, args.rate, args.minutes, appeared, stop), daemon=True
        )
        feed.start()
        print(f"[{db}] live: {args.rate}/min for {args.minutes} min ...", flush=True)
        # Poll on the schedule while the feeder posts, then until nothing new arrives.
        quiet = 0
        last = stored(runtime)
        while feed.is_alive() or quiet < 2:
            tick = time.monotonic()
            poll_all(runtime)
            after_cycle(runtime)
            now_stored = stored(runtime)
            quiet = quiet + 1 if now_stored == last and not feed.is_alive() else 0
            last = now_stored
            time.sleep(max(0.0, args.poll_seconds - (time.monotonic() - tick)))
        stop.set()
        feed.join(timeout=30)
        result.missing = missing_by_platform(runtime, appeared)
        result.health = source_health(runtime)
        result.live_posted = len(appeared)
        result.live_stored = stored(runtime) - result.backlog_stored
        result.classified = timed.comments
        result.classify_seconds = timed.seconds
        result.latencies, result.alerts, result.emails = latencies(runtime, appeared)
        result.peak_mb = peak_mb()
        result.db_mb = db_size(runtime, url)
        runtime.engine.dispose()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=60)
    return result


def report(results: list[Result], args: argparse.Namespace) -> None:
    print()
    print(
        f"backlog {args.backlog}, then {args.rate} comments/min for {args.minutes} min, "
        f"polling every {args.poll_seconds} s, classifier {args.classifier}, "
        f"YouTube quota {args.youtube_quota or 10_000} units a day"
    )
    head = ("database", "ingest/s", "classify/s", "live stored", "alerts", "emails",
            "p50 s", "p95 s", "peak MB", "db MB")  # fmt: skip
    print(" | ".join(head))
    for r in results:
        if r.missing:
            print(f"{r.db}: live comments never stored, by platform: {r.missing}")
        for source, health in r.health.items():
            print(f"  {r.db} {source}: {health}")
    for r in results:
        lat = sorted(r.latencies)
        p50 = statistics.median(lat) if lat else float("nan")
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))] if lat else float("nan")
        print(
            " | ".join(
                [
                    r.db,
                    f"{r.backlog_stored / max(r.backlog_seconds, 1e-9):.0f}",
                    f"{r.classified / max(r.classify_seconds, 1e-9):.0f}",
                    f"{r.live_stored}/{r.live_posted}",
                    str(r.alerts),
                    str(r.emails),
                    f"{p50:.1f}",
                    f"{p95:.1f}",
                    f"{r.peak_mb:.0f}",
                    f"{r.db_mb:.0f}",
                ]
            )
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000, help="new comments a minute")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--poll-seconds", type=float, default=30.0)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--classifier", choices=("rules", "model"), default="rules")
    parser.add_argument(
        "--youtube-quota", type=int, default=None, help="daily YouTube units (default 10,000)"
    )
    parser.add_argument("--serve-sandbox", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.serve_sandbox:
        serve_sandbox(args.serve_sandbox, args.port_file, bench_policy())
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="schoolwatch-load-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        if args.db in ("sqlite", "both"):
            results.append(run_one("sqlite", args, work, None))
        if args.db in ("postgres", "both"):
            from tests.pgserver import PostgresServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                print("PostgreSQL is not installed (make setup installs it); skipping it")
            else:
                server = PostgresServer(bindir)
                server.start()
                try:
                    results.append(run_one("postgres", args, work, server.create_database("load")))
                finally:
                    server.stop()
    report(results, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
