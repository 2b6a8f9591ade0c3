"""What ``schoolwatch eval`` and ``schoolwatch train`` do, as library functions."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from classifiers.base import Classifier
from classifiers.encoder import DEFAULT_LAYERS, Encoder, default_model_dir
from classifiers.heads import WEIGHTS_DIR, Heads
from classifiers.training.cache import EmbeddingCache
from classifiers.training.data import (
    SHIPPED_TRAINING,
    TRAINING_DIR,
    Example,
    read_labelled,
)
from classifiers.training.evaluate import Evaluation, evaluate
from classifiers.training.fit import train
from config.policy import SchoolPolicy
from core.models import Category, Comment, Context, Platform, Verdict

log = logging.getLogger(__name__)

EVALUATION_CSV = TRAINING_DIR / "evaluation.csv"
"""The shipped evaluation set (never trained on): the gate for retraining."""

CACHE_PATH = Path("var") / "classifier" / "embeddings.npz"
BATCH = 256
_SPACE = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACE.sub(" ", text.strip().lower())


def training_texts(paths: Sequence[Path] | None = None) -> set[str]:
    """Normalised texts of the shipped training CSVs (to keep them out of evaluations)."""
    files = paths or [TRAINING_DIR / name for name in SHIPPED_TRAINING]
    existing = [p for p in files if p.is_file()]
    return {_key(ex.text) for ex in read_labelled(existing).examples}


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
    return ev.binary["f1"] + ev.macro_f1


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
) -> TrainOutcome:
    """Train heads on ``examples``; save them to ``out_dir`` (when ``gate``, only if no worse).

    With ``gate`` the current heads in ``out_dir`` and the new ones are both
    evaluated on the shipped evaluation set, and the new ones replace the old
    only when they score no worse.
    """
    from classifiers.ensemble import EnsembleClassifier

    speak = say or (lambda _m: None)
    encoder = Encoder((model_dir or default_model_dir()).resolve(), layers=layers)
    cache = EmbeddingCache(cache_path)
    result = train(examples, encoder, policy, cache, speak)
    cache.save()
    eval_examples = read_labelled([EVALUATION_CSV]).examples if EVALUATION_CSV.is_file() else []
    before: Evaluation | None = None
    if gate and eval_examples:
        try:
            old = Heads.load(out_dir)
        except Exception:  # noqa: BLE001 - no usable old heads: nothing to compare with
            old = None
        if old is not None:
            speak("evaluating the current model on the shipped evaluation set")
            before = evaluate_examples(EnsembleClassifier(policy, encoder, old), eval_examples)
    after_eval: Evaluation
    if eval_examples:
        speak("evaluating the new model on the shipped evaluation set")
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
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in ("heads.npz", "heads.json"):
            shutil.move(str(Path(tmp) / name), str(out_dir / name))
    from classifiers import registry

    registry.forget()
    return TrainOutcome(result.heads, True, before, after_eval, out_dir, "saved")


def decision_examples(pairs: Sequence[tuple[str, str]]) -> list[Example]:
    """Moderators' decisions as examples (unknown categories are dropped)."""
    out: list[Example] = []
    for text, label in pairs:
        try:
            out.append(Example(text, Category(label), "school:decisions", ""))
        except ValueError:
            continue
    return out
