"""Deterministic rules: built-in phrases, school lexicon, roster and personal-data detectors.

:class:`RuleEngine` turns one comment into rule evidence and per-category rule
scores; :class:`RuleClassifier` is the classifier that uses rules alone (the
fallback when no model is available, and the test double).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from classifiers.base import contexts_for, make_verdict
from classifiers.detectors import (
    CHILD_DETAIL_WORDS,
    detect_personal_data,
    find_child_full_name,
)
from classifiers.lexicon import (
    ALL_RULES,
    BUSINESS,
    FAMILY_SURPRISE,
    HELPLINE,
    HOUSEHOLD,
    KIN,
    LAUGHTER,
    NOT_JOKING,
    PREMIUM,
    SELLING,
    SPAM_RULES,
    TO_A_GROUP,
    URL,
    Rule,
)
from classifiers.normalise import Normalised, normalise
from classifiers.replies import join_replies
from classifiers.roster import Mention, find_mentions, unidentified_staff, unnamed_staff_spans
from config.policy import SchoolPolicy
from core.models import Category, Comment, Context, Evidence, Verdict

RULES_VERSION = "1.18.0"

_PUPIL_DETAIL = re.compile(
    rf"(?<![a-z])(?:{CHILD_DETAIL_WORDS}|class \w+|reception|asd|sen|send|medication|"
    r"lives|address|street|road|lane|drive|close|avenue|born|birthday|dob|phone|number)(?![a-z])"
)
_SCHOOL_WORDS = (
    r"the school|this school|our school|that school|the head|the headteacher|the governors|"
    r"the pta|the office|the academy|the trust|the teachers|staff|the deputy|the senco|"
    r"the bursar|ofsted"
)
_SPAM_STRONG = tuple(r for r in SPAM_RULES if r.weight >= 0.75)
_CONTACT_RULES = frozenset(
    {"pd.uk_mobile", "pd.uk_landline", "pd.email", "pd.postcode", "pd.street_address"}
)
_OFFICE_BEFORE = re.compile(
    r"(?:(?:school(?:'s)?|the|main) (?:office|reception)|(?:ring|call|phone|email|contact) "
    r"the school|school(?:'s)? (?:phone )?(?:number|email|address)|(?:absence|attendance|"
    r"sickness) line|(?:after ?school|breakfast|holiday) club|switchboard)"
    r"(?: (?:on|at|number|phone|line|email|address|is|option \d+))*[\s:-]*$",
    re.IGNORECASE,
)
_US_BEFORE = re.compile(r"(?:ring|call|phone|contact) us(?: on| at)?[\s:-]*$", re.IGNORECASE)
_OFFICE_WORD = re.compile(r"(?<![a-z])(?:office|reception)(?![a-z])", re.IGNORECASE)
"""A staff reply giving the office's landline ("Pop into the office or ring us on 01632
960100"): "us" beside the office is the school, where "ring me" is a person."""
CONTACT_CAP = 0.3
"""The most a comment whose only contact details are the school's own or an
organisation's (a freephone, national-rate, premium or helpline number) can score as
personal data, whatever the model says (docs/categories.md: personal data is a
*personal* phone number or a *home* address)."""
_NOT_PERSONAL = frozenset({"pd.school_contact", "pd.organisation_number"})
_ADVERT_CONTACTS = _CONTACT_RULES - {"pd.street_address"}  # a home address stays personal
ADVERT_CONTACT_CAP = CONTACT_CAP
"""The most a comment can score as personal data when the model reads it as an advert
(spam at or over its threshold, personal data under its own) and the only personal data
the rules found are phone numbers, emails or postcodes: "a number in a business advert
is spam" (docs/categories.md, personal_data). The rules' own advert words
(:data:`classifiers.lexicon.BUSINESS`) miss adverts that use none of them ("Rowe
Plumbing, no job too small. Call Gary 07700 900540"); the model reads those."""
HELPLINE_SPAM_CAP = 0.3
"""The most a comment sharing a helpline can score as spam: it names a helpline or the
charity that runs it beside an organisation's number, with no scam words and no
personal contact details ("NSPCC helpline for worried adults: 0808 800 5000"). Spam
is hidden automatically (Aycliffe 5), and hiding a helpline under a safeguarding
post would hide help."""
_HOLD_LAUGH = frozenset({Category.THREAT, Category.SELF_HARM})
_CHILD_SECRECY = frozenset({"sx.secrecy", "sx.between_us"})
_SECRECY = _CHILD_SECRECY | {"st.secrecy"}
_TO_ONE_CHILD = _CHILD_SECRECY | {"sx.meet"}
SURPRISE_WINDOW = 100
"""Characters either side of a request for secrecy searched for a surprise, or of a
request for secrecy or to meet searched for words addressing a group."""
HOUSEHOLD_REACH = 40
"""Characters before a harm searched for someone from the child's home doing it."""
_REACH: dict[str, int | None] = {"st.secrecy": None}
"""Reported secrecy is what the person named last said ("Miss Evans … my uncle keeps
coming in my room at night and says its our secret"), however far back."""
_HOUSEHOLD_OBJECT = re.compile(
    r"(?<![a-z])(?:tell|tells|told|telling|call|calls|called|like|about|to|for|with|at|from|"
    r"and|than|of)\s+$"
)
"""Words just before a relative that make them the object of another verb ("if i tell my
mum", "called my brother"), not the one doing the harm."""


