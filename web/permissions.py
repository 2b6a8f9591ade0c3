"""Who may do what: the one place role permissions and category visibility live.

Every route declares the permission it needs (``web.deps.Requires``); a test
enumerates ``app.routes`` and checks each one against every role. What a role
may *see* of a comment depends on its category as well:

* ``full``: the text, author and thread;
* ``referred``: the item exists but shows only "Referred to the DSL", with no
  text, author or thread (the comms lead's view of safeguarding items);
* ``none``: the item is not listed at all.

Least access (Aycliffe 1, 3, 4, 6): the DSL and deputy see everything; the
headteacher sees everything except a staff allegation about the headteacher
(that goes to the chair of governors); the comms lead sees reputation, spam,
bullying and criticism items; the chair sees staff allegations; the data
protection officer sees personal-data items; the administrator sees no
comment text at all. Whoever the policy's route told about an alert sees that
alert in full (never the headteacher an allegation about the headteacher).
The weekly digest and the governors' termly report hold counts only: the
digest is for the headteacher, DSL, deputy and chair of governors, the
termly report for the headteacher and chair of governors.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

from config.policy import ROLES
from core.models import SAFEGUARDING, Category


class Perm(enum.StrEnum):
    """A thing a signed-in user may do in the web app."""

    QUEUE_VIEW = "queue.view"
    QUEUE_ACT = "queue.act"
    QUEUE_BULK = "queue.bulk"
    REPLY_REQUEST = "reply.request"
    REPLY_APPROVE = "reply.approve"
    ALERTS_VIEW = "alerts.view"
    ALERTS_ACK = "alerts.ack"
    AUDIT_VIEW = "audit.view"
    HEALTH_VIEW = "health.view"
    USERS_MANAGE = "users.manage"
    DIGEST_VIEW = "digest.view"  # the weekly digest: counts only, no names or text
    REPORTS_VIEW = "reports.view"  # the governors' termly report: counts only
    SIGNED_IN = "signed_in"  # any signed-in user (home page, sign out)


_ALL_READERS = ("dsl", "deputy_dsl", "headteacher")

ROLE_PERMISSIONS: Mapping[str, frozenset[Perm]] = {
    "dsl": frozenset(Perm) - {Perm.USERS_MANAGE, Perm.REPORTS_VIEW},
    "deputy_dsl": frozenset(Perm) - {Perm.USERS_MANAGE, Perm.REPORTS_VIEW},
    "headteacher": frozenset(Perm) - {Perm.USERS_MANAGE},
    "comms_lead": frozenset(
        {
            Perm.SIGNED_IN,
            Perm.QUEUE_VIEW,
            Perm.QUEUE_ACT,
            Perm.QUEUE_BULK,
            Perm.REPLY_REQUEST,
            Perm.REPLY_APPROVE,
            Perm.ALERTS_VIEW,
            Perm.ALERTS_ACK,
            Perm.HEALTH_VIEW,
        }
    ),
    "chair_of_governors": frozenset(
        {
            Perm.SIGNED_IN,
            Perm.QUEUE_VIEW,
            Perm.QUEUE_ACT,
            Perm.ALERTS_VIEW,
            Perm.ALERTS_ACK,
            Perm.DIGEST_VIEW,
            Perm.REPORTS_VIEW,
        }
    ),
    "data_protection_officer": frozenset(
        {
            Perm.SIGNED_IN,
            Perm.QUEUE_VIEW,
            Perm.QUEUE_ACT,
            Perm.ALERTS_VIEW,
            Perm.ALERTS_ACK,
            Perm.AUDIT_VIEW,
        }
    ),
    "admin": frozenset({Perm.SIGNED_IN, Perm.AUDIT_VIEW, Perm.HEALTH_VIEW, Perm.USERS_MANAGE}),
}

# Categories the comms lead works in full: reputation, spam, bullying and criticism.
_COMMS_FULL = frozenset(
    {
        Category.THREAT,
        Category.HATE,
        Category.BULLYING,
        Category.DEFAMATION,
        Category.SPAM,
        Category.CRITICISM,
        Category.BENIGN,
    }
)

FULL = "full"
REFERRED = "referred"
NONE = "none"

REFERRED_TEXT = "Referred to the DSL"


def has(role: str, perm: Perm) -> bool:
    """True when ``role`` holds ``perm``."""
    return perm in ROLE_PERMISSIONS.get(role, frozenset())


def roles_with(perm: Perm) -> tuple[str, ...]:
    """The roles holding ``perm``, in the policy's role order."""
    return tuple(r for r in ROLES if has(r, perm))


def _category(value: str | None) -> Category:
    try:
        return Category(value or "benign")
    except ValueError:
        # An unknown category is treated as the most sensitive one.
        return Category.SELF_HARM


def visibility(
    role: str,
    category: str | None,
    *,
    headteacher_subject: bool = False,
    told: bool = False,
) -> str:
    """How much of a comment of ``category`` the ``role`` may see: full, referred or none.

    Args:
        role: The user's role.
        category: The comment's (or queue item's) category.
        headteacher_subject: The comment makes an allegation about the headteacher.
        told: The policy's route told this role about the comment's alert (as a
            recipient or by escalation): those told see what they were told about,
            except that the headteacher never sees an allegation about the headteacher.

    Returns:
        ``"full"``, ``"referred"`` or ``"none"``.
    """
    cat = _category(category)
    if role == "headteacher" and cat is Category.STAFF_ALLEGATION and headteacher_subject:
        return NONE
    if told and role != "admin":
        return FULL
    if role in ("dsl", "deputy_dsl"):
        return FULL
    if role == "headteacher":
        if cat is Category.STAFF_ALLEGATION and headteacher_subject:
            return NONE
        return FULL
    if role == "comms_lead":
        return FULL if cat in _COMMS_FULL else REFERRED
    if role == "chair_of_governors":
        return FULL if cat is Category.STAFF_ALLEGATION else NONE
    if role == "data_protection_officer":
        return FULL if cat is Category.PERSONAL_DATA else NONE
    return NONE


def listed_categories(role: str) -> tuple[str, ...] | None:
    """Categories whose items are listed for ``role`` (``None``: all of them)."""
    if role in (*_ALL_READERS, "comms_lead"):
        return None
    return tuple(c.value for c in Category if visibility(role, c.value) != NONE)


def is_safeguarding(category: str | None) -> bool:
    """True for the categories where a child may be at risk."""
    return _category(category) in SAFEGUARDING


def confirmable_categories(role: str) -> list[Category]:
    """Categories ``role`` may confirm an item as (anyone may escalate to safeguarding)."""
    return [c for c in Category if c is not Category.BENIGN]


def describe(roles: Iterable[str]) -> str:
    """A short list of roles for error pages."""
    return ", ".join(r.replace("_", " ") for r in roles)
