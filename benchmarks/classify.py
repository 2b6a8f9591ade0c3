"""Classifier throughput and memory: comments per second and peak resident memory.

Usage: ``python benchmarks/classify.py [--n 5000] [--rules-only]``

Builds a batch of typical comments (the shipped school examples and evaluation
rows, cycled to ``--n``; texts longer than 1,000 characters are cut there as a
comment box would), loads the classifier once, warms it up on 64 comments,
then times one ``classify`` call over the whole batch.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.registry import build_classifier  # noqa: E402
from classifiers.training.data import TRAINING_DIR, read_labelled  # noqa: E402
from config.loader import DEFAULT_POLICY, load_policy  # noqa: E402
from core.models import Comment, Platform  # noqa: E402


def comments(n: int) -> list[Comment]:
    """``n`` comments cycled from the shipped CSVs."""
    files = [TRAINING_DIR / "school_examples.csv", TRAINING_DIR / "evaluation.csv"]
    texts = [e.text[:1000] for e in read_labelled(files).examples]
    now = datetime.now(UTC)
    return [
        Comment("bench", Platform.FACEBOOK, f"c{i}", "t", None, "a", "", texts[i % len(texts)],
                now, "")
        for i in range(n)
    ]  # fmt: skip


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rules-only", action="store_true")
    args = parser.parse_args()
    policy = load_policy(DEFAULT_POLICY)
    batch = comments(args.n)
    t0 = time.perf_counter()
    clf = build_classifier(policy, use_model=not args.rules_only)
    load_s = time.perf_counter() - t0
    clf.classify(batch[:64])
    t0 = time.perf_counter()
    verdicts = clf.classify(batch)
    took = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    chars = sum(len(c.text) for c in batch) / len(batch)
    print(f"classifier: {verdicts[0].classifier}")
    print(f"comments: {len(batch)} (mean {chars:.0f} characters)")
    print(f"load: {load_s:.1f} s")
    print(f"classify: {took:.1f} s = {len(batch) / took:.0f} comments per second")
    print(f"peak resident memory: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