@dataclass(frozen=True, slots=True)
class RuleResult:
    """What the rules found in one comment."""

    norm: Normalised
    evidence: tuple[Evidence, ...]
    scores: dict[Category, float]
    staff_ids: tuple[str, ...]
    pupils: int
    staff_named: bool  # an identifiable member of staff is named in the comment
    staff_in_context: bool
    caps: dict[Category, float] = field(default_factory=dict)  # most a category may score

    @property
    def contacts_only(self) -> bool:
        """Whether the personal data found is only phone numbers, emails and postcodes:
        what an advert gives, with nothing about a child or a home (see
        :data:`ADVERT_CONTACT_CAP`)."""
        found = [e for e in self.evidence if e.category is Category.PERSONAL_DATA and e.score > 0]
        return bool(found) and all(e.rule_id in _ADVERT_CONTACTS for e in found)


def _compile_lexicon(policy: SchoolPolicy) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for n, lex in enumerate(policy.lexicon):
        for k, term in enumerate(lex.terms):
            words = [re.escape(w) for w in normalise(term).text.split() if w]
            if not words:
                continue
            pat = re.compile(r"(?<![a-z0-9])" + r"\s+".join(words) + r"(?![a-z0-9])")
            rules.append(
                Rule(
                    f"lexicon.{n}.term{k}",
                    lex.category,
                    pat,
                    lex.weight,
                    "a word on the school's list",
                    source="lexicon",
                )
            )
        for k, pattern in enumerate(lex.patterns):
            rules.append(
                Rule(
                    f"lexicon.{n}.pattern{k}",
                    lex.category,
                    re.compile(pattern, re.IGNORECASE),
                    lex.weight,
                    "a pattern on the school's list",
                    source="pattern",
                )
            )
    return tuple(rules)


def _contact_key(value: str) -> str:
    """A contact detail in comparable form: a phone number's digits (+44 read as 0),
    otherwise its lower-case words, one space apart and padded with spaces, so that
    "4 Church Lane" is not found inside "14 Church Lane"."""
    digits = re.sub(r"\D", "", value)
    if re.fullmatch(r"[\d\s()+-]+", value.strip()) and len(digits) >= 10:
        return "0" + digits[2:].lstrip("0") if digits.startswith("44") else digits
    words = re.sub(r"[^a-z0-9@.]+", " ", value.lower()).replace(". ", " ").strip(" .")
    return f" {words} " if words else ""


def noisy_or(weights: Sequence[float]) -> float:
    """Combine independent signals: 1 - prod(1 - w)."""
    miss = 1.0
    for w in weights:
        miss *= 1.0 - max(0.0, min(1.0, w))
    return 1.0 - miss


def _reported_secrecy(evidence: list[Evidence]) -> list[Evidence]:
    """Secrecy that identifiable staff asked of a child ("Mr Osei … said dont tell ur
    parents") is an allegation about them (``st.secrecy``), not grooming written by the
    commenter: the same words do not also count as ``sx.secrecy`` or ``sx.between_us``
    (docs/categories.md)."""
    reported = [e.span for e in evidence if e.rule_id == "st.secrecy" and e.span is not None]
    if not reported:
        return evidence
    return [
        e
        for e in evidence
        if e.rule_id not in _CHILD_SECRECY
        or e.span is None
        or not any(e.span[0] < end and start < e.span[1] for start, end in reported)
    ]


