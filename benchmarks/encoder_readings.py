"""How well readings of the sentence embedding rank harmful against not harmful.

Usage: ``python benchmarks/encoder_readings.py EVAL.csv... [--layers 3] [--seeds 1]
[--with-weights DIR]``

Trains, on the shipped training files, two readings of the embedding alone and
prints their ROC AUC (harmful against criticism and benign) on the rows of the
given CSVs that are not in the training files:

* a linear (logistic) head, like the heads' embedding part;
* the hidden-layer head of ``classifiers/hidden.py`` (averaged over ``--seeds``
  differently seeded copies when more than one).

With ``--with-weights DIR`` it also classifies those rows with the heads in
``DIR`` (for example a previous model taken from git history) and prints the
AUC of that classifier alone and averaged, in log-odds, with the hidden-layer
reading (weights 0.75 and 0.25). ``--layers 6`` uses all of MiniLM's layers
(about half as fast). The figures in docs/evaluation.md ("A hidden layer over
the embedding", "The encoder's reach") come from this script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.encoder import Encoder, default_model_dir  # noqa: E402
from classifiers.features import prepare  # noqa: E402
from classifiers.hidden import HiddenLayerHead, log_odds  # noqa: E402
from classifiers.training.data import (  # noqa: E402
    SHIPPED_TRAINING,
    TRAINING_DIR,
    read_labelled,
    text_key,
)
from core.models import Category  # noqa: E402

NOT_HARMFUL = (Category.CRITICISM, Category.BENIGN)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="labelled CSVs to rank")
    parser.add_argument("--layers", type=int, default=3, help="MiniLM layers to read (3 or 6)")
    parser.add_argument("--seeds", type=int, default=1, help="hidden-layer copies to average")
    parser.add_argument("--with-weights", type=Path, help="heads to compare and combine with")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    train = read_labelled([TRAINING_DIR / f for f in SHIPPED_TRAINING]).examples
    seen = {text_key(e.text) for e in train}
    rows = [e for e in read_labelled(args.files).examples if text_key(e.text) not in seen]
    truth = np.array([e.label not in NOT_HARMFUL for e in rows])
    print(f"training rows: {len(train)}; rows ranked: {len(rows)} ({int(truth.sum())} harmful)")

    encoder = Encoder(default_model_dir(), layers=args.layers, quantize=True)
    x_train = encoder.encode([prepare(e.text) for e in train])
    x_rows = encoder.encode([prepare(e.text) for e in rows])
    harmful_train = np.array([e.label not in NOT_HARMFUL for e in train])

    linear = LogisticRegression(C=2.0, max_iter=2000).fit(x_train, harmful_train)
    auc = roc_auc_score(truth, linear.predict_proba(x_rows)[:, 1])
    print(f"linear head, {encoder.layers} layers: AUC {auc:.3f}")

    not_columns = [list(Category).index(c) for c in NOT_HARMFUL]
    readings = []
    for seed in range(args.seeds):
        head = HiddenLayerHead.fit(x_train, [e.label for e in train], seed=seed)
        readings.append(1.0 - head.probabilities(x_rows)[:, not_columns].sum(axis=1))
    hidden = np.mean(readings, axis=0)
    auc = roc_auc_score(truth, hidden)
    print(f"hidden layer, {encoder.layers} layers, {args.seeds} seed(s): AUC {auc:.3f}")

    if args.with_weights:
        from classifiers.registry import build_classifier
        from classifiers.training.evaluate import harm_score
        from classifiers.training.runner import classify_texts
        from config.loader import DEFAULT_POLICY, load_policy

        clf = build_classifier(load_policy(DEFAULT_POLICY), weights_dir=args.with_weights)
        scores = np.array([harm_score(v) for v in classify_texts(clf, [e.text for e in rows])])
        both = 0.75 * log_odds(scores) + 0.25 * log_odds(hidden)
        print(f"classifier in {args.with_weights}: AUC {roc_auc_score(truth, scores):.3f}")
        print(
            f"  with the hidden-layer reading (0.75 / 0.25): AUC {roc_auc_score(truth, both):.3f}"
        )


if __name__ == "__main__":
    main()
