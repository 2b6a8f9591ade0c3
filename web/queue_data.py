"""Reading the moderation queue for one user: filters, order, and what they may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from config.policy import SchoolPolicy
from core.models import Category, Platform
from storage.tables import (
    CommentRow,
    DecisionRow,
    EvidenceRecord,
    ModerationLabel,
    PlatformAction,
    QueueItem,
    VerdictRow,
)
from web.permissions import FULL, NONE, REFERRED, is_safeguarding, listed_categories, visibility

STATUSES = (
    "open",
    "escalated",
    "approved",
    "hidden",
    "deleted",
    "false_positive",
    "confirmed",
    "closed",
)
ACTIVE = ("open", "escalated")
PAGE = 50


@dataclass(frozen=True)
class Filters:
    """Validated queue filters: anything unknown is ignored, never put in SQL."""

    platform: str = ""
    category: str = ""
    status: str = "active"
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    @classmethod
    def parse(cls, params: Any) -> Filters:
        """Read filters from query parameters, dropping values that are not allowed."""
        platform = str(params.get("platform", ""))
        category = str(params.get("category", ""))
        status = str(params.get("status", "active"))
        try:
            page = max(1, min(int(str(params.get("page", "1"))), 10_000))
        except ValueError:
            page = 1
        return cls(
            platform=platform if platform in {p.value for p in Platform} else "",
            category=category if category in {c.value for c in Category} else "",
            status=status if status in (*STATUSES, "active", "all") else "active",
            date_from=_date(params.get("date_from")),
            date_to=_date(params.get("date_to")),
            page=page,
        )

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters as query parameters (for links), with ``changes`` applied."""
        values: dict[str, Any] = {
            "platform": self.platform,
            "category": self.category,
            "status": self.status,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "page": str(self.page),
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v}


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


@dataclass
class Row:
    """One queue line as a user may see it."""

    item: QueueItem
    comment: CommentRow
    view: str  # full | referred
    safeguarding: bool
    pending_actions: int = 0
    failed_actions: int = 0


@dataclass
class ItemView:
    """Everything the item page shows."""

    item: QueueItem
    comment: CommentRow
    verdict: VerdictRow | None
    decision: DecisionRow | None
    view: str
    parent: tuple[CommentRow, str] | None = None
    replies: list[tuple[CommentRow, str]] = field(default_factory=list)
    history: list[tuple[CommentRow, str]] = field(default_factory=list)
    history_total: int = 0
    actions: list[PlatformAction] = field(default_factory=list)
    evidence: list[EvidenceRecord] = field(default_factory=list)
    labels: list[ModerationLabel] = field(default_factory=list)


def headteacher_subjects(
    session: Session, policy: SchoolPolicy, comment_ids: list[int]
) -> set[int]:
    """Comment ids whose latest verdict names the member of staff who is headteacher."""
    heads = {s.id for s in policy.roster.staff if s.role == "headteacher"}
    if not heads or not comment_ids:
        return set()
    out: set[int] = set()
    rows = session.execute(
        select(VerdictRow.comment_id, VerdictRow.staff_mentioned).where(
            VerdictRow.comment_id.in_(comment_ids)
        )
    )
    for comment_id, staff in rows:
        if heads & set(staff or ()):
            out.add(int(comment_id))
    return out


def view_for(
    session: Session, policy: SchoolPolicy, role: str, comment: CommentRow, category: str | None
) -> str:
    """How much of ``comment`` the ``role`` may see (full, referred or none)."""
    subject = False
    if role == "headteacher" and category == Category.STAFF_ALLEGATION.value:
        subject = comment.id in headteacher_subjects(session, policy, [comment.id])
    return visibility(role, category, headteacher_subject=subject)


