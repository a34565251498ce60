"""推荐项目汇总表 (xlsx): the template of the Guangdong notice, laid out to print on A4 landscape.

Title, "推荐单位：…", the columns 序号 | 项目单位 | 项目名称 | 项目联系人及电话 | 备注, the rows in
recommended order, then the 注意事项 of the unit that asks for the table. The fixed wording is
in templates/summary_table/labels.txt.j2. Every text cell is written as text: a value such as
`=HYPERLINK(...)` stays a string (data type "s"), never a formula.
"""

import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from core.campaign import CampaignConfig, UnitSpec
from core.clock import to_utc
from core.settings import PROJECT_ROOT
from tasks.doc_files import safe_component, stable_zip

HEADERS = ("序号", "项目单位", "项目名称", "项目联系人及电话", "备注")
MIN_WIDTHS = (6, 20, 20, 18, 16)
MAX_WIDTH = 42
TABLE_FONT, TITLE_FONT, NOTE_FONT = "宋体", "方正小标宋简体", "仿宋"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
HEADER_ROW = 3


@dataclass(frozen=True)
class SummaryRow:
    enterprise: str
    project: str
    contact: str
    remark: str


@dataclass(frozen=True)
class Section:
    """A block of rows; `heading` names the direction when one table holds several."""

    heading: str | None
    rows: list[SummaryRow]


@dataclass(frozen=True)
class TableSpec:
    """One summary table a unit sends: its direction ("" for all), title and file name."""

    direction: str
    title: str
    file_name: str


@lru_cache(maxsize=1)
def labels():
    """The table's fixed wording: the macros of templates/summary_table/labels.txt.j2."""
    env = Environment(loader=FileSystemLoader(PROJECT_ROOT / "templates" / "summary_table"),
                      undefined=StrictUndefined, autoescape=False)
    return env.get_template("labels.txt.j2").module


def table_specs(config: CampaignConfig, unit: UnitSpec) -> list[TableSpec]:
    """The summary tables a unit sends: one per direction if the receiving unit asks so, else one."""
    parent = config.unit(unit.parent) if unit.parent else None
    if parent is None or not parent.child_per_direction_tables:
        return [TableSpec("", config.summary_title, "汇总表.xlsx")]
    return [TableSpec(key, d.table_title or f"{config.summary_title}（{d.name}）",
                      f"汇总表-{safe_component(d.name)}.xlsx")
            for key, d in config.directions.items()]


def display_width(text: str) -> int:
    """Width of text in Excel column units: CJK characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def put_text(cell: Cell, value: object) -> None:
    """Write a value as plain text; anything that looks like a formula stays a string."""
    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    cell.value = text
    cell.data_type = "s"
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def sheet_name(text: str) -> str:
    """A valid worksheet name (no []:*?/\\, at most 31 characters)."""
    return re.sub(r"[\[\]:*?/\\]", "", text).strip("'")[:31] or "汇总表"


def build_summary_workbook(*, title: str, unit_name: str, sections: list[Section],
                           notes: list[str], sheet: str = "汇总表") -> Workbook:
    """Lay out one summary table as a workbook ready to print."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name(sheet)
    widths = _column_widths(sections)
    _title_rows(ws, title, unit_name)
    last = _body_rows(ws, sections, widths)
    last = _note_rows(ws, notes, last + 1, sum(widths))
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    _page_setup(ws, last)
    return wb


def _title_rows(ws: Worksheet, title: str, unit_name: str) -> None:
    span = len(HEADERS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=span)
    put_text(ws.cell(1, 1), title)
    ws.cell(1, 1).font = Font(name=TITLE_FONT, size=18)
    ws.cell(1, 1).alignment = WRAP_CENTRE
    ws.row_dimensions[1].height = 42
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=span)
    put_text(ws.cell(2, 1), labels().unit_line(unit_name))
    ws.cell(2, 1).font = Font(name=TABLE_FONT, size=12)
    ws.cell(2, 1).alignment = Alignment(horizontal="left", vertical="center")
    ws.row_dimensions[2].height = 26
    for col, header in enumerate(HEADERS, 1):
        cell = ws.cell(HEADER_ROW, col)
        put_text(cell, header)
        cell.font = Font(name=TABLE_FONT, size=12, bold=True)
        cell.alignment, cell.border = WRAP_CENTRE, BOX
    ws.row_dimensions[HEADER_ROW].height = 30


def _body_rows(ws: Worksheet, sections: list[Section], widths: list[int]) -> int:
    row, number = HEADER_ROW, 0
    for section in sections:
        if section.heading is not None:
            row += 1
            _merged_line(ws, row, section.heading, Font(name=TABLE_FONT, size=12, bold=True), BOX)
        if not section.rows:
            row += 1
            _merged_line(ws, row, labels().no_rows(), Font(name=TABLE_FONT, size=12), BOX)
        for item in section.rows:
            row, number = row + 1, number + 1
            values = (number, item.enterprise, item.project, item.contact, item.remark)
            for col, value in enumerate(values, 1):
                cell = ws.cell(row, col)
                if col == 1:
                    cell.value = value
                else:
                    put_text(cell, value)
                cell.font = Font(name=TABLE_FONT, size=12)
                cell.alignment = WRAP_CENTRE if col == 1 else WRAP_LEFT
                cell.border = BOX
            ws.row_dimensions[row].height = _row_height(values, widths)
    return row


def _merged_line(ws: Worksheet, row: int, text: str, font: Font, border: Border | None) -> None:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(HEADERS))
    put_text(ws.cell(row, 1), text)
    ws.cell(row, 1).font, ws.cell(row, 1).alignment = font, WRAP_LEFT
    if border is not None:
        for col in range(1, len(HEADERS) + 1):
            ws.cell(row, col).border = border
    ws.row_dimensions[row].height = 24


def _note_rows(ws: Worksheet, notes: list[str], row: int, total_width: int) -> int:
    if not notes:
        return row - 1
    font = Font(name=NOTE_FONT, size=12)
    row += 1
    _merged_line(ws, row, labels().notes_heading(), font, None)
    for note in notes:
        row += 1
        _merged_line(ws, row, note, font, None)
        ws.row_dimensions[row].height = 18 * _lines(note, total_width) + 6
    return row


def _column_widths(sections: list[Section]) -> list[int]:
    widths = [display_width(h) + 4 for h in HEADERS]
    for section in sections:
        for r in section.rows:
            for i, text in enumerate((r.enterprise, r.project, r.contact, r.remark), 1):
                widths[i] = max(widths[i], display_width(text) + 3)
    return [min(MAX_WIDTH, max(w, m)) for w, m in zip(widths, MIN_WIDTHS, strict=True)]


def _lines(text: str, width: int) -> int:
    return max(1, math.ceil(display_width(text) / max(1, width - 2)))


def _row_height(values: tuple, widths: list[int]) -> float:
    lines = max(_lines(str(v), w) for v, w in zip(values, widths, strict=True))
    return max(24, 16 * lines + 8)


def _page_setup(ws: Worksheet, last_row: int) -> None:
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top, ws.page_margins.bottom = 0.7, 0.7
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{get_column_letter(len(HEADERS))}{last_row}"
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1).coordinate
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def workbook_bytes(wb: Workbook, when: datetime, *, title: str, author: str) -> bytes:
    """Serialise a workbook with properties and zip stamps fixed to `when` (stable bytes)."""
    stamp = to_utc(when).replace(tzinfo=None, microsecond=0)
    props = wb.properties
    props.created = props.modified = stamp
    props.title, props.creator, props.lastModifiedBy = title, author, author
    buffer = BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return stable_zip(buffer.getvalue(), when)
