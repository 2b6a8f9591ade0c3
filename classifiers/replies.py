"""Replies that join a disclosure: "me too" under a comment about self-harm or abuse.

A child who replies "same" to "i dont want to be here anymore", or a parent who
replies "same thing happened to my daughter" to an allegation against a teacher,
discloses as much as the comment above, in words that say nothing on their own.
KCSIE asks staff to act on partial disclosures; docs/categories.md ("Replies that
join a disclosure") says such a reply takes the safeguarding categories of the
comment it answers.

Every classifier calls :func:`join_replies` after scoring a batch. It looks only at
replies that agree with their parent, classifies those parents (with the same
classifier, under the same post), and raises the reply's score for each
safeguarding category the parent was flagged for to :data:`JOIN_SCORE`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from classifiers.base import LABELS, make_verdict
from core.models import Category, Context, Evidence, Verdict

JOINABLE: tuple[Category, ...] = (
    Category.SELF_HARM,
    Category.ABUSE_DISCLOSURE,
    Category.SEXUAL,
    Category.STAFF_ALLEGATION,
)
"""Categories a reply takes from the comment it agrees with (the DSL's categories)."""

JOIN_SCORE = 0.6
"""A joining reply's score for each of its parent's safeguarding categories: over
the default threshold (0.5), so the DSL sees it, below a direct disclosure's."""

_KIN = r"(?:son|daughter|child|kid|lad|girl|boy|little one|youngest|eldest|middle one)s?"
_JOINS = re.compile(
    r"(?<![a-z])(?:me too|me 2|mine too|mine as well|and mine|us too|same here|"
    r"same (?:thing|story|teacher|man|woman|person|lad|boy|girl|with me|with us|for me|for us)|"
    r"same (?:happened|with|for|to) (?:me|us|my|mine|our)|"
    r"(?:happened|did (?:that|this|it|the same)|does (?:that|this|it|the same)|"
    r"done (?:that|this|it|the same)) to (?:me|us|my \w+|mine|our \w+) (?:too|as well|also)|"
    rf"(?:my|our) {_KIN} (?:too|as well|also|said the same|says the same|has said the same|"
    r"told me the same)|"
    r"not the only one|not just (?:you|yours|your \w+)|i know how (?:you|u) feel)(?![a-z])"
)
_WORD = re.compile(r"[a-z0-9']+")
_SAME = re.compile(r"(?<![a-z0-9'])same(?![a-z0-9'])")
_SHORT = 3


def _agreement(low: str) -> re.Match[str] | None:
    """Where the lower-cased reply ``low`` agrees with its parent, if it does.

    "Same" counts only as (nearly) the whole reply ("same 😭", "omg same"): in a
    longer reply it is usually about something else ("we got the same letter").
    """
    m = _JOINS.search(low)
    if m is None and len(_WORD.findall(low)) <= _SHORT:
        m = _SAME.search(low)
    return m


def joins_parent(text: str) -> str | None:
    """The words of ``text`` that agree with the comment it replies to, or None."""
    m = _agreement(text.lower())
    return m.group(0) if m is not None else None


Classify = Callable[[list[str], list[Context]], list[Verdict]]


def join_replies(
    verdicts: Sequence[Verdict],
    texts: Sequence[str],
    contexts: Sequence[Context],
    classify: Classify,
    thresholds: Mapping[Category, float],
) -> list[Verdict]:
    """``verdicts`` with each joining reply raised to its parent's safeguarding categories.

    Args:
        verdicts: One verdict per text, as the classifier made them.
        texts: The comments' texts.
        contexts: One context per text (``parent_text`` is the comment replied to).
        classify: The same classifier, used on the parents (under the same post, with no
            parent of their own, so this never recurses further).
        thresholds: The policy's thresholds, to decide the new flags.
    """
    joining = {
        i: m
        for i, (text, ctx) in enumerate(zip(texts, contexts, strict=True))
        if ctx.parent_text.strip() and (m := _agreement(text.lower())) is not None
    }
    if not joining:
        return list(verdicts)
    parents = sorted({(contexts[i].parent_text, contexts[i].post_text) for i in joining})
    parent_verdicts = classify(
        [text for text, _ in parents], [Context(post_text=post) for _, post in parents]
    )
    by_parent = dict(zip(parents, parent_verdicts, strict=True))
    out = list(verdicts)
    for i, m in joining.items():
        parent = by_parent[(contexts[i].parent_text, contexts[i].post_text)]
        cats = [c for c in parent.flagged if c in JOINABLE]
        if not cats:
            continue
        # lower-casing keeps offsets unless a character changes length ("İ")
        span = m.span() if len(m.string) == len(texts[i]) else None
        scores = dict(verdicts[i].scores)
        evidence = list(verdicts[i].evidence)
        for cat in cats:
            scores[cat] = max(scores.get(cat, 0.0), JOIN_SCORE)
            evidence.append(
                Evidence(
                    category=cat,
                    source="context",
                    rule_id="ctx.joins_disclosure",
                    score=JOIN_SCORE,
                    span=span,
                    matched=m.group(0),
                    detail=f"agreement with the comment it replies to, read as {LABELS[cat]}",
                )
            )
        out[i] = make_verdict(
            scores=scores,
            evidence=evidence,
            thresholds=thresholds,
            classifier=verdicts[i].classifier,
            staff_mentioned=verdicts[i].staff_mentioned,
            pupils_mentioned=verdicts[i].pupils_mentioned,
        )
    return out
