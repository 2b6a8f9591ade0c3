"""Labelled CSVs: reading, label checks and deterministic splits."""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.models import Category

log = logging.getLogger(__name__)

TRAINING_DIR = Path(__file__).resolve().parents[2] / "data" / "training"
"""The shipped training CSVs (``data/training`` in the source tree)."""

SHIPPED_TRAINING = (
    "school_examples.csv",
    "school_written.csv",
    "school_boundary.csv",
    "school_staff_mentions.csv",
    "school_written_fresh.csv",
    "school_oakfield.csv",
    "public_train.csv",
    "school_dev.csv",
)
"""The CSVs ``schoolwatch train`` reads by default."""

csv.field_size_limit(10_000_000)


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text."""

    text: str
    label: Category
    source: str = ""
    group: str = ""  # rows in one group are split together (e.g. one template)


@dataclass(frozen=True, slots=True)
class ReadReport:
    """What was read from labelled CSVs, and what was skipped."""

    examples: list[Example]
    skipped: dict[str, int]  # unknown label -> rows skipped


def read_labelled(paths: Iterable[Path]) -> ReadReport:
    """Read CSVs with ``text`` and ``label`` columns (other columns are kept as metadata).

    Rows whose label is not a category are skipped and counted.

    Raises:
        ValueError: when a file has no ``text`` or ``label`` column.
    """
    examples: list[Example] = []
    skipped: dict[str, int] = {}
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames or []
            if "text" not in fields or "label" not in fields:
                raise ValueError(f"{path}: needs 'text' and 'label' columns (found {fields})")
            for row in reader:
                raw = (row.get("label") or "").strip().lower()
                try:
                    label = Category(raw)
                except ValueError:
                    skipped[raw] = skipped.get(raw, 0) + 1
                    continue
                source = row.get("source") or path.stem
                group = row.get("template") or row.get("context") or ""
                examples.append(Example(row.get("text") or "", label, source, group))
    return ReadReport(examples, skipped)


def text_key(text: str) -> str:
    """How rows are matched across files (training rows left out of evaluations, rows
    removed before cross-validation): case and spacing do not count."""
    return " ".join(text.strip().lower().split())


def bucket(key: str, buckets: int = 100) -> int:
    """A stable bucket 0..buckets-1 for ``key`` (sha256, not Python's salted hash)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % buckets


def split(
    examples: Sequence[Example], holdout_percent: int, salt: str = ""
) -> tuple[list[Example], list[Example]]:
    """Split deterministically: rows of one group (or one text) stay on the same side."""
    keep: list[Example] = []
    held: list[Example] = []
    for ex in examples:
        key = f"{salt}|{ex.source}|{ex.group}" if ex.group else f"{salt}|{ex.text.strip().lower()}"
        (held if bucket(key) < holdout_percent else keep).append(ex)
    return keep, held


def write_labelled(path: Path, examples: Iterable[Example]) -> int:
    """Write ``text,label,source`` rows; returns the number written."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label", "source"])
        for ex in examples:
            writer.writerow([ex.text, ex.label.value, ex.source])
            n += 1
    return n
