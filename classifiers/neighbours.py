"""A second opinion from the school-written examples most like a comment.

The linear heads draw one straight boundary per category through the whole
embedding space; comments in a school's register often sit in small pockets that
a straight boundary cuts badly (a complaint that a child was upset by a policy
lies close to a disclosure that a child is at risk). The neighbour bank keeps
the sentence embeddings of the labelled school-written examples the heads were
trained on and, for a new comment, looks at the ``k`` most similar of them: the
similarity-weighted share of each category among those neighbours is one more
signal for the calibrated combiner (``heads.json``, ``"neighbours"``).

Only school-written rows go into the bank (the templates, the development set,
the hand-written examples and moderators' decisions): their register is the one
schoolwatch classifies. The bank ships inside ``heads.npz`` as float16 vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from core.models import Category

NEIGHBOURS = 10
"""How many of the most similar examples vote."""
TEMPERATURE = 20.0
"""A neighbour's vote is exp(TEMPERATURE * cosine): closer examples count far more."""
SMOOTHING = 0.1
"""Pseudo-votes per category, so that an absent category is unlikely, not impossible."""
_CHUNK = 64
"""Comments per similarity block: the search holds a (64 x bank size) block and its
indices at a time (about 12 MB for a bank of 12,000), not one for the whole batch."""


def _unit_rows(x: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """``x`` as float32 with every non-zero row scaled to length 1."""
    rows = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: npt.NDArray[np.float32] = (rows / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    return out


@dataclass(frozen=True)
class NeighbourBank:
    """Unit-length embeddings of labelled examples and their categories."""

    vectors: npt.NDArray[np.float16]  # (n, dim), rows of unit length
    labels: npt.NDArray[np.int8]  # (n,), index into list(Category)
    k: int = NEIGHBOURS

    @classmethod
    def build(
        cls, embeddings: npt.NDArray[np.float32], labels: Sequence[Category], k: int = NEIGHBOURS
    ) -> NeighbourBank:
        """A bank of ``embeddings`` (any length; they are normalised) labelled ``labels``."""
        classes = list(Category)
        return cls(
            _unit_rows(embeddings).astype(np.float16),
            np.array([classes.index(c) for c in labels], dtype=np.int8),
            k,
        )

    @cached_property
    def _matrix(self) -> npt.NDArray[np.float32]:
        """The vectors as float32, made once (they are stored as float16)."""
        return self.vectors.astype(np.float32)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def shares(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Per comment: each category's weighted share among its ``k`` nearest examples.

        Shape (n, len(Category)), in ``list(Category)`` order; rows sum to 1
        (uniform when the bank is empty).
        """
        n, n_classes = embeddings.shape[0], len(Category)
        if n == 0 or len(self) == 0:
            return np.full((n, n_classes), 1.0 / n_classes)
        shares = np.zeros((n, n_classes))
        k = min(self.k, len(self))
        bank = self._matrix
        query = _unit_rows(embeddings)
        for start in range(0, n, _CHUNK):
            sims = query[start : start + _CHUNK] @ bank.T
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            top_sims = np.take_along_axis(sims, top, axis=1).astype(np.float64)
            votes = np.exp(TEMPERATURE * (top_sims - top_sims.max(axis=1, keepdims=True)))
            rows = np.repeat(np.arange(top.shape[0]), k)
            block = np.zeros((top.shape[0], n_classes))
            np.add.at(block, (rows, self.labels[top].ravel().astype(np.intp)), votes.ravel())
            shares[start : start + top.shape[0]] = block / block.sum(axis=1, keepdims=True)
        return shares

    def log_probs(self, shares: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The combiner's feature: the log of each share, smoothed so that it is bounded
        (about -4.7 when no neighbour has the category, near 0 when all do)."""
        k = min(self.k, len(self))
        out: npt.NDArray[np.float64] = np.log(
            (k * shares + SMOOTHING) / (k + SMOOTHING * len(Category))
        )
        return out
