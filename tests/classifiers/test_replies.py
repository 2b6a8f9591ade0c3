"""Replies that join a disclosure ("me too" under a comment about self-harm or abuse)."""

from __future__ import annotations

import pytest

from classifiers.ensemble import EnsembleClassifier
from classifiers.replies import JOIN_SCORE, joins_parent
from classifiers.rules import RuleClassifier
from config.policy import SchoolPolicy
from core.models import Category, Context


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("same", "same"),
        ("omg same 😭😭😭", "same"),
        ("Me too. Every night.", "me too"),
        ("Same thing happened to my daughter in Year 3", "same thing"),
        ("He did that to my son as well", "did that to my son as well"),
        ("My lad said the same about him", "my lad said the same"),
        ("You're not the only one x", "not the only one"),
    ],
)
def test_agreement_is_found(text: str, words: str) -> None:
    assert joins_parent(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "We got the same letter about the trip",  # "same", but about something else
        "Sending love, please ring Childline",
        "Same time next year!!",  # four words
        "Happened to see your post, hope you're ok",
    ],
)
def test_other_replies_are_not_agreement(text: str) -> None:
    assert joins_parent(text) is None


@pytest.mark.parametrize(
    ("parent", "reply", "category"),
    [
        ("i dont want to be here anymore, i want to die", "same", Category.SELF_HARM),
        (
            "Mr Reeve grabbed my son by the neck and shoved him against the wall",
            "Same thing happened to my daughter last year",
            Category.STAFF_ALLEGATION,
        ),
    ],
)
def test_a_reply_joining_a_disclosure_takes_its_category(
    policy: SchoolPolicy, parent: str, reply: str, category: Category
) -> None:
    rules = RuleClassifier(policy)
    assert rules.classify_text(reply).primary is Category.BENIGN  # nothing on its own
    verdict = rules.classify_text(reply, Context(parent_text=parent))
    assert verdict.primary is category
    assert verdict.scores[category] == JOIN_SCORE
    ev = [e for e in verdict.evidence if e.rule_id == "ctx.joins_disclosure"]
    assert [e.category for e in ev] == [category]
    assert ev[0].span is not None and reply[ev[0].span[0] : ev[0].span[1]].lower() == ev[0].matched
    assert "replies to" in verdict.explanation


def test_agreeing_with_an_ordinary_comment_is_benign(policy: SchoolPolicy) -> None:
    verdict = RuleClassifier(policy).classify_text(
        "same", Context(parent_text="My son loved the trip to the farm!")
    )
    assert verdict.primary is Category.BENIGN
    assert not [e for e in verdict.evidence if e.rule_id == "ctx.joins_disclosure"]


def test_a_disclosure_that_is_not_safeguarding_is_not_joined(policy: SchoolPolicy) -> None:
    """Only the DSL's categories pass to a reply: agreeing with a complaint or a rude
    remark is not itself one."""
    verdict = RuleClassifier(policy).classify_text(
        "me too", Context(parent_text="you are a stupid idiot and everyone hates you")
    )
    assert verdict.primary is Category.BENIGN


def test_the_ensemble_joins_replies_in_a_batch(ensemble: EnsembleClassifier) -> None:
    """Each reply is judged against its own parent, parents shared between replies are
    classified once, and comments without a parent are untouched."""
    disclosure = "i cant do this anymore, i'm going to end it tonight"
    texts = ["same", "same", "same", "Lovely photos!"]
    contexts = [
        Context(parent_text=disclosure),
        Context(parent_text="Great sports day, well done everyone"),
        Context(),
        Context(parent_text=disclosure),
    ]
    verdicts = ensemble.classify_texts(texts, contexts)
    assert [v.primary for v in verdicts] == [
        Category.SELF_HARM,
        Category.BENIGN,
        Category.BENIGN,
        Category.BENIGN,
    ]


def test_classify_command_takes_the_comment_replied_to() -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from monitor.commands.classify import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()
    args = ["classify", "me too", "--rules-only", "--json"]
    alone = json.loads(runner.invoke(app, args).stdout)
    result = runner.invoke(app, [*args, "--reply-to", "i want to die, i cant do this anymore"])
    assert result.exit_code == 0, result.output
    reply = json.loads(result.stdout)
    assert alone["primary"] == "benign"
    assert reply["primary"] == "self_harm"
    assert [e["rule"] for e in reply["evidence"]] == ["ctx.joins_disclosure"]
