"""The school policy: who is told what, when, and what happens to a comment.

A school's policy is a YAML file validated by these pydantic models
(``extra="forbid"``: an unknown key is an error, not silently ignored).
Every rule carries a ``clause`` naming the clause of the school's written
policy it implements, e.g. ``"Aycliffe 6"`` or ``"Preston Grange 601"``.
``config/policies/default.yaml`` implements the two policies the project
was built from; ``docs/configuration.md`` documents every field.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.models import Category, Disposition, Platform, Severity

ROLES: tuple[str, ...] = (
    "dsl",
    "deputy_dsl",
    "headteacher",
    "comms_lead",
    "chair_of_governors",
    "data_protection_officer",
    "admin",
)
"""The roles every school policy defines."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SOURCE_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


HHMM = Annotated[str, Field(pattern=_HHMM.pattern)]


class School(_Model):
    """The school this policy belongs to."""

    id: str = Field(
        description="Short id stored on every row (lower case, no spaces), e.g. 'hollybrook'.",
        pattern=r"^[a-z][a-z0-9_-]{1,39}$",
    )
    name: str = Field(description="The school's full name, as it appears in emails and reports.")
    timezone: str = Field(
        default="Europe/London", description="IANA time zone for working hours and the digest."
    )
    web_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address of the schoolwatch web app, used for links in emails.",
    )
    aliases: tuple[str, ...] = Field(
        default=(),
        description="Other names people use for the school (searched for on Reddit).",
    )
    contacts: tuple[str, ...] = Field(
        default=(),
        description=(
            "The school's own published phone numbers, email addresses and postal address: "
            "never counted as personal data when someone repeats them."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Review(_Model):
    """When the policy was last reviewed and is next due (Aycliffe 7, Preston Grange 801)."""

    last_reviewed: dt.date = Field(description="Date the governors last reviewed the policy.")
    next_review: dt.date = Field(description="Date the next yearly review is due.")
    remind_days_before: int = Field(
        default=30,
        ge=0,
        le=365,
        description="Start reminding the headteacher this many days before.",
    )
    clause: str = Field(default="Aycliffe 7; Preston Grange 801", description="Policy clause.")


class RoleHolder(_Model):
    """A named person who holds a role, and who stands in when they are away."""

    name: str = Field(description="The person's name, as shown in emails and the web app.")
    email: str = Field(
        description="Their school email address (a named person, not a shared mailbox).",
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    )
    fallback: str | None = Field(
        default=None,
        description="The role told instead when this person is absent (e.g. deputy_dsl).",
    )
    absent_from: dt.date | None = Field(
        default=None, description="First day of a planned absence (inclusive)."
    )
    absent_until: dt.date | None = Field(
        default=None, description="Last day of a planned absence (inclusive)."
    )
    clause: str = Field(default="", description="Policy clause that names this role.")

    def is_absent(self, day: dt.date) -> bool:
        """True when ``day`` falls within the planned absence."""
        if self.absent_from is None and self.absent_until is None:
            return False
        start = self.absent_from or dt.date.min
        end = self.absent_until or dt.date.max
        return start <= day <= end


class StaffMember(_Model):
    """A member of staff the classifier should recognise by name."""

    id: str = Field(description="Short id, e.g. 'head' or 'mr_osei'.")
    name: str = Field(description="Full name, e.g. 'Mr Lewis Price'.")
    aliases: tuple[str, ...] = Field(
        default=(), description="Other ways people refer to them: 'Mr O', 'the Year 4 teacher'."
    )
    role: str | None = Field(
        default=None,
        description="The policy role they hold, if any (e.g. headteacher), for routing.",
    )


class Pupil(_Model):
    """A pupil whose name, with identifying details, must not be published."""

    name: str = Field(description="The pupil's full name.")
    aliases: tuple[str, ...] = Field(default=(), description="Nicknames or short forms.")
    class_name: str = Field(default="", description="Their class, e.g. '4O'.")


class Roster(_Model):
    """Names the classifier recognises. Pupil names are never logged or emailed."""

    staff: tuple[StaffMember, ...] = Field(default=(), description="Staff members.")
    pupils: tuple[Pupil, ...] = Field(default=(), description="Pupils (optional).")


class Channel(_Model):
    """One official channel or search the school watches (Aycliffe 5)."""

    id: str = Field(description="Source id used in the database and the CLI, e.g. 'facebook'.")
    platform: Platform = Field(description="facebook, youtube or reddit.")
    name: str = Field(description="What staff call this channel.")
    account_id: str = Field(
        default="",
        description="Facebook Page id, YouTube channel id, or empty for a Reddit search.",
    )
    enabled: bool = Field(default=True, description="Set false to stop watching this channel.")
    poll_minutes: int = Field(
        default=5, ge=1, le=1440, description="Minutes between checks of this channel."
    )
    subreddits: tuple[str, ...] = Field(
        default=(), description="Reddit only: subreddits to search (without r/)."
    )
    search_all: bool = Field(
        default=False, description="Reddit only: also search all of Reddit for the school's names."
    )
    moderated: bool = Field(
        default=True,
        description="The school can moderate here (hide/delete). False for Reddit unless a mod.",
    )
    daily_quota: int = Field(
        default=10000, ge=0, description="YouTube only: the project's daily API quota units."
    )
    clause: str = Field(default="Aycliffe 5", description="Policy clause.")

    @field_validator("id")
    @classmethod
    def _source_id(cls, value: str) -> str:
        if not _SOURCE_ID.match(value):
            raise ValueError("must be lower case letters, digits, '-' or '_'")
        return value


class CategoryRule(_Model):
    """How a category is scored and how serious it is."""

    severity: Severity = Field(description="info, low, medium, high or critical.")
    threshold: float = Field(
        ge=0.0, le=1.0, description="Score at or above which the category is flagged."
    )
    clause: str = Field(description="Policy clause this category comes from.")

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_name(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return Severity[value.upper()]
            except KeyError as exc:
                raise ValueError("must be one of info, low, medium, high, critical") from exc
        return value


class EscalationRule(_Model):
    """Tell more people when nobody has acknowledged an alert in time."""

    after_minutes: int = Field(ge=1, description="Minutes without acknowledgement.")
    notify: tuple[str, ...] = Field(min_length=1, description="Roles told at this step.")
    reminder: str = Field(default="", description="Advice added to the escalation email.")
    clause: str = Field(default="", description="Policy clause.")


class RouteOverride(_Model):
    """A change to a route when a condition holds."""

    notify: tuple[str, ...] | None = Field(
        default=None, description="Replace the roles told at once."
    )
    inform: tuple[str, ...] | None = Field(
        default=None, description="Replace the roles kept informed."
    )
    add_notify: tuple[str, ...] = Field(default=(), description="Roles told as well.")
    clause: str = Field(default="", description="Policy clause.")


class Route(_Model):
    """What happens when a category is the primary category of a comment."""

    notify: tuple[str, ...] = Field(default=(), description="Roles emailed about the comment.")
    inform: tuple[str, ...] = Field(default=(), description="Roles kept informed (not urgent).")
    queue: str | None = Field(
        default=None, description="Role whose moderation queue the comment joins, if any."
    )
    disposition: Disposition = Field(
        default=Disposition.QUEUE,
        description="none, queue, hold or hide: what happens to the comment on the platform.",
    )
    urgent: bool = Field(
        default=False, description="Urgent alerts go out at once, day or night, holidays too."
    )
    escalation: tuple[EscalationRule, ...] = Field(
        default=(), description="Escalation steps when nobody acknowledges."
    )
    if_staff_targeted: RouteOverride | None = Field(
        default=None, description="Changes when the comment names a member of staff."
    )
    if_headteacher_subject: RouteOverride | None = Field(
        default=None, description="Changes when the headteacher is the subject."
    )
    clause: str = Field(description="Policy clause this route implements.")


class WorkingHours(_Model):
    """When non-urgent emails may be sent (urgent routes ignore this)."""

    days: tuple[Weekday, ...] = Field(
        default=("mon", "tue", "wed", "thu", "fri"), description="Working days."
    )
    start: HHMM = Field(default="08:00", description="Start of the working day (24-hour).")
    end: HHMM = Field(default="17:00", description="End of the working day (24-hour).")

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


class Holiday(_Model):
    """A school holiday: non-urgent emails wait until it is over."""

    name: str = Field(description="e.g. 'Christmas holiday'.")
    start: dt.date = Field(description="First day of the holiday.")
    end: dt.date = Field(description="Last day of the holiday.")

    @model_validator(mode="after")
    def _ordered(self) -> Holiday:
        if self.start > self.end:
            raise ValueError("start must not be after end")
        return self


class AlertSettings(_Model):
    """How alert emails are written and grouped."""

    safeguarding_email_includes_text: bool = Field(
        default=False,
        description="Put the comment's text and names in safeguarding emails (off: link only).",
    )
    incident_window_minutes: int = Field(
        default=120,
        ge=0,
        description="Comments in the same thread or by the same author join an open incident.",
    )
    hourly_budget_per_recipient: int = Field(
        default=6,
        ge=1,
        description="Non-safeguarding emails per person per hour before they become a summary.",
    )
    ack_link_hours: int = Field(
        default=72, ge=1, description="Hours an acknowledgement link in an email stays valid."
    )
    clause: str = Field(default="Aycliffe 6, 8", description="Policy clause.")


class Retention(_Model):
    """How long things are kept (UK GDPR storage limitation)."""

    comment_days: dict[Category, int] = Field(
        description="Days a comment of each category is kept after it was posted."
    )
    evidence_years: int = Field(
        default=25,
        ge=1,
        description="Years safeguarding evidence is kept (the school's records policy).",
    )
    audit_days: int = Field(default=2555, ge=365, description="Days audit events are kept.")
    training_label_days: int = Field(
        default=730,
        ge=30,
        description="Days moderators' judgements (with the comment text) are kept for retraining.",
    )
    clause: str = Field(default="", description="Policy clause.")


class Digest(_Model):
    """The weekly digest email."""

    weekday: Weekday = Field(default="mon", description="Day the digest is sent.")
    time: HHMM = Field(default="07:00", description="Time the digest is sent (school time zone).")
    roles: tuple[str, ...] = Field(default=("headteacher",), description="Roles that receive it.")
    clause: str = Field(default="Preston Grange 401", description="Policy clause.")


class PublicReplies(_Model):
    """Replies posted by the school on its channels."""

    enabled: bool = Field(default=False, description="Allow replies from the moderation queue.")
    second_approver: bool = Field(
        default=True, description="A reply needs a second colleague's approval before it posts."
    )
    clause: str = Field(default="Aycliffe 5", description="Policy clause.")


class Lexicon(_Model):
    """School-specific words and patterns added to the built-in rules."""

    category: Category = Field(description="The category a match counts towards.")
    terms: tuple[str, ...] = Field(default=(), description="Words or phrases (case-insensitive).")
    patterns: tuple[str, ...] = Field(default=(), description="Regular expressions.")
    weight: float = Field(default=0.9, ge=0.0, le=1.0, description="Score a match gives.")

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return value


class SchoolPolicy(_Model):
    """A school's whole monitoring policy."""

    policy_version: Literal[1] = Field(description="Format version of this file; always 1.")
    school: School = Field(description="The school.")
    review: Review = Field(description="Policy review dates.")
    roles: dict[str, RoleHolder] = Field(description="Who holds each role.")
    roster: Roster = Field(default_factory=Roster, description="Names to recognise.")
    channels: tuple[Channel, ...] = Field(description="Channels and searches to watch.")
    categories: dict[Category, CategoryRule] = Field(description="Per-category scoring.")
    routes: dict[Category, Route] = Field(description="Per-category routing.")
    working_hours: WorkingHours = Field(default_factory=WorkingHours, description="Working hours.")
    holidays: tuple[Holiday, ...] = Field(default=(), description="School holidays.")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alert emails.")
    retention: Retention = Field(description="Retention periods.")
    digest: Digest = Field(default_factory=Digest, description="Weekly digest.")
    public_replies: PublicReplies = Field(
        default_factory=PublicReplies, description="Public replies."
    )
    lexicon: tuple[Lexicon, ...] = Field(default=(), description="Extra words and patterns.")

    @model_validator(mode="after")
    def _consistent(self) -> SchoolPolicy:
        problems: list[str] = []
        missing_roles = [r for r in ROLES if r not in self.roles]
        if missing_roles:
            problems.append(f"roles: missing {', '.join(missing_roles)}")
        for name, holder in self.roles.items():
            if name not in ROLES:
                problems.append(f"roles.{name}: unknown role (known: {', '.join(ROLES)})")
            if holder.fallback is not None and holder.fallback not in self.roles:
                problems.append(f"roles.{name}.fallback: unknown role {holder.fallback!r}")
        for cat in Category:
            if cat not in self.categories:
                problems.append(f"categories: missing {cat.value}")
            if cat not in self.routes:
                problems.append(f"routes: missing {cat.value}")
        for cat, route in self.routes.items():
            problems.extend(self._route_problems(f"routes.{cat.value}", route))
        criticism = self.routes.get(Category.CRITICISM)
        if criticism is not None and criticism.disposition in (Disposition.HIDE, Disposition.HOLD):
            # Legitimate criticism is routed to the comms lead, never hidden (Aycliffe 5).
            problems.append("routes.criticism.disposition: criticism is never hidden or held")
        for cat in Category:
            if cat not in self.retention.comment_days:
                problems.append(f"retention.comment_days: missing {cat.value}")
        for i, role in enumerate(self.digest.roles):
            if role not in self.roles:
                problems.append(f"digest.roles.{i}: unknown role {role!r}")
        for staff in self.roster.staff:
            if staff.role is not None and staff.role not in self.roles:
                problems.append(f"roster.staff.{staff.id}.role: unknown role {staff.role!r}")
        ids = [c.id for c in self.channels]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            problems.append(f"channels: id {dup!r} used twice")
        if self.review.next_review <= self.review.last_reviewed:
            problems.append("review.next_review: must be after last_reviewed")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _route_problems(self, where: str, route: Route) -> list[str]:
        problems: list[str] = []

        def check(field: str, roles: tuple[str, ...] | None) -> None:
            for i, role in enumerate(roles or ()):
                if role not in self.roles:
                    problems.append(f"{where}.{field}.{i}: unknown role {role!r}")

        check("notify", route.notify)
        check("inform", route.inform)
        if route.queue is not None and route.queue not in self.roles:
            problems.append(f"{where}.queue: unknown role {route.queue!r}")
        for n, step in enumerate(route.escalation):
            check(f"escalation.{n}.notify", step.notify)
            if n and step.after_minutes <= route.escalation[n - 1].after_minutes:
                problems.append(
                    f"{where}.escalation.{n}.after_minutes: must be later than step {n - 1}"
                )
        for name in ("if_staff_targeted", "if_headteacher_subject"):
            override: RouteOverride | None = getattr(route, name)
            if override is not None:
                check(f"{name}.notify", override.notify)
                check(f"{name}.inform", override.inform)
                check(f"{name}.add_notify", override.add_notify)
        return problems

    def channel(self, source_id: str) -> Channel:
        """The channel with this id. Raises ``KeyError`` if there is none."""
        for channel in self.channels:
            if channel.id == source_id:
                return channel
        raise KeyError(source_id)

    @property
    def tz(self) -> ZoneInfo:
        """The school's time zone."""
        return ZoneInfo(self.school.timezone)

    def thresholds(self) -> dict[Category, float]:
        """Per-category flagging thresholds."""
        return {cat: rule.threshold for cat, rule in self.categories.items()}
