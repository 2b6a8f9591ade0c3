"""Text normalisation that undoes common obfuscation without mangling innocent words.

The normalised text keeps a map from every character back to its offset in the
original comment, so a rule that matches the normalised text can report the
span of the original text it came from (the queue highlights that span).

Steps, in order:

1. Unicode NFKC per character (full-width and "mathematical bold" letters become
   plain letters), case folding, removal of zero-width characters and emoji
   variation selectors.
2. Look-alike letters (Cyrillic and Greek homoglyphs) become Latin letters.
3. Emoji that carry meaning become words (``🔪`` -> ``knife``), and so do emoji
   shortcodes (``:knife:`` -> ``knife``, ``:drop_of_blood:`` -> ``drop of blood``).
4. Spaced-out letters are joined (``s h o o t`` and ``s.h.o.o.t`` -> ``shoot``).
5. Leetspeak inside words that mix letters and digits (``r3t4rds`` -> ``retards``).
   Tokens with a single letter (``Y3``, ``4O``), numbers, times and prices are left alone.
6. Runs of three or more identical letters shrink to two (``sooooo`` -> ``soo``).
7. Runs of white space (line breaks, the spaces around each emoji's word) become one
   space, so rules written with single spaces match ``🍆🍆🍆`` (``aubergine
   aubergine aubergine``) and phrases broken across lines.

Word matching elsewhere uses word boundaries, so "Scunthorpe", "classic" and
"assess" never match the rude words they contain.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# --- tables -----------------------------------------------------------------

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\ufe0e\ufe0f")

_HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ѡ": "w", "һ": "h", "ӏ": "l", "ɡ": "g",
    "ո": "n", "ս": "u", "ց": "g", "ҁ": "c", "ү": "y", "ӡ": "z", "ɑ": "a", "ⅼ": "l",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u", "ς": "s",
}  # fmt: skip

EMOJI_WORDS: dict[str, str] = {
    "🔪": "knife", "🗡": "knife", "🔫": "gun", "💣": "bomb", "🧨": "bomb", "💥": "boom",
    "🩸": "blood", "⚰": "coffin", "🪦": "grave", "💀": "skull", "☠": "skull",
    "🍆": "aubergine", "🍑": "peach", "💦": "splash", "👅": "tongue", "😘": "kiss",
    "😏": "smirk",
    "😉": "wink", "😜": "wink",
    "😈": "devil", "🥵": "hot", "🔥": "fire", "👀": "eyes", "🤤": "drool",
    "🐷": "pig", "🐖": "pig", "🐒": "monkey", "🐵": "monkey", "🦍": "gorilla", "🍌": "banana",
    "🤡": "clown", "🐀": "rat", "🐍": "snake", "🖕": "middle finger", "🤮": "vomit",
    "😡": "angry", "🤬": "swearing", "😠": "angry", "👊": "punch", "🤜": "punch",
    "😂": "laughing", "🤣": "laughing", "😆": "laughing", "😅": "laughing", "😭": "crying",
    "😢": "sad", "💔": "broken heart", "😔": "sad", "🥺": "pleading",
    "🤑": "money", "💰": "money", "💸": "money", "💷": "money", "👉": "pointing", "🎵": "music",
    "🤫": "shush", "🙈": "embarrassed", "❤": "heart", "😍": "love", "🥰": "love",
    "🪢": "rope",
    "👏": "clapping", "⭐": "star", "🌟": "star", "🎉": "party", "🙏": "thanks", "👍": "thumbs up",
}  # fmt: skip

_LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
    "!": "i", "|": "i", "€": "e",
}  # fmt: skip

_SHORTCODE = re.compile(r"(?<!\w):([a-z][a-z0-9_]*[a-z0-9]):(?!\w)")
"""An emoji shortcode as chat apps write it (``:knife:``, ``:drop_of_blood:``)."""
_SHORTCODE_WORDS: dict[str, str] = {
    "hocho": "knife", "dagger": "knife", "dagger_knife": "knife", "eggplant": "aubergine",
    "sweat_drops": "splash", "drooling_face": "drool", "hot_face": "hot", "monkey_face": "monkey",
    "see_no_evil": "embarrassed", "joy": "laughing", "rofl": "laughing", "sob": "crying",
    "kissing_heart": "kiss", "smirk": "smirk", "wink": "wink", "knot": "rope",
}  # fmt: skip
_SPACED = re.compile(r"(?<![\w*])(?:[a-z][ .\-_*]){2,}[a-z](?![\w*])")
_SPACED_TITLE = re.compile(r"(?<![\w*'’])m[ .\-_*]+[rs](?=[ .\-_*]+[a-z])")
"""A spaced-out "m r" or "m s" before a name (two letters are too few for ``_SPACED``)."""
# only tokens that may hold leetspeak; a token starts after whitespace, so a long
# token is scanned once rather than once from each of its characters
_TOKEN = re.compile(r"(?<!\S)\S*[0134578@$!|€]\S*")
_REPEAT = re.compile(r"([a-z])\1{2,}")
_SPACE_RUN = re.compile(r"\s{2,}|[^\S ]")
"""Two or more white-space characters, or one that is not a plain space."""


@dataclass(frozen=True, slots=True)
class Normalised:
    """A normalised text and the map from its characters to the original offsets."""

    original: str
    text: str
    index: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text offsets covering normalised characters ``start:end``."""
        if not self.index or start >= end:
            return (0, 0)
        lo = self.index[min(start, len(self.index) - 1)]
        hi = self.index[min(end, len(self.index)) - 1] + 1
        # extend to the end of the original cluster (emoji words, NFKC expansions)
        while hi < len(self.original) and (
            self.original[hi] in _ZERO_WIDTH or unicodedata.combining(self.original[hi])
        ):
            hi += 1
        return (lo, max(hi, lo + 1))

    def original_text(self, start: int, end: int) -> str:
        """The original characters behind normalised characters ``start:end``."""
        lo, hi = self.span(start, end)
        return self.original[lo:hi]


