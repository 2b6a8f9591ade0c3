"""PDF building blocks shared by the termly governors' report and the DSL chronology (fpdf2).

Text is set in DejaVu Sans (shipped inside matplotlib, so no system fonts are
needed), which covers Latin, Greek and Cyrillic scripts and common symbols.
Characters the font lacks (emoji, for example) are replaced by a visible
marker rather than silently dropped, so a DSL can see something was there.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import matplotlib
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
MISSING = "\u25a1"  # WHITE SQUARE: shown for a character the font cannot draw


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    font = TTFont(str(FONT_DIR / "DejaVuSans.ttf"), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def pdf_text(text: str) -> str:
    """``text`` with characters DejaVu Sans cannot draw replaced by a white square."""
    glyphs = _glyphs()
    return "".join(
        ch if ch in "\n\t" or ord(ch) in glyphs else MISSING for ch in text if ch != "\r"
    )


class ReportPDF(FPDF):
    """An A4 portrait document with a title line and page numbers in the footer."""

    def __init__(self, title: str, footer: str, *, created: dt.datetime | None = None) -> None:
        """Create the document. ``footer`` is printed on every page beside the page number.

        ``created`` is the creation time recorded in the file (default: now).
        """
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.doc_title = pdf_text(title)
        self.footer_text = pdf_text(footer)
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.add_font(FONT, "I", str(FONT_DIR / "DejaVuSans-Oblique.ttf"))
        self.set_title(self.doc_title)
        self.set_creator("schoolwatch")
        if created is not None:
            self.set_creation_date(created)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)
        self.add_page()

    def footer(self) -> None:
        """Footer text and page number."""
        self.set_y(-12)
        self.set_font(FONT, "I", 7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self.footer_text}  ·  page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: float = 13) -> None:
        """A bold heading with a little space above it."""
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(3)
        self.set_font(FONT, "B", size)
        self.multi_cell(0, size * 0.5, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def para(self, text: str, size: float = 9.5, style: str = "") -> None:
        """A paragraph of wrapped text."""
        self.set_font(FONT, style, size)
        self.multi_cell(
            0, size * 0.5, pdf_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.ln(1)

    def facts(self, rows: Sequence[tuple[str, str]], label_width: float = 52) -> None:
        """Label and value pairs, the value wrapped beside its label."""
        for label, value in rows:
            self.set_font(FONT, "B", 8.5)
            y = self.get_y()
            if y > self.h - 30:
                self.add_page()
                y = self.get_y()
            self.multi_cell(label_width, 4.4, pdf_text(label), align="L")
            label_end = self.get_y()
            self.set_xy(self.l_margin + label_width, y)
            self.set_font(FONT, "", 8.5)
            self.multi_cell(
                0, 4.4, pdf_text(value or "–"), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
            self.set_y(max(self.get_y(), label_end) + 0.6)

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float] | None = None,
    ) -> None:
        """A simple table with a bold header row; numbers right-aligned."""
        self.set_font(FONT, "", 8.5)
        aligns = ["LEFT"] + ["RIGHT"] * (len(header) - 1)
        with self.table(
            col_widths=tuple(widths) if widths else None,
            text_align=tuple(aligns),
            line_height=5,
            first_row_as_headings=True,
            headings_style=FontFace(emphasis="BOLD", fill_color=(234, 238, 242)),
        ) as table:
            head = table.row()
            for cell in header:
                head.cell(pdf_text(cell))
            for values in rows:
                row = table.row()
                for cell in values:
                    row.cell(pdf_text(str(cell)))
        self.ln(2)

    def png(self, data: bytes, width: float = 180, alt: str = "") -> None:
        """Place a PNG image, full text width by default."""
        self.image(io.BytesIO(data), w=width, alt_text=alt or None)
        self.ln(2)

    def to_bytes(self) -> bytes:
        """The finished PDF."""
        return bytes(self.output())


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` readable and writable by the owner only (mode 0600).

    An existing file is truncated and its mode tightened first, so sensitive
    content is never readable by others, even for a moment.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
    finally:
        if fd != -1:
            os.close(fd)
    return path
