"""Charts for the digest and the termly report, drawn with matplotlib's Agg backend as PNG bytes.

Figures are built with :class:`matplotlib.figure.Figure` and the Agg canvas
directly, never through ``pyplot``, so drawing is safe from the scheduler's
worker threads and never opens a window. Images are drawn at twice the size
they are shown so they stay sharp on high-resolution screens.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from alerts.digest import TREND_GROUPS, Count, TrendWeek

WIDTH_PX = 600
"""Width the charts are shown at in emails and pages (CSS pixels)."""

_DPI = 200
COLOURS: dict[str, str] = {
    "Safeguarding": "#b2182b",
    "Other harm": "#ef8a62",
    "Spam": "#999999",
    "Criticism": "#67a9cf",
    "this": "#2166ac",
    "last": "#c6dbef",
}
"""Colours (readable by most people with colour-blindness; every bar is also labelled)."""


def _figure(height_px: int) -> Figure:
    fig = Figure(figsize=(WIDTH_PX / 100, height_px / 100), dpi=100)
    fig.patch.set_facecolor("white")
    return fig


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    return buf.getvalue()


def trend_chart(trend: Sequence[TrendWeek], *, title: str = "Flagged comments per week") -> bytes:
    """A stacked bar chart of flagged comments per week, by group (PNG bytes).

    Args:
        trend: Weeks oldest first (the digest's ``trend``).
        title: Chart title.

    Returns:
        PNG image bytes, 1200 pixels wide (shown at 600).
    """
    fig = _figure(260)
    ax = fig.add_subplot(1, 1, 1)
    labels = [f"{w.monday.day} {w.monday:%b}" for w in trend]
    positions = list(range(len(trend)))
    bottom = [0] * len(trend)
    for group in TREND_GROUPS:
        values = [w.counts.get(group, 0) for w in trend]
        ax.bar(positions, values, bottom=bottom, color=COLOURS[group], label=group, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for x, total in zip(positions, bottom, strict=True):
        if total:
            ax.text(x, total, str(total), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(positions, labels, fontsize=7, rotation=0)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(0, max(max(bottom, default=0) * 1.2, 4))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_xlabel("Week beginning", fontsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=7, frameon=False, ncols=len(TREND_GROUPS), loc="upper left")
    fig.tight_layout()
    return _png(fig)


def category_chart(
    counts: Sequence[Count], *, title: str = "Flagged comments by category"
) -> bytes:
    """Horizontal bars: each category this week beside last week (PNG bytes).

    Args:
        counts: One :class:`Count` per category (benign is left out by the caller).
        title: Chart title.

    Returns:
        PNG image bytes.
    """
    rows = list(reversed(counts))
    fig = _figure(40 + 22 * max(len(rows), 1))
    ax = fig.add_subplot(1, 1, 1)
    y = list(range(len(rows)))
    ax.barh(
        [v + 0.2 for v in y],
        [r.count for r in rows],
        height=0.4,
        color=COLOURS["this"],
        label="This week",
    )
    ax.barh(
        [v - 0.2 for v in y],
        [r.previous for r in rows],
        height=0.4,
        color=COLOURS["last"],
        label="Last week",
    )
    for v, r in zip(y, rows, strict=True):
        if r.count:
            ax.text(r.count, v + 0.2, f" {r.count}", va="center", fontsize=7)
    ax.set_yticks(y, [r.label for r in rows], fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    top = max([r.count for r in rows] + [r.previous for r in rows] + [3])
    ax.set_xlim(0, top * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title, fontsize=9, x=0.01, ha="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2)
    fig.tight_layout()
    return _png(fig)


def monthly_chart(months: Sequence[tuple[str, int, int]], *, title: str) -> bytes:
    """Bars of flagged comments per month, with safeguarding concerns in red (PNG bytes).

    Args:
        months: ``(label, flagged, safeguarding)`` per month, oldest first.
        title: Chart title.

    Returns:
        PNG image bytes.
    """
    fig = _figure(240)
    ax = fig.add_subplot(1, 1, 1)
    x = list(range(len(months)))
    other = [flagged - safe for _, flagged, safe in months]
    safe = [s for _, _, s in months]
    ax.bar(x, safe, color=COLOURS["Safeguarding"], label="Safeguarding", width=0.6)
    ax.bar(x, other, bottom=safe, color=COLOURS["Criticism"], label="Other flagged", width=0.6)
    for i, (_, flagged, _) in enumerate(months):
        if flagged:
            ax.text(i, flagged, str(flagged), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(x, [label for label, _, _ in months], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_ylim(0, max(max((f for _, f, _ in months), default=0) * 1.2, 4))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=9, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    fig.tight_layout()
    return _png(fig)