def _base(
    school_id: str, role: str, filters: Filters, tz: ZoneInfo
) -> Select[QueueItem, CommentRow]:
    stmt = (
        select(QueueItem, CommentRow)
        .join(CommentRow, CommentRow.id == QueueItem.comment_id)
        .where(QueueItem.school_id == school_id)
    )
    allowed = listed_categories(role)
    if allowed is not None:
        stmt = stmt.where(QueueItem.category.in_(allowed))
    if filters.platform:
        stmt = stmt.where(CommentRow.platform == filters.platform)
    if filters.category and visibility(role, filters.category) == FULL:
        # Filtering by a category the role sees only as "referred" would reveal it: ignored.
        stmt = stmt.where(QueueItem.category == filters.category)
    if filters.status == "active":
        # Needs action: open items, and any whose platform action has not gone through yet.
        unfinished = (
            select(PlatformAction.id)
            .where(
                PlatformAction.comment_id == QueueItem.comment_id,
                PlatformAction.status.in_(("pending", "failed")),
            )
            .exists()
        )
        stmt = stmt.where(or_(QueueItem.status.in_(ACTIVE), unfinished))
    elif filters.status != "all":
        stmt = stmt.where(QueueItem.status == filters.status)
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=tz)
        stmt = stmt.where(CommentRow.created_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz)
        stmt = stmt.where(CommentRow.created_at < end)
    return stmt


def referred_categories(role: str) -> list[str]:
    """Categories ``role`` sees only as "Referred to the DSL"."""
    return [c.value for c in Category if visibility(role, c.value) == REFERRED]


def queue_order(role: str) -> list[Any]:
    """ORDER BY for the queue: most severe, then newest.

    Items the role sees only as referred come last, newest first, and their
    severity plays no part: their place in the list must not reveal it.
    """
    referred = referred_categories(role)
    if not referred:
        return [QueueItem.severity.desc(), CommentRow.created_at.desc(), QueueItem.id.desc()]
    is_referred = QueueItem.category.in_(referred)
    return [
        case((is_referred, 1), else_=0),
        case((is_referred, 0), else_=QueueItem.severity).desc(),
        CommentRow.created_at.desc(),
        QueueItem.id.desc(),
    ]


def list_queue(
    session: Session, policy: SchoolPolicy, role: str, filters: Filters
) -> tuple[list[Row], int]:
    """The queue lines ``role`` may see, most severe then newest first, and the total.

    Lines the role sees only as "Referred to the DSL" come after the others, newest first.
    """
    school_id = policy.school.id
    base = _base(school_id, role, filters, policy.tz)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    stmt = base.order_by(*queue_order(role)).offset((filters.page - 1) * PAGE).limit(PAGE)
    pairs = list(session.execute(stmt))
    subjects: set[int] = set()
    if role == "headteacher":
        subjects = headteacher_subjects(
            session,
            policy,
            [c.id for i, c in pairs if i.category == Category.STAFF_ALLEGATION.value],
        )
    ids = [c.id for _, c in pairs]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        for comment_id, status, n in session.execute(
            select(PlatformAction.comment_id, PlatformAction.status, func.count())
            .where(
                PlatformAction.comment_id.in_(ids),
                PlatformAction.status.in_(("pending", "failed")),
            )
            .group_by(PlatformAction.comment_id, PlatformAction.status)
        ):
            counts[(int(comment_id), str(status))] = int(n)
    rows: list[Row] = []
    for item, comment in pairs:
        view = visibility(role, item.category, headteacher_subject=comment.id in subjects)
        if view == NONE:
            total -= 1
            continue
        rows.append(
            Row(
                item=item,
                comment=comment,
                view=view,
                safeguarding=is_safeguarding(item.category),
                pending_actions=counts.get((comment.id, "pending"), 0),
                failed_actions=counts.get((comment.id, "failed"), 0),
            )
        )
    return rows, total


