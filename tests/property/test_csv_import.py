"""Labelled-CSV import (``classifiers.training.data``): round trip, and any file is read or refused.

The classifier is (re)trained from CSV files of labelled comments, including
moderators' judgements exported from the database. Writing examples and
reading them back must lose nothing; a broken file must be refused with a
clear error that names it, never half-read silently or crashed on.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from classifiers.training.data import Example, read_labelled, write_labelled
from core.models import Category
from tests.property.settings import prop

TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=120)
EXAMPLES = st.lists(
    st.builds(Example, text=TEXT, label=st.sampled_from(list(Category)),
              source=st.text(st.characters(codec="utf-8", exclude_characters="\x00\r\n"),
                             min_size=1, max_size=10)),
    max_size=20,
)  # fmt: skip


@prop(150)
@given(EXAMPLES)
@example([Example('he said "no", then\r\nleft,', Category.THREAT, "s")])
@example([Example('=HYPERLINK("x.example")', Category.SPAM, "s")])
def test_written_examples_read_back_exactly(tmp_path_factory: Any, examples: list[Example]) -> None:
    path = Path(tmp_path_factory.mktemp("csv")) / "labels.csv"
    assert write_labelled(path, examples) == len(examples)
    report = read_labelled([path])
    assert report.skipped == {}
    assert [(e.text, e.label, e.source) for e in report.examples] == [
        (e.text, e.label, e.source) for e in examples
    ]


ROWS = st.lists(st.lists(st.text(max_size=20), max_size=5), max_size=10)


@prop(150)
@given(
    header=st.lists(st.sampled_from(["text", "label", "source", "template", "x", ""]), max_size=5),
    rows=ROWS,
)
def test_any_table_is_read_or_refused_clearly(
    tmp_path_factory: Any, header: list[str], rows: list[list[str]]
) -> None:
    path = Path(tmp_path_factory.mktemp("csv")) / "any.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    try:
        report = read_labelled([path])
    except ValueError as exc:
        assert str(path) in str(exc)
        assert not ("text" in header and "label" in header)
        return
    assert "text" in header and "label" in header
    written = [r for r in rows if r]  # an empty row is a blank line, which CSV readers skip
    assert len(report.examples) + sum(report.skipped.values()) == len(written)
    for ex in report.examples:
        assert isinstance(ex.text, str) and isinstance(ex.label, Category)


@prop(100)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused(tmp_path_factory: Any, raw: bytes) -> None:
    path = Path(tmp_path_factory.mktemp("csv")) / "raw.csv"
    path.write_bytes(b"text,label\n" + raw)
    try:
        report = read_labelled([path])
    except ValueError:  # includes UnicodeDecodeError: the file is not UTF-8
        return
    for ex in report.examples:
        assert isinstance(ex.label, Category)
