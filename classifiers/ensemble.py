"""The full classifier: rules + alt-profanity-check + transformer embeddings with trained heads.

For each comment the rules give per-category rule scores and evidence (matched
spans, roster hits, personal-data detectors); the encoder and the heads give a
per-category model logit, the neighbour bank a vote of the most similar school
examples and the hidden-layer head (``classifiers.hidden``) a second reading of
the embedding; ``alt-profanity-check`` gives a profanity probability.
The combiner in ``heads.json`` (fitted on held-out data by ``schoolwatch train``)
turns these signals into calibrated per-category scores, which are compared with
the policy's thresholds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from classifiers.base import contexts_for, make_verdict
from classifiers.encoder import Encoder
from classifiers.features import ngram_features, prepare
from classifiers.heads import Heads, final_scores
from classifiers.replies import join_replies
from classifiers.rules import ADVERT_CONTACT_CAP, RuleEngine, RuleResult
from config.policy import SchoolPolicy
from core.models import Category, Comment, Context, Evidence, Verdict

log = logging.getLogger(__name__)

PROFANITY_MODEL = "alt-profanity-check"


def profanity_scores(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """alt-profanity-check's probability that each text is profane."""
    if not texts:
        return np.zeros(0)
    from profanity_check import predict_prob

    return np.asarray(predict_prob(list(texts)), dtype=np.float64)


