"""``schoolwatch train``: fine-tuning, the heads, the "no worse" gate and cross-validation.

These run the real training code on small labelled sets (the shipped model's
full training run is described in docs/evaluation.md).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from classifiers import registry
from classifiers.encoder import Encoder, default_model_dir, read_tuned
from classifiers.ensemble import EnsembleClassifier
from classifiers.heads import STACK_FEATURES, Heads
from classifiers.training.cache import EmbeddingCache
from classifiers.training.crossval import cross_validate, fold_of
from classifiers.training.data import TRAINING_DIR, Example, read_labelled, text_key
from classifiers.training.finetune import TuneSettings
from classifiers.training.fit import (
    CALIBRATION_FOLDS,
    calibration_folds,
    softmax_targets,
    train,
)
from classifiers.training.runner import TUNED_FILE, run_training
from config.policy import SchoolPolicy
from core.models import Category

QUICK = TuneSettings(epochs=2, batch_size=16, learning_rate=3e-4)


def _sample(per_label: int, salt: int = 0) -> list[Example]:
    """A few school-written examples of every category (from the shipped training file)."""
    rows = read_labelled([TRAINING_DIR / "school_examples.csv"]).examples
    out: list[Example] = []
    for cat in Category:
        of_cat = [r for r in rows if r.label is cat]
        out.extend(of_cat[salt :: max(1, len(of_cat) // per_label)][:per_label])
    return out


@pytest.fixture(scope="module")
def small() -> list[Example]:
    return _sample(12)


@pytest.fixture(scope="module")
def holdout() -> list[Example]:
    return _sample(3, salt=5)


def test_training_fine_tunes_the_encoder_and_saves_a_loadable_model(
    policy: SchoolPolicy, small: list[Example], holdout: list[Example], tmp_path: Path
) -> None:
    said: list[str] = []
    outcome = run_training(
        policy,
        small,
        out_dir=tmp_path,
        cache_path=None,
        tune=QUICK,
        eval_examples=holdout,
        say=said.append,
    )
    assert outcome.saved
    assert {p.name for p in tmp_path.iterdir()} == {"heads.json", "heads.npz", TUNED_FILE}
    assert any(m.startswith("fine-tuning the encoder on") for m in said)
    spec = outcome.heads.meta["encoder"]
    assert spec["tuned"] == TUNED_FILE

    # the fine-tuned layers differ from the base model's, and are what a loaded model uses
    base = Encoder(default_model_dir(), layers=spec["layers"])
    tuned = read_tuned(tmp_path / TUNED_FILE)
    base_state = base.tuned_state()
    assert set(tuned) == set(base_state)
    assert any(not np.allclose(tuned[k], base_state[k], atol=1e-3) for k in tuned)
    clf = registry.build_classifier(policy, weights_dir=tmp_path)
    assert isinstance(clf, EnsembleClassifier)
    assert clf.encoder.version == spec["fingerprint"]
    assert "-ft" in clf.encoder.version
    assert outcome.after.n == len(holdout)
    verdicts = clf.classify_texts([e.text for e in holdout])
    assert len(verdicts) == len(holdout)
    registry.forget()

    # --keep-encoder: the heads are retrained on the same fine-tuned layers
    encoder_file = (tmp_path / TUNED_FILE).read_bytes()
    said.clear()
    again = run_training(
        policy,
        small[::2],
        out_dir=tmp_path,
        cache_path=None,
        keep_encoder=True,
        eval_examples=holdout,
        say=said.append,
    )
    assert again.saved
    assert "keeping the current fine-tuned encoder; retraining the heads only" in said
    assert not any(m.startswith("fine-tuning") for m in said)
    assert (tmp_path / TUNED_FILE).read_bytes() == encoder_file
    assert again.heads.meta["encoder"]["fingerprint"] == spec["fingerprint"]
    assert again.heads.version != outcome.heads.version
    registry.forget()


def test_gate_keeps_the_current_model_when_the_new_one_is_worse(
    policy: SchoolPolicy, small: list[Example], holdout: list[Example], tmp_path: Path
) -> None:
    first = run_training(policy, small, out_dir=tmp_path, cache_path=None, eval_examples=holdout)
    assert first.saved
    assert not (tmp_path / TUNED_FILE).exists()  # not fine-tuned unless asked
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    # the same texts with every label moved to the next category: a much worse model
    cats = list(Category)
    scrambled = [
        Example(e.text, cats[(cats.index(e.label) + 1) % len(cats)], e.source, e.group)
        for e in small
    ]
    second = run_training(
        policy, scrambled, out_dir=tmp_path, cache_path=None, gate=True, eval_examples=holdout
    )
    assert second.before is not None
    assert not second.saved
    assert "current model is kept" in second.reason
    assert second.after.binary["f1"] + second.after.macro_f1 < (
        second.before.binary["f1"] + second.before.macro_f1
    )
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    registry.forget()


def test_cross_validation_scores_each_row_by_a_model_that_did_not_see_it(
    policy: SchoolPolicy, small: list[Example]
) -> None:
    encoder = Encoder(default_model_dir(), layers=3)
    rows = [Example(e.text, e.label, "school_dev", f"post {i % 6}") for i, e in enumerate(small)]
    folds = {fold_of(r, 2) for r in rows}
    assert folds == {0, 1}  # both folds have rows
    said: list[str] = []
    verdicts = cross_validate(policy, encoder, [], rows, folds=2, say=said.append)
    assert len(verdicts) == len(rows)
    assert [m.split(":")[0] for m in said] == ["fold 1/2", "fold 2/2"]
    with pytest.raises(ValueError, match="at least 2 folds"):
        cross_validate(policy, encoder, [], rows, folds=1)


def test_combiner_is_calibrated_out_of_fold_on_every_row_it_may_use(
    policy: SchoolPolicy, small: list[Example]
) -> None:
    """Every example is scored by heads fitted on the other folds; rows the encoder was
    fine-tuned on are learnt from but left out of calibration."""
    encoder = Encoder(default_model_dir(), layers=3)
    rows = [Example(e.text, e.label, "school", f"t{i // 2}") for i, e in enumerate(small)]
    folds = calibration_folds(rows)
    assert set(folds.tolist()) == set(range(CALIBRATION_FOLDS))
    for i in range(0, len(rows) - 1, 2):
        assert folds[i] == folds[i + 1]  # one group, one fold
    said: list[str] = []
    full = train(rows, encoder, policy, EmbeddingCache(None), said.append)
    assert (full.n_fit, full.n_calib) == (len(rows), len(rows))
    assert sum(m.startswith("calibration fold") for m in said) == CALIBRATION_FOLDS
    tuned = frozenset(text_key(r.text) for r in rows[:10])
    part = train(rows, encoder, policy, EmbeddingCache(None), not_for_calibration=tuned)
    assert part.n_calib == len(rows) - 10
    assert part.heads.meta["stacker"] != full.heads.meta["stacker"]


def test_train_command_with_moderators_decisions_prints_before_and_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: list[Example], holdout: list[Example]
) -> None:
    """`schoolwatch train --include-decisions --keep-encoder` on a real database."""
    from sqlalchemy import select

    from monitor.commands.classify import register
    from storage.db import make_engine, migrate, session_factory, session_scope
    from storage.tables import ModerationLabel, School

    url = f"sqlite:///{tmp_path / 'sw.db'}"
    monkeypatch.setenv("SCHOOLWATCH_DATABASE_URL", url)
    engine = make_engine(url)
    migrate(engine)
    with session_scope(session_factory(engine)) as session:
        if session.scalars(select(School).where(School.id == "hollybrook")).first() is None:
            session.add(School(id="hollybrook", name="Hollybrook Primary School"))
            session.flush()
        session.add_all(
            ModerationLabel(
                school_id="hollybrook",
                text=text,
                predicted="bullying",
                label=label,
                kind="false_positive" if label == "benign" else "confirmed",
                actor="karen.holt",
            )
            for text, label in [
                ("you lot are killing it on sports day", "benign"),
                ("Harvey in 5R is a fat loser and everyone should ignore him", "bullying"),
            ]
        )
    engine.dispose()

    def write(path: Path, rows: list[Example]) -> Path:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows([e.text, e.label.value] for e in rows)
        return path

    train_csv = write(tmp_path / "train.csv", small)
    eval_csv = write(tmp_path / "eval.csv", holdout)
    out = tmp_path / "model"
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    first = runner.invoke(
        app, ["train", str(train_csv), "--out", str(out), "--eval", str(eval_csv)]
    )
    assert first.exit_code == 0, first.output
    assert "Saved the new model" in first.output
    result = runner.invoke(
        app,
        [
            "train",
            str(train_csv),
            "--include-decisions",
            "--keep-encoder",
            "--out",
            str(out),
            "--eval",
            str(eval_csv),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Added 2 moderators' decisions." in result.output
    assert "Before" in result.output and "After" in result.output
    assert ("Saved the new model" in result.output) != ("current model is kept" in result.output)
    registry.forget()


def test_eval_of_rows_the_heads_learnt_from_points_to_folds(tmp_path: Path) -> None:
    from monitor.commands.classify import register

    rows = read_labelled([TRAINING_DIR / "school_dev.csv"]).examples[:3]
    path = tmp_path / "dev.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows([e.text, e.label.value] for e in rows)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["eval", str(path)])
    assert result.exit_code != 0
    assert "Left out 3 rows" in result.output
    assert "--folds 2" in " ".join(result.output.split())


def test_the_softmax_learns_criticism_and_defamation_as_benign() -> None:
    rows = [
        Example("the homework app never works", Category.CRITICISM),
        Example("the head fiddled the trip money", Category.DEFAMATION),
        Example("you're a loser", Category.BULLYING),
        Example("lovely assembly", Category.BENIGN),
    ]
    assert softmax_targets(rows) == [
        Category.BENIGN,
        Category.BENIGN,
        Category.BULLYING,
        Category.BENIGN,
    ]


def test_the_hidden_layer_is_trained_weighed_by_the_combiner_and_saved(
    policy: SchoolPolicy, small: list[Example], tmp_path: Path
) -> None:
    encoder = Encoder(default_model_dir(), layers=3)
    result = train(small, encoder, policy, EmbeddingCache(None))
    heads = result.heads
    assert heads.hidden is not None and heads.hidden.dim == encoder.dim
    for cat in heads.categories:
        weights = heads.meta["stacker"][cat.value]
        assert set(weights) == {*STACK_FEATURES, "bias"}
        assert weights["hidden"] >= 0.0  # monotone, like the model and the neighbours
    heads.save(tmp_path)
    loaded = Heads.load(tmp_path)
    assert loaded.hidden is not None
    emb = encoder.encode([e.text for e in small[:4]])
    assert np.array_equal(loaded.hidden_probabilities(emb), heads.hidden_probabilities(emb))
