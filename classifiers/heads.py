"""Trained multi-label heads and the calibrated combiner (the "stacker"), stored as npz + JSON.

``heads.npz`` holds one linear head per category over the sentence embedding and
the hashed n-grams, the neighbour bank (``classifiers.neighbours``) and the
hidden-layer head (``classifiers.hidden``); ``heads.json`` holds the metadata,
the per-category combiner weights (model logit, neighbours' share, hidden-layer
log-odds, profanity score, staff named) and the thresholds the calibration
recommends. No pickle is used anywhere.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from classifiers.hidden import HiddenLayerHead, log_odds
from classifiers.neighbours import NEIGHBOURS, NeighbourBank
from core.errors import ClassifierError
from core.models import Category

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
"""Where the shipped head weights live."""

MODEL_CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c is not Category.BENIGN)
STACK_FEATURES = ("model", "neighbours", "hidden", "profanity", "staff")
LOGIT_CLIP = 8.0


def sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Numerically safe logistic function."""
    out: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))
    return out


@dataclass
class Heads:
    """Linear heads over [embedding | hashed n-grams], one per category, plus the combiner."""

    labels: tuple[Category, ...]
    emb_w: npt.NDArray[np.float32]  # (dim, K)
    ngram_w: npt.NDArray[np.float32]  # (n_features, K)
    bias: npt.NDArray[np.float32]  # (K,)
    meta: dict[str, Any] = field(default_factory=dict)
    bank: NeighbourBank | None = None
    hidden: HiddenLayerHead | None = None

    @property
    def version(self) -> str:
        """The heads' version string (set at training time)."""
        return str(self.meta.get("version", "0"))

    @property
    def thresholds(self) -> dict[Category, float]:
        """Thresholds recommended by calibration (the policy's thresholds are what is used)."""
        raw = self.meta.get("thresholds", {})
        return {Category(k): float(v) for k, v in raw.items()}

    @property
    def binary_columns(self) -> frozenset[str]:
        """Categories scored by their own one-vs-rest head inside a softmax model."""
        return frozenset(self.meta.get("binary_columns", ()))

    @property
    def categories(self) -> tuple[Category, ...]:
        """The categories scored (every category but benign)."""
        return tuple(c for c in self.labels if c is not Category.BENIGN)

    def logits(
        self, embeddings: npt.NDArray[np.float32], ngrams: sparse.csr_matrix
    ) -> npt.NDArray[np.float64]:
        """Per-category log-odds (one-vs-rest heads) or log-probabilities (softmax head).

        Shape (n, len(categories)); benign is never a column.
        """
        dense = embeddings.astype(np.float64) @ self.emb_w.astype(np.float64)
        sparse_part = np.asarray(ngrams @ self.ngram_w.astype(np.float64))
        raw: npt.NDArray[np.float64] = dense + sparse_part + self.bias.astype(np.float64)
        if self.meta.get("kind") == "softmax":
            binary = [k for k, c in enumerate(self.labels) if c.value in self.binary_columns]
            soft = [k for k in range(len(self.labels)) if k not in binary]
            part = raw[:, soft]
            part = part - part.max(axis=1, keepdims=True)
            part = part - np.log(np.exp(part).sum(axis=1, keepdims=True))
            out_all = raw.copy()
            out_all[:, soft] = part
            if binary:  # one-vs-rest columns: log-sigmoid, so both kinds are log-probabilities
                out_all[:, binary] = -np.logaddexp(0.0, -raw[:, binary])
            raw = out_all
        keep = [k for k, c in enumerate(self.labels) if c is not Category.BENIGN]
        out: npt.NDArray[np.float64] = raw[:, keep]
        return out

    def probabilities(self, logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The model's own probability for each category, from :meth:`logits`."""
        if self.meta.get("kind") == "softmax":
            out: npt.NDArray[np.float64] = np.exp(logits)
            return out
        return sigmoid(logits)

    def _scored_columns(
        self, every_category: npt.NDArray[np.float64] | None, n: int
    ) -> npt.NDArray[np.float64]:
        """The columns of :attr:`categories` from a matrix in ``list(Category)`` order
        (zeros, shape (n, len(categories)), when there is none)."""
        if every_category is None:
            return np.zeros((n, len(self.categories)))
        classes = list(Category)
        out: npt.NDArray[np.float64] = every_category[
            :, [classes.index(c) for c in self.categories]
        ]
        return out

    def neighbour_shares(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Each category's share among the nearest bank examples.

        Shape (n, len(categories)); zeros when the heads have no bank.
        """
        shares = None if self.bank is None else self.bank.shares(embeddings)
        return self._scored_columns(shares, embeddings.shape[0])

    def neighbour_feature(self, shares: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The combiner's neighbour feature for :meth:`neighbour_shares` (zeros without a bank)."""
        if self.bank is None:
            return np.zeros_like(shares)
        return self.bank.log_probs(shares)

    def hidden_probabilities(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """The hidden-layer head's probability for each category.

        Shape (n, len(categories)); zeros when the heads have no hidden layer.
        """
        probs = None if self.hidden is None else self.hidden.probabilities(embeddings)
        return self._scored_columns(probs, embeddings.shape[0])

    def hidden_feature(self, probabilities: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The combiner's hidden-layer feature: clipped log-odds (zeros without the layer)."""
        if self.hidden is None:
            return np.zeros_like(probabilities)
        return np.clip(log_odds(probabilities), -LOGIT_CLIP, LOGIT_CLIP)

    def model_scores(
        self,
        logits: npt.NDArray[np.float64],
        profanity: npt.NDArray[np.float64],
        staff: npt.NDArray[np.float64],
        neighbours: npt.NDArray[np.float64] | None = None,
        hidden: npt.NDArray[np.float64] | None = None,
    ) -> npt.NDArray[np.float64]:
        """The model's calibrated score per category (before rules).

        A logistic combination of the head's clipped logit, the neighbours' share
        (:meth:`neighbour_feature`), the hidden layer's probability
        (:meth:`hidden_feature`), the profanity score and "staff named", fitted on
        held-out data and shifted so that 0.5 is the calibrated operating point of
        every category.
        """
        stack = self.meta.get("stacker")
        if not stack:
            return self.probabilities(logits)
        scores = np.zeros_like(logits)
        clipped = np.clip(logits, -LOGIT_CLIP, LOGIT_CLIP)
        near = self.neighbour_feature(neighbours) if neighbours is not None else None
        deep = self.hidden_feature(hidden) if hidden is not None else None
        for k, cat in enumerate(self.categories):
            w = stack[cat.value]
            z = (
                w["model"] * clipped[:, k]
                + w["profanity"] * profanity
                + w["staff"] * staff
                + w["bias"]
            )
            if near is not None and w.get("neighbours"):
                z = z + w["neighbours"] * near[:, k]
            if deep is not None and w.get("hidden"):
                z = z + w["hidden"] * deep[:, k]
            scores[:, k] = sigmoid(z)
        return scores

    def save(self, directory: Path) -> None:
        """Write ``heads.npz`` and ``heads.json`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, npt.NDArray[Any]] = {
            "emb_w": self.emb_w.astype(np.float32),
            "ngram_w": self.ngram_w.astype(np.float16),
            "bias": self.bias.astype(np.float32),
        }
        meta = dict(self.meta)
        if self.bank is not None:
            arrays["bank_vectors"] = self.bank.vectors.astype(np.float16)
            arrays["bank_labels"] = self.bank.labels.astype(np.int8)
            meta["neighbours"] = {"k": self.bank.k, "examples": len(self.bank)}
        if self.hidden is not None:
            arrays.update(self.hidden.arrays())
        np.savez_compressed(directory / "heads.npz", allow_pickle=False, **arrays)
        meta["labels"] = [c.value for c in self.labels]
        (directory / "heads.json").write_text(
            json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> Heads:
        """Read heads saved by :meth:`save`.

        Raises:
            ClassifierError: when the files are missing or inconsistent.
        """
        npz, js = directory / "heads.npz", directory / "heads.json"
        if not npz.is_file() or not js.is_file():
            raise ClassifierError(f"no trained heads in {directory} (run 'schoolwatch train')")
        try:
            meta = json.loads(js.read_text(encoding="utf-8"))
            with np.load(npz, allow_pickle=False) as data:
                emb_w = data["emb_w"].astype(np.float32)
                ngram_w = data["ngram_w"].astype(np.float32)
                bias = data["bias"].astype(np.float32)
                bank = None
                if "bank_vectors" in data.files:
                    bank = NeighbourBank(
                        data["bank_vectors"].astype(np.float16),
                        data["bank_labels"].astype(np.int8),
                        int(meta.get("neighbours", {}).get("k", NEIGHBOURS)),
                    )
                hidden = None
                if "hidden_w1" in data.files:
                    hidden = HiddenLayerHead.from_arrays(
                        {k: data[k] for k in data.files if k.startswith("hidden_")}
                    )
            labels = tuple(Category(v) for v in meta["labels"])
        except (OSError, ValueError, KeyError) as exc:
            raise ClassifierError(f"could not read the heads in {directory}: {exc}") from exc
        if emb_w.shape[1] != len(labels) or ngram_w.shape[1] != len(labels) or not labels:
            raise ClassifierError(f"heads in {directory} do not match their label list")
        if bank is not None and (
            bank.vectors.ndim != 2
            or bank.vectors.shape[1] != emb_w.shape[0]
            or bank.labels.shape != (bank.vectors.shape[0],)
            or bool(len(bank) and int(bank.labels.min()) < 0)
            or bool(len(bank) and int(bank.labels.max()) >= len(Category))
        ):
            raise ClassifierError(f"the neighbour bank in {directory} does not match the heads")
        if hidden is not None and hidden.dim != emb_w.shape[0]:
            raise ClassifierError(f"the hidden layer in {directory} does not match the heads")
        return cls(labels, emb_w, ngram_w, bias, meta, bank, hidden)


def final_scores(
    model: npt.NDArray[np.float64],
    rules: npt.NDArray[np.float64],
    caps: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """The model's calibrated scores, raised by the rules' and capped by their caps.

    A rule's weight is a floor (a strong phrase is flagged whatever the model
    says), and a weaker rule that agrees with the model lifts the model's score:
    ``max(model, rule, 1 - (1 - model) * (1 - rule / 2))``. A cap is a ceiling: the
    school's own phone number is not personal data however confident the model is.
    Calibration (``classifiers.training.fit``) uses the same function.
    """
    agree = 1.0 - (1.0 - model) * (1.0 - 0.5 * rules)
    out: npt.NDArray[np.float64] = np.maximum(np.maximum(model, rules), agree)
    return out if caps is None else np.minimum(out, caps)


def logit(p: float) -> float:
    """log(p / (1 - p)), clipped."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
