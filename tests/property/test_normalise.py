"""Text normalisation never fails and always maps back to the original text."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from classifiers.normalise import model_text, normalise
from classifiers.rules import RuleClassifier
from config.loader import DEFAULT_POLICY, load_policy
from tests.property.settings import prop

# Any code point, lone surrogates included (platform JSON can carry "\ud83d").
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
OBFUSCATED = st.lists(
    st.sampled_from(
        ["s h o o t", "k.i.l.l", "r3t4rd", "sooooo", "🔪", "\u200b", "ｆｕｌｌ", "Ꮯ", "é", "é", "a",
         " ", "1", "!", "|", "@", "www.x.example", "07700 900123", "\U0001f3fd", "\ufe0f", "ß"]
    ),
    max_size=40,
).map("".join)  # fmt: skip
TEXTS = st.one_of(ANY_TEXT, OBFUSCATED)

_POLICY = load_policy(DEFAULT_POLICY)
_RULES = RuleClassifier(_POLICY)


@prop(300)
@given(TEXTS)
@example("")
@example("\x00\ud83d\udc4f")
@example("s.h.o.o.t 🔪🏽 r3t4rds")
def test_normalise_never_fails_and_every_character_maps_back(text: str) -> None:
    result = normalise(text)
    assert result.original == text
    assert len(result.index) == len(result.text)
    assert all(0 <= i < len(text) for i in result.index)
    assert list(result.index) == sorted(result.index)  # order is kept
    for start in range(0, len(result.text), 7):
        lo, hi = result.span(start, start + 5)
        assert 0 <= lo < hi <= len(text)
        assert result.original_text(start, start + 5) == text[lo:hi]


@prop(200)
@given(TEXTS)
def test_model_text_is_single_spaced_without_invisible_characters(text: str) -> None:
    out = model_text(text)
    assert out == out.strip() and "  " not in out
    assert not any(ch in out for ch in "\u200b\u200c\u200d\u2060\ufeff\u00ad")


@prop(200)
@given(TEXTS)
def test_rule_classifier_gives_a_verdict_with_spans_inside_the_text(text: str) -> None:
    verdict = _RULES.classify_text(text)
    assert all(0.0 <= s <= 1.0 for s in verdict.scores.values())
    for ev in verdict.evidence:
        if ev.span is not None:
            lo, hi = ev.span
            assert 0 <= lo <= hi <= len(text)
