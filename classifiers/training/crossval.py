"""Honest figures for labelled rows the shipped heads learn from: k-fold cross-validation.

``data/training/school_dev.csv`` (the school-register development set) is used
to train the heads but never to fine-tune the encoder. To measure the model on
it without flattering it, its rows are split into folds by post (rows under one
post share vocabulary, so they stay together); for each fold the heads and the
combiner are trained on everything else, and the fold's rows are scored by that
model. Every row is therefore scored by a model that never saw it.

Rows the encoder was fine-tuned on cannot be measured this way (the encoder
itself has seen them); ``schoolwatch eval --folds`` leaves them out and says how many.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from classifiers.encoder import Encoder
from classifiers.ensemble import EnsembleClassifier
from classifiers.training.cache import EmbeddingCache
from classifiers.training.data import Example, bucket, text_key
from classifiers.training.fit import train
from config.policy import SchoolPolicy
from core.models import Context, Verdict


def fold_of(example: Example, folds: int) -> int:
    """The fold a row belongs to: by its group (post or template), else by its text."""
    return bucket(f"schoolwatch-cv|{example.group or text_key(example.text)}", folds)


def cross_validate(
    policy: SchoolPolicy,
    encoder: Encoder,
    base: Sequence[Example],
    rows: Sequence[Example],
    *,
    folds: int = 2,
    contexts: Sequence[Context] | None = None,
    cache: EmbeddingCache | None = None,
    classify: Callable[[EnsembleClassifier, list[int]], list[Verdict]] | None = None,
    say: Callable[[str], None] | None = None,
) -> list[Verdict]:
    """Score each of ``rows`` with heads trained on ``base`` plus the other folds.

    ``base`` must not contain ``rows`` (the caller removes them). Returns one
    verdict per row, in order. ``classify(classifier, indices)`` may be given to
    classify with a progress bar; by default rows are classified in one batch.

    Raises:
        ValueError: when ``folds`` is below 2.
    """
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    speak = say or (lambda _m: None)
    store = cache or EmbeddingCache(None)
    assignment = [fold_of(r, folds) for r in rows]
    verdicts: list[Verdict | None] = [None] * len(rows)
    ctxs = list(contexts) if contexts is not None else [Context() for _ in rows]
    for f in range(folds):
        held = [i for i, k in enumerate(assignment) if k == f]
        if not held:
            continue
        learn = [r for r, k in zip(rows, assignment, strict=True) if k != f]
        speak(f"fold {f + 1}/{folds}: training on {len(base) + len(learn)} rows")
        heads = train([*base, *learn], encoder, policy, store).heads
        clf = EnsembleClassifier(policy, encoder, heads)
        if classify is not None:
            got = classify(clf, held)
        else:
            got = clf.classify_texts([rows[i].text for i in held], [ctxs[i] for i in held])
        for i, v in zip(held, got, strict=True):
            verdicts[i] = v
    return [v for v in verdicts if v is not None]
