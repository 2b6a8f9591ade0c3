"""The moderation queue: list, item page, actions, bulk spam removal and public replies."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from core.clock import utc_now
from core.models import Action, Category, Platform
from monitor.actions import process_platform_actions
from storage import repo
from storage.db import session_scope
from storage.tables import CommentRow, PlatformAction, QueueItem
from web.deps import QueueActor, QueueBulk, QueueViewer, ReplyApprover, ReplyRequester, get_runtime
from web.moderation import (
    ACTIONS,
    BULK_ACTIONS,
    ModerationError,
    bulk,
    decide_reply,
    moderate,
    request_reply,
)
from web.permissions import (
    FULL,
    REFERRED_TEXT,
    confirmable_categories,
    is_safeguarding,
    visibility,
)
from web.queue_data import STATUSES, Filters, evidence_spans, explanation, list_queue, load_item
from web.views import highlight, render

if TYPE_CHECKING:
    from monitor.runtime import Runtime

log = logging.getLogger(__name__)
router = APIRouter()


def supports_for(runtime: Runtime, source_id: str) -> frozenset[Action]:
    """What the school can do on the platform for comments from ``source_id``."""
    try:
        channel = runtime.policy.channel(source_id)
    except KeyError:
        return frozenset()
    if not channel.moderated:
        return frozenset()
    try:
        return frozenset(runtime.connector(source_id).supports)
    except Exception as exc:  # a connector that cannot be built offers no actions
        log.warning("connector %s unavailable: %s", source_id, type(exc).__name__)
        return frozenset()


def filter_categories(role: str) -> list[str]:
    """The categories a role may filter the queue by (those it sees in full)."""
    return [c.value for c in Category if visibility(role, c.value) == FULL]


def perform(runtime: Runtime, ids: list[int]) -> str:
    """Perform the platform actions now; "done" when all succeeded, else "queued"."""
    if not ids:
        return "done"
    try:
        process_platform_actions(runtime, ids=ids)
    except Exception as exc:  # the rows stay pending; the scheduler retries them
        log.warning("platform actions %s not performed now: %s", ids, type(exc).__name__)
    with session_scope(runtime.factory) as session:
        statuses = list(
            session.scalars(select(PlatformAction.status).where(PlatformAction.id.in_(ids)))
        )
    return "done" if all(s == "done" for s in statuses) else "queued"


@router.get("/queue")
def queue_page(request: Request, user: QueueViewer) -> Response:
    """The queue, most severe and newest first, with filters."""
    runtime = get_runtime(request)
    filters = Filters.parse(request.query_params)
    with session_scope(runtime.factory) as session:
        rows, total = list_queue(session, runtime.policy, user.role, filters)
    pages = max(1, (total + 49) // 50)
    return render(
        request,
        "queue.html",
        {
            "rows": rows,
            "total": total,
            "filters": filters,
            "pages": pages,
            "prev_link": "?" + urlencode(filters.query(page=filters.page - 1))
            if filters.page > 1
            else "",
            "next_link": "?" + urlencode(filters.query(page=filters.page + 1))
            if filters.page < pages
            else "",
            "platforms": [p.value for p in Platform],
            "categories": filter_categories(user.role),
            "statuses": STATUSES,
            "referred_text": REFERRED_TEXT,
            "bulk_ok": user.can("queue.bulk")
            and any(r.item.category == "spam" and r.view == FULL for r in rows),
            "bulk_actions": BULK_ACTIONS,
            "error": "",
        },
    )


@router.get("/queue/{item_id}")
def item_page(request: Request, item_id: int, user: QueueViewer) -> Response:
    """One item: highlighted evidence, thread, the author's history, actions."""
    return _item(request, item_id, user.role, user.username)