def load_item(session: Session, policy: SchoolPolicy, role: str, item_id: int) -> ItemView | None:
    """The item page for ``role``, or ``None`` when it does not exist or is not theirs to see."""
    item = session.get(QueueItem, item_id)
    if item is None or item.school_id != policy.school.id:
        return None
    comment = session.get(CommentRow, item.comment_id)
    if comment is None:
        return None
    view = view_for(session, policy, role, comment, item.category)
    if view == NONE:
        return None
    verdict = session.scalars(
        select(VerdictRow)
        .where(VerdictRow.comment_id == comment.id)
        .order_by(VerdictRow.id.desc())
        .limit(1)
    ).first()
    decision = session.get(DecisionRow, item.decision_id) if item.decision_id else None
    out = ItemView(item=item, comment=comment, verdict=verdict, decision=decision, view=view)
    if view == REFERRED:
        return out
    same_thread = and_(
        CommentRow.school_id == comment.school_id,
        CommentRow.platform == comment.platform,
        CommentRow.thread_id == comment.thread_id,
    )
    if comment.parent_id:
        parent = session.scalars(
            select(CommentRow).where(same_thread, CommentRow.external_id == comment.parent_id)
        ).first()
        if parent is not None:
            out.parent = (parent, view_for(session, policy, role, parent, parent.primary_category))
    for reply in session.scalars(
        select(CommentRow)
        .where(same_thread, CommentRow.parent_id == comment.external_id)
        .order_by(CommentRow.created_at)
        .limit(50)
    ):
        out.replies.append((reply, view_for(session, policy, role, reply, reply.primary_category)))
    by_author = and_(
        CommentRow.school_id == comment.school_id,
        CommentRow.platform == comment.platform,
        CommentRow.author_id == comment.author_id,
        CommentRow.id != comment.id,
    )
    out.history_total = int(
        session.scalar(select(func.count()).select_from(CommentRow).where(by_author)) or 0
    )
    for other in session.scalars(
        select(CommentRow).where(by_author).order_by(CommentRow.created_at.desc()).limit(20)
    ):
        out.history.append((other, view_for(session, policy, role, other, other.primary_category)))
    out.actions = list(
        session.scalars(
            select(PlatformAction)
            .where(PlatformAction.comment_id == comment.id)
            .order_by(PlatformAction.id.desc())
        )
    )
    out.evidence = list(
        session.scalars(
            select(EvidenceRecord)
            .where(EvidenceRecord.comment_id == comment.id)
            .order_by(EvidenceRecord.id)
        )
    )
    out.labels = list(
        session.scalars(
            select(ModerationLabel)
            .where(ModerationLabel.comment_id == comment.id)
            .order_by(ModerationLabel.id)
        )
    )
    return out


def evidence_spans(verdict: VerdictRow | None) -> tuple[list[tuple[int, int]], list[str]]:
    """Matched character ranges and matched words (without a range) from a verdict."""
    spans: list[tuple[int, int]] = []
    words: list[str] = []
    for ev in (verdict.evidence if verdict else []) or []:
        if not isinstance(ev, dict):
            continue
        span = ev.get("span")
        if isinstance(span, list | tuple) and len(span) == 2:
            try:
                spans.append((int(span[0]), int(span[1])))
                continue
            except (TypeError, ValueError):
                pass
        matched = ev.get("matched")
        if isinstance(matched, str) and matched:
            words.append(matched)
    return spans, words


def explanation(verdict: VerdictRow | None) -> str:
    """The verdict's evidence in one sentence."""
    if verdict is None:
        return "No classifier verdict is stored for this comment."
    if verdict.explanation:
        return verdict.explanation
    details = []
    for ev in verdict.evidence or []:
        if isinstance(ev, dict) and ev.get("detail"):
            details.append(str(ev["detail"]))
    primary = verdict.primary_category.replace("_", " ")
    if details:
        return f"Flagged as {primary} because of: {', '.join(dict.fromkeys(details))}."
    return f"Flagged as {primary} by {verdict.classifier}."


def safeguarding_ids(rows: list[Row]) -> list[int]:
    """Queue item ids among ``rows`` whose text a user saw in full (for the audit trail)."""
    return [r.item.id for r in rows if r.safeguarding and r.view == FULL]
