"""A summary of what is stored for a school: for the CLI, the demo and tests."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.router import category_label
from core.models import Category
from storage.tables import AlertRow, CommentRow, Delivery, PlatformAction, QueueItem


def summarise(factory: sessionmaker[Session], school_id: str) -> dict[str, Any]:
    """Counts per platform and category, plus alerts, emails, queue and actions."""
    with factory() as session:
        by_platform: Counter[str] = Counter()
        by_category: Counter[str] = Counter()
        grid: dict[str, Counter[str]] = {}
        rows = session.execute(
            select(CommentRow.platform, CommentRow.primary_category, func.count())
            .where(CommentRow.school_id == school_id)
            .group_by(CommentRow.platform, CommentRow.primary_category)
        )
        for platform, category, count in rows:
            cat = category or "unclassified"
            by_platform[platform] += count
            by_category[cat] += count
            grid.setdefault(platform, Counter())[cat] += count

        def count_where(*conds: Any) -> int:
            return int(session.scalar(select(func.count()).where(*conds)) or 0)

        return {
            "school_id": school_id,
            "comments": sum(by_platform.values()),
            "platforms": dict(by_platform),
            "categories": dict(by_category),
            "by_platform_and_category": {p: dict(c) for p, c in grid.items()},
            "alerts": count_where(AlertRow.school_id == school_id),
            "alerts_open": count_where(AlertRow.school_id == school_id, AlertRow.status == "open"),
            "emails_sent": count_where(Delivery.school_id == school_id, Delivery.status == "sent"),
            "emails_waiting": count_where(
                Delivery.school_id == school_id, Delivery.status.in_(("pending", "held", "sending"))
            ),
            "queue_open": count_where(QueueItem.school_id == school_id, QueueItem.status == "open"),
            "platform_actions_done": count_where(
                PlatformAction.school_id == school_id, PlatformAction.status == "done"
            ),
        }


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    """Print the summary as a table a DSL can read."""
    platforms = sorted(summary["platforms"])
    table = Table(title=f"What schoolwatch found ({summary['comments']} comments)")
    table.add_column("Category")
    for platform in platforms:
        table.add_column(platform.title(), justify="right")
    table.add_column("Total", justify="right", style="bold")
    grid = summary["by_platform_and_category"]
    for category in Category:
        total = summary["categories"].get(category.value, 0)
        if not total:
            continue
        cells = [str(grid.get(p, {}).get(category.value, 0)) for p in platforms]
        table.add_row(category_label(category), *cells, str(total))
    console.print(table)
    console.print(
        f"Alerts raised: {summary['alerts']} ({summary['alerts_open']} not yet acknowledged)  |  "
        f"emails sent: {summary['emails_sent']} (waiting: {summary['emails_waiting']})  |  "
        f"moderation queue: {summary['queue_open']} open  |  "
        f"hidden or held on the platform: {summary['platform_actions_done']}",
        highlight=False,
    )
