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
from classifiers.heads import LOGIT_CLIP, MODEL_CATEGORIES, Heads, logit
from classifiers.training.cache import EmbeddingCache
from classifiers.training.data import Example, split
from config.policy import SchoolPolicy
from core.models import Category, Context

log = logging.getLogger(__name__)

HEADS_VERSION_PREFIX = "2"
CALIBRATION_SALT = "schoolwatch-calib-v1"
HIGH_RECALL: frozenset[Category] = frozenset(
    {
        Category.SELF_HARM,
        Category.ABUSE_DISCLOSURE,
        Category.SEXUAL,
        Category.STAFF_ALLEGATION,
        Category.PERSONAL_DATA,
    }
)
C_HEAD = 0.5
C_SOFTMAX = 2.0
SCHOOL_ONLY: tuple[Category, ...] = (Category.CRITICISM, Category.DEFAMATION)
"""Categories with their own one-vs-rest head fitted on school-written rows only.

Threat is not among them: with public rows as negatives the softmax's threat
column fires far less on ordinary replies (docs/evaluation.md)."""
SCHOOL_WEIGHT = 3.0
DEV_WEIGHT = 3.0
"""Weight of the school development set's rows (real-register comments, few of them)."""
Progress = Callable[[str], None]


@dataclass
class TrainResult:
    """Trained heads and a few facts about the run."""

    heads: Heads
    n_fit: int
    n_calib: int


def school_written(example: Example) -> bool:
    """Whether a row was written in a school's register (not taken from public data)."""
    return not example.source or example.source.startswith("school")


