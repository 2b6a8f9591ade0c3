"""Fine-tune the encoder's transformer layers on the labelled examples.

The frozen sentence embedding of all-MiniLM-L6-v2 knows what a sentence is
about, not whether it is abusive. Fine-tuning its transformer layers (the word
embeddings stay frozen, so only the layers need shipping) with a temporary
softmax layer over the twelve categories teaches it that; the heads and the
combiner are then trained on the tuned embeddings as before.

Texts are sorted into batches of similar length (little padding), batches are
shuffled with a fixed seed, and the learning rate warms up and then decays
linearly. Training runs on the CPU; on two cores an epoch over ~14,000 examples
takes a few minutes.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from classifiers.encoder import Encoder
from classifiers.features import prepare
from classifiers.training.data import Example
from classifiers.training.fit import example_weights
from core.models import Category

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TuneSettings:
    """How the encoder is fine-tuned (``schoolwatch train --fine-tune`` uses the defaults,
    the 2-epoch run in docs/evaluation.md)."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    warmup: float = 0.06
    max_tokens: int = 96
    seed: int = 20261121


def _class_weights(labels: npt.NDArray[np.int_], k: int) -> npt.NDArray[np.float64]:
    """Inverse square root of each class's frequency, mean 1 over the examples."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    w = np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1.0)), 0.0)
    per_example = w[labels]
    scale: float = float(per_example.mean()) if per_example.size else 1.0
    out: npt.NDArray[np.float64] = w / (scale or 1.0)
    return out


def _batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Indices grouped into batches of similar length, in a shuffled order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def fine_tune(
    encoder: Encoder,
    examples: Sequence[Example],
    settings: TuneSettings | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, npt.NDArray[np.float32]]:
    """Fine-tune ``encoder``'s transformer layers in place; returns their new weights.

    The returned state (layer parameter name to array) is what
    :meth:`Encoder.load_tuned` reads back.
    """
    import torch

    if not examples:
        return encoder.tuned_state()
    cfg = settings or TuneSettings()
    speak = say or (lambda _m: None)
    classes = list(Category)
    texts = [prepare(e.text) or "." for e in examples]
    labels = np.array([classes.index(e.label) for e in examples], dtype=np.int64)
    # school-written rows count more, as for the heads; rare classes count more too
    sample_w = example_weights(examples) * _class_weights(labels, len(classes))[labels]

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = encoder.torch_model
    tok = encoder.tokenizer
    for p in model.embeddings.parameters():
        p.requires_grad_(False)
    layer_params = [p for p in model.encoder.parameters() if p.requires_grad]
    head = torch.nn.Linear(encoder.dim, len(classes))
    opt = torch.optim.AdamW(
        [
            {"params": layer_params, "lr": cfg.learning_rate},
            {"params": head.parameters(), "lr": cfg.head_learning_rate},
        ],
        weight_decay=0.01,
    )
    lengths = [len(t) for t in texts]
    steps_per_epoch = math.ceil(len(texts) / cfg.batch_size)
    total = max(1, steps_per_epoch * cfg.epochs)
    warm = max(1, int(total * cfg.warmup))

    def rate(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total - step) / max(1, total - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, rate)
    model.train()
    step = 0
    try:
        for epoch in range(cfg.epochs):
            running, seen = 0.0, 0
            for batch in _batches(lengths, cfg.batch_size, rng):
                enc = tok(
                    [texts[i] for i in batch],
                    padding=True,
                    truncation=True,
                    max_length=cfg.max_tokens,
                    return_tensors="pt",
                )
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                logits = head(pooled)
                y = torch.from_numpy(labels[batch])
                w = torch.from_numpy(sample_w[batch]).to(logits.dtype)
                loss_each = torch.nn.functional.cross_entropy(logits, y, reduction="none")
                loss = (loss_each * w).sum() / w.sum()
                opt.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                torch.nn.utils.clip_grad_norm_(layer_params, 1.0)
                opt.step()
                sched.step()
                step += 1
                running += float(loss.detach()) * len(batch)
                seen += len(batch)
                if step % 50 == 0 or step == total:
                    speak(
                        f"fine-tuning: epoch {epoch + 1}/{cfg.epochs}, step {step}/{total}, "
                        f"loss {running / max(1, seen):.3f}"
                    )
    finally:
        model.eval()
    return encoder.tuned_state()
