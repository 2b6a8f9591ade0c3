"""The policy router: a pure function from a verdict and the school policy to a decision.

No I/O, no clock: the caller passes ``now``. Every decision names the policy
clauses it follows, so a DSL can trace why somebody was (or was not) told.
"""

from __future__ import annotations

from datetime import date, datetime

from config.policy import RoleHolder, Route, RouteOverride, SchoolPolicy
from core.models import (
    Action,
    Category,
    Decision,
    Disposition,
    EscalationStep,
    Recipient,
    Verdict,
)

_PLAIN = {
    Category.SELF_HARM: "Self-harm concern",
    Category.ABUSE_DISCLOSURE: "Possible abuse disclosure",
    Category.SEXUAL: "Sexual content or grooming",
    Category.STAFF_ALLEGATION: "Allegation against staff",
    Category.PERSONAL_DATA: "Personal details published",
    Category.THREAT: "Threat",
    Category.HATE: "Hate",
    Category.BULLYING: "Bullying or harassment",
    Category.DEFAMATION: "Damaging claim about the school or staff",
    Category.SPAM: "Spam",
    Category.CRITICISM: "Criticism of the school",
    Category.BENIGN: "Nothing of concern",
}

_ROLE_NAMES = {
    "dsl": "the DSL",
    "deputy_dsl": "the deputy DSL",
    "headteacher": "the headteacher",
    "comms_lead": "the comms lead",
    "chair_of_governors": "the chair of governors",
    "data_protection_officer": "the data protection officer",
    "admin": "the administrator",
}


def category_label(category: Category) -> str:
    """A plain-English name for a category, e.g. "Self-harm concern"."""
    return _PLAIN[category]


def role_label(role: str) -> str:
    """A plain-English name for a role, e.g. "the deputy DSL"."""
    return _ROLE_NAMES.get(role, role.replace("_", " "))


def route(
    verdict: Verdict,
    policy: SchoolPolicy,
    *,
    supports: frozenset[Action],
    now: datetime,
) -> Decision:
    """Decide who is told, how urgently, and what happens to the comment.

    Args:
        verdict: The classifier's verdict; its primary category picks the route.
        policy: The school policy.
        supports: The moderation actions the comment's platform allows here.
        now: The current time (used for planned absences).

    Returns:
        The decision. Recipients are named people; an absent role holder is
        replaced by their fallback. A member of staff who is the subject of
        an allegation is never told about it.

    Example:
        >>> decision = route(verdict, policy, supports=frozenset({Action.HIDE}), now=now)
        >>> [r.role for r in decision.notify]
        ['dsl', 'deputy_dsl']
    """
    category = verdict.primary
    base = policy.routes[category]
    rule = policy.categories[category]
    subjects = _subject_roles(verdict, policy)
    override, condition = _override(base, subjects, bool(verdict.staff_mentioned))
    notify_roles, inform_roles = _roles(base, override)
    clauses = [base.clause] + ([override.clause] if override and override.clause else [])
    # Never tell somebody about an allegation against themselves, whatever the
    # primary category (an abuse disclosure naming the DSL goes round the DSL).
    alleged = Category.STAFF_ALLEGATION in verdict.flagged or category is Category.STAFF_ALLEGATION
    excluded = subjects if alleged else frozenset()
    if excluded & set(notify_roles + inform_roles) and not condition:
        condition = "a member of staff who would be told is the subject"
    day = now.astimezone(policy.tz).date()
    # Urgent routes name several roles so that several people know at once: if
    # one is away and their stand-in is already told, go further down the chain.
    notify = _resolve(notify_roles, policy, day, excluded, (), distinct=base.urgent)
    inform = _resolve(inform_roles, policy, day, excluded, notify)
    disposition = _disposition(category, base.disposition, supports)
    clause = "; ".join(dict.fromkeys(c for c in clauses if c))
    escalation = tuple(
        EscalationStep(
            after_minutes=step.after_minutes,
            notify=_substitute(step.notify, policy, excluded),
            reminder=step.reminder,
            clause=step.clause,
        )
        for step in base.escalation
    )
    return Decision(
        category=category,
        severity=rule.severity,
        disposition=disposition,
        notify=notify,
        inform=inform,
        queue_role=base.queue,
        urgent=base.urgent,
        escalation=escalation,
        clause=clause,
        reason=_reason(category, notify, inform, base, disposition, condition, clause),
    )


def _subject_roles(verdict: Verdict, policy: SchoolPolicy) -> frozenset[str]:
    """Policy roles held by the staff the comment names."""
    named = set(verdict.staff_mentioned)
    roles = {s.role for s in policy.roster.staff if s.id in named and s.role}
    # One person may hold several roles (a headteacher who is also the DSL).
    emails = {policy.roles[r].email.lower() for r in roles if r in policy.roles}
    roles |= {r for r, holder in policy.roles.items() if holder.email.lower() in emails}
    return frozenset(roles)