def example_weights(examples: Sequence[Example]) -> npt.NDArray[np.float64]:
    """School-written examples count more: they are fewer and closer to real comments."""
    return np.array(
        [
            DEV_WEIGHT
            if ex.source == "school_dev"
            else SCHOOL_WEIGHT
            if school_written(ex)
            else 1.0
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


def _fit_softmax(
    x: sparse.csr_matrix, labels: Sequence[Category], weights: npt.NDArray[np.float64], dim: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """One multinomial head over all categories (benign included)."""
    classes = list(Category)
    y = np.array([classes.index(lab) for lab in labels])
    clf = LogisticRegression(C=C_SOFTMAX, solver="lbfgs", max_iter=400)
    clf.fit(x, y, sample_weight=weights)
    w = np.zeros((x.shape[1], len(classes)), dtype=np.float32)
    b = np.full(len(classes), -30.0, dtype=np.float32)
    for row, cls in enumerate(clf.classes_):
        w[:, int(cls)] = clf.coef_[row]
        b[int(cls)] = clf.intercept_[row]
    return w[:dim], w[dim:], b


def _final(
    model: npt.NDArray[np.float64], rules: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    agree = 1.0 - (1.0 - model) * (1.0 - 0.5 * rules)
    out: npt.NDArray[np.float64] = np.maximum(np.maximum(model, rules), agree)
    return out


def _best_shift(
    y: npt.NDArray[np.int_],
    model: npt.NDArray[np.float64],
    rules: npt.NDArray[np.float64],
    beta: float,
) -> float:
    """The model threshold t that maximises F-beta of the final score at 0.5 after shifting."""
    best, best_t = -1.0, 0.5
    z = np.log(np.clip(model, 1e-9, 1 - 1e-9) / np.clip(1 - model, 1e-9, 1.0))
    for t in np.arange(0.05, 0.951, 0.025):
        shifted = 1.0 / (1.0 + np.exp(-(z - logit(float(t)))))
        pred = _final(shifted, rules) >= 0.5
        tp = float((pred & (y == 1)).sum())
        fp = float((pred & (y == 0)).sum())
        fn = float((~pred & (y == 1)).sum())
        if tp == 0:
            continue
        p, r = tp / (tp + fp), tp / (tp + fn)
        f = (1 + beta**2) * p * r / (beta**2 * p + r)
        if f > best + 1e-9:
            best, best_t = f, float(t)
    return best_t


def _override_binary(
    w: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]],
    x: sparse.csr_matrix,
    examples: Sequence[Example],
    weights: npt.NDArray[np.float64],
    dim: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Replace the softmax columns of SCHOOL_ONLY categories by one-vs-rest heads fitted on
    the school-written examples only (public "benign" rows include complaints and rows
    that would be threats or claims on a school page, so they are not negatives there)."""
    ew, nw, b = (a.copy() for a in w)
    school = np.array([school_written(e) for e in examples])
    xs = x[np.flatnonzero(school)]
    ws = weights[school]
    labels = np.array([e.label.value for e in examples])[school]
    classes = list(Category)
    for cat in SCHOOL_ONLY:
        y = (labels == cat.value).astype(int)
        if y.sum() < 2:
            continue
        clf = LogisticRegression(C=C_HEAD, solver="liblinear", max_iter=300)
        clf.fit(xs, y, sample_weight=ws)
        j = classes.index(cat)
        coef = clf.coef_[0].astype(np.float32)
        ew[:, j], nw[:, j], b[j] = coef[:dim], coef[dim:], clf.intercept_[0]
    return ew, nw, b


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
    kind: str = "softmax",
) -> TrainResult:
    """Fit heads and combiner on ``examples``; see the module docstring."""
    say = progress or (lambda _msg: None)
    fit_part, calib_part = split(examples, 20, salt=CALIBRATION_SALT)
    say(f"{len(fit_part)} examples to fit the heads, {len(calib_part)} to calibrate")
    emb_f, ngr_f = _features(encoder, cache, fit_part)
    emb_c, ngr_c = _features(encoder, cache, calib_part)
    cache.save()
    dim = encoder.dim
    say("fitting the heads on the fitting part")
    fitter = _fit_softmax if kind == "softmax" else _fit_heads
    labels = tuple(Category) if kind == "softmax" else MODEL_CATEGORIES
    x_fit = stack(emb_f, ngr_f)
    ew, nw, b = fitter(x_fit, [e.label for e in fit_part], example_weights(fit_part), dim)
    binary_columns = [c.value for c in SCHOOL_ONLY] if kind == "softmax" else []
    if binary_columns:
        ew, nw, b = _override_binary((ew, nw, b), x_fit, fit_part, example_weights(fit_part), dim)
    heads = Heads(labels, ew, nw, b, {"kind": kind, "binary_columns": binary_columns})

    say("calibrating the combiner on the calibration part")
    ens = EnsembleClassifier(policy, encoder, heads)
    texts = [e.text for e in calib_part]
    sig = ens.signals(texts, [Context() for _ in texts], emb_c)
    y_all = np.array([e.label.value for e in calib_part])
    stacker: dict[str, dict[str, float]] = {}
    thresholds: dict[str, float] = {}
    clipped = np.clip(sig.logits, -LOGIT_CLIP, LOGIT_CLIP)
    for k, cat in enumerate(MODEL_CATEGORIES):
        y = (y_all == cat.value).astype(int)
        feats = np.column_stack([clipped[:, k], sig.profanity, sig.staff])
        if y.sum() < 3 or y.sum() == len(y):
            stacker[cat.value] = {"model": 1.0, "profanity": 0.0, "staff": 0.0, "bias": 0.0}
            continue
        lr = LogisticRegression(C=1.0, max_iter=500)
        lr.fit(feats, y)
        coef = lr.coef_[0].copy()
        coef[0] = max(coef[0], 0.05)  # monotone: a higher model score never lowers the score
        bias = float(lr.intercept_[0])
        model = 1.0 / (1.0 + np.exp(-(feats @ coef + bias)))
        rules_k = sig.rule_matrix[:, k]
        # choose the operating point on the final (rules included) score, then shift the
        # bias so that it sits at 0.5: one threshold, 0.5, fits every category
        beta = 2.0 if cat in HIGH_RECALL else 1.0
        best_t = _best_shift(y, model, rules_k, beta)
        bias -= logit(best_t)
        stacker[cat.value] = {
            "model": round(float(coef[0]), 5),
            "profanity": round(float(coef[1]), 5),
            "staff": round(float(coef[2]), 5),
            "bias": round(bias, 5),
        }
        thresholds[cat.value] = 0.5

    say("refitting the heads on all examples")
    emb_all = np.vstack([emb_f, emb_c])
    ngr_all = sparse.vstack([ngr_f, ngr_c], format="csr")
    everything = list(fit_part) + list(calib_part)
    x_all = stack(emb_all, ngr_all)
    ew, nw, b = fitter(x_all, [e.label for e in everything], example_weights(everything), dim)
    if binary_columns:
        ew, nw, b = _override_binary(
            (ew, nw, b), x_all, everything, example_weights(everything), dim
        )
    digest = hashlib.sha256(
        "\n".join(f"{e.label.value}\t{e.text}" for e in everything).encode("utf-8")
    ).hexdigest()[:12]
    counts: dict[str, int] = {}
    for e in everything:
        counts[e.label.value] = counts.get(e.label.value, 0) + 1
    weights_hash = hashlib.sha256(
        np.ascontiguousarray(ew).tobytes() + np.ascontiguousarray(b).tobytes()
    ).hexdigest()[:6]
    meta = {
        "kind": kind,
        "binary_columns": binary_columns,
        "version": f"{HEADS_VERSION_PREFIX}.{digest[:8]}.{weights_hash}",
        "created": dt.date.today().isoformat(),
        "encoder": {
            "name": encoder.name,
            "fingerprint": encoder.version,
            "max_tokens": encoder.max_tokens,
            "layers": encoder.layers,
            "quantized": encoder.quantized,
        },
        "features": {"word": WORD_FEATURES, "char": CHAR_FEATURES, "embedding": dim},
        "stacker": stacker,
        "thresholds": thresholds,
        "trained_on": {"examples": len(everything), "labels": counts, "digest": digest},
    }
    return TrainResult(Heads(labels, ew, nw, b, meta), len(fit_part), len(calib_part))
