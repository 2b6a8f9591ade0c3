"""The neighbour bank: shares among the nearest examples, storage in heads.npz, evidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.heads import MODEL_CATEGORIES, WEIGHTS_DIR, Heads
from classifiers.neighbours import _CHUNK, NeighbourBank
from core.errors import ClassifierError
from core.models import Category

CLASSES = list(Category)


def _unit(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def test_the_nearest_examples_decide_the_shares() -> None:
    bank = NeighbourBank.build(
        _unit([1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.9, 0.1], [0, 0, 1]),
        [
            Category.CRITICISM,
            Category.CRITICISM,
            Category.SELF_HARM,
            Category.SELF_HARM,
            Category.SPAM,
        ],
        k=2,
    )
    shares = bank.shares(_unit([1, 0.05, 0], [0.05, 1, 0]))
    log_probs = bank.log_probs(shares)
    assert shares.shape == log_probs.shape == (2, len(CLASSES))
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert shares[0, CLASSES.index(Category.CRITICISM)] == pytest.approx(1.0)
    assert shares[1, CLASSES.index(Category.SELF_HARM)] == pytest.approx(1.0)
    # smoothing: a category with no neighbour is unlikely, not impossible, and bounded
    assert np.isfinite(log_probs).all()
    assert (
        log_probs[0, CLASSES.index(Category.SPAM)] < log_probs[0, CLASSES.index(Category.CRITICISM)]
    )
    assert log_probs.max() < 0.0


def test_closer_neighbours_count_more() -> None:
    bank = NeighbourBank.build(_unit([1, 0], [0.6, 0.8]), [Category.BENIGN, Category.THREAT], k=2)
    shares = bank.shares(_unit([1, 0.1]))
    assert shares[0, CLASSES.index(Category.BENIGN)] > 0.9
    assert shares[0, CLASSES.index(Category.THREAT)] > 0.0


def test_vectors_are_normalised_and_scale_does_not_matter() -> None:
    bank = NeighbourBank.build(_unit([3, 4], [0, 5]), [Category.HATE, Category.BENIGN], k=1)
    assert np.allclose(np.linalg.norm(bank.vectors.astype(np.float32), axis=1), 1.0, atol=1e-3)
    a = bank.shares(_unit([0.6, 0.8]))
    b = bank.shares(_unit([60, 80]))
    assert np.allclose(a, b)
    assert a[0, CLASSES.index(Category.HATE)] == pytest.approx(1.0)


def test_a_batch_larger_than_a_chunk_scores_each_comment_as_if_alone() -> None:
    """The search runs in chunks to bound memory; chunk edges must not change a share."""
    rng = np.random.default_rng(7)
    labels = [CLASSES[i % len(CLASSES)] for i in range(300)]
    bank = NeighbourBank.build(rng.normal(size=(300, 8)).astype(np.float32), labels)
    queries = rng.normal(size=(3 * _CHUNK + 5, 8)).astype(np.float32)
    together = bank.shares(queries)
    alone = np.vstack([bank.shares(queries[i : i + 1]) for i in range(len(queries))])
    assert together.shape == (len(queries), len(CLASSES))
    assert np.allclose(together, alone)


def test_an_empty_bank_or_batch_is_uniform_or_empty() -> None:
    empty = NeighbourBank.build(np.zeros((0, 3), dtype=np.float32), [])
    shares = empty.shares(_unit([1, 0, 0]))
    assert np.allclose(shares, 1.0 / len(CLASSES))
    assert np.allclose(empty.log_probs(shares), np.log(1.0 / len(CLASSES)))
    bank = NeighbourBank.build(_unit([1, 0, 0]), [Category.SPAM])
    none = bank.shares(np.zeros((0, 3), dtype=np.float32))
    assert none.shape == (0, len(CLASSES))


def test_shipped_heads_carry_a_bank_of_school_examples() -> None:
    heads = Heads.load(WEIGHTS_DIR)
    assert heads.bank is not None
    assert len(heads.bank) == heads.meta["neighbours"]["examples"] > 1000
    assert heads.bank.vectors.shape[1] == heads.emb_w.shape[0]
    assert all("neighbours" in heads.meta["stacker"][c.value] for c in MODEL_CATEGORIES)


def test_bank_survives_save_and_load(tmp_path: Path) -> None:
    heads = Heads.load(WEIGHTS_DIR)
    heads.save(tmp_path)
    again = Heads.load(tmp_path)
    assert again.bank is not None and heads.bank is not None
    assert np.array_equal(again.bank.vectors, heads.bank.vectors)
    assert np.array_equal(again.bank.labels, heads.bank.labels)
    emb = np.random.default_rng(1).normal(size=(4, heads.emb_w.shape[0])).astype(np.float32)
    assert np.allclose(again.neighbour_shares(emb), heads.neighbour_shares(emb))


def test_a_bank_that_does_not_fit_the_heads_is_refused(tmp_path: Path) -> None:
    heads = Heads.load(WEIGHTS_DIR)
    assert heads.bank is not None
    bad = NeighbourBank(heads.bank.vectors[:, :10], heads.bank.labels)
    Heads(heads.labels, heads.emb_w, heads.ngram_w, heads.bias, heads.meta, bad).save(tmp_path)
    with pytest.raises(ClassifierError, match="neighbour bank"):
        Heads.load(tmp_path)
    labels = heads.bank.labels.copy()
    labels[0] = len(CLASSES)
    bad = NeighbourBank(heads.bank.vectors, labels)
    Heads(heads.labels, heads.emb_w, heads.ngram_w, heads.bias, heads.meta, bad).save(tmp_path)
    with pytest.raises(ClassifierError, match="neighbour bank"):
        Heads.load(tmp_path)


def test_heads_without_a_bank_still_score(tmp_path: Path) -> None:
    heads = Heads.load(WEIGHTS_DIR)
    plain = Heads(heads.labels, heads.emb_w, heads.ngram_w, heads.bias, heads.meta)
    emb = np.random.default_rng(2).normal(size=(3, heads.emb_w.shape[0])).astype(np.float32)
    assert not plain.neighbour_shares(emb).any()
    assert not plain.neighbour_feature(plain.neighbour_shares(emb)).any()
    plain.save(tmp_path)
    assert Heads.load(tmp_path).bank is None
