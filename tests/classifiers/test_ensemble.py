"""The shipped model: loading, verdicts with evidence, and the eval/classify commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from classifiers.ensemble import EnsembleClassifier
from classifiers.heads import MODEL_CATEGORIES, WEIGHTS_DIR, Heads
from classifiers.registry import build_classifier
from classifiers.rules import RuleClassifier
from config.policy import SchoolPolicy
from core.models import Category, Comment, Context, Platform


def _comment(text: str, n: int) -> Comment:
    return Comment(
        school_id="hollybrook",
        platform=Platform.YOUTUBE,
        external_id=f"y{n}",
        thread_id="v1",
        parent_id=None,
        author_id="a",
        author_name="A Viewer",
        text=text,
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        permalink="https://youtube.example/v1",
    )


def test_shipped_heads_load() -> None:
    heads = Heads.load(WEIGHTS_DIR)
    assert heads.categories == MODEL_CATEGORIES
    assert heads.emb_w.shape == (384, len(heads.labels))
    assert set(heads.meta["stacker"]) == {c.value for c in MODEL_CATEGORIES}
    assert heads.meta["encoder"]["name"]


def test_build_is_cached_and_rules_only_when_asked(
    policy: SchoolPolicy, ensemble: EnsembleClassifier
) -> None:
    again = build_classifier(policy)
    assert isinstance(again, EnsembleClassifier)
    assert again.encoder is ensemble.encoder
    assert isinstance(build_classifier(policy, use_model=False), RuleClassifier)


def test_missing_weights_fall_back_to_rules(policy: SchoolPolicy, tmp_path: Path) -> None:
    clf = build_classifier(policy, weights_dir=tmp_path)
    assert isinstance(clf, RuleClassifier)


def test_verdicts_in_order_with_model_evidence(ensemble: EnsembleClassifier) -> None:
    texts = [
        "What a brilliant nativity, well done Year 2!",
        "everyone in this video looks happy and i just want to disappear forever",
        "Earn £400 a week from home, DM me for details 💸 bit.example/x",
    ]
    verdicts = ensemble.classify([_comment(t, i) for i, t in enumerate(texts)])
    assert [v.primary for v in verdicts] == [Category.BENIGN, Category.SELF_HARM, Category.SPAM]
    harm = verdicts[1]
    assert harm.classifier.startswith("ensemble@")
    model_ev = [e for e in harm.evidence if e.source == "model"]
    assert model_ev and all("@" in e.model for e in model_ev)
    assert any("most similar school examples are" in e.detail for e in model_ev)
    assert harm.explanation.startswith("Flagged as self-harm:")
    assert "model scored" in harm.explanation
    assert verdicts[0].flagged == (Category.BENIGN,)
    assert Category.BENIGN not in harm.flagged


def test_scores_do_not_depend_on_the_batch(ensemble: EnsembleClassifier) -> None:
    """A comment gets the same scores alone as among others (the pipeline classifies in
    batches; ``schoolwatch classify`` one at a time). PyTorch's batch-wide 8-bit
    quantisation moved them by several thousandths, enough to flip a borderline comment."""
    texts = [
        "Mr Reeve shouted at my daughter until she cried, this needs looking into",
        "ok",
        "Lovely photos from sports day!! Well done everyone 🏅🏅 " * 6,
        "why does nobody ever answer the phone at the office",
        "you're a loser and everyone at school knows it, don't come back",
        "Call me on 07700 900123 about the lost coat",
    ] * 3
    together = ensemble.classify_texts(texts)
    for text, verdict in zip(texts[:6], together[:6], strict=True):
        alone = ensemble.classify_texts([text])[0]
        for category, score in alone.scores.items():
            assert verdict.scores[category] == pytest.approx(score, abs=0.002)
        assert verdict.flagged == alone.flagged


def test_complaints_are_criticism_and_not_hate(ensemble: EnsembleClassifier) -> None:
    """The softmax learns complaints as benign (``fit.softmax_targets``). When it learnt
    them as criticism, a class later taken out of it, their probability went to the
    runner-up: the previous heads gave these complaints hate scores up to 0.195."""
    texts = [
        "The homework app never works and nobody answers emails about it.",
        "Why does the newsletter spend three paragraphs on attendance and one line on "
        "what the children are learning?",
        "Parents evening slots were gone in ten minutes again. Some of us work shifts.",
        "The new uniform supplier charges twice what the supermarket does. Not on.",
        "Our kids are being taught to the test. Reading for fun has gone out of the window.",
        "Lunchtime is far too short, the little ones barely get to finish their food.",
    ]
    verdicts = ensemble.classify_texts(texts)
    for verdict in verdicts:
        assert verdict.scores[Category.HATE] < 0.1
        assert Category.CRITICISM in verdict.flagged
        assert not set(verdict.flagged) & {
            Category.SELF_HARM,
            Category.ABUSE_DISCLOSURE,
            Category.SEXUAL,
            Category.STAFF_ALLEGATION,
            Category.THREAT,
            Category.HATE,
            Category.BULLYING,
        }
    # a known false alarm (docs/evaluation.md, "What got worse"): since heads
    # 2.29a550eb the complaint about the uniform supplier's prices is also read as
    # a possible defamation (0.56; 0.50 before), so it would be held for review
    primary = [v.primary for v in verdicts]
    assert primary[:3] + primary[4:] == [Category.CRITICISM] * 5
    assert primary[3] in (Category.CRITICISM, Category.DEFAMATION)


@pytest.mark.parametrize(
    ("not_personal", "personal"),
    [
        (  # the model alone scores the first 0.97 as personal data
            "Ring the school office on 01632 960123 if your child is off sick",
            "Ring me on 01632 960123 if your child is off sick",
        ),
        (  # and this one 0.85
            "Young Minds parents helpline is 0808 802 5544, they were brilliant with us",
            "Ring me on 07700 900123, they were brilliant with us",
        ),
    ],
)
def test_the_schools_or_a_helplines_number_is_not_personal_data(
    ensemble: EnsembleClassifier, not_personal: str, personal: str
) -> None:
    """The school's own number and an organisation's (a helpline's) are capped below
    the threshold (``CONTACT_CAP``); a person's number is personal data."""
    own, other = ensemble.classify_texts([not_personal, personal])
    assert own.primary is Category.BENIGN
    assert own.scores[Category.PERSONAL_DATA] <= 0.3
    assert other.primary is Category.PERSONAL_DATA


def test_a_bare_helpline_number_is_not_hidden_as_spam(ensemble: EnsembleClassifier) -> None:
    """The model reads a helpline number with few words round it as an SMS advert
    (spam 0.76); shared beside the helpline's name it is capped (``HELPLINE_SPAM_CAP``)."""
    (verdict,) = ensemble.classify_texts(["NSPCC helpline for worried adults: 0808 800 5000"])
    assert verdict.primary is Category.BENIGN
    assert verdict.scores[Category.SPAM] <= 0.3
    (scam,) = ensemble.classify_texts(["You have WON a £1000 prize! Call 09050000327 NOW"])
    assert scam.primary is Category.SPAM


def test_a_number_in_what_the_model_reads_as_an_advert_is_spam(
    ensemble: EnsembleClassifier,
) -> None:
    """A number in a business advert is spam (docs/categories.md): with no advert
    words for the rules to find, the model's reading decides (``ADVERT_CONTACT_CAP``)."""
    advert, lift = ensemble.classify_texts(
        [
            "Rowe Plumbing – boilers, leaks, bathrooms, no job too small. Call Gary 07700 900540",
            "Anyone got a lift to the fair on Saturday? ring me 07700 900123",
        ]
    )
    assert advert.primary is Category.SPAM
    assert advert.scores[Category.PERSONAL_DATA] <= 0.3
    assert any(e.rule_id == "sp.advert_contact" for e in advert.evidence)
    assert lift.primary is Category.PERSONAL_DATA


@pytest.mark.parametrize(
    ("text", "spam", "personal", "capped"),
    [
        ("Call 07700 900540 now", 0.8, 0.1, True),
        ("Call 07700 900540 now", 0.4, 0.1, False),  # not read as an advert
        ("Call 07700 900540 now", 0.8, 0.6, False),  # the model reads it as personal too
        ("Call 07700 900540, Ruby Akers in 4B has adhd", 0.8, 0.1, False),  # a child's details
        ("Call me at 14 Larch Lane", 0.8, 0.1, False),  # a home address, not a contact
        ("Call Stacey on stacey.p@mail.example", 0.8, 0.1, True),
    ],
)
def test_only_contact_details_in_an_advert_are_capped(
    ensemble: EnsembleClassifier, text: str, spam: float, personal: float, capped: bool
) -> None:
    """The cap needs the model's spam score at or over its threshold, its personal-data
    score under its own, and no personal data but phone numbers, emails and postcodes."""
    sig = ensemble.signals([text], [Context()])
    labels = list(ensemble.heads.categories)
    probs = np.zeros((1, len(labels)))
    probs[0, labels.index(Category.SPAM)] = spam
    probs[0, labels.index(Category.PERSONAL_DATA)] = personal
    scores, adverts = ensemble.scores(sig, probs)
    assert bool(adverts[0]) is capped
    assert bool(scores[0, labels.index(Category.PERSONAL_DATA)] <= 0.3) is capped


def test_the_advert_evidence_quotes_the_capped_contact(
    ensemble: EnsembleClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The school's own number found first is not what the advert evidence quotes."""
    labels = list(ensemble.heads.categories)

    def read_as_advert(logits: np.ndarray, *args: object) -> np.ndarray:
        probs = np.zeros((len(logits), len(labels)))
        probs[:, labels.index(Category.SPAM)] = 0.8
        return probs

    monkeypatch.setattr(ensemble.heads, "model_scores", read_as_advert)
    (verdict,) = ensemble.classify_texts(
        ["School office is on 01632 960000. Sparkle Cleaning, email sparkle@clean.example"]
    )
    assert verdict.primary is Category.SPAM
    (advert,) = [e for e in verdict.evidence if e.rule_id == "sp.advert_contact"]
    assert advert.matched == "sparkle@clean.example"


def test_context_identifies_staff(ensemble: EnsembleClassifier) -> None:
    comments = [_comment("he dragged my son across the hall by his jumper", 1)]
    ctx = [Context(post_text="Mr Reeve's class assembly today", parent_text="")]
    verdict = ensemble.classify(comments, ctx)[0]
    assert verdict.primary is Category.STAFF_ALLEGATION


def test_between_us_flags_grooming_only_with_the_model(ensemble: EnsembleClassifier) -> None:
    """ "Just between us" never flags alone (rules 1.17.0): gossip between adults stays
    unflagged, and the model still reads it as grooming when it is said to a child."""
    texts = [
        "the lad with the trumpet at 0:45, my Discord is always open, best to keep it between us x",
        "ur so grown up for yr 5 😊 message me and ill get u a present, just between us",
        "just between me and you, the Reception nativity was better than Year 1's 😂",
        "Keep it between us but I think the new lunch menu is a big improvement",
    ]
    verdicts = ensemble.classify([_comment(t, n) for n, t in enumerate(texts)])
    assert [Category.SEXUAL in v.flagged for v in verdicts] == [True, True, False, False]


def test_decisions_become_examples() -> None:
    from classifiers.training.runner import decision_examples

    examples = decision_examples([("you are a loser", "bullying"), ("x", "not_a_category")])
    assert [(e.text, e.label) for e in examples] == [("you are a loser", Category.BULLYING)]


def test_eval_and_classify_commands(tmp_path: Path) -> None:
    from monitor.commands.classify import register

    app = typer.Typer()
    register(app)
    csv_path = tmp_path / "tiny.csv"
    csv_path.write_text(
        "text,label,extra\n"
        '"Thank you for a lovely sports day",benign,x\n'
        '"i want to kill myself tonight",self_harm,x\n'
        '"Win a free iPad, click promo.example/claim now",spam,x\n'
        '"no idea",not_a_label,x\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(app, ["eval", str(csv_path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    assert data["n"] == 3
    assert set(data["binary"]) == {"precision", "recall", "f1", "auc"}
    assert data["per_label"]["self_harm"]["support"] == 1
    plot = tmp_path / "fig.png"
    result = runner.invoke(app, ["eval", str(csv_path), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "not_a_label" in result.output
    assert plot.stat().st_size > 1000
    result = runner.invoke(app, ["classify", "watch your back Mr Reeve", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["primary"] == "threat"
    assert out["evidence"]


def test_eval_of_only_ordinary_comments_has_no_auc(tmp_path: Path) -> None:
    """With one kind of row, ROC AUC is undefined: JSON null and "n/a", never NaN."""
    from monitor.commands.classify import register

    app = typer.Typer()
    register(app)
    csv_path = tmp_path / "ordinary.csv"
    csv_path.write_text(
        "text,label\nLovely assembly today,benign\nThe car park is chaos,criticism\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(app, ["eval", str(csv_path), "--json"])
    assert result.exit_code == 0, result.output
    body = result.stdout[result.stdout.index("{") :]

    def refuse(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    assert json.loads(body, parse_constant=refuse)["binary"]["auc"] is None
    text = runner.invoke(app, ["eval", str(csv_path), "--plot", str(tmp_path / "p.png")])
    assert text.exit_code == 0, text.output
    assert "ROC AUC n/a" in text.output and "nan" not in text.output


def test_shipped_heads_were_trained_on_the_shipped_csvs() -> None:
    """`schoolwatch train` on the shipped CSVs reproduces the shipped heads' data digest."""
    import hashlib

    from classifiers.training.data import SHIPPED_TRAINING, TRAINING_DIR, read_labelled

    examples = read_labelled([TRAINING_DIR / name for name in SHIPPED_TRAINING]).examples
    joined = "\n".join(f"{e.label.value}\t{e.text}" for e in examples)
    digest = hashlib.sha256(joined.encode("utf-8")).hexdigest()[:12]
    assert Heads.load(WEIGHTS_DIR).meta["trained_on"]["digest"] == digest
