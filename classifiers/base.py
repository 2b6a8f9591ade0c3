"""The classifier contract and the helpers every classifier uses to build a verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from core.models import Category, Comment, Context, Evidence, Verdict

LABELS: dict[Category, str] = {
    Category.SELF_HARM: "self-harm",
    Category.ABUSE_DISCLOSURE: "a possible abuse disclosure",
    Category.SEXUAL: "sexual content or grooming",
    Category.STAFF_ALLEGATION: "an allegation against staff",
    Category.PERSONAL_DATA: "personal data",
    Category.THREAT: "a threat",
    Category.HATE: "hate",
    Category.BULLYING: "bullying",
    Category.DEFAMATION: "a damaging claim (possible defamation)",
    Category.SPAM: "spam",
    Category.CRITICISM: "criticism",
    Category.BENIGN: "benign",
}
"""How each category is named in a sentence a DSL reads."""

_QUOTE_MAX = 40
_NO_QUOTE_SOURCES = frozenset({"roster"})


class Classifier(Protocol):
    """Anything that turns comments into verdicts.

    ``classify`` returns one verdict per comment, in the same order. ``contexts``,
    when given, has one entry per comment (the post and the parent comment).
    """

    name: str
    version: str

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]:
        """Classify ``comments`` (with their ``contexts``) into verdicts."""
        ...


def contexts_for(comments: Sequence[Comment], contexts: Sequence[Context] | None) -> list[Context]:
    """One context per comment; the post title stands in when no context is given.

    Raises:
        ValueError: when ``contexts`` does not have one entry per comment.
    """
    if contexts is None:
        return [Context(post_text=c.thread_title) for c in comments]
    if len(contexts) != len(comments):
        raise ValueError(f"{len(contexts)} contexts for {len(comments)} comments")
    return list(contexts)


def flagged_categories(
    scores: Mapping[Category, float], thresholds: Mapping[Category, float]
) -> tuple[Category, ...]:
    """Categories at or over their threshold, most serious first; ``(benign,)`` if none."""
    hits = [
        cat
        for cat in Category
        if cat is not Category.BENIGN and scores.get(cat, 0.0) >= thresholds.get(cat, 0.5)
    ]
    return tuple(hits) if hits else (Category.BENIGN,)


def _quote(ev: Evidence) -> str:
    if ev.source in _NO_QUOTE_SOURCES or ev.category is Category.PERSONAL_DATA or not ev.matched:
        return ""
    text = " ".join(ev.matched.split())
    if len(text) > _QUOTE_MAX:
        text = text[: _QUOTE_MAX - 1].rstrip() + "…"
    return f"'{text}'"


def _rule_phrase(ev: Evidence) -> str:
    quote = _quote(ev)
    detail = ev.detail or "a rule"
    if ev.category is Category.PERSONAL_DATA:
        return f"it contains {detail}"
    if quote:
        return f"{quote} matched {detail}"
    return f"it matched {detail}"


def explain(
    flagged: Sequence[Category], scores: Mapping[Category, float], evidence: Sequence[Evidence]
) -> str:
    """One plain-English sentence saying why the comment got its categories."""
    primary = flagged[0] if flagged else Category.BENIGN
    if primary is Category.BENIGN:
        top = max(
            (c for c in Category if c is not Category.BENIGN),
            key=lambda c: scores.get(c, 0.0),
        )
        return (
            "Not flagged: no category reached its threshold "
            f"(highest was {LABELS[top]} at {scores.get(top, 0.0):.2f})."
        )
    own = [e for e in evidence if e.category is primary]
    rules = sorted((e for e in own if e.source != "model"), key=lambda e: -e.score)
    models = [e for e in own if e.source == "model"]
    parts: list[str] = []
    if rules:
        parts.append(_rule_phrase(rules[0]))
    if models:
        parts.append(f"the model scored {max(e.score for e in models):.2f}")
    if not parts:
        parts.append(f"the combined score was {scores.get(primary, 0.0):.2f}")
    others = [LABELS[c] for c in flagged[1:]]
    also = f" (also {', '.join(others)})" if others else ""
    reason = " and ".join(parts)
    return f"Flagged as {LABELS[primary]}{also}: {reason}."


def make_verdict(
    *,
    scores: Mapping[Category, float],
    evidence: Sequence[Evidence],
    thresholds: Mapping[Category, float],
    classifier: str,
    staff_mentioned: Sequence[str] = (),
    pupils_mentioned: int = 0,
) -> Verdict:
    """Build a verdict: complete the scores, pick flagged categories, write the sentence."""
    full = {cat: round(float(scores.get(cat, 0.0)), 4) for cat in Category}
    full[Category.BENIGN] = round(
        1.0 - max(v for c, v in full.items() if c is not Category.BENIGN), 4
    )
    flagged = flagged_categories(full, thresholds)
    return Verdict(
        scores=full,
        flagged=flagged,
        evidence=tuple(evidence),
        classifier=classifier,
        explanation=explain(flagged, full, evidence),
        staff_mentioned=tuple(dict.fromkeys(staff_mentioned)),
        pupils_mentioned=pupils_mentioned,
    )
