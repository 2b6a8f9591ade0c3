"""A test classifier that returns each scenario comment's intended label.

Pipeline, routing and delivery tests use it so that they test the plumbing,
not the model: the classifiers have their own tests and evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.models import Category, Comment, Context, Evidence, Verdict


class OracleClassifier:
    """Flags the category a scenario comment says it is (``raw["expected"]``)."""

    name = "oracle"
    version = "1"

    def __init__(self, staff_by_text: dict[str, tuple[str, ...]] | None = None) -> None:
        self.staff_by_text = staff_by_text or {}

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]:
        out = []
        for comment in comments:
            category = Category(str(comment.raw.get("expected", "benign")))
            staff = next((ids for k, ids in self.staff_by_text.items() if k in comment.text), ())
            out.append(
                Verdict(
                    scores={category: 0.99},
                    flagged=(category,),
                    evidence=(Evidence(category, "oracle", "oracle.expected", 0.99),),
                    classifier="oracle@1",
                    explanation=f"Test label {category.value}.",
                    staff_mentioned=staff,
                )
            )
        return out
