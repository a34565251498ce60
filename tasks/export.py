"""The coordinators' "everything" export (评审明细.xlsx): every entry at a unit, all statuses,
every expert's score per criterion, the aggregate, the rank and the decision with its reason."""

from collections import defaultdict
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, select

from models import ConflictOfInterest, Person, Score
from tasks.document_data import KIND_NAMES, STATUS_NAMES, Row, StageData, order_key
from tasks.summary_table import BOX, TABLE_FONT, display_width, put_text

FIXED = ("序号", "申报编号", "方向", "项目单位", "项目名称", "报送来源", "状态", "形式审查意见")
TAIL = ("综合得分", "排名", "推荐类别", "省级示范项目", "决定说明")
CONFLICT_HEADERS = ("申报编号", "项目单位", "专家", "回避原因")
CONFLICT_MARK = "回避"


@dataclass
class ExportInputs:
    """Scores and conflicts of a stage's entries, with the experts' names."""

    scores: dict[tuple[int, str, str], Decimal] = field(default_factory=dict)
    conflicts: dict[tuple[int, str], str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def load_export_inputs(session: Session, data: StageData) -> ExportInputs:
    """Read every score and declared conflict of the stage's entries."""
    ids = [r.entry.id for r in data.rows]
    out = ExportInputs()
    if not ids:
        return out
    for s in session.exec(select(Score).where(Score.entry_id.in_(ids))):
        out.scores[(s.entry_id, s.expert_key, s.criterion)] = s.value
    for c in session.exec(select(ConflictOfInterest).where(ConflictOfInterest.entry_id.in_(ids))):
        out.conflicts[(c.entry_id, c.expert_key)] = c.reason
    experts = {k[1] for k in out.scores} | {k[1] for k in out.conflicts}
    if experts:  # only the experts' names are shown (a national campaign has thousands of people)
        people = session.exec(select(Person).where(Person.campaign_id == data.campaign.id,
                                                   Person.key.in_(experts)))
        out.names = {p.key: p.name for p in people}
    return out


def expert_order(data: StageData, inputs: ExportInputs) -> list[str]:
    """Experts who scored or declared a conflict: the unit's own in file order, then the rest."""
    seen = {k[1] for k in inputs.scores} | {k[1] for k in inputs.conflicts}
    own = [e.id for e in data.unit.experts if e.id in seen]
    return own + sorted(seen - set(own))


def criterion_order(data: StageData, inputs: ExportInputs) -> list[tuple[str, str]]:
    """(key, name) of every criterion scored: the rubric's first, then any other."""
    rubric = [(c.key, c.name) for c in data.config.rubric.criteria]
    known = {k for k, _ in rubric}
    extra = sorted({k[2] for k in inputs.scores} - known)
    return rubric + [(k, k) for k in extra]


def export_rows(data: StageData) -> list[Row]:
    """Every entry at the unit: by direction (campaign order), then recommended order."""
    directions = list(data.config.directions)
    return sorted(data.rows, key=lambda r: (
        directions.index(r.entry.direction) if r.entry.direction in directions else len(directions),
        order_key(r)))


def build_export_workbook(data: StageData, inputs: ExportInputs) -> Workbook:
    """Lay out the full review record of a stage as a workbook."""
    wb = Workbook()
    ws = wb.active
    ws.title = "评审明细"
    experts, criteria = expert_order(data, inputs), criterion_order(data, inputs)
    grid = [(x, c) for x in experts for c in criteria]
    headers = [*FIXED, *(f"{inputs.names.get(x, x)}·{name}" for x, (_, name) in grid), *TAIL]
    _header(ws, headers)
    style = None
    for i, row in enumerate(export_rows(data), 1):
        style = _entry_row(ws, i + 1, i, row, data, inputs, grid, style)
    _finish(ws, headers, len(data.rows) + 1)
    _conflict_sheet(wb.create_sheet("回避情况"), data, inputs)
    return wb


def _header(ws: Worksheet, headers: list[str]) -> None:
    for col, text in enumerate(headers, 1):
        cell = ws.cell(1, col)
        put_text(cell, text)
        cell.font = Font(name=TABLE_FONT, size=11, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BOX


def _entry_row(ws: Worksheet, r: int, number: int, row: Row, data: StageData,
               inputs: ExportInputs, grid: list, style: StyleArray | None) -> StyleArray:
    """Write one entry's row; every body cell gets the style of the first one (`style`, once set)."""
    e, a = row.entry, row.app
    direction = data.config.directions.get(e.direction)
    kind = e.passthrough or e.quota_kind
    texts = [a.reference, direction.name if direction else e.direction, a.enterprise_name,
             a.project_name, data.unit_name(e.from_unit_code) or "直接申报",
             STATUS_NAMES.get(e.status, e.status), e.review_note]
    cells: list[object] = [number, *texts]
    for expert, (key, _) in grid:
        conflict = (e.id, expert) in inputs.conflicts
        cells.append(CONFLICT_MARK if conflict else inputs.scores.get((e.id, expert, key)))
    cells += [e.score, e.rank, KIND_NAMES.get(kind, "") if kind else "",
              "是" if e.provincial_title else "", e.decision_note]
    for col, value in enumerate(cells, 1):
        cell = ws.cell(r, col)
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            cell.value = value
        elif value is not None:
            put_text(cell, value)
        if style is None:
            cell.font = Font(name=TABLE_FONT, size=11)
            cell.border = BOX
            cell.alignment = Alignment(vertical="center", wrap_text=True)
            style = copy(cell._style)
            style.quotePrefix = 0
        else:  # the same font, border and alignment ids: no style lookup per cell
            prefix = cell._style.quotePrefix if cell._style else 0  # put_text marks formula-like text
            cell._style = copy(style)
            cell._style.quotePrefix = prefix
    return style


def _finish(ws: Worksheet, headers: list[str], last: int) -> None:
    for col, text in enumerate(headers, 1):
        longest = max([display_width(str(ws.cell(r, col).value or "")) for r in range(2, last + 1)],
                      default=0)
        width = max(min(display_width(text), 16), min(longest, 36)) + 3
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "E2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"


def _conflict_sheet(ws: Worksheet, data: StageData, inputs: ExportInputs) -> None:
    _header(ws, list(CONFLICT_HEADERS))
    by_entry = defaultdict(list)
    for (entry_id, expert), reason in sorted(inputs.conflicts.items()):
        by_entry[entry_id].append((expert, reason))
    r = 1
    for row in export_rows(data):
        for expert, reason in by_entry.get(row.entry.id, []):
            r += 1
            for col, text in enumerate((row.app.reference, row.app.enterprise_name,
                                        inputs.names.get(expert, expert), reason), 1):
                put_text(ws.cell(r, col), text)
    for col, width in enumerate((18, 36, 16, 48), 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
