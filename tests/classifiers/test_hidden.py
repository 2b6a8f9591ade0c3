"""The hidden-layer head: training, scoring, storage in heads.npz and its combiner weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.heads import LOGIT_CLIP, MODEL_CATEGORIES, WEIGHTS_DIR, Heads
from classifiers.hidden import HiddenLayerHead, log_odds
from core.errors import ClassifierError
from core.models import Category

CLASSES = list(Category)


def _rings(n: int, seed: int) -> tuple[np.ndarray, list[Category]]:
    """Threats inside a ring of benign points: no straight line separates them."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(np.arange(n) % 2 == 0, rng.uniform(0, 1, n), rng.uniform(2, 3, n))
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]).astype(np.float32)
    labels = [Category.THREAT if i % 2 == 0 else Category.BENIGN for i in range(n)]
    return x, labels


def test_it_learns_a_boundary_a_straight_line_cannot_draw() -> None:
    x, labels = _rings(600, seed=1)
    head = HiddenLayerHead.fit(x, labels)
    test_x, test_labels = _rings(200, seed=2)
    probs = head.probabilities(test_x)
    assert probs.shape == (200, len(CLASSES))
    assert np.allclose(probs.sum(axis=1), 1.0)
    threat = probs[:, CLASSES.index(Category.THREAT)]
    truth = np.array([lab is Category.THREAT for lab in test_labels])
    assert ((threat >= 0.5) == truth).mean() > 0.95
    # categories it never saw are (almost) impossible, not a share of the rest
    assert probs[:, CLASSES.index(Category.SELF_HARM)].max() < 1e-6


def test_more_than_two_categories_keep_their_own_columns() -> None:
    rng = np.random.default_rng(3)
    centres = {Category.SPAM: (4, 0), Category.HATE: (0, 4), Category.BENIGN: (0, 0)}
    labels = [cat for cat in centres for _ in range(80)]
    x = np.array([centres[c] for c in labels], dtype=np.float32) + rng.normal(
        0, 0.5, (240, 2)
    ).astype(np.float32)
    head = HiddenLayerHead.fit(x, labels)
    probs = head.probabilities(np.array([[4, 0], [0, 4], [0, 0]], dtype=np.float32))
    assert probs.argmax(axis=1).tolist() == [
        CLASSES.index(Category.SPAM),
        CLASSES.index(Category.HATE),
        CLASSES.index(Category.BENIGN),
    ]


def test_training_is_deterministic() -> None:
    x, labels = _rings(300, seed=4)
    a, b = HiddenLayerHead.fit(x, labels), HiddenLayerHead.fit(x, labels)
    for key, value in a.arrays().items():
        assert np.array_equal(value, b.arrays()[key]), key


def test_weights_that_do_not_fit_together_are_refused() -> None:
    x, labels = _rings(100, seed=5)
    arrays = HiddenLayerHead.fit(x, labels).arrays()
    with pytest.raises(ValueError, match="do not fit"):
        HiddenLayerHead.from_arrays({**arrays, "hidden_b1": arrays["hidden_b1"][:-1]})
    with pytest.raises(ValueError, match="every category"):
        HiddenLayerHead.from_arrays({**arrays, "hidden_b2": arrays["hidden_b2"][:-1]})


def test_log_odds_are_finite_at_the_extremes() -> None:
    out = log_odds(np.array([[0.0, 0.5, 1.0]]))
    assert np.isfinite(out).all()
    assert out[0, 0] < 0 < out[0, 2]
    assert out[0, 1] == pytest.approx(0.0)


def test_shipped_heads_carry_a_hidden_layer_with_a_combiner_weight() -> None:
    heads = Heads.load(WEIGHTS_DIR)
    assert heads.hidden is not None
    assert heads.hidden.dim == heads.emb_w.shape[0]
    weights = [heads.meta["stacker"][c.value]["hidden"] for c in MODEL_CATEGORIES]
    assert all(w >= 0 for w in weights)  # monotone: a higher reading never lowers a score
    assert sum(w > 0 for w in weights) >= len(weights) // 2  # it is used, not ignored


def test_the_hidden_layer_moves_the_calibrated_score() -> None:
    heads = Heads.load(WEIGHTS_DIR)
    k = heads.categories.index(Category.HATE)
    assert heads.meta["stacker"][Category.HATE.value]["hidden"] > 0
    n, cats = 2, len(heads.categories)
    logits = np.full((n, cats), -2.0)
    low, high = np.full((n, cats), 0.01), np.full((n, cats), 0.99)
    zeros = np.zeros(n)
    a = heads.model_scores(logits, zeros, zeros, None, low)
    b = heads.model_scores(logits, zeros, zeros, None, high)
    assert (b[:, k] > a[:, k]).all()


def test_hidden_layer_survives_save_and_load(tmp_path: Path) -> None:
    heads = Heads.load(WEIGHTS_DIR)
    heads.save(tmp_path)
    again = Heads.load(tmp_path)
    emb = np.random.default_rng(6).normal(size=(4, heads.emb_w.shape[0])).astype(np.float32)
    assert np.array_equal(again.hidden_probabilities(emb), heads.hidden_probabilities(emb))
    feature = again.hidden_feature(again.hidden_probabilities(emb))
    assert np.abs(feature).max() <= LOGIT_CLIP


def test_a_hidden_layer_that_does_not_fit_the_heads_is_refused(tmp_path: Path) -> None:
    heads = Heads.load(WEIGHTS_DIR)
    x, labels = _rings(100, seed=7)
    narrow = HiddenLayerHead.fit(x, labels)  # reads 2 numbers, not the embedding
    Heads(
        heads.labels, heads.emb_w, heads.ngram_w, heads.bias, heads.meta, heads.bank, narrow
    ).save(tmp_path)
    with pytest.raises(ClassifierError, match="hidden layer"):
        Heads.load(tmp_path)


def test_heads_without_a_hidden_layer_still_score(tmp_path: Path) -> None:
    heads = Heads.load(WEIGHTS_DIR)
    plain = Heads(heads.labels, heads.emb_w, heads.ngram_w, heads.bias, heads.meta, heads.bank)
    emb = np.random.default_rng(8).normal(size=(3, heads.emb_w.shape[0])).astype(np.float32)
    probs = plain.hidden_probabilities(emb)
    assert not probs.any()
    assert not plain.hidden_feature(probs).any()
    plain.save(tmp_path)
    assert Heads.load(tmp_path).hidden is None


@pytest.mark.parametrize("n", [2, 3, 5, 9])
def test_a_set_too_small_to_hold_rows_back_still_trains(n: int) -> None:
    """Early stopping holds back a tenth with every category in it; a tiny set cannot."""
    x = np.random.default_rng(n).normal(size=(n, 4)).astype(np.float32)
    labels = ([Category.BENIGN, Category.SPAM] * n)[:n]
    probs = HiddenLayerHead.fit(x, labels).probabilities(x)
    assert probs.shape == (n, len(CLASSES))
    assert np.allclose(probs.sum(axis=1), 1.0)
