"""A second reading of the sentence embedding: one hidden layer, then a softmax.

The linear heads (``classifiers.heads``) draw one straight boundary per category
through the embedding space, helped by hashed n-grams. A small network with one
hidden layer of rectified units can bend that boundary: on the held-out rows of
the public evaluation data, it ranks harmful against not harmful better from the
embedding alone (ROC AUC 0.84 against 0.76 for a linear head on the same input).
Its probability for each category is one more signal for the calibrated combiner
(``heads.json``, ``"hidden"``); it does not decide anything on its own.

It is trained with scikit-learn's ``MLPClassifier`` (``classifiers.training.fit``)
and ships as plain arrays inside ``heads.npz``; scoring is two matrix products in
NumPy, far less work than the encoder does for the same comment.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.models import Category

HIDDEN_UNITS = 256
"""Rectified units in the hidden layer."""
HIDDEN_ALPHA = 1e-3
"""L2 penalty while training."""
HIDDEN_SEED = 0
"""Training is deterministic: the same rows give the same weights."""
VALIDATION_SHARE = 0.1
"""The share of rows held back to decide when training stops."""
PROB_FLOOR = 1e-6
"""Probabilities are kept in [PROB_FLOOR, 1 - PROB_FLOOR] before taking log-odds."""


@dataclass(frozen=True)
class HiddenLayerHead:
    """``softmax(relu(x @ w1 + b1) @ w2 + b2)`` over every category (benign included)."""

    w1: npt.NDArray[np.float32]  # (dim, units)
    b1: npt.NDArray[np.float32]  # (units,)
    w2: npt.NDArray[np.float32]  # (units, len(Category))
    b2: npt.NDArray[np.float32]  # (len(Category),)

    def __post_init__(self) -> None:
        dim, units = self.w1.shape
        if self.b1.shape != (units,) or self.w2.shape != (units, len(Category)):
            raise ValueError("hidden layer weights do not fit together")
        if self.b2.shape != (len(Category),):
            raise ValueError("hidden layer output does not cover every category")

    @property
    def dim(self) -> int:
        """The embedding size it reads."""
        return int(self.w1.shape[0])

    @classmethod
    def fit(
        cls,
        embeddings: npt.NDArray[np.float32],
        labels: Sequence[Category],
        seed: int = HIDDEN_SEED,
    ) -> HiddenLayerHead:
        """Train on ``embeddings`` labelled ``labels``.

        Training stops early when a tenth of the rows, held back with every category
        in proportion, stops improving; on a set too small to hold back such a tenth
        (fewer than two rows of a category, or fewer held-back rows than categories)
        it runs its full course instead.
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        classes = list(Category)
        y = np.array([classes.index(c) for c in labels])
        counts = np.bincount(y)
        counts = counts[counts > 0]
        held_back = math.ceil(VALIDATION_SHARE * len(y))
        clf = MLPClassifier(
            hidden_layer_sizes=(HIDDEN_UNITS,),
            alpha=HIDDEN_ALPHA,
            early_stopping=bool(counts.min() >= 2 and held_back >= len(counts)),
            validation_fraction=VALIDATION_SHARE,
            random_state=seed,
            max_iter=200,
        )
        with warnings.catch_warnings():
            # a small set runs its full course (max_iter) on purpose: not a fault to report
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(np.asarray(embeddings, dtype=np.float32), y)
        w1, w2 = (np.asarray(c, dtype=np.float32) for c in clf.coefs_)
        b1, b2_seen = (np.asarray(b, dtype=np.float32) for b in clf.intercepts_)
        present = [int(c) for c in clf.classes_]
        w2_all = np.zeros((w1.shape[1], len(classes)), dtype=np.float32)
        b2_all = np.full(len(classes), -30.0, dtype=np.float32)  # a category never seen
        if len(present) == 2:  # scikit-learn keeps one logistic output for two classes
            w2_all[:, present[1]] = w2[:, 0]
            b2_all[present[1]] = b2_seen[0]
            b2_all[present[0]] = 0.0
        else:
            for col, cls_index in enumerate(present):
                w2_all[:, cls_index] = w2[:, col]
                b2_all[cls_index] = b2_seen[col]
        return cls(w1, b1, w2_all, b2_all)

    def probabilities(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Shape (n, len(Category)), in ``list(Category)`` order; rows sum to 1."""
        x = np.asarray(embeddings, dtype=np.float32)
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        z = (hidden @ self.w2 + self.b2).astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: npt.NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
        return out

    def arrays(self) -> dict[str, npt.NDArray[np.float32]]:
        """The arrays to store (``hidden_`` prefixed, for ``heads.npz``)."""
        return {
            "hidden_w1": self.w1,
            "hidden_b1": self.b1,
            "hidden_w2": self.w2,
            "hidden_b2": self.b2,
        }

    @classmethod
    def from_arrays(cls, data: dict[str, npt.NDArray[np.float32]]) -> HiddenLayerHead:
        """Rebuild from :meth:`arrays` (raises ``ValueError`` when they do not fit)."""
        return cls(
            *(
                np.asarray(data[k], dtype=np.float32)
                for k in ("hidden_w1", "hidden_b1", "hidden_w2", "hidden_b2")
            )
        )


def log_odds(probabilities: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The combiner's feature: each probability's log-odds (bounded by :data:`PROB_FLOOR`)."""
    p = np.clip(probabilities, PROB_FLOOR, 1.0 - PROB_FLOOR)
    out: npt.NDArray[np.float64] = np.log(p / (1.0 - p))
    return out
