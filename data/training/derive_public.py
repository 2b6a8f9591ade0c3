"""Derive ``public_train.csv`` from the openly licensed files of the eval-dev set.

Run from the project root: ``python data/training/derive_public.py [EVAL_DEV_DIR]``.
Only MIT / Apache-2.0 / CC BY 4.0 sources are used (see ``docs/training-data.md``);
ETHOS (GPL-3.0) and OLID (no licence) are evaluation-only. Each source is split
deterministically by a hash of the text: 60% is written here for training, the
other 40% goes into ``evaluation.csv`` (with the held-out school templates,
``school_heldout.csv``) and is never trained on. Run ``generate.py`` first.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from classifiers.training.data import read_labelled, split, write_labelled  # noqa: E402

LICENSED = (
    "davidson_hate_offensive.csv",
    "hatexplain.csv",
    "cyberbullying_tweets.csv",
    "youtube_spam.csv",
    "sms_spam.csv",
    "reddit_cssrs_suicide.csv",
)
HOLDOUT_PERCENT = 40
SALT = "schoolwatch-public-v1"


def main() -> None:
    """Write data/training/public_train.csv."""
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data/eval-dev"
    report = read_labelled(src / name for name in LICENSED)
    train, _held = split(report.examples, HOLDOUT_PERCENT, SALT)
    n = write_labelled(ROOT / "data/training/public_train.csv", train)
    school_held = read_labelled([ROOT / "data/training/school_heldout.csv"]).examples
    school_held = [replace(e, source="school_heldout") for e in school_held]
    m = write_labelled(ROOT / "data/training/evaluation.csv", _held + school_held)
    print(f"wrote {n} training rows; {m} evaluation rows ({len(school_held)} school)")  # noqa: T201


if __name__ == "__main__":
    main()