def _item(
    request: Request, item_id: int, role: str, username: str, *, error: str = "", status: int = 200
) -> Response:
    runtime = get_runtime(request)
    with session_scope(runtime.factory) as session:
        view = load_item(session, runtime.policy, role, item_id)
        if view is None:
            raise HTTPException(404)
        if view.view == FULL and is_safeguarding(view.item.category):
            repo.record(
                session,
                school_id=runtime.policy.school.id,
                event="safeguarding.viewed",
                actor=username,
                subject_type="queue_item",
                subject_id=item_id,
                details={"comment_id": view.comment.id, "category": view.item.category},
            )
    supports = supports_for(runtime, view.comment.source_id) if view.view == FULL else frozenset()
    spans, words = evidence_spans(view.verdict)
    replies_on = runtime.policy.public_replies.enabled and Action.REPLY in supports
    return render(
        request,
        "item.html",
        {
            "v": view,
            "full": view.view == FULL,
            "referred_text": REFERRED_TEXT,
            "text": highlight(view.comment.text, spans, words) if view.view == FULL else "",
            "sentence": explanation(view.verdict) if view.view == FULL else "",
            "actions": ACTIONS,
            "possible": _possible(supports),
            "categories": [c.value for c in confirmable_categories(role)],
            "replies_on": replies_on,
            "second_approver": runtime.policy.public_replies.second_approver,
            "error": error,
        },
        status_code=status,
    )


def _possible(supports: frozenset[Action]) -> dict[str, bool]:
    return {
        "approve": True,
        "hide": bool({Action.HIDE, Action.HOLD_FOR_REVIEW} & supports),
        "unhide": bool({Action.UNHIDE, Action.APPROVE} & supports),
        "delete": Action.DELETE in supports,
        "escalate": True,
        "false_positive": True,
        "confirm": True,
    }