def profanity_version() -> str:
    """The installed alt-profanity-check version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alt-profanity-check")
    except PackageNotFoundError:  # pragma: no cover - a dependency of the project
        return "unknown"


@dataclass(frozen=True, slots=True)
class Signals:
    """Everything the combiner needs for a batch, kept for evaluation and training."""

    rules: list[RuleResult]
    logits: npt.NDArray[np.float64]
    rule_matrix: npt.NDArray[np.float64]
    profanity: npt.NDArray[np.float64]
    staff: npt.NDArray[np.float64]
    neighbours: npt.NDArray[np.float64]  # each category's share among the nearest examples
    hidden: npt.NDArray[np.float64]  # the hidden-layer head's probability for each category
    caps: npt.NDArray[np.float64]  # the most each category may score (rules' caps, else 1)


class EnsembleClassifier:
    """Rules, profanity and the transformer heads, combined and calibrated."""

    name = "ensemble"

    def __init__(self, policy: SchoolPolicy, encoder: Encoder, heads: Heads) -> None:
        self.policy = policy
        self.encoder = encoder
        self.heads = heads
        self.engine = RuleEngine(policy)
        self.thresholds = policy.thresholds()
        self.version = f"{heads.version}+rules{self.engine_version}"
        self._model_id = f"{encoder.name}@{encoder.version}+heads@{heads.version}"
        self._prof_id = f"{PROFANITY_MODEL}@{profanity_version()}"

    @property
    def engine_version(self) -> str:
        """The rules' version."""
        from classifiers.rules import RULES_VERSION

        return RULES_VERSION

    def signals(
        self,
        texts: Sequence[str],
        contexts: Sequence[Context],
        embeddings: npt.NDArray[np.float32] | None = None,
    ) -> Signals:
        """Compute every signal for a batch (``embeddings`` may come from a cache)."""
        rules = [self.engine.scan(t, c) for t, c in zip(texts, contexts, strict=True)]
        prepared = [prepare(t) for t in texts]
        if embeddings is None:
            embeddings = self.encoder.encode(prepared)
        logits = self.heads.logits(embeddings, ngram_features(prepared))
        labels = self.heads.categories
        rule_matrix = np.array(
            [[r.scores.get(cat, 0.0) for cat in labels] for r in rules], dtype=np.float64
        ).reshape(len(texts), len(labels))
        staff = np.array(
            [1.0 if r.staff_named else (0.5 if r.staff_in_context else 0.0) for r in rules]
        )
        caps = np.array(
            [[r.caps.get(cat, 1.0) for cat in labels] for r in rules], dtype=np.float64
        ).reshape(len(texts), len(labels))
        return Signals(
            rules=rules,
            logits=logits,
            rule_matrix=rule_matrix,
            profanity=profanity_scores(prepared),
            staff=staff,
            neighbours=self.heads.neighbour_shares(embeddings),
            hidden=self.heads.hidden_probabilities(embeddings),
            caps=caps,
        )

    def scores(
        self, sig: Signals, probs: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """Final per-category scores, shape (n, K) in ``heads.labels`` order, from the
        model's calibrated scores ``probs`` and the rules; and which comments are adverts
        whose contact details were capped (:data:`classifiers.rules.ADVERT_CONTACT_CAP`)."""
        labels = self.heads.categories
        caps = sig.caps.copy()
        adverts = np.zeros(len(sig.rules), dtype=bool)
        if Category.SPAM in labels and Category.PERSONAL_DATA in labels:
            sp, pd = labels.index(Category.SPAM), labels.index(Category.PERSONAL_DATA)
            contacts = np.array([r.contacts_only for r in sig.rules], dtype=bool)
            adverts = (
                contacts
                & (probs[:, sp] >= self.thresholds.get(Category.SPAM, 0.5))
                & (probs[:, pd] < self.thresholds.get(Category.PERSONAL_DATA, 0.5))
            )
            caps[adverts, pd] = np.minimum(caps[adverts, pd], ADVERT_CONTACT_CAP)
        return final_scores(probs, sig.rule_matrix, caps), adverts

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]:
        """One verdict per comment, same order."""
        ctxs = contexts_for(comments, contexts)
        return self.classify_texts([c.text for c in comments], ctxs)

    def classify_texts(
        self,
        texts: Sequence[str],
        contexts: Sequence[Context] | None = None,
        embeddings: npt.NDArray[np.float32] | None = None,
    ) -> list[Verdict]:
        """Classify raw texts (the CLI, evaluation and the benchmark use this)."""
        ctxs = list(contexts) if contexts is not None else [Context() for _ in texts]
        if not texts:
            return []
        sig = self.signals(texts, ctxs, embeddings)
        # the model's own calibrated score (before rules) is what the evidence reports
        probs = self.heads.model_scores(
            sig.logits, sig.profanity, sig.staff, sig.neighbours, sig.hidden
        )
        scores, adverts = self.scores(sig, probs)
        verdicts: list[Verdict] = []
        for i, res in enumerate(sig.rules):
            verdicts.append(
                self._verdict(
                    res,
                    scores[i],
                    probs[i],
                    sig.neighbours[i],
                    float(sig.profanity[i]),
                    advert=bool(adverts[i]),
                )
            )
        verdicts = join_replies(verdicts, texts, ctxs, self.classify_texts, self.thresholds)
        log.debug("classified %d comments", len(verdicts))
        return verdicts

    def _model_detail(self, cat: Category, share: float) -> str:
        detail = f"the model's calibrated {cat.value} score"
        bank = self.heads.bank
        if bank is None or not len(bank) or share < 0.05:
            return detail
        k = min(bank.k, len(bank))
        return f"{detail}; the {k} most similar school examples are {share:.0%} {cat.value}"

    def _verdict(
        self,
        res: RuleResult,
        scores: npt.NDArray[np.float64],
        probs: npt.NDArray[np.float64],
        shares: npt.NDArray[np.float64],
        profanity: float,
        advert: bool = False,
    ) -> Verdict:
        cat_scores: dict[Category, float] = {
            cat: float(scores[k]) for k, cat in enumerate(self.heads.categories)
        }
        evidence: list[Evidence] = list(res.evidence)
        if advert:
            contact = next(
                e for e in res.evidence if e.category is Category.PERSONAL_DATA and e.score > 0
            )
            evidence.append(
                Evidence(
                    category=Category.SPAM,
                    source="rule",
                    rule_id="sp.advert_contact",
                    score=0.0,
                    span=contact.span,
                    matched=contact.matched,
                    detail="an advertiser's contact details: the model reads the comment "
                    "as an advert",
                )
            )
        for k, cat in enumerate(self.heads.categories):
            threshold = self.thresholds.get(cat, 0.5)
            if cat_scores[cat] >= threshold * 0.5 or probs[k] >= 0.5:
                evidence.append(
                    Evidence(
                        category=cat,
                        source="model",
                        rule_id="minilm-heads",
                        score=round(float(probs[k]), 4),
                        model=self._model_id,
                        detail=self._model_detail(cat, float(shares[k])),
                    )
                )
        if profanity >= 0.5:
            evidence.append(
                Evidence(
                    category=Category.BULLYING,
                    source="profanity",
                    rule_id="profanity",
                    score=round(profanity, 4),
                    model=self._prof_id,
                    detail="profanity",
                )
            )
        return make_verdict(
            scores=cat_scores,
            evidence=evidence,
            thresholds=self.thresholds,
            classifier=f"{self.name}@{self.version}",
            staff_mentioned=res.staff_ids,
            pupils_mentioned=res.pupils,
        )
