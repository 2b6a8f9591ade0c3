"""What ``schoolwatch eval`` and ``schoolwatch train`` do, as library functions."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from classifiers.base import Classifier
from classifiers.encoder import (
    DEFAULT_LAYERS,
    DEFAULT_QUANTIZE,
    Encoder,
    default_model_dir,
    read_tuned,
    save_tuned,
    tuned_digest,
)
from classifiers.heads import WEIGHTS_DIR, Heads
from classifiers.training.cache import EmbeddingCache
from classifiers.training.data import (
    SHIPPED_TRAINING,
    TRAINING_DIR,
    Example,
    read_labelled,
    text_key,
)
from classifiers.training.evaluate import Evaluation, evaluate
from classifiers.training.finetune import TuneSettings, fine_tune
from classifiers.training.fit import calibration_folds, train
from config.policy import SchoolPolicy
from core.models import Category, Comment, Context, Platform, Verdict

log = logging.getLogger(__name__)

EVALUATION_CSV = TRAINING_DIR / "evaluation.csv"
"""The shipped evaluation set (never trained on): the gate for retraining."""

TUNED_FILE = "encoder.npz"
"""The fine-tuned encoder layers, saved beside the heads."""

HEADS_ONLY_SOURCES = frozenset({"school_dev"})
"""Training rows used for the heads but never to fine-tune the encoder, so that
``schoolwatch eval --folds`` can measure the model on them honestly."""

CACHE_PATH = Path("var") / "classifier" / "embeddings.npz"
BATCH = 256


def training_texts(paths: Sequence[Path] | None = None, *, tuned_only: bool = False) -> set[str]:
    """Normalised texts of the shipped training CSVs (to keep them out of evaluations).

    With ``tuned_only``, only the files the encoder is fine-tuned on count (rows of
    :data:`HEADS_ONLY_SOURCES` can be measured by cross-validation).
    """
    files = paths or [TRAINING_DIR / name for name in SHIPPED_TRAINING]
    existing = [p for p in files if p.is_file()]
    return {
        text_key(ex.text)
        for ex in read_labelled(existing).examples
        if not (tuned_only and ex.source in HEADS_ONLY_SOURCES)
    }


def classify_texts(
    classifier: Classifier,
    texts: Sequence[str],
    contexts: Sequence[Context] | None = None,
    advance: Callable[[int], None] | None = None,
) -> list[Verdict]:
    """Classify plain texts in batches, calling ``advance(n)`` after each batch."""
    from datetime import UTC, datetime

    verdicts: list[Verdict] = []
    now = datetime.now(UTC)
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        comments = [
            Comment(
                "eval", Platform.FACEBOOK, f"row-{start + i}", "eval", None, "eval", "", t, now, ""
            )
            for i, t in enumerate(chunk)
        ]
        ctx = list(contexts[start : start + BATCH]) if contexts is not None else None
        verdicts.extend(classifier.classify(comments, ctx))
        if advance is not None:
            advance(len(chunk))
    return verdicts


def evaluate_examples(
    classifier: Classifier,
    examples: Sequence[Example],
    advance: Callable[[int], None] | None = None,
) -> Evaluation:
    """Classify ``examples`` and compare with their labels."""
    verdicts = classify_texts(classifier, [e.text for e in examples], None, advance)
    return evaluate([e.label for e in examples], verdicts)


@dataclass
class TrainOutcome:
    """What a training run did."""

    heads: Heads
    saved: bool
    before: Evaluation | None
    after: Evaluation
    out_dir: Path
    reason: str


def score_for_gate(ev: Evaluation) -> float:
    """One number for "no worse": harmful-vs-not F1 plus macro-F1 over categories."""
    return float(ev.binary["f1"] or 0.0) + ev.macro_f1


def _current_encoder_state(
    weights_dir: Path,
) -> dict[str, npt.NDArray[np.float32]] | None:
    """The fine-tuned encoder weights the heads in ``weights_dir`` use, if any."""
    try:
        spec = Heads.load(weights_dir).meta.get("encoder", {})
    except Exception:  # noqa: BLE001 - no usable heads there: nothing to keep
        return None
    tuned = spec.get("tuned")
    return read_tuned(weights_dir / str(tuned)) if tuned else None


def run_training(
    policy: SchoolPolicy,
    examples: Sequence[Example],
    *,
    out_dir: Path = WEIGHTS_DIR,
    model_dir: Path | None = None,
    gate: bool = False,
    cache_path: Path | None = CACHE_PATH,
    say: Callable[[str], None] | None = None,
    layers: int | None = DEFAULT_LAYERS,
    tune: TuneSettings | None = None,
    keep_encoder: bool = False,
    eval_examples: Sequence[Example] | None = None,
    quantize: bool = DEFAULT_QUANTIZE,
) -> TrainOutcome:
    """Train heads on ``examples`` (optionally fine-tuning the encoder) and save to ``out_dir``.

    With ``tune``, the encoder's layers are first fine-tuned on four of the five
    calibration folds of ``examples`` (never on rows from :data:`HEADS_ONLY_SOURCES`),
    and the combiner is calibrated on the rows it was not tuned on.
    With ``keep_encoder`` the fine-tuned encoder already in
    ``out_dir`` (or the shipped one) is reused. With ``quantize`` the encoder's
    linear layers use 8-bit weights (after any fine-tuning). With
    ``gate`` the current model in ``out_dir`` and the new one are both evaluated
    on the shipped evaluation set (or ``eval_examples``), and the new one
    replaces the old only when it scores no worse.
    """
    from classifiers.ensemble import EnsembleClassifier
    from classifiers.registry import load_model

    speak = say or (lambda _m: None)
    base_dir = (model_dir or default_model_dir()).resolve()
    encoder = Encoder(base_dir, layers=layers)
    state: dict[str, npt.NDArray[np.float32]] | None = None
    tuned_on = 0
    tuned_keys: frozenset[str] = frozenset()
    if keep_encoder:
        state = _current_encoder_state(out_dir)
        if state is None and out_dir.resolve() != WEIGHTS_DIR.resolve():
            state = _current_encoder_state(WEIGHTS_DIR)
        if state is not None:
            speak("keeping the current fine-tuned encoder; retraining the heads only")
    elif tune is not None:
        tune_on = _tuning_rows(examples)
        tuned_on = len(tune_on)
        speak(f"fine-tuning the encoder on {tuned_on} examples")
        state = fine_tune(encoder, tune_on, tune, speak)
    if state is not None:
        # rows a fine-tuned encoder learnt from (or, kept, most likely learnt from) are
        # left out of calibration: its view of them is too confident
        tuned_keys = frozenset(text_key(e.text) for e in _tuning_rows(examples))
        # the shipped file holds float16: train the heads on exactly what will be loaded
        state = {k: v.astype(np.float16).astype(np.float32) for k, v in state.items()}
        encoder.load_tuned(state)
    if quantize:
        encoder.quantize()
    cache = EmbeddingCache(cache_path)
    result = train(examples, encoder, policy, cache, speak, not_for_calibration=tuned_keys)
    cache.save()
    spec = result.heads.meta["encoder"]
    if state is not None:
        spec["tuned"] = TUNED_FILE
        spec["tuned_digest"] = tuned_digest(state)
        if tuned_on:
            spec["tuned_on"] = tuned_on
    if eval_examples is None:
        eval_examples = read_labelled([EVALUATION_CSV]).examples if EVALUATION_CSV.is_file() else []
    before: Evaluation | None = None
    if gate and eval_examples:
        try:
            old_encoder, old = load_model(model_dir, out_dir)
        except Exception:  # noqa: BLE001 - no usable old model: nothing to compare with
            old = None
        if old is not None:
            speak("evaluating the current model on the evaluation set")
            before = evaluate_examples(EnsembleClassifier(policy, old_encoder, old), eval_examples)
    after_eval: Evaluation
    if eval_examples:
        speak("evaluating the new model on the evaluation set")
        after_eval = evaluate_examples(
            EnsembleClassifier(policy, encoder, result.heads), eval_examples
        )
    else:
        after_eval = evaluate([], [])
    if before is not None and score_for_gate(after_eval) < score_for_gate(before):
        return TrainOutcome(
            result.heads, False, before, after_eval, out_dir,
            "the new model scored worse on the evaluation set, so the current model is kept",
        )  # fmt: skip
    with tempfile.TemporaryDirectory(
        dir=out_dir.parent if out_dir.parent.exists() else None
    ) as tmp:
        result.heads.save(Path(tmp))
        names = ["heads.npz", "heads.json"]
        if state is not None:
            save_tuned(Path(tmp) / TUNED_FILE, state)
            names.insert(0, TUNED_FILE)
        out_dir.mkdir(parents=True, exist_ok=True)
        # the encoder first, heads.json last: heads.json names the encoder it needs
        for name in sorted(names, key=lambda n: n == "heads.json"):
            shutil.move(str(Path(tmp) / name), str(out_dir / name))
        if state is None:
            (out_dir / TUNED_FILE).unlink(missing_ok=True)
    from classifiers import registry

    registry.forget()
    return TrainOutcome(result.heads, True, before, after_eval, out_dir, "saved")


def _tuning_rows(examples: Sequence[Example]) -> list[Example]:
    """The rows ``--fine-tune`` tunes the encoder on: four of the five calibration folds
    (one is kept so the combiner has rows the tuned encoder never saw), never rows
    from :data:`HEADS_ONLY_SOURCES`."""
    folds = calibration_folds(examples)
    return [
        e
        for e, f in zip(examples, folds, strict=True)
        if f != 0 and e.source not in HEADS_ONLY_SOURCES
    ]


def decision_examples(pairs: Sequence[tuple[str, str]]) -> list[Example]:
    """Moderators' decisions as examples (unknown categories are dropped)."""
    out: list[Example] = []
    for text, label in pairs:
        try:
            out.append(Example(text, Category(label), "school:decisions", ""))
        except ValueError:
            continue
    return out