class RuleEngine:
    """Applies the built-in rules, the school's lexicon, the roster and the detectors."""

    def __init__(self, policy: SchoolPolicy) -> None:
        self.policy = policy
        self.rules: tuple[Rule, ...] = ALL_RULES + _compile_lexicon(policy)
        self._contacts = tuple(_contact_key(c) for c in policy.school.contacts if c.strip())
        # any address at the school's email domain is the school's (a staff work email)
        self._domains = tuple(
            "@" + key.split("@", 1)[1] for key in self._contacts if key.count("@") == 1
        )
        names = [policy.school.name, *policy.school.aliases]
        school_pats = [re.escape(normalise(n).text) for n in names if n.strip()]
        self._school = re.compile(
            r"(?<![a-z])(?:" + "|".join([_SCHOOL_WORDS, *school_pats]) + r")(?![a-z])"
        )

    def _mentions(self, norm: Normalised) -> list[Mention]:
        return find_mentions(norm, self.policy.roster)

    def scan(self, text: str, context: Context | None = None) -> RuleResult:
        """Run every rule over ``text`` (and the roster over its context)."""
        norm = normalise(text)
        mentions = self._mentions(norm)
        staff = [m for m in mentions if m.kind in ("staff", "generic_staff")]
        pupils = {m.person_id for m in mentions if m.kind == "pupil"}
        ctx_staff = False
        if context is not None and not staff:
            for ctx_text in (context.parent_text, context.post_text):
                if ctx_text and any(m.kind == "staff" for m in self._mentions(normalise(ctx_text))):
                    ctx_staff = True
        school = bool(staff) or ctx_staff or self._school.search(norm.text) is not None
        laugh = LAUGHTER.search(norm.text) is not None and NOT_JOKING.search(norm.text) is None

        unnamed = [
            span
            for span in unnamed_staff_spans(norm)
            if not any(m.start < span[1] and span[0] < m.end for m in staff)
        ]

        def by_unnamed_staff(start: int) -> bool:
            """The person mentioned last before ``start`` is staff nobody can identify
            ("the dinner lady who grabbed him"): harm by them is an abuse disclosure
            (docs/categories.md), whoever else the comment names."""
            refs = [(b, True) for a, b in unnamed if b <= start]
            refs += [(m.end, False) for m in staff if m.end <= start]
            return bool(refs) and max(refs)[1]

        def by_household(start: int, reach: int | None) -> bool:
            """Someone from the child's home is the subject of the harm that starts at
            ``start`` ("Miss Evans can u help me my dad hits me", "my uncle … says its
            our secret"): named within ``reach`` characters before it (anywhere, for
            None), after the last staff member, and not the object of another verb
            ("tell my mum", "called my brother"). The harm is theirs, so no staff rule
            applies."""
            last_staff = max((m.end for m in staff if m.end <= start), default=0)
            begin = last_staff if reach is None else max(last_staff, start - reach)
            return any(
                _HOUSEHOLD_OBJECT.search(norm.text, max(0, h.start() - 12), h.start()) is None
                for h in HOUSEHOLD.finditer(norm.text, begin, start)
            )

        evidence: list[Evidence] = []
        for rule in self.rules:
            m = rule.pattern.search(norm.text)
            if m is None or m.end() == m.start():
                continue
            weight = rule.weight
            if rule.needs == "staff":
                if (
                    (not staff and not ctx_staff)
                    or by_unnamed_staff(m.start())
                    or (
                        staff and by_household(m.start(), _REACH.get(rule.rule_id, HOUSEHOLD_REACH))
                    )
                ):
                    continue
                if not staff:
                    weight *= 0.85
            elif rule.needs == "school" and not school:
                weight *= 0.5
            elif (
                rule.needs == "no_staff"
                and (staff or ctx_staff)
                and not by_unnamed_staff(m.start())
            ) or (rule.needs == "no_kin" and KIN.search(norm.text)):
                continue
            near = (max(0, m.start() - SURPRISE_WINDOW), m.end() + SURPRISE_WINDOW)
            if (rule.rule_id in _SECRECY and FAMILY_SURPRISE.search(norm.text, *near)) or (
                rule.rule_id in _TO_ONE_CHILD and TO_A_GROUP.search(norm.text, *near)
            ):
                continue
            if laugh and rule.category in _HOLD_LAUGH:
                weight *= 0.5
            if rule.rule_id == "st.unidentified" and unidentified_staff(norm) is None:
                weight *= 0.8
            span = norm.span(m.start(), m.end())
            evidence.append(
                Evidence(
                    category=rule.category,
                    source=rule.source,
                    rule_id=rule.rule_id,
                    score=round(weight, 4),
                    span=span,
                    matched=text[span[0] : span[1]],
                    detail=rule.detail,
                )
            )
        evidence = _reported_secrecy(evidence)
        evidence.extend(self._personal_data(text, norm, mentions, pupils))
        url = URL.search(text)
        if url is not None:
            evidence.append(
                Evidence(Category.SPAM, "rule", "sp.url", 0.35, (url.start(), url.end()),
                         url.group(0), detail="a link")
            )  # fmt: skip
        for sm in staff:
            evidence.append(
                Evidence(
                    category=Category.STAFF_ALLEGATION,
                    source="roster",
                    rule_id=f"roster.{sm.kind}.{sm.via}",
                    score=0.0,
                    span=norm.span(sm.start, sm.end),
                    matched=norm.original_text(sm.start, sm.end),
                    detail="a member of staff named",
                )
            )
        scores = self._scores(evidence)
        caps: dict[Category, float] = {}
        if any(e.rule_id in _NOT_PERSONAL for e in evidence) and not scores.get(
            Category.PERSONAL_DATA
        ):
            caps[Category.PERSONAL_DATA] = CONTACT_CAP
        if self._shares_helpline(evidence, norm.text):
            caps[Category.SPAM] = HELPLINE_SPAM_CAP
        staff_ids = tuple(dict.fromkeys(s.person_id for s in staff if s.person_id))
        return RuleResult(
            norm=norm,
            evidence=tuple(evidence),
            scores=scores,
            staff_ids=staff_ids,
            pupils=len(pupils),
            staff_named=bool(staff),
            staff_in_context=ctx_staff,
            caps=caps,
        )

    @staticmethod
    def _shares_helpline(evidence: Sequence[Evidence], text: str) -> bool:
        """An organisation's number beside a helpline's name; nothing personal, sold or won."""
        contacts = [e for e in evidence if e.rule_id.startswith("pd.")]
        return (
            any(e.rule_id == "pd.organisation_number" for e in contacts)
            and all(e.rule_id in _NOT_PERSONAL for e in contacts)
            and not any(e.rule_id == "sp.business_contact" for e in evidence)
            and HELPLINE.search(text) is not None
            and PREMIUM.search(text) is None
            and SELLING.search(text) is None
        )

    def _school_contact(self, text: str, ev: Evidence) -> bool:
        """Whether a detected number, email or address is the school's own."""
        if ev.rule_id not in _CONTACT_RULES or ev.span is None:
            return False
        key = _contact_key(ev.matched)
        if key and any(key in own for own in self._contacts):
            return True
        if ev.rule_id == "pd.email" and key.endswith(self._domains or ("\0",)):
            return True
        if ev.rule_id == "pd.uk_mobile":
            return False  # a mobile is someone's own unless the school lists it
        before = text[max(0, ev.span[0] - 40) : ev.span[0]]
        if _US_BEFORE.search(before) and _OFFICE_WORD.search(text):
            return True
        return _OFFICE_BEFORE.search(before) is not None

    def _personal_data(
        self, text: str, norm: Normalised, mentions: list[Mention], pupils: set[str]
    ) -> list[Evidence]:
        found = []
        for ev in detect_personal_data(text):
            if self._school_contact(text, ev):
                ev = replace(
                    ev,
                    rule_id="pd.school_contact",
                    score=0.0,
                    detail="the school's own contact details",
                )
            found.append(ev)
        # only a comment with contact details needs the advert check; beside an
        # organisation's number alone, only scam words count ("Childline is free on
        # 0800 1111" is a helpline, not an advert)
        personal = any(e.rule_id != "pd.organisation_number" for e in found)
        advert = bool(found) and (
            any(r.pattern.search(norm.text) for r in _SPAM_STRONG)
            or (BUSINESS if personal else PREMIUM).search(norm.text) is not None
        )
        if advert:
            found.append(
                Evidence(Category.SPAM, "rule", "sp.business_contact", 0.6, found[0].span,
                         found[0].matched, detail="contact details in an advert")
            )  # fmt: skip
            # a number or email in an advert is the advertiser's, not someone's personal data
            found = [
                replace(e, score=round(e.score * 0.5, 4))
                if e.category is Category.PERSONAL_DATA
                else e
                for e in found
            ]
        if pupils:
            detail = _PUPIL_DETAIL.search(norm.text)
            first = next(m for m in mentions if m.kind == "pupil")
            found.append(
                Evidence(
                    category=Category.PERSONAL_DATA,
                    source="roster",
                    rule_id="roster.pupil_details" if detail else "roster.pupil_name",
                    score=0.85 if detail else 0.4,
                    span=norm.span(first.start, first.end),
                    matched="",  # pupil names are never copied into evidence
                    detail=(
                        "a pupil's name with identifying details" if detail else "a pupil's name"
                    ),
                )
            )
        else:
            child = find_child_full_name(text)
            staff_spans = [norm.span(m.start, m.end) for m in mentions if m.kind == "staff"]
            # the name is staff's when a staff mention starts it ("Tom Brennan"); a
            # rostered surname after another first name is a child who shares it
            # ("Alfie Brennan")
            if child is not None and not any(a <= child[0][0] < b for a, b in staff_spans):
                found.append(
                    Evidence(
                        category=Category.PERSONAL_DATA,
                        source="rule",
                        rule_id="pd.child_name_details",
                        score=0.75,
                        span=child[0],
                        matched="",  # a child's name is never copied into evidence
                        detail="a child's full name with a class or medical detail",
                    )
                )
        return found

    @staticmethod
    def _scores(evidence: Sequence[Evidence]) -> dict[Category, float]:
        best: dict[tuple[Category, str], float] = {}
        for ev in evidence:
            if ev.score <= 0.0:
                continue
            key = (ev.category, ev.rule_id.split(".")[0] + "." + ev.rule_id.split(".")[1])
            best[key] = max(best.get(key, 0.0), ev.score)
        per_cat: dict[Category, list[float]] = {}
        for (cat, _), w in best.items():
            per_cat.setdefault(cat, []).append(w)
        return {cat: round(noisy_or(ws), 4) for cat, ws in per_cat.items()}


