"""Time to classify hostile comments: the longest text the pipeline stores, built to
make pattern matching slow (one long run of digits, dots, newlines, letters, emoji…).

Usage: ``python benchmarks/hostile.py [--rules-only]``

Each comment is ``storage.repo.MAX_TEXT`` characters long (longer comments are cut
there before they are classified). Prints the seconds each one takes alone, through
the same ``classify`` call the pipeline makes, and the slowest. A regular expression
that backtracks over the whole text from every position shows up here as seconds
rather than milliseconds (docs/performance.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.registry import build_classifier  # noqa: E402
from config.loader import DEFAULT_POLICY, load_policy  # noqa: E402
from core.models import Comment, Platform  # noqa: E402
from storage.repo import MAX_TEXT  # noqa: E402

PIECES = {
    "premium-number digits": "08",
    "one digit": "0",
    "digits and spaces": "1 ",
    "percentages": "5% ",
    "one letter": "a",
    "spaced letters": "a ",
    "laughter": "ha",
    "emoji": "😂",
    "titles": "Mr ",
    "capitalised words": "Abc Def ",
    "dashes": "-",
    "dots": ".",
    "handles": "@a",
    "web addresses": "www.a",
    "repeated phrase": "you are ",
    "house numbers": "1 a ",
    "names and classes": "Tom Smith Year 5 ",
    "newlines": "\n",
    "a threat word": "kill ",
    "dotted letters": "a.",
    "dialling codes": "+44 ",
    "spaced word": "s p a c e d ",
    "digit words": "oh seven ",
    "emoji shortcodes": ":knife:",
    "lower-case names": "tom smith from 6h adhd ",
    "edges": "stood at the edge top of the car park ",
}


def hostile_comments() -> list[tuple[str, Comment]]:
    """One comment of ``MAX_TEXT`` characters per piece in :data:`PIECES`."""
    now = datetime.now(UTC)
    out = []
    for i, (name, piece) in enumerate(PIECES.items()):
        text = (piece * (MAX_TEXT // len(piece) + 1))[:MAX_TEXT]
        out.append(
            (name, Comment("bench", Platform.FACEBOOK, f"h{i}", "t", None, "a", "", text, now, ""))
        )
    return out


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules-only", action="store_true")
    args = parser.parse_args()
    clf = build_classifier(load_policy(DEFAULT_POLICY), use_model=not args.rules_only)
    cases = hostile_comments()
    clf.classify([cases[0][1]])  # warm up
    worst = ("", 0.0)
    print(f"classifier: {clf.classify([cases[0][1]])[0].classifier}")
    print(f"each comment: {MAX_TEXT:,} characters")
    for name, comment in cases:
        t0 = time.perf_counter()
        clf.classify([comment])
        took = time.perf_counter() - t0
        worst = max(worst, (name, took), key=lambda w: w[1])
        print(f"  {name:<22} {took:6.2f} s")
    print(f"slowest: {worst[0]} ({worst[1]:.2f} s)")


if __name__ == "__main__":
    main()
