"""The final list's two files: an xlsx (list sheet + history sheet) and an escaped HTML page."""

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from core.clock import fmt_cn_date
from core.settings import PROJECT_ROOT
from tasks.final_list import FinalList
from tasks.letter import cn_number
from tasks.summary_table import display_width, put_text, workbook_bytes

LIST_HEADERS = ("序号", "项目名称", "项目单位", "推荐单位", "备注")
HISTORY_HEADERS = ("日期", "事项", "项目名称", "项目单位", "类别", "理由")
LIST_SHEET, HISTORY_SHEET = "示范项目名单", "名单变动记录"
THIN = Side(style="thin", color="000000")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(horizontal="left", vertical="center", wrap_text=True)
FONT, BOLD = Font(name="宋体", size=12), Font(name="宋体", size=12, bold=True)


def _line(ws: Worksheet, row: int, text: str, span: int, font: Font) -> None:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=span)
    put_text(ws.cell(row, 1), text)
    ws.cell(row, 1).font, ws.cell(row, 1).alignment = font, WRAP


def _row(ws: Worksheet, row: int, values: tuple, font: Font = FONT) -> None:
    for col, value in enumerate(values, 1):
        cell = ws.cell(row, col)
        if isinstance(value, int):
            cell.value = value
        else:
            put_text(cell, value)
        cell.font, cell.alignment, cell.border = font, WRAP, BOX


def _widths(ws: Worksheet, headers: tuple, first_data_row: int) -> None:
    for col in range(1, len(headers) + 1):
        texts = [str(ws.cell(r, col).value or "") for r in range(first_data_row - 1, ws.max_row + 1)]
        width = max(display_width(t) for t in texts) + 3
        ws.column_dimensions[get_column_letter(col)].width = min(48, max(8, width))


def dates_line(data: FinalList) -> str:
    """发布日期, and 更新日期 when a later event changed the list."""
    line = f"发布日期：{fmt_cn_date(data.published)}"
    if fmt_cn_date(data.when) != fmt_cn_date(data.published):
        line += f"　更新日期：{fmt_cn_date(data.when)}"
    return line


def _list_sheet(ws: Worksheet, data: FinalList) -> None:
    span = len(LIST_HEADERS)
    _line(ws, 1, data.title, span, Font(name="方正小标宋简体", size=18))
    _line(ws, 2, f"{data.organ}　{data.publicity}　{dates_line(data)}", span, FONT)
    _row(ws, 3, LIST_HEADERS, BOLD)
    row, number = 3, 0
    for i, (direction, rows) in enumerate(data.sections, 1):
        row += 1
        _line(ws, row, f"{cn_number(i)}、{direction}", span, BOLD)
        if not rows:
            row += 1
            _line(ws, row, "（无）", span, FONT)
        for item in rows:
            row, number = row + 1, number + 1
            _row(ws, row, (number, item.project, item.enterprise, item.recommender, item.remark))
    _widths(ws, LIST_HEADERS, 4)
    ws.freeze_panes = "A4"


def _history_sheet(ws: Worksheet, data: FinalList) -> None:
    _line(ws, 1, f"{data.title} · 名单变动记录 / history", len(HISTORY_HEADERS), BOLD)
    _row(ws, 2, HISTORY_HEADERS, BOLD)
    for r, h in enumerate(data.history, 3):
        _row(ws, r, (h.at, h.event_zh, h.project, h.enterprise, h.detail, h.reason))
    if not data.history:
        _line(ws, 3, "名单发布后无变动 / no change since the list was published", len(HISTORY_HEADERS), FONT)
    _widths(ws, HISTORY_HEADERS, 3)


def final_list_xlsx(data: FinalList) -> bytes:
    """The list and its history as a workbook with stable bytes."""
    wb = Workbook()
    _list_sheet(wb.active, data)
    wb.active.title = LIST_SHEET
    _history_sheet(wb.create_sheet(HISTORY_SHEET), data)
    return workbook_bytes(wb, data.when, title=data.title, author=data.organ)


@lru_cache
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(PROJECT_ROOT / "templates" / "final_list"),
                      autoescape=select_autoescape(enabled_extensions=("html", "html.j2")),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cn_date"] = fmt_cn_date
    env.filters["cn_number"] = cn_number
    return env


def final_list_html(data: FinalList, campaign_name: str) -> bytes:
    """The list and its history as one published page (every text escaped)."""
    html = _env().get_template("final_list.html.j2").render(data=data, campaign_name=campaign_name)
    return html.encode("utf-8")