class RuleClassifier:
    """Rules only: deterministic, no model. The fallback and the test double."""

    name = "rules"
    version = RULES_VERSION

    def __init__(self, policy: SchoolPolicy) -> None:
        self.policy = policy
        self.engine = RuleEngine(policy)
        self.thresholds = policy.thresholds()

    def classify(
        self, comments: Sequence[Comment], contexts: Sequence[Context] | None = None
    ) -> list[Verdict]:
        """One verdict per comment, from the rules alone."""
        ctxs = contexts_for(comments, contexts)
        return self.classify_texts([c.text for c in comments], ctxs)

    def classify_texts(self, texts: Sequence[str], contexts: Sequence[Context]) -> list[Verdict]:
        """Classify raw texts, each with its context; a reply agreeing with a disclosure
        takes the disclosure's categories (``classifiers.replies``)."""
        verdicts = [self._one(t, c) for t, c in zip(texts, contexts, strict=True)]
        return join_replies(verdicts, texts, contexts, self.classify_texts, self.thresholds)

    def classify_text(self, text: str, context: Context | None = None) -> Verdict:
        """Classify one text (used by the CLI and tests)."""
        return self.classify_texts([text], [context or Context()])[0]

    def _one(self, text: str, context: Context) -> Verdict:
        res = self.engine.scan(text, context)
        return make_verdict(
            scores=res.scores,
            evidence=res.evidence,
            thresholds=self.thresholds,
            classifier=f"{self.name}@{self.version}",
            staff_mentioned=res.staff_ids,
            pupils_mentioned=res.pupils,
        )
