"""Train the heads and the combiner from labelled examples.

1. Examples are split by group (one template, one post) into five folds.
2. For each fold, the heads (a softmax over all categories, plus one-vs-rest heads
   for criticism and defamation on school-written rows) are fitted on
   [embedding | hashed n-grams] of the other four folds, the hidden-layer head
   (``classifiers.hidden``) on their embeddings, and the neighbour bank is built
   from those folds' school-written rows; all three score the fold, so every
   example gets scores from a model that never saw it.
3. On those out-of-fold scores, a small logistic regression per category combines
   the head's logit, the neighbours' share, the hidden-layer head's log-odds, the
   profanity score and "staff named"; the operating point that maximises F1 (F2
   for the categories where a miss is worst) is moved to 0.5.
4. The heads, the hidden layer and the bank are rebuilt from all examples; the
   combiner is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from classifiers.encoder import Encoder
from classifiers.ensemble import EnsembleClassifier
from classifiers.features import CHAR_FEATURES, WORD_FEATURES, ngram_features, prepare, stack
from classifiers.heads import LOGIT_CLIP, MODEL_CATEGORIES, Heads, final_scores, logit
from classifiers.hidden import HiddenLayerHead
from classifiers.neighbours import NeighbourBank
from classifiers.training.cache import EmbeddingCache
from classifiers.training.data import Example, bucket, text_key
from config.policy import SchoolPolicy
from core.models import Category, Context

log = logging.getLogger(__name__)

HEADS_VERSION_PREFIX = "2"
CALIBRATION_SALT = "schoolwatch-calib-v1"
CALIBRATION_FOLDS = 5
"""The combiner is calibrated on every example, each scored by heads fitted on the
other four fifths (out-of-fold), rather than on one held-back fifth: the held-back
fifth's choice moved the school figures by up to 5 points."""
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
PLATEAU = 0.01
"""Operating points within 1% (relative) of the best F-beta count as equally good."""
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


def _best_shift(
    y: npt.NDArray[np.int_],
    model: npt.NDArray[np.float64],
    rules: npt.NDArray[np.float64],
    caps: npt.NDArray[np.float64],
    beta: float,
) -> float:
    """The model threshold t that maximises F-beta of the final score at 0.5 after shifting.

    The F-beta curve is flat near its top: every t within :data:`PLATEAU` of the
    best F-beta is as good on these rows, and the centre of that range (in
    log-odds) is returned, so that a small change in the training rows cannot
    swing the threshold from one end of a flat optimum to the other.
    """
    z = np.log(np.clip(model, 1e-9, 1 - 1e-9) / np.clip(1 - model, 1e-9, 1.0))
    curve: list[tuple[float, float]] = []
    for t in np.arange(0.05, 0.951, 0.025):
        shifted = 1.0 / (1.0 + np.exp(-(z - logit(float(t)))))
        pred = final_scores(shifted, rules, caps) >= 0.5
        tp = float((pred & (y == 1)).sum())
        fp = float((pred & (y == 0)).sum())
        fn = float((~pred & (y == 1)).sum())
        if tp == 0:
            continue
        p, r = tp / (tp + fp), tp / (tp + fn)
        curve.append((float(t), (1 + beta**2) * p * r / (beta**2 * p + r)))
    if not curve:
        return 0.5
    best = max(f for _t, f in curve)
    centre = float(np.mean([logit(t) for t, f in curve if f >= best * (1.0 - PLATEAU)]))
    return float(1.0 / (1.0 + np.exp(-centre)))


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


def softmax_targets(examples: Sequence[Example]) -> list[Category]:
    """What the softmax head learns for each example: SCHOOL_ONLY rows count as benign.

    Criticism and defamation are scored by their own heads, and the softmax is
    renormalised over its other columns. Had it learnt criticism as a class, a
    complaint's probability would move to whichever harmful class came second once
    criticism was taken out (a complaint about SATs read as hate). Learnt as benign,
    a complaint is not harmful to the softmax, and its own head says it is criticism.
    """
    return [Category.BENIGN if e.label in SCHOOL_ONLY else e.label for e in examples]


def _fit_all(
    x: sparse.csr_matrix,
    emb: npt.NDArray[np.float32],
    examples: Sequence[Example],
    kind: str,
    dim: int,
) -> Heads:
    """Heads of ``kind`` fitted on ``examples`` (features ``x``, embeddings ``emb``) and
    their neighbour bank of the school-written examples, without a combiner."""
    fitter = _fit_softmax if kind == "softmax" else _fit_heads
    labels = tuple(Category) if kind == "softmax" else MODEL_CATEGORIES
    weights = example_weights(examples)
    binary_columns = [c.value for c in SCHOOL_ONLY] if kind == "softmax" else []
    targets = softmax_targets(examples) if kind == "softmax" else [e.label for e in examples]
    ew, nw, b = fitter(x, targets, weights, dim)
    if binary_columns:
        ew, nw, b = _override_binary((ew, nw, b), x, examples, weights, dim)
    school = [i for i, e in enumerate(examples) if school_written(e)]
    bank = NeighbourBank.build(emb[school], [examples[i].label for i in school])
    hidden = HiddenLayerHead.fit(emb, [e.label for e in examples])
    meta = {"kind": kind, "binary_columns": binary_columns}
    return Heads(labels, ew, nw, b, meta, bank, hidden)


def calibration_folds(examples: Sequence[Example]) -> npt.NDArray[np.int_]:
    """Each example's calibration fold, 0..CALIBRATION_FOLDS-1 (rows of one group together)."""
    return np.array(
        [
            bucket(f"{CALIBRATION_SALT}|{e.group or e.text.strip().lower()}", CALIBRATION_FOLDS)
            for e in examples
        ]
    )


