"""Comment classifiers: deterministic rules and the trained ensemble.

Use :func:`build_classifier` to get the classifier for a school's policy.
"""

from __future__ import annotations

from classifiers.base import Classifier
from classifiers.registry import build_classifier
from classifiers.rules import RuleClassifier

__all__ = ["Classifier", "RuleClassifier", "build_classifier"]