def _override(
    base: Route, subjects: frozenset[str], staff_targeted: bool
) -> tuple[RouteOverride | None, str]:
    if "headteacher" in subjects and base.if_headteacher_subject is not None:
        return base.if_headteacher_subject, "the headteacher is the subject"
    if staff_targeted and base.if_staff_targeted is not None:
        return base.if_staff_targeted, "a member of staff is named"
    return None, ""


def _roles(base: Route, override: RouteOverride | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    notify, inform = base.notify, base.inform
    if override is not None:
        notify = override.notify if override.notify is not None else notify
        inform = override.inform if override.inform is not None else inform
        notify = tuple(dict.fromkeys(notify + override.add_notify))
    return notify, tuple(r for r in inform if r not in notify)


def resolve_role(
    role: str,
    policy: SchoolPolicy,
    day: date,
    excluded: frozenset[str] = frozenset(),
    skip_emails: frozenset[str] = frozenset(),
) -> Recipient | None:
    """The person to tell for ``role`` on ``day``, following fallbacks past absences.

    Args:
        role: The policy role, e.g. ``"dsl"``.
        policy: The school policy.
        day: The date in the school's time zone (absences are by date).
        excluded: Roles never to tell (the subject of an allegation); the
            chain goes on to their fallback.
        skip_emails: People already told; the chain goes on past them too.

    Returns:
        The recipient, or ``None`` when every holder in the fallback chain is
        excluded or already told. When everyone available in the chain is
        absent, the first of them is still told: an alert is never dropped
        for lack of a recipient.
    """
    seen: list[str] = []
    current: str | None = role
    first: tuple[str, RoleHolder] | None = None
    while current is not None and current not in seen:
        seen.append(current)
        holder = policy.roles[current]
        if current not in excluded and holder.email not in skip_emails:
            if first is None:
                first = (current, holder)
            if not holder.is_absent(day):
                return Recipient(current, holder.name, holder.email, is_fallback=current != role)
        current = holder.fallback
    if first is None:
        return None
    return Recipient(first[0], first[1].name, first[1].email, is_fallback=first[0] != role)


def _resolve(
    roles: tuple[str, ...],
    policy: SchoolPolicy,
    day: date,
    excluded: frozenset[str],
    already: tuple[Recipient, ...],
    *,
    distinct: bool = False,
) -> tuple[Recipient, ...]:
    """Resolve roles to people, each person once.

    With ``distinct``, a role whose holder (or stand-in) is already told is
    resolved further down its fallback chain, so N roles reach N people where
    the policy allows.
    """
    out: list[Recipient] = []
    emails = {r.email for r in already}
    for role in roles:
        skip = frozenset(emails) if distinct else frozenset()
        recipient = resolve_role(role, policy, day, excluded, skip)
        if recipient is not None and recipient.email not in emails:
            emails.add(recipient.email)
            out.append(recipient)
    return tuple(out)


def _substitute(
    roles: tuple[str, ...], policy: SchoolPolicy, excluded: frozenset[str]
) -> tuple[str, ...]:
    """Replace excluded roles in an escalation step by the first fallback that is not excluded."""
    out: list[str] = []
    for role in roles:
        current: str | None = role
        seen: set[str] = set()
        while current is not None and current in excluded and current not in seen:
            seen.add(current)
            current = policy.roles[current].fallback
        if current is not None and current not in excluded and current not in out:
            out.append(current)
    return tuple(out)


def _disposition(
    category: Category, wanted: Disposition, supports: frozenset[Action]
) -> Disposition:
    """Map the policy's wish onto what the platform can do. Criticism is never hidden."""
    if category is Category.CRITICISM and wanted in (Disposition.HIDE, Disposition.HOLD):
        return Disposition.QUEUE
    if wanted is Disposition.HIDE and Action.HIDE not in supports:
        wanted = Disposition.HOLD
    if wanted is Disposition.HOLD and Action.HOLD_FOR_REVIEW not in supports:
        # Facebook has no "held" state; hiding is its reversible equivalent.
        wanted = Disposition.HIDE if Action.HIDE in supports else Disposition.QUEUE
    return wanted


def _reason(
    category: Category,
    notify: tuple[Recipient, ...],
    inform: tuple[Recipient, ...],
    base: Route,
    disposition: Disposition,
    condition: str,
    clause: str,
) -> str:
    parts = [category_label(category)]
    if notify:
        who = _join(
            [role_label(r.role) + (" (standing in)" if r.is_fallback else "") for r in notify]
        )
        parts.append(f"{who} {'are' if len(notify) > 1 else 'is'} told")
        parts[-1] += " at once, day or night" if base.urgent else " in working hours"
    if inform:
        parts.append(f"{_join([role_label(r.role) for r in inform])} kept informed")
    if base.queue:
        parts.append(f"queued for {role_label(base.queue)}")
    if disposition is Disposition.HIDE:
        parts.append("hidden on the platform after evidence is saved")
    elif disposition is Disposition.HOLD:
        parts.append("held for review on the platform after evidence is saved")
    if condition:
        parts.append(f"because {condition}")
    return (
        parts[0] + ": " + "; ".join(parts[1:]) + f" ({clause})."
        if len(parts) > 1
        else f"{parts[0]} ({clause})."
    )


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
