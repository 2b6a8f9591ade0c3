"""Trained multi-label heads and the calibrated combiner (the "stacker"), stored as npz + JSON.

``heads.npz`` holds one linear head per category over the sentence embedding and
the hashed n-grams; ``heads.json`` holds the metadata, the per-category
combiner weights (model logit, rule score, profanity score, staff named) and the
thresholds the calibration recommends. No pickle is used anywhere.
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

from core.errors import ClassifierError
from core.models import Category

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
"""Where the shipped head weights live."""

MODEL_CATEGORIES: tuple[Category, ...] = tuple(c for c in Category if c is not Category.BENIGN)
STACK_FEATURES = ("model", "rule", "profanity", "staff")


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

    @property
    def version(self) -> str:
        """The heads' version string (set at training time)."""
        return str(self.meta.get("version", "0"))

    @property
    def thresholds(self) -> dict[Category, float]:
        """Thresholds recommended by calibration (the policy's thresholds are what is used)."""
        raw = self.meta.get("thresholds", {})
        return {Category(k): float(v) for k, v in raw.items()}

    def logits(
        self, embeddings: npt.NDArray[np.float32], ngrams: sparse.csr_matrix
    ) -> npt.NDArray[np.float64]:
        """Raw head outputs, shape (n, K)."""
        dense = embeddings.astype(np.float64) @ self.emb_w.astype(np.float64)
        sparse_part = np.asarray(ngrams @ self.ngram_w.astype(np.float64))
        out: npt.NDArray[np.float64] = dense + sparse_part + self.bias.astype(np.float64)
        return out

    def combine(
        self,
        logits: npt.NDArray[np.float64],
        rules: npt.NDArray[np.float64],
        profanity: npt.NDArray[np.float64],
        staff: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float64]:
        """Calibrated per-category scores from the model, rules, profanity and staff signals.

        Without combiner weights (a head trained without calibration) the score is
        the noisy-or of the model probability and the rule score.
        """
        stack = self.meta.get("stacker")
        if not stack:
            p = sigmoid(logits)
            out: npt.NDArray[np.float64] = 1.0 - (1.0 - p) * (1.0 - rules)
            return out
        scores = np.zeros_like(logits)
        for k, cat in enumerate(self.labels):
            w = stack[cat.value]
            z = (
                w["model"] * logits[:, k]
                + w["rule"] * rules[:, k]
                + w["profanity"] * profanity
                + w["staff"] * staff
                + w["bias"]
            )
            scores[:, k] = sigmoid(z)
        return scores

    def save(self, directory: Path) -> None:
        """Write ``heads.npz`` and ``heads.json`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / "heads.npz",
            emb_w=self.emb_w.astype(np.float32),
            ngram_w=self.ngram_w.astype(np.float16),
            bias=self.bias.astype(np.float32),
        )
        meta = dict(self.meta)
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
            labels = tuple(Category(v) for v in meta["labels"])
        except (OSError, ValueError, KeyError) as exc:
            raise ClassifierError(f"could not read the heads in {directory}: {exc}") from exc
        if emb_w.shape[1] != len(labels) or ngram_w.shape[1] != len(labels):
            raise ClassifierError(f"heads in {directory} do not match their label list")
        return cls(labels, emb_w, ngram_w, bias, meta)


def logit(p: float) -> float:
    """log(p / (1 - p)), clipped."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
