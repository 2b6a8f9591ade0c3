"""Model input: the text the encoder sees and the hashed n-gram features the heads use.

Names are replaced by placeholders so the model learns "a teacher named with a
title" rather than memorising the names in its training data, and links,
emails and phone numbers become tokens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from classifiers.lexicon import URL
from classifiers.normalise import model_text
from classifiers.roster import SURNAME, TITLES

WORD_FEATURES = 2**17
CHAR_FEATURES = 2**16
MAX_CHARS = 2000

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<!\d)(?:\+44\s?|0)\d{3,4}[\s-]?\d{3}[\s-]?\d{3,4}(?!\d)")
_TITLE_NAME = re.compile(rf"(?<![a-z])({TITLES})\.?\s+(?!teacher\b){SURNAME}(?![a-z])")
_HANDLE = re.compile(r"@\w+")


def prepare(text: str) -> str:
    """The normalised text given to the encoder and the n-gram features."""
    text = text[:MAX_CHARS]
    text = URL.sub(" weblink ", text)
    text = _EMAIL.sub(" emailaddress ", text)
    text = _PHONE.sub(" phonenumber ", text)
    text = _HANDLE.sub(" @user ", text)
    norm = model_text(text)
    return _TITLE_NAME.sub(r"\1 teacher", norm)


_WORDS = HashingVectorizer(
    n_features=WORD_FEATURES,
    ngram_range=(1, 2),
    alternate_sign=False,
    norm="l2",
    token_pattern=r"(?u)\b\w+\b|[!?]",
    lowercase=False,
)
_CHARS = HashingVectorizer(
    n_features=CHAR_FEATURES,
    analyzer="char_wb",
    ngram_range=(3, 5),
    alternate_sign=False,
    norm="l2",
    lowercase=False,
)


def ngram_features(prepared: Sequence[str]) -> sparse.csr_matrix:
    """Hashed word 1-2-gram and character 3-5-gram features (no vocabulary to ship)."""
    words = _WORDS.transform(list(prepared))
    chars = _CHARS.transform(list(prepared))
    return sparse.hstack([words, chars], format="csr", dtype=np.float32)


def stack(embeddings: npt.NDArray[np.float32], ngrams: sparse.csr_matrix) -> sparse.csr_matrix:
    """Join dense embeddings and sparse n-grams into one design matrix."""
    return sparse.hstack([sparse.csr_matrix(embeddings), ngrams], format="csr", dtype=np.float32)
