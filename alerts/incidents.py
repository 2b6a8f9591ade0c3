"""Incidents: an alert and the further comments that joined it.

When further comments in the same thread, or by the same author, arrive
while an alert is open (``policy.alerts.incident_window_minutes``), they join
that alert instead of sending new emails (see ``monitor.dispatch``). Each
join is an ``alert.joined`` audit event naming the comment, so the incident's
comments are read back from the audit trail.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.tables import AlertRow, AuditEvent, CommentRow


def incident_comment_ids(session: Session, *, school_id: str, alert_key: str) -> list[int]:
    """The ids of the comments in an incident, the one that raised it first.

    Args:
        session: An open session.
        school_id: The school.
        alert_key: The alert's key.

    Returns:
        Comment ids in the order they joined. Comments since purged are left
        out. Empty when there is no such alert.
    """
    alert = session.scalars(
        select(AlertRow).where(AlertRow.school_id == school_id, AlertRow.alert_key == alert_key)
    ).one_or_none()
    if alert is None:
        return []
    ids: list[int] = [alert.comment_id] if alert.comment_id is not None else []
    joined = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.school_id == school_id,
            AuditEvent.event == "alert.joined",
            AuditEvent.subject_type == "alert",
            AuditEvent.subject_id == alert_key,
        )
        .order_by(AuditEvent.id)
    )
    for event in joined:
        value = event.details.get("comment_id")
        if isinstance(value, int) and value not in ids:
            ids.append(value)
    if not ids:
        return []
    present = set(session.scalars(select(CommentRow.id).where(CommentRow.id.in_(ids))))
    return [i for i in ids if i in present]