def train(
    examples: Sequence[Example],
    encoder: Encoder,
    policy: SchoolPolicy,
    cache: EmbeddingCache,
    progress: Progress | None = None,
    kind: str = "softmax",
    not_for_calibration: Collection[str] = frozenset(),
) -> TrainResult:
    """Fit heads and combiner on ``examples``; see the module docstring.

    ``not_for_calibration`` holds :func:`text_key` values of rows the encoder was
    fine-tuned on: they are still learnt from, but the combiner is not fitted on
    them (the encoder's view of them is too confident).
    """
    say = progress or (lambda _msg: None)
    emb, ngr = _features(encoder, cache, examples)
    cache.save()
    dim = encoder.dim
    x_all = stack(emb, ngr)
    fold = calibration_folds(examples)
    texts = [e.text for e in examples]
    n, k_all = len(examples), len(MODEL_CATEGORIES)
    oof_logits = np.zeros((n, k_all))
    oof_rules = np.zeros((n, k_all))
    oof_caps = np.ones((n, k_all))
    oof_neighbours = np.zeros((n, k_all))
    oof_hidden = np.zeros((n, k_all))
    profanity = np.zeros(n)
    staff = np.zeros(n)
    for f in range(CALIBRATION_FOLDS):
        held = np.flatnonzero(fold == f)
        learn = np.flatnonzero(fold != f)
        if len(held) == 0 or len(learn) == 0:
            continue
        say(f"calibration fold {f + 1}/{CALIBRATION_FOLDS}: fitting on {len(learn)} examples")
        heads = _fit_all(x_all[learn], emb[learn], [examples[int(i)] for i in learn], kind, dim)
        ens = EnsembleClassifier(policy, encoder, heads)
        sig = ens.signals([texts[int(i)] for i in held], [Context() for _ in held], emb[held])
        oof_logits[held] = sig.logits
        oof_rules[held] = sig.rule_matrix
        oof_caps[held] = sig.caps
        oof_neighbours[held] = heads.neighbour_feature(sig.neighbours)
        oof_hidden[held] = heads.hidden_feature(sig.hidden)
        profanity[held] = sig.profanity
        staff[held] = sig.staff

    say("calibrating the combiner on every example, each scored by heads that never saw it")
    use = np.array([text_key(t) not in not_for_calibration for t in texts])
    y_all = np.array([e.label.value for e in examples])[use]
    stacker: dict[str, dict[str, float]] = {}
    thresholds: dict[str, float] = {}
    clipped = np.clip(oof_logits[use], -LOGIT_CLIP, LOGIT_CLIP)
    rules_used, profanity_used, staff_used = oof_rules[use], profanity[use], staff[use]
    caps_used = oof_caps[use]
    neighbours_used = oof_neighbours[use]
    hidden_used = oof_hidden[use]
    for k, cat in enumerate(MODEL_CATEGORIES):
        y = (y_all == cat.value).astype(int)
        feats = np.column_stack(
            [clipped[:, k], neighbours_used[:, k], hidden_used[:, k], profanity_used, staff_used]
        )
        if y.sum() < 3 or y.sum() == len(y):
            stacker[cat.value] = {
                "model": 1.0,
                "neighbours": 0.0,
                "hidden": 0.0,
                "profanity": 0.0,
                "staff": 0.0,
                "bias": 0.0,
            }
            continue
        lr = LogisticRegression(C=1.0, max_iter=500)
        lr.fit(feats, y)
        coef = lr.coef_[0].copy()
        # monotone: a higher model score, neighbours' share or hidden-layer reading never
        # lowers the score
        coef[0] = max(coef[0], 0.05)
        coef[1] = max(coef[1], 0.0)
        coef[2] = max(coef[2], 0.0)
        bias = float(lr.intercept_[0])
        model = 1.0 / (1.0 + np.exp(-(feats @ coef + bias)))
        rules_k = rules_used[:, k]
        # choose the operating point on the final (rules included) score, then shift the
        # bias so that it sits at 0.5: one threshold, 0.5, fits every category
        beta = 2.0 if cat in HIGH_RECALL else 1.0
        best_t = _best_shift(y, model, rules_k, caps_used[:, k], beta)
        bias -= logit(best_t)
        stacker[cat.value] = {
            "model": round(float(coef[0]), 5),
            "neighbours": round(float(coef[1]), 5),
            "hidden": round(float(coef[2]), 5),
            "profanity": round(float(coef[3]), 5),
            "staff": round(float(coef[4]), 5),
            "bias": round(bias, 5),
        }
        thresholds[cat.value] = 0.5

    say("refitting the heads on all examples")
    final = _fit_all(x_all, emb, examples, kind, dim)
    digest = hashlib.sha256(
        "\n".join(f"{e.label.value}\t{e.text}" for e in examples).encode("utf-8")
    ).hexdigest()[:12]
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.label.value] = counts.get(e.label.value, 0) + 1
    # the combiner is part of the model: a recalibration alone also gets a new version
    weights_hash = hashlib.sha256(
        np.ascontiguousarray(final.emb_w).tobytes()
        + np.ascontiguousarray(final.bias).tobytes()
        + (final.bank.vectors.tobytes() if final.bank is not None else b"")
        + (final.hidden.w1.tobytes() + final.hidden.w2.tobytes() if final.hidden else b"")
        + json.dumps(stacker, sort_keys=True).encode("utf-8")
    ).hexdigest()[:6]
    meta = {
        "kind": kind,
        "binary_columns": final.meta["binary_columns"],
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
        "trained_on": {"examples": len(examples), "labels": counts, "digest": digest},
    }
    return TrainResult(replace(final, meta=meta), n, int(use.sum()))
