"""load_policy: the default policy loads; broken files name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import DEFAULT_POLICY, load_policy
from config.policy import ROLES
from core.errors import PolicyError
from core.models import SAFEGUARDING, Category, Disposition

BASE = DEFAULT_POLICY.read_text(encoding="utf-8")


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) >= occurrence, needle
    return hits[occurrence - 1]


def _edit(old: str, new: str) -> str:
    assert BASE.count(old) == 1, f"{old!r} must occur once in default.yaml"
    return BASE.replace(old, new)


def _problems(tmp_path: Path, text: str, name: str = "policy.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(path) in str(info.value)
    return info.value.problems


# --- the default policy -----------------------------------------------------


def test_default_policy_loads_with_every_category() -> None:
    policy = load_policy(DEFAULT_POLICY)
    assert policy.school.id == "hollybrook"
    assert policy.school.timezone == "Europe/London"
    assert set(policy.categories) == set(Category)
    assert set(policy.routes) == set(Category)
    assert set(policy.roles) == set(ROLES)


def test_every_rule_cites_a_clause() -> None:
    policy = load_policy(DEFAULT_POLICY)
    clauses = [rule.clause for rule in policy.categories.values()]
    clauses += [route.clause for route in policy.routes.values()]
    for route in policy.routes.values():
        clauses += [step.clause for step in route.escalation]
        for override in (route.if_staff_targeted, route.if_headteacher_subject):
            if override is not None:
                clauses.append(override.clause)
    clauses += [holder.clause for holder in policy.roles.values()]
    clauses += [channel.clause for channel in policy.channels]
    clauses += [policy.review.clause, policy.digest.clause, policy.public_replies.clause]
    clauses += [policy.alerts.clause, policy.retention.clause]
    for clause in clauses:
        assert clause.strip().startswith(("Aycliffe", "Preston Grange")), clause


def test_default_routes_follow_the_brief() -> None:
    policy = load_policy(DEFAULT_POLICY)
    for cat in SAFEGUARDING:
        route = policy.routes[cat]
        assert route.notify == ("dsl", "deputy_dsl")
        assert route.urgent and route.disposition is Disposition.HIDE
        assert [(s.after_minutes, s.notify) for s in route.escalation] == [
            (15, ("deputy_dsl",)),
            (30, ("headteacher",)),
        ]
        assert "Aycliffe 8" in route.escalation[1].clause
    allegation = policy.routes[Category.STAFF_ALLEGATION]
    assert allegation.if_headteacher_subject is not None
    assert allegation.if_headteacher_subject.notify == ("chair_of_governors",)
    for cat in (Category.BULLYING, Category.THREAT, Category.HATE):
        override = policy.routes[cat].if_staff_targeted
        assert override is not None and override.add_notify == ("headteacher",)
    assert policy.routes[Category.THREAT].urgent
    criticism = policy.routes[Category.CRITICISM]
    assert criticism.disposition is Disposition.QUEUE and not criticism.notify
    assert policy.routes[Category.BENIGN].disposition is Disposition.NONE
    assert policy.routes[Category.BENIGN].queue is None
    assert not policy.routes[Category.SPAM].notify
    assert policy.retention.comment_days[Category.SPAM] == 7
    assert policy.retention.comment_days[Category.BENIGN] == 30
    assert policy.retention.comment_days[Category.CRITICISM] == 180
    assert not policy.public_replies.enabled


def test_default_roster_and_channels() -> None:
    policy = load_policy(DEFAULT_POLICY)
    head = [s for s in policy.roster.staff if s.role == "headteacher"]
    assert len(head) == 1 and "the head" in head[0].aliases
    assert any("the Year 4 teacher" in s.aliases for s in policy.roster.staff)
    reddit = policy.channel("reddit")
    assert reddit.subreddits == ("Ashcombe",) and not reddit.moderated
    assert {c.platform.value for c in policy.channels} == {"facebook", "youtube", "reddit"}
    assert all(h.email.endswith("@hollybrook.example") for h in policy.roles.values())
    assert policy.working_hours.end == "17:00"


# --- broken files -------------------------------------------------------------


def test_wrong_type(tmp_path: Path) -> None:
    text = _edit("poll_minutes: 5\n", "poll_minutes: often\n")
    problems = _problems(tmp_path, text)
    line = _line(text, "poll_minutes: often")
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'policy.yaml'}:{line}: channels.0.poll_minutes: ")
    assert "'often'" in problems[0]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    text = _edit("  spam:\n    queue: comms_lead", "  spam:\n    queu: comms_lead")
    problems = _problems(tmp_path, text)
    line = _line(text, "queu: comms_lead")
    assert problems == [
        f"{tmp_path / 'policy.yaml'}:{line}: routes.spam.queu: unknown key 'queu' "
        "(did you mean 'queue'?)"
    ]


def test_unknown_role_in_routes_reports_each(tmp_path: Path) -> None:
    text = _edit("  bullying:\n    notify: [dsl]", "  bullying:\n    notify: [dls]")
    text = text.replace(
        "  defamation:\n    notify: [headteacher, comms_lead]",
        "  defamation:\n    notify: [headteacher, coms_lead]",
    )
    problems = _problems(tmp_path, text)
    path = tmp_path / "policy.yaml"
    assert problems == [
        f"{path}:{_line(text, 'notify: [dls]')}: routes.bullying.notify.0: "
        "unknown role 'dls' (did you mean 'dsl'?)",
        f"{path}:{_line(text, 'coms_lead]')}: routes.defamation.notify.1: "
        "unknown role 'coms_lead' (did you mean 'comms_lead'?)",
    ]


def test_unknown_role_in_block_list_points_at_the_item(tmp_path: Path) -> None:
    text = _edit(
        "      - after_minutes: 30\n        notify: [headteacher]\n        reminder: >-\n"
        "          Nobody has acknowledged this safeguarding alert after 30 minutes.\n"
        "          If a child may be in immediate danger, call 999. If you are unsure\n"
        "          how to proceed, seek advice from the local authority's Education\n"
        "          Safeguarding Service or the local safeguarding children partnership.\n"
        "        clause: Aycliffe 8\n    clause: Aycliffe 6, 8;",
        "      - after_minutes: 30\n        notify:\n          - headteacher\n"
        "          - head_teacher\n        clause: Aycliffe 8\n    clause: Aycliffe 6, 8;",
    )
    problems = _problems(tmp_path, text)
    assert problems == [
        f"{tmp_path / 'policy.yaml'}:{_line(text, '- head_teacher')}: "
        "routes.sexual.escalation.1.notify.1: unknown role 'head_teacher' "
        "(did you mean 'headteacher'?)"
    ]


def test_several_field_problems_are_all_reported_in_line_order(tmp_path: Path) -> None:
    text = _edit("poll_minutes: 5\n", "poll_minutes: often\n")
    text = text.replace("  timezone: Europe/London", "  timezone: Europe/Londn")
    text = text.replace("  weekday: mon", "  weekday: monday")
    problems = _problems(tmp_path, text)
    lines = [int(p.split(":")[1]) for p in problems]
    assert lines == [
        _line(text, "Europe/Londn"),
        _line(text, "poll_minutes: often"),
        _line(text, "weekday: monday"),
    ]
    assert "school.timezone: " in problems[0] and "digest.weekday: " in problems[2]


def test_missing_key_points_at_its_parent(tmp_path: Path) -> None:
    text = _edit("    clause: Aycliffe 4.1; Preston Grange 701\n", "")
    problems = _problems(tmp_path, text)
    assert problems == [
        f"{tmp_path / 'policy.yaml'}:{_line(text, '  defamation:', 2)}: "
        "routes.defamation.clause: missing required key 'clause'"
    ]


def test_bad_yaml_gives_the_line(tmp_path: Path) -> None:
    text = "policy_version: 1\nschool:\n  id: x\n  name: [Oops\n  timezone: Europe/London\n"
    problems = _problems(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'policy.yaml'}:5: not valid YAML")


def test_tab_indentation_gives_the_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "policy_version: 1\nschool:\n\tid: x\n")
    assert problems[0].startswith(f"{tmp_path / 'policy.yaml'}:3: not valid YAML")


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = _edit("  timezone: Europe/London", "  timezone: Europe/London\n  timezone: Europe/Paris")
    problems = _problems(tmp_path, text)
    first, second = _line(text, "timezone: Europe/London"), _line(text, "Europe/Paris")
    assert problems == [
        f"{tmp_path / 'policy.yaml'}:{second}: school.timezone: duplicate key "
        f"(first on line {first}); keep one"
    ]


def test_empty_file(tmp_path: Path) -> None:
    for text in ("", "# only a comment\n"):
        problems = _problems(tmp_path, text)
        assert problems == [
            f"{tmp_path / 'policy.yaml'}:1: the file is empty; start from the default policy"
        ]


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "- policy_version: 1\n")
    assert problems[0].startswith(f"{tmp_path / 'policy.yaml'}:1: ")
    assert "not a list" in problems[0]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope.yaml")
    assert info.value.problems == [f"{tmp_path / 'nope.yaml'}: policy file not found"]


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(10 * 1024 * 1024)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert "at most 1 MB" in info.value.problems[0]
    assert info.value.problems[0].startswith(f"{path}: the file is 10.0 MB")


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    problems = _problems(tmp_path, "\n".join(lines) + "\n")
    assert "too many values" in problems[0]


def test_impossible_date(tmp_path: Path) -> None:
    text = _edit("    end: 2027-02-19\n", "    end: 2027-02-30\n")
    problems = _problems(tmp_path, text)
    assert problems[0].startswith(f"{tmp_path / 'policy.yaml'}:{_line(text, '2027-02-30')}: ")
    assert "not a real date" in problems[0]


def test_unquoted_time_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(_edit('  end: "17:00"', "  end: 17:00"), encoding="utf-8")
    assert load_policy(path).working_hours.end == "17:00"


def test_staff_role_problem_located_by_id(tmp_path: Path) -> None:
    text = _edit("      role: comms_lead\n", "      role: comms\n")
    problems = _problems(tmp_path, text)
    assert problems == [
        f"{tmp_path / 'policy.yaml'}:{_line(text, 'role: comms')}: "
        "roster.staff.holt.role: unknown role 'comms' (did you mean 'comms_lead'?)"
    ]


def test_unknown_category_key(tmp_path: Path) -> None:
    text = _edit("  spam:\n    severity: low", "  spma:\n    severity: low")
    problems = _problems(tmp_path, text)
    assert problems[0].startswith(
        f"{tmp_path / 'policy.yaml'}:{_line(text, 'spma:')}: "
        "categories.spma: 'spma' is not allowed here"
    )


def test_yes_as_a_key_is_explained(tmp_path: Path) -> None:
    text = _edit("school:\n", "school:\n  on: x\n")
    problems = _problems(tmp_path, text)
    assert problems[0].startswith(f"{tmp_path / 'policy.yaml'}:{_line(text, '  on: x')}: school: ")
    assert "put the key in quotes" in problems[0]


def test_end_before_start_points_at_the_holiday(tmp_path: Path) -> None:
    text = _edit("    start: 2027-02-15\n", "    start: 2027-02-25\n")
    problems = _problems(tmp_path, text)
    line = _line(text, "name: February half term")
    assert problems == [
        f"{tmp_path / 'policy.yaml'}:{line}: holidays.2: start must not be after end"
    ]
