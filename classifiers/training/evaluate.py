"""Evaluation figures: harmful-vs-not, per category, and a confusion table.

A comment's predicted label is the verdict's primary (most serious flagged)
category, matching the labelling rule of the data (one primary label per row).
For harmful-vs-not, criticism and benign are "not harmful"; the ranking score for
ROC AUC is the highest harmful-category score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from core.models import HARMFUL, Category, Verdict


@dataclass
class Evaluation:
    """The figures ``schoolwatch eval`` prints."""

    n: int
    binary: dict[str, float | None]  # auc is None when only one kind of row is present
    per_label: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    roc: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))
    macro_f1: float = 0.0
    high_recall: float | None = 0.0  # recall over the five categories where a miss is worst
    # (None when the rows have none of them)
    not_harmful_flagged: float = 0.0  # share of criticism+benign rows flagged as harmful

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape."""
        return {
            "n": self.n,
            "binary": self.binary,
            "per_label": self.per_label,
            "macro_f1": self.macro_f1,
            "high_recall_recall": self.high_recall,
            "not_harmful_flagged_rate": self.not_harmful_flagged,
            "confusion": self.confusion,
        }


_HIGH = (
    Category.SELF_HARM,
    Category.ABUSE_DISCLOSURE,
    Category.SEXUAL,
    Category.PERSONAL_DATA,
    Category.STAFF_ALLEGATION,
)


def harm_score(verdict: Verdict) -> float:
    """The highest score among harmful categories."""
    return max(float(verdict.scores.get(c, 0.0)) for c in HARMFUL)


def evaluate(gold: Sequence[Category], verdicts: Sequence[Verdict]) -> Evaluation:
    """Compare verdicts with gold labels."""
    if len(gold) != len(verdicts):
        raise ValueError("one verdict per gold label is needed")
    n = len(gold)
    pred = [v.primary for v in verdicts]
    y = np.array([g.is_harmful for g in gold], dtype=int)
    yhat = np.array([v.is_harmful for v in verdicts], dtype=int)
    scores = np.array([harm_score(v) for v in verdicts])
    tp = int(((yhat == 1) & (y == 1)).sum())
    fp = int(((yhat == 1) & (y == 0)).sum())
    fn = int(((yhat == 0) & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auc: float | None = None  # undefined unless both kinds of row are present
    roc: tuple[list[float], list[float]] = ([], [])
    if 0 < y.sum() < n:
        auc = float(roc_auc_score(y, scores))
        fpr, tpr, _ = roc_curve(y, scores)
        roc = ([round(float(v), 5) for v in fpr], [round(float(v), 5) for v in tpr])
    binary = {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "auc": round(auc, 4) if auc is not None else None,
    }
    per_label: dict[str, dict[str, float]] = {}
    present = [c for c in Category if c in gold or c in pred]
    for cat in present:
        ctp = sum(1 for g, p in zip(gold, pred, strict=True) if g is cat and p is cat)
        cfp = sum(1 for g, p in zip(gold, pred, strict=True) if g is not cat and p is cat)
        cfn = sum(1 for g, p in zip(gold, pred, strict=True) if g is cat and p is not cat)
        cp = ctp / (ctp + cfp) if ctp + cfp else 0.0
        cr = ctp / (ctp + cfn) if ctp + cfn else 0.0
        cf = 2 * cp * cr / (cp + cr) if cp + cr else 0.0
        per_label[cat.value] = {
            "precision": round(cp, 4),
            "recall": round(cr, 4),
            "f1": round(cf, 4),
            "support": sum(1 for g in gold if g is cat),
        }
    confusion: dict[str, dict[str, int]] = {}
    for g, p in zip(gold, pred, strict=True):
        row = confusion.setdefault(g.value, {})
        row[p.value] = row.get(p.value, 0) + 1
    supported = [v["f1"] for v in per_label.values() if v["support"] > 0]
    high_gold = [i for i, g in enumerate(gold) if g in _HIGH]
    high_hit = sum(1 for i in high_gold if pred[i] is gold[i])
    nh = [i for i, g in enumerate(gold) if not g.is_harmful]
    return Evaluation(
        n=n,
        binary=binary,
        per_label=per_label,
        confusion=confusion,
        roc=roc,
        macro_f1=round(float(np.mean(supported)) if supported else 0.0, 4),
        high_recall=round(high_hit / len(high_gold), 4) if high_gold else None,
        not_harmful_flagged=round(sum(yhat[i] for i in nh) / len(nh), 4) if nh else 0.0,
    )
