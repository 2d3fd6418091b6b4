"""PDF documents (F17): a month's statement, an invoice, a credit note, on A4, with fpdf2.

Why fpdf2: a maintained, pure-Python PDF writer (no system library, nothing compiled of its
own) that embeds TrueType fonts as subsets with their Unicode maps, so a PDF viewer, a screen
reader and a text extractor all read the words back. Imported only here, and this module only
when a document is exported: the console starts without it.

Fonts: names and addresses can be in any script (`Мария`, `ねこ`, and Chinese for issue 15),
and fpdf2's built-in fonts are Latin-1 only. So the text font is the first TrueType font found
of `TEXT_FONTS` (DejaVu Sans, which Debian's fonts-dejavu-core installs, covers Latin, Greek
and Cyrillic), and every font found of `FALLBACK_FONTS` (CJK fonts: Noto Sans CJK from
fonts-noto-cjk, WenQuanYi, Droid Sans Fallback) is a fallback fpdf2 switches to for the
characters the text font lacks: adding a CJK font to the machine is all Chinese documents
need. A character that no font found can draw is printed as `?`, visibly, rather than as an
empty box or not at all; without any TrueType font the built-in Helvetica is used the same
way (then only Latin-1 prints). Nothing is shipped: fonts are the system's, and the package
stays small.

Sizes: 9 pt at the smallest (the tables), 10 pt for the text, on A4 with 15 mm margins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from core.money import decimal_text, format_usd

TEXT_FONTS: tuple[tuple[str, str], ...] = (  # (regular, bold)
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
     "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"),
    ("/Library/Fonts/Arial Unicode.ttf", "/Library/Fonts/Arial Unicode.ttf"),
)
FALLBACK_FONTS: tuple[tuple[str, int], ...] = (  # (file, face in a collection); SC first
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
UNPRINTABLE = "?"
# fontTools says on stderr which tables of a CJK collection it cannot subset (bitmaps it
# drops): nothing a person can act on, and stray text on a console's terminal.
logging.getLogger("fontTools").setLevel(logging.ERROR)
# For the built-in font only: what Latin-1 lacks but a reader expects.
_LATIN1_STAND_INS = {"•": "*", "–": "-", "—": "-", "−": "-", "…": "...", "“": '"', "”": '"',
                     "‘": "'", "’": "'", "→": "->"}

TEXT_PT = 10
TABLE_PT = 9
TITLE_PT = 16


class _Document(FPDF):
    """An A4 page with the brand at the top and the page number at the foot."""

    def __init__(self, brand: str, heading: str, footer_note: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.brand = brand
        self.heading = heading
        self.footer_note = footer_note
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.covered: set[int] | None = None  # code points the fonts can draw; None: Latin-1
        self.family = "Helvetica"
        self._load_fonts()

    def _load_fonts(self) -> None:
        for regular, bold in TEXT_FONTS:
            if Path(regular).is_file():
                self.add_font("Text", "", regular)
                self.add_font("Text", "B", bold if Path(bold).is_file() else regular)
                self.family = "Text"
                break
        else:
            return
        covered = set(self.fonts["text"].cmap)
        fallbacks = []
        for number, (path, face) in enumerate(FALLBACK_FONTS):
            if Path(path).is_file():
                name = f"Fallback{number}"
                try:
                    self.add_font(name, "", path, collection_font_number=face)
                except Exception:  # noqa: BLE001 - an unreadable font is just not used
                    continue
                fallbacks.append(name)
                covered |= set(self.fonts[name.lower()].cmap)
        if fallbacks:
            self.set_fallback_fonts(fallbacks, exact_match=False)
        self.covered = covered

    def printable(self, text: object) -> str:
        """`text` with what no font can draw replaced by `?`."""
        value = "".join(ch for ch in str(text) if ch.isprintable() or ch == "\n")
        if self.covered is None:
            value = "".join(_LATIN1_STAND_INS.get(ch, ch) for ch in value)
            return "".join(ch if ord(ch) < 256 else UNPRINTABLE for ch in value)
        return "".join(ch if ord(ch) in self.covered or ch in " \n" else UNPRINTABLE
                       for ch in value)

    def header(self) -> None:
        self.set_font(self.family, "B", TEXT_PT)
        self.cell(0, 6, self.printable(self.brand), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", TABLE_PT)
        self.cell(0, 5, self.printable(self.heading), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family, "", TABLE_PT)
        self.cell(0, 5, self.printable(f"{self.footer_note}    Page {self.page_no()}/{{nb}}"),
                  align="C")

    # --- pieces ------------------------------------------------------------------------------

    def title_line(self, text: str) -> None:
        self.set_font(self.family, "B", TITLE_PT)
        self.multi_cell(0, 9, self.printable(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def text_line(self, text: str, *, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", TEXT_PT)
        self.multi_cell(0, 5.5, self.printable(text), new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: Iterable[tuple[str, str]], *, label_width: float = 45) -> None:
        """Label: value lines (the value may wrap)."""
        for label, value in rows:
            self.set_font(self.family, "B", TEXT_PT)
            self.cell(label_width, 5.5, self.printable(label))
            self.set_font(self.family, "", TEXT_PT)
            self.multi_cell(0, 5.5, self.printable(value), new_x="LMARGIN", new_y="NEXT")

    def grid(self, headings: Sequence[str], rows: Iterable[Sequence[str]],
             widths: Sequence[float], align: Sequence[str]) -> None:
        self.set_font(self.family, "", TABLE_PT)
        style = FontFace(emphasis="BOLD", fill_color=(235, 235, 235))
        with self.table(col_widths=tuple(widths), text_align=tuple(align),
                        headings_style=style, line_height=4.6, padding=1,
                        width=sum(widths)) as table:
            heading = table.row()
            for text in headings:
                heading.cell(self.printable(text))
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(self.printable(text))

    def output_bytes(self, created: datetime) -> bytes:
        self.set_creation_date(created.replace(tzinfo=UTC))
        return bytes(self.output())


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"


def _signed(cents: int) -> str:
    return f"+{decimal_text(cents)}" if cents > 0 else decimal_text(cents)


def _entry_text(line) -> str:
    """"Bill issued: ECS instance …", "Hold released on Visa •••• 4242" (a description that
    already says what it is, or names its method, is not told twice)."""
    text = line.description
    if not text.casefold().startswith(line.label.casefold()):
        text = f"{line.label}: {text}"
    if line.method and line.method not in text:
        text += f" ({line.method})"
    return text


def statement_pdf(statement, brand: str) -> bytes:
    """A month's statement (core.statements.Statement) as PDF bytes."""
    last = statement.covered_until
    pdf = _Document(brand, f"Account statement · account ID {statement.account_id}",
                    f"{statement.title} · account ID {statement.account_id}")
    pdf.set_title(statement.title)
    pdf.set_author(brand)
    pdf.add_page()
    pdf.title_line(statement.title)
    if last >= statement.period_end:
        period = (f"{statement.period_start:%Y-%m-%d} to "
                  f"{statement.period_end - timedelta(days=1):%Y-%m-%d} (whole days, UTC)")
    else:
        period = f"{_when(statement.period_start)} to {_when(last)} UTC (to date)"
    pdf.pairs([("Account ID", str(statement.account_id)), ("Period", period),
               ("Made on", f"{_when(statement.made_at)} UTC"),
               ("Bill to", "\n".join(statement.bill_to) or "No billing address on file")])
    pdf.ln(3)
    t = statement.totals
    pdf.text_line("Summary", bold=True)
    pdf.pairs([
        ("Opening amount owed", format_usd(statement.opening_owed_cents)),
        (f"+ Bills issued ({t.bills})", format_usd(t.billed_cents)),
        (f"- Payments ({t.payments})", format_usd(t.paid_cents)),
        ("= Closing amount owed", format_usd(statement.closing_owed_cents)),
    ], label_width=55)
    pdf.ln(1)
    pdf.text_line(
        f"Charged in all {format_usd(t.charged_cents)}; refunded {format_usd(t.refunded_cents)}; "
        f"charges declined {t.declined} ({format_usd(t.declined_cents)}); pre-authorization "
        f"holds {format_usd(t.held_cents)}, released {format_usd(t.released_cents)}.")
    pdf.ln(3)
    rows = [(f"{_when(statement.period_start)}", "Opening amount owed", "", "", "",
             decimal_text(statement.opening_owed_cents))]
    for line in statement.lines:
        rows.append((_when(line.at), _entry_text(line),
                     "\n".join(p for p in (line.reference, line.status) if p),
                     decimal_text(line.amount_cents),
                     _signed(line.owed_change_cents) if line.owed_change_cents else "",
                     decimal_text(line.owed_after_cents)))
    rows.append((_when(last), "Closing amount owed", "", "", "",
                 decimal_text(statement.closing_owed_cents)))
    pdf.grid(("Date (UTC)", "Entry", "Reference · status", "Amount", "Owed ±", "Owed after"),
             rows, (25, 68, 39, 16, 16, 16), ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"))
    pdf.ln(3)
    pdf.text_line("Amounts in USD. The amount owed is the sum of the bills issued and not yet "
                  "paid: a bill adds to it, the payment of a bill takes it away. Holds and "
                  "their releases, declined charges and refunds are shown but do not change "
                  "it.")
    return pdf.output_bytes(statement.made_at)


def invoice_pdf(invoice, brand: str) -> bytes:
    """An invoice or credit note (core.invoices.InvoiceView) as PDF bytes."""
    credit = invoice.kind == "credit_note"
    pdf = _Document(brand, f"{invoice.title} · account ID {invoice.account_id}",
                    f"{invoice.title} · account ID {invoice.account_id}")
    pdf.set_title(invoice.title)
    pdf.set_author(brand)
    pdf.add_page()
    pdf.title_line(invoice.title)
    details = [("Number", str(invoice.number)), ("Account ID", str(invoice.account_id)),
               ("Issued", f"{_when(invoice.issued_at)} UTC")]
    if credit:
        details.append(("Corrects", f"Invoice {invoice.corrects_number}"
                        if invoice.corrects_number else "A charge without an invoice"))
    if invoice.bill_id:
        details.append(("Bill", f"#{invoice.bill_id}"))
    details.append(("Bill to", "\n".join(invoice.bill_to) or "No billing address on file"))
    pdf.pairs(details)
    pdf.ln(4)
    amount = invoice.amount_cents
    pdf.grid(("Description", "Amount (USD)"),
             [(invoice.description, decimal_text(-amount if credit else amount))],
             (150, 30), ("LEFT", "RIGHT"))
    pdf.ln(2)
    total = "Total credited" if credit else "Total paid"
    pdf.pairs([(total, format_usd(amount))], label_width=45)
    pdf.ln(2)
    method = invoice.method or "the payment method on file"
    if credit:
        pdf.text_line(f"Refunded to {method}. This credit note corrects the invoice named "
                      "above by the amount shown.")
    else:
        pdf.text_line(f"Paid with {method} on {_when(invoice.issued_at)} UTC.")
    return pdf.output_bytes(invoice.issued_at)