@router.post("/queue/{item_id}/action")
def item_action(
    request: Request,
    item_id: int,
    user: QueueActor,
    action: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
    category: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Approve, hide, unhide, delete, escalate, mark false positive or confirm."""
    runtime = get_runtime(request)
    now = utc_now()
    try:
        with session_scope(runtime.factory) as session:
            view = load_item(session, runtime.policy, user.role, item_id)
            if view is None or view.view != FULL:
                raise HTTPException(404)
            supports = supports_for(runtime, view.comment.source_id)
            ids, notice = moderate(
                session,
                policy=runtime.policy,
                item=view.item,
                comment=view.comment,
                verdict=view.verdict,
                action=action,
                reason=reason,
                category=category,
                actor=user.username,
                supports=supports,
                now=now,
            )
    except ModerationError as exc:
        return _item(request, item_id, user.role, user.username, error=str(exc), status=400)
    result = perform(runtime, ids)
    if ids:
        notice = result
    return RedirectResponse(f"/queue/{item_id}?notice={notice}#result", status_code=303)


@router.post("/queue/bulk")
def bulk_action(
    request: Request,
    user: QueueBulk,
    item_id: Annotated[list[int] | None, Form()] = None,
    action: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Hide or delete the chosen spam items in one go."""
    runtime = get_runtime(request)
    chosen = list(dict.fromkeys(item_id or []))[:500]
    now = utc_now()
    try:
        with session_scope(runtime.factory) as session:
            pairs = [
                (item, comment)
                for item, comment in session.execute(
                    select(QueueItem, CommentRow)
                    .join(CommentRow, CommentRow.id == QueueItem.comment_id)
                    .where(
                        QueueItem.school_id == runtime.policy.school.id,
                        QueueItem.id.in_(chosen),
                    )
                )
            ]
            if not pairs:
                raise ModerationError("Tick the spam comments to act on.")
            ids, skipped = bulk(
                session,
                policy=runtime.policy,
                items=pairs,
                action=action,
                reason=reason,
                actor=user.username,
                supports_for=functools.cache(lambda source: supports_for(runtime, source)),
                now=now,
            )
            repo.record(
                session,
                school_id=runtime.policy.school.id,
                event="queue.bulk",
                actor=user.username,
                details={"action": action, "items": len(pairs), "skipped": skipped},
                at=now,
            )
    except ModerationError as exc:
        filters = Filters.parse(request.query_params)
        with session_scope(runtime.factory) as session:
            rows, total = list_queue(session, runtime.policy, user.role, filters)
        return render(
            request,
            "queue.html",
            {
                "rows": rows,
                "total": total,
                "filters": filters,
                "pages": 1,
                "prev_link": "",
                "next_link": "",
                "platforms": [p.value for p in Platform],
                "categories": filter_categories(user.role),
                "statuses": STATUSES,
                "referred_text": REFERRED_TEXT,
                "bulk_ok": any(r.item.category == "spam" for r in rows),
                "bulk_actions": BULK_ACTIONS,
                "error": str(exc),
            },
            status_code=400,
        )
    perform(runtime, ids)
    return RedirectResponse("/queue?category=spam&status=all&notice=bulk", status_code=303)


@router.post("/queue/{item_id}/reply")
def reply(
    request: Request,
    item_id: int,
    user: ReplyRequester,
    text: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Draft a public reply (posted after a second colleague approves, Aycliffe 5)."""
    runtime = get_runtime(request)
    now = utc_now()
    try:
        with session_scope(runtime.factory) as session:
            view = load_item(session, runtime.policy, user.role, item_id)
            if view is None or view.view != FULL:
                raise HTTPException(404)
            row = request_reply(
                session,
                policy=runtime.policy,
                item=view.item,
                comment=view.comment,
                text=text,
                actor=user.username,
                supports=supports_for(runtime, view.comment.source_id),
                now=now,
            )
            action_id, waiting = row.id, row.status == "awaiting_approval"
    except ModerationError as exc:
        return _item(request, item_id, user.role, user.username, error=str(exc), status=400)
    notice = "reply_waiting" if waiting else perform(runtime, [action_id])
    return RedirectResponse(f"/queue/{item_id}?notice={notice}#result", status_code=303)


@router.get("/replies")
def replies_page(request: Request, user: ReplyApprover) -> Response:
    """Replies waiting for a second colleague's approval."""
    runtime = get_runtime(request)
    with session_scope(runtime.factory) as session:
        rows = list(
            session.execute(
                select(PlatformAction, QueueItem)
                .join(QueueItem, QueueItem.comment_id == PlatformAction.comment_id)
                .where(
                    PlatformAction.school_id == runtime.policy.school.id,
                    PlatformAction.action == Action.REPLY.value,
                    PlatformAction.status == "awaiting_approval",
                )
                .order_by(PlatformAction.created_at)
            )
        )
    return render(request, "replies.html", {"rows": rows, "error": ""})


@router.post("/replies/{action_id}/{decision}")
def reply_decision(
    request: Request, action_id: int, decision: str, user: ReplyApprover
) -> Response:
    """Approve (and post) or reject a waiting reply."""
    if decision not in ("approve", "reject"):
        raise HTTPException(404)
    runtime = get_runtime(request)
    now = utc_now()
    try:
        with session_scope(runtime.factory) as session:
            row = session.get(PlatformAction, action_id)
            if row is None or row.school_id != runtime.policy.school.id:
                raise HTTPException(404)
            decide_reply(
                session, row=row, approve=decision == "approve", actor=user.username, now=now
            )
    except ModerationError as exc:
        return render(
            request, "error.html", {"title": "Not approved", "message": str(exc)}, status_code=400
        )
    if decision == "approve":
        perform(runtime, [action_id])
    notice = "reply_approved" if decision == "approve" else "reply_rejected"
    return RedirectResponse(f"/replies?notice={notice}", status_code=303)


@router.post("/actions/{action_id}/retry")
def retry_action(request: Request, action_id: int, user: QueueActor) -> Response:
    """Try a failed or waiting platform action again now."""
    runtime = get_runtime(request)
    now = utc_now()
    with session_scope(runtime.factory) as session:
        row = session.get(PlatformAction, action_id)
        if row is None or row.school_id != runtime.policy.school.id:
            raise HTTPException(404)
        item = session.scalars(
            select(QueueItem).where(QueueItem.comment_id == row.comment_id)
        ).first()
        if item is not None:
            view = load_item(session, runtime.policy, user.role, item.id)
            if view is None or view.view != FULL:
                raise HTTPException(404)
        if row.status not in ("pending", "failed"):
            raise HTTPException(409, "This action is not waiting or failed.")
        row.status = "pending"
        row.next_attempt_at = now
        repo.record(
            session,
            school_id=row.school_id,
            event="platform.action_retried",
            actor=user.username,
            subject_type="platform_action",
            subject_id=row.id,
            details={"action": row.action, "comment_id": row.comment_id},
            at=now,
        )
        back = f"/queue/{item.id}" if item is not None else "/health"
    perform(runtime, [action_id])
    return RedirectResponse(f"{back}?notice=retrying#result", status_code=303)
