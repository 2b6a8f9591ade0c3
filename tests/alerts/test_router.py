"""Table-driven tests of the policy router against the default policy.

Each row is one route of ``config/policies/default.yaml``, with the clause of
the school policies it implements.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from alerts.router import category_label, resolve_role, role_label, route
from config.policy import SchoolPolicy
from core.models import Action, Category, Disposition, Verdict

FACEBOOK = frozenset({Action.HIDE, Action.UNHIDE, Action.DELETE})
YOUTUBE = frozenset({Action.HOLD_FOR_REVIEW, Action.APPROVE, Action.DELETE})
REPORT_ONLY: frozenset[Action] = frozenset()  # Reddit, where the school is not a moderator

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday in term time
TODAY = dt.date(2026, 11, 24)


def verdict(*flagged: Category, staff: tuple[str, ...] = ()) -> Verdict:
    ordered = tuple(sorted(flagged, key=lambda c: c.priority))
    return Verdict(
        scores=dict.fromkeys(ordered, 0.9),
        flagged=ordered,
        evidence=(),
        classifier="test@1",
        staff_mentioned=staff,
    )


@dataclass(frozen=True)
class Row:
    name: str
    flagged: tuple[Category, ...]
    staff: tuple[str, ...]
    notify: tuple[str, ...]
    inform: tuple[str, ...]
    queue: str | None
    disposition: Disposition  # on Facebook
    urgent: bool
    escalation: tuple[tuple[int, tuple[str, ...]], ...]
    clause: str  # must appear in the decision's clause


SAFEGUARDING_STEPS = ((15, ("deputy_dsl",)), (30, ("headteacher",)))

# fmt: off
ROUTES = [
    # name, flagged, staff named, notify, inform, queue, disposition (Facebook), urgent,
    # escalation steps, a clause the decision must cite.
    # Safeguarding: DSL and deputy at once, day or night (Aycliffe 6); escalation (Aycliffe 8).
    Row("self_harm", (Category.SELF_HARM,), (), ("dsl", "deputy_dsl"), (), "dsl",
        Disposition.HIDE, True, SAFEGUARDING_STEPS, "Aycliffe 1, 6, 8"),
    Row("abuse_disclosure", (Category.ABUSE_DISCLOSURE,), (), ("dsl", "deputy_dsl"), (), "dsl",
        Disposition.HIDE, True, SAFEGUARDING_STEPS, "Aycliffe 1, 6, 8"),
    Row("sexual", (Category.SEXUAL,), (), ("dsl", "deputy_dsl"), (), "dsl",
        Disposition.HIDE, True, SAFEGUARDING_STEPS, "Aycliffe 6, 8"),
    # Allegations against staff (Aycliffe 3, 4; Preston Grange 301).
    Row("staff_allegation", (Category.STAFF_ALLEGATION,), ("price",), ("headteacher",),
        ("dsl",), "dsl", Disposition.HIDE, False, (), "Preston Grange 301"),
    Row("staff_allegation: the headteacher is the subject", (Category.STAFF_ALLEGATION,),
        ("okafor",), ("chair_of_governors",), ("dsl",), "dsl", Disposition.HIDE, False, (),
        "Aycliffe 3, 4"),
    Row("staff_allegation: the DSL is the subject", (Category.STAFF_ALLEGATION,), ("brennan",),
        ("headteacher",), ("deputy_dsl",), "dsl", Disposition.HIDE, False, (), "Aycliffe 3, 4"),
    # Personal data: DSL and data protection officer, hidden at once (Aycliffe 4.1, 5, 6).
    Row("personal_data", (Category.PERSONAL_DATA,), (), ("dsl", "data_protection_officer"), (),
        "dsl", Disposition.HIDE, False, (), "Aycliffe 4.1, 5, 6"),
    # Threat, hate, bullying: the DSL; the headteacher too when staff are targeted (PG 601).
    Row("threat", (Category.THREAT,), (), ("dsl",), (), "comms_lead", Disposition.HIDE, True,
        (), "Preston Grange 601"),
    Row("threat: staff targeted", (Category.THREAT,), ("grant",), ("dsl", "headteacher"), (),
        "comms_lead", Disposition.HIDE, True, (), "Preston Grange 601"),
    Row("hate", (Category.HATE,), (), ("dsl",), (), "comms_lead", Disposition.HIDE, False, (),
        "Preston Grange 601, 701"),
    Row("hate: staff targeted", (Category.HATE,), ("dawson",), ("dsl", "headteacher"), (),
        "comms_lead", Disposition.HIDE, False, (), "Preston Grange 601"),
    Row("bullying", (Category.BULLYING,), (), ("dsl",), (), "comms_lead", Disposition.HIDE,
        False, (), "Preston Grange 601"),
    Row("bullying: staff targeted", (Category.BULLYING,), ("price",), ("dsl", "headteacher"),
        (), "comms_lead", Disposition.HIDE, False, (), "Preston Grange 601"),
    Row("bullying: the headteacher targeted", (Category.BULLYING,), ("okafor",),
        ("dsl", "headteacher"), (), "comms_lead", Disposition.HIDE, False, (),
        "Preston Grange 601"),
    # Defamation: headteacher and comms lead (Aycliffe 4.1; Preston Grange 701).
    Row("defamation", (Category.DEFAMATION,), (), ("headteacher", "comms_lead"), (),
        "comms_lead", Disposition.HIDE, False, (), "Preston Grange 701"),
    # Spam: hidden and queued for the comms lead, nobody emailed (Aycliffe 5).
    Row("spam", (Category.SPAM,), (), (), (), "comms_lead", Disposition.HIDE, False, (),
        "Aycliffe 5"),
    # Criticism: queued for the comms lead only, never hidden (Aycliffe 5).
    Row("criticism", (Category.CRITICISM,), (), (), (), "comms_lead", Disposition.QUEUE, False,
        (), "Aycliffe 5"),
    Row("criticism naming staff", (Category.CRITICISM,), ("price",), (), (), "comms_lead",
        Disposition.QUEUE, False, (), "Aycliffe 5"),
    Row("benign", (), (), (), (), None, Disposition.NONE, False, (), "Aycliffe 5"),
    # The most serious category wins.
    Row("self-harm and bullying together", (Category.BULLYING, Category.SELF_HARM), (),
        ("dsl", "deputy_dsl"), (), "dsl", Disposition.HIDE, True, SAFEGUARDING_STEPS,
        "Aycliffe 1, 6, 8"),
]
# fmt: on


@pytest.mark.parametrize("row", ROUTES, ids=[r.name for r in ROUTES])
def test_default_policy_routes(policy: SchoolPolicy, row: Row) -> None:
    decision = route(verdict(*row.flagged, staff=row.staff), policy, supports=FACEBOOK, now=NOW)
    assert tuple(r.role for r in decision.notify) == row.notify
    assert tuple(r.role for r in decision.inform) == row.inform
    assert decision.queue_role == row.queue
    assert decision.disposition is row.disposition
    assert decision.urgent is row.urgent
    assert tuple((s.after_minutes, s.notify) for s in decision.escalation) == row.escalation
    assert row.clause in decision.clause
    # Every decision names its clause and its category in plain words.
    assert decision.clause in decision.reason
    assert decision.reason.startswith(category_label(decision.category))
    # Recipients are named people from the policy, never a role name alone.
    for person in decision.notify + decision.inform:
        assert person.name == policy.roles[person.role].name
        assert person.email == policy.roles[person.role].email
        # Only the deputy standing in for a DSL who is the subject is a stand-in here.
        stand_in = person.role == "deputy_dsl" and "DSL is the subject" in row.name
        assert person.is_fallback == stand_in
    # Nobody is both told and kept informed.
    assert not {p.email for p in decision.notify} & {p.email for p in decision.inform}


@pytest.mark.parametrize(
    ("category", "supports", "expected"),
    [
        (Category.PERSONAL_DATA, FACEBOOK, Disposition.HIDE),
        (Category.PERSONAL_DATA, YOUTUBE, Disposition.HOLD),  # YouTube can hold, not hide
        (Category.PERSONAL_DATA, REPORT_ONLY, Disposition.QUEUE),  # Reddit: can only report
        (Category.SPAM, YOUTUBE, Disposition.HOLD),
        (Category.DEFAMATION, FACEBOOK, Disposition.HIDE),  # Facebook has no "held" state
        (Category.DEFAMATION, YOUTUBE, Disposition.HOLD),
        (Category.SELF_HARM, REPORT_ONLY, Disposition.QUEUE),
        (Category.CRITICISM, FACEBOOK, Disposition.QUEUE),
        (Category.CRITICISM, REPORT_ONLY, Disposition.QUEUE),
    ],
)
def test_disposition_follows_what_the_platform_allows(
    policy: SchoolPolicy, category: Category, supports: frozenset[Action], expected: Disposition
) -> None:
    decision = route(verdict(category), policy, supports=supports, now=NOW)
    assert decision.disposition is expected


def test_criticism_is_never_hidden_even_if_the_policy_asks(policy: SchoolPolicy) -> None:
    # The schema refuses such a policy; model_copy skips validation, so the router must hold too.
    routes = dict(policy.routes)
    routes[Category.CRITICISM] = routes[Category.CRITICISM].model_copy(
        update={"disposition": Disposition.HIDE}
    )
    bad = policy.model_copy(update={"routes": routes})
    decision = route(verdict(Category.CRITICISM), bad, supports=FACEBOOK, now=NOW)
    assert decision.disposition is Disposition.QUEUE


def away(policy: SchoolPolicy, *roles: str, start: dt.date = TODAY, end: dt.date = TODAY):
    holders = dict(policy.roles)
    for role in roles:
        holders[role] = holders[role].model_copy(update={"absent_from": start, "absent_until": end})
    return policy.model_copy(update={"roles": holders})


@dataclass(frozen=True)
class AbsentRow:
    name: str
    flagged: tuple[Category, ...]
    away: tuple[str, ...]
    notify: tuple[tuple[str, bool], ...]  # (role of the person told, is a stand-in)
    inform: tuple[tuple[str, bool], ...] = ()
    staff: tuple[str, ...] = ()


# fmt: off
ABSENT = [
    # name, flagged, roles away, (role told, is a stand-in) for notify, then for inform, staff.
    # The DSL away: the deputy stands in, and because safeguarding must reach two people,
    # the deputy's own fallback (the headteacher) is told as well.
    AbsentRow("safeguarding, DSL away", (Category.SELF_HARM,), ("dsl",),
              (("deputy_dsl", True), ("headteacher", True))),
    AbsentRow("safeguarding, deputy away", (Category.ABUSE_DISCLOSURE,), ("deputy_dsl",),
              (("dsl", False), ("headteacher", True))),
    AbsentRow("safeguarding, DSL and deputy away", (Category.SEXUAL,), ("dsl", "deputy_dsl"),
              (("headteacher", True), ("chair_of_governors", True))),
    AbsentRow("threat, DSL away", (Category.THREAT,), ("dsl",), (("deputy_dsl", True),)),
    AbsentRow("bullying, DSL away", (Category.BULLYING,), ("dsl",), (("deputy_dsl", True),)),
    AbsentRow("defamation, comms lead away: the headteacher is told once",
              (Category.DEFAMATION,), ("comms_lead",), (("headteacher", False),)),
    AbsentRow("personal data, data protection officer away", (Category.PERSONAL_DATA,),
              ("data_protection_officer",), (("dsl", False), ("headteacher", True))),
    AbsentRow("allegation about the head, chair away: chair still told (never the head)",
              (Category.STAFF_ALLEGATION,), ("chair_of_governors",),
              (("chair_of_governors", False),), (("dsl", False),), ("okafor",)),
    AbsentRow("allegation, headteacher away: chair of governors stands in",
              (Category.STAFF_ALLEGATION,), ("headteacher",), (("chair_of_governors", True),),
              (("dsl", False),), ("price",)),
    AbsentRow("everyone away: the first holder is still told, an alert is never dropped",
              (Category.THREAT,), ("dsl", "deputy_dsl", "headteacher", "chair_of_governors"),
              (("dsl", False),)),
]
# fmt: on


@pytest.mark.parametrize("row", ABSENT, ids=[r.name for r in ABSENT])
def test_absent_people_are_replaced_by_their_fallback(policy: SchoolPolicy, row: AbsentRow) -> None:
    pol = away(policy, *row.away)
    decision = route(verdict(*row.flagged, staff=row.staff), pol, supports=FACEBOOK, now=NOW)
    assert tuple((r.role, r.is_fallback) for r in decision.notify) == row.notify
    assert tuple((r.role, r.is_fallback) for r in decision.inform) == row.inform
    if any(fallback for _, fallback in row.notify) and len(row.away) == 1:
        assert "standing in" in decision.reason


def test_absence_is_by_date_in_the_school_time_zone(policy: SchoolPolicy) -> None:
    pol = away(policy, "dsl", start=dt.date(2026, 11, 25), end=dt.date(2026, 11, 27))
    # 23:30 UTC on the 24th is still the 24th in London (GMT in November): the DSL is in.
    before = route(
        verdict(Category.THREAT),
        pol,
        supports=FACEBOOK,
        now=datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
    )
    during = route(
        verdict(Category.THREAT),
        pol,
        supports=FACEBOOK,
        now=datetime(2026, 11, 25, 0, 30, tzinfo=UTC),
    )
    after = route(
        verdict(Category.THREAT),
        pol,
        supports=FACEBOOK,
        now=datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
    )
    assert [r.role for r in before.notify] == ["dsl"]
    assert [r.role for r in during.notify] == ["deputy_dsl"]
    assert [r.role for r in after.notify] == ["dsl"]


def test_nobody_is_told_about_an_allegation_against_themselves(policy: SchoolPolicy) -> None:
    # An abuse disclosure that also alleges something of the headteacher: the DSL and deputy are
    # told as usual, but the 30-minute escalation goes to the chair of governors instead.
    decision = route(
        verdict(Category.ABUSE_DISCLOSURE, Category.STAFF_ALLEGATION, staff=("okafor",)),
        policy,
        supports=FACEBOOK,
        now=NOW,
    )
    assert [r.role for r in decision.notify] == ["dsl", "deputy_dsl"]
    assert [s.notify for s in decision.escalation] == [("deputy_dsl",), ("chair_of_governors",)]
    # The same about the DSL: the DSL is skipped and the headteacher told in their place.
    about_dsl = route(
        verdict(Category.SELF_HARM, Category.STAFF_ALLEGATION, staff=("brennan",)),
        policy,
        supports=FACEBOOK,
        now=NOW,
    )
    assert [r.role for r in about_dsl.notify] == ["deputy_dsl", "headteacher"]
    assert policy.roles["dsl"].email not in {r.email for r in about_dsl.notify}
    assert "subject" in about_dsl.reason


def test_one_person_holding_two_roles_is_not_told_about_themselves(policy: SchoolPolicy) -> None:
    # A school where the headteacher is also the DSL (as at Aycliffe, section 1).
    holders = dict(policy.roles)
    head = holders["headteacher"]
    holders["dsl"] = holders["dsl"].model_copy(update={"name": head.name, "email": head.email})
    pol = policy.model_copy(update={"roles": holders})
    decision = route(
        verdict(Category.STAFF_ALLEGATION, staff=("okafor",)), pol, supports=FACEBOOK, now=NOW
    )
    told = {r.email for r in decision.notify + decision.inform}
    assert head.email not in told
    assert [r.role for r in decision.notify] == ["chair_of_governors"]


def test_resolve_role_follows_the_chain_without_looping(policy: SchoolPolicy) -> None:
    # headteacher -> chair_of_governors -> headteacher is a loop; both away still gives someone.
    pol = away(policy, "headteacher", "chair_of_governors")
    person = resolve_role("headteacher", pol, TODAY)
    assert person is not None and person.role == "headteacher"
    # Everyone in the chain excluded: nobody.
    assert (
        resolve_role("headteacher", policy, TODAY, frozenset({"headteacher", "chair_of_governors"}))
        is None
    )


def test_labels_are_plain_english() -> None:
    assert category_label(Category.SELF_HARM) == "Self-harm concern"
    assert all(category_label(c) for c in Category)
    assert role_label("deputy_dsl") == "the deputy DSL"
    assert role_label("made_up_role") == "made up role"


def test_urgency_comes_from_the_route_not_the_clock(policy: SchoolPolicy) -> None:
    night = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # Sunday 2am
    holiday = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)  # Christmas holiday
    for now in (NOW, night, holiday):
        assert route(verdict(Category.SELF_HARM), policy, supports=FACEBOOK, now=now).urgent
        assert not route(verdict(Category.BULLYING), policy, supports=FACEBOOK, now=now).urgent