Chars = list[tuple[str, int]]


def _rebuild(chars: Chars, pattern: re.Pattern[str], repl: object) -> Chars:
    """Apply a regex substitution to a char list, keeping offsets.

    ``repl`` is a callable taking the match and the matched char slice and
    returning the replacement char list.
    """
    text = "".join(c for c, _ in chars)
    out: Chars = []
    pos = 0
    for m in pattern.finditer(text):
        out.extend(chars[pos : m.start()])
        out.extend(repl(m, chars[m.start() : m.end()]))  # type: ignore[operator]
        pos = m.end()
    out.extend(chars[pos:])
    return out


def _basic(text: str) -> Chars:
    if text.isascii():  # fast path: nothing to fold but case
        return list(zip(text.lower(), range(len(text)), strict=True))
    chars: Chars = []
    for i, ch in enumerate(text):
        if ch in _ZERO_WIDTH:
            continue
        word = EMOJI_WORDS.get(ch)
        if word is not None:
            chars.extend((c, i) for c in f" {word} ")
            continue
        if "\U0001f3fb" <= ch <= "\U0001f3ff":  # skin-tone modifiers
            continue
        folded = unicodedata.normalize("NFKC", ch).casefold()
        for c in folded:
            if unicodedata.combining(c):
                continue
            chars.append((_HOMOGLYPHS.get(c, c), i))
    # strip accents that NFKC leaves composed (é -> e) so "pédo" matches "pedo"
    out: Chars = []
    for c, i in chars:
        if c.isascii():
            out.append((c, i))
            continue
        base = unicodedata.normalize("NFKD", c)
        stripped = "".join(b for b in base if not unicodedata.combining(b))
        out.extend((b, i) for b in (stripped or c))
    return out


def _shortcode(m: re.Match[str], chars: Chars) -> Chars:
    name = m.group(1)
    word = _SHORTCODE_WORDS.get(name, name.replace("_", " "))
    return [(c, chars[0][1]) for c in f" {word} "]


def _join_spaced(m: re.Match[str], chars: Chars) -> Chars:
    return [(c, i) for c, i in chars if c.isalpha()]


def _leet_token(m: re.Match[str], chars: Chars) -> Chars:
    token = m.group(0)
    letters = sum(c.isalpha() for c in token)
    if letters < 2 or "://" in token or "www." in token or token.startswith("@"):
        return chars
    if not any(c in _LEET for c in token):
        return chars
    out: Chars = []
    n = len(token)
    for k, (c, i) in enumerate(chars):
        sub = _LEET.get(c)
        if sub is None:
            out.append((c, i))
            continue
        before = k > 0 and (token[k - 1].isalpha() or token[k - 1] in _LEET)
        after = k + 1 < n and (token[k + 1].isalpha() or token[k + 1] in _LEET)
        if c.isdigit() or c in "$@€":
            # a digit needs a letter on at least one side and the token must not be
            # mostly digits (e.g. "2nd", "10am", "y3" are left alone by the letters rule)
            digits = sum(ch.isdigit() for ch in token)
            ok = (before or after) and digits < letters and not token[0].isdigit()
        else:  # "!" and "|" only inside a word: "d!e", "b!tch" but not "hi!!"
            ok = before and k + 1 < n and token[k + 1].isalpha()
        out.append((sub if ok else c, i))
    return out


def _squeeze(m: re.Match[str], chars: Chars) -> Chars:
    return chars[:2]


def _one_space(m: re.Match[str], chars: Chars) -> Chars:
    return [(" ", chars[0][1])]


def normalise(text: str) -> Normalised:
    """Normalise ``text`` for matching; see the module docstring for the steps."""
    chars = _basic(text)
    chars = _rebuild(chars, _SHORTCODE, _shortcode)
    chars = _rebuild(chars, _SPACED, _join_spaced)
    chars = _rebuild(chars, _SPACED_TITLE, _join_spaced)
    chars = _rebuild(chars, _TOKEN, _leet_token)
    chars = _rebuild(chars, _REPEAT, _squeeze)
    # last: the spaced-letter step needs the double space that separates spaced words
    # ("m r s  g r a n t" is "mrs grant", not "mrsgrant")
    chars = _rebuild(chars, _SPACE_RUN, _one_space)
    return Normalised(
        original=text, text="".join(c for c, _ in chars), index=tuple(i for _, i in chars)
    )


def model_text(text: str) -> str:
    """A compact normalised form for the model: normalised, single-spaced."""
    return normalise(text).text.strip()
