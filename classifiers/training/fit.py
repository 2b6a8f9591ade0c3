"""Train the heads and the combiner from labelled examples.

1. Examples are split by group (one template, one post) into a fitting part (80%)
   and a calibration part (20%).
2. One logistic-regression head per category is fitted on [embedding | hashed
   n-grams] of the fitting part.
3. On the calibration part, a small logistic regression per category combines the
   head's logit, the rule score, the profanity score and "staff named"; the
   threshold that maximises F1 (F2 for the categories where a miss is worst) is
   recorded as the recommended threshold.
4. The heads are refitted on all examples; the combiner is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from classifiers.encoder import Encoder
from classifiers.ensemble import EnsembleClassifier
from classifiers.features import CHAR_FEATURES, WORD_FEATURES, ngram_features, prepare, stack
from classifiers.heads import MODEL_CATEGORIES, Heads
from classifiers.training.cache import EmbeddingCache
from classifiers.training.data import Example, split
from config.policy import SchoolPolicy
from core.models import Category, Context

log = logging.getLogger(__name__)

HEADS_VERSION_PREFIX = "1"
HIGH_RECALL: frozenset[Category] = frozenset(
    {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.SEXUAL,
        Category.STAFF_ALLEGATION,
        Category.PERSONAL_DATA,
    }
)
C_HEAD = 4.0
SCHOOL_WEIGHT = 3.0
Progress = Callable[[str], None]


@dataclass
class TrainResult:
    """Trained heads and a few facts about the run."""

    heads: Heads
    n_fit: int
    n_calib: int


def _weights(examples: Sequence[Example]) -> npt.NDArray[np.float64]:
    """School-written examples count more: they are fewer and closer to real comments."""
    return np.array(
        [
            SCHOOL_WEIGHT if not ex.source or ex.source.startswith("school") else 1.0
            for ex in examples
        ]
    )


def _fit_heads(
    x: sparse.csr_matrix, labels: Sequence[Category], weights: npt.NDArray[np.float64], dim: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    k = len(MODEL_CATEGORIES)
    w = np.zeros((x.shape[1], k), dtype=np.float32)
    b = np.zeros(k, dtype=np.float32)
    y_all = np.array([lab.value for lab in labels])
    for j, cat in enumerate(MODEL_CATEGORIES):
        y = (y_all == cat.value).astype(int)
        if y.sum() < 2:
            log.warning("category %s has %d examples: head left at zero", cat.value, int(y.sum()))
            b[j] = -6.0
            continue
        pos = y.sum()
        cw = {0: 1.0, 1: min(10.0, max(1.0, (len(y) - pos) / pos / 4))}
        clf = LogisticRegression(C=C_HEAD, solver="liblinear", class_weight=cw, max_iter=200)
        clf.fit(x, y, sample_weight=weights)
        w[:, j] = clf.coef_[0]
        b[j] = clf.intercept_[0]
    return w[:dim], w[dim:], b


def _best_threshold(y: npt.NDArray[np.int_], s: npt.NDArray[np.float64], beta: float) -> float:
    best, best_t = -1.0, 0.5
    for t in np.arange(0.2, 0.91, 0.025):
        pred = s >= t
        tp = float((pred & (y == 1)).sum())
        fp = float((pred & (y == 0)).sum())
        fn = float((~pred & (y == 1)).sum())
        if tp == 0:
            continue
        p, r = tp / (tp + fp), tp / (tp + fn)
        f = (1 + beta**2) * p * r / (beta**2 * p + r)
        if f > best + 1e-9:
            best, best_t = f, float(t)
    return round(best_t, 3)


def _features(
    encoder: Encoder, cache: EmbeddingCache, examples: Sequence[Example]
) -> tuple[npt.NDArray[np.float32], sparse.csr_matrix]:
    prepared = [prepare(ex.text) for ex in examples]
    emb = cache.embed(encoder, prepared)
    return emb, ngram_features(prepared)


def train(
    examples: Sequence[Example],
    encoder: Encoder,
    policy: SchoolPolicy,
    cache: EmbeddingCache,
    progress: Progress | None = None,
) -> TrainResult:
    """Fit heads and combiner on ``examples``; see the module docstring."""
    say = progress or (lambda _msg: None)
    fit_part, calib_part = split(examples, 20, salt="schoolwatch-calib-v1")
    say(f"{len(fit_part)} examples to fit the heads, {len(calib_part)} to calibrate")
    emb_f, ngr_f = _features(encoder, cache, fit_part)
    emb_c, ngr_c = _features(encoder, cache, calib_part)
    cache.save()
    dim = encoder.dim
    say("fitting the heads on the fitting part")
    ew, nw, b = _fit_heads(
        stack(emb_f, ngr_f), [e.label for e in fit_part], _weights(fit_part), dim
    )
    heads = Heads(MODEL_CATEGORIES, ew, nw, b, {})

    say("calibrating the combiner on the calibration part")
    ens = EnsembleClassifier(policy, encoder, heads)
    texts = [e.text for e in calib_part]
    sig = ens.signals(texts, [Context() for _ in texts], emb_c)
    y_all = np.array([e.label.value for e in calib_part])
    stacker: dict[str, dict[str, float]] = {}
    thresholds: dict[str, float] = {}
    for k, cat in enumerate(MODEL_CATEGORIES):
        y = (y_all == cat.value).astype(int)
        feats = np.column_stack([sig.logits[:, k], sig.rule_matrix[:, k], sig.profanity, sig.staff])
        if y.sum() < 3 or y.sum() == len(y):
            stacker[cat.value] = {
                "model": 1.0,
                "rule": 2.0,
                "profanity": 0.0,
                "staff": 0.0,
                "bias": 0.0,
            }
            thresholds[cat.value] = 0.5
            continue
        lr = LogisticRegression(C=1.0, max_iter=500)
        lr.fit(feats, y)
        coef = lr.coef_[0]
        # keep the combiner monotone: a rule match or a higher model score never lowers a score
        coef[0] = max(coef[0], 0.05)
        coef[1] = max(coef[1], 0.0)
        stacker[cat.value] = {
            "model": round(float(coef[0]), 5),
            "rule": round(float(coef[1]), 5),
            "profanity": round(float(coef[2]), 5),
            "staff": round(float(coef[3]), 5),
            "bias": round(float(lr.intercept_[0]), 5),
        }
        z = feats @ coef + lr.intercept_[0]
        s = 1.0 / (1.0 + np.exp(-z))
        thresholds[cat.value] = _best_threshold(y, s, 2.0 if cat in HIGH_RECALL else 1.0)

    say("refitting the heads on all examples")
    emb_all = np.vstack([emb_f, emb_c])
    ngr_all = sparse.vstack([ngr_f, ngr_c], format="csr")
    everything = list(fit_part) + list(calib_part)
    ew, nw, b = _fit_heads(
        stack(emb_all, ngr_all), [e.label for e in everything], _weights(everything), dim
    )
    digest = hashlib.sha256(
        "\n".join(f"{e.label.value}\t{e.text}" for e in everything).encode("utf-8")
    ).hexdigest()[:12]
    counts: dict[str, int] = {}
    for e in everything:
        counts[e.label.value] = counts.get(e.label.value, 0) + 1
    meta = {
        "version": f"{HEADS_VERSION_PREFIX}.{digest}",
        "created": dt.date.today().isoformat(),
        "encoder": {
            "name": encoder.name,
            "fingerprint": encoder.version,
            "max_tokens": encoder.max_tokens,
        },
        "features": {"word": WORD_FEATURES, "char": CHAR_FEATURES, "embedding": dim},
        "stacker": stacker,
        "thresholds": thresholds,
        "trained_on": {"examples": len(everything), "labels": counts, "digest": digest},
    }
    return TrainResult(Heads(MODEL_CATEGORIES, ew, nw, b, meta), len(fit_part), len(calib_part))
