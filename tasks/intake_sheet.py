"""The xlsx intake sheet (申报信息表): one row per application, headers = the 申报书 labels.

`write_intake_sheet(config, path, rows=...)` writes the empty template (`tuijian template
intake`) or a filled one (synthetic data): drop-downs for 推荐单位代码, 方向, 单位性质 and the
是/否 columns, a frozen and styled header row, a 填写说明 sheet explaining every column.
Each attachment kind has a path column and an optional sha256 column beside it.
Reading it back is header-driven (`tasks.intake_read`), so columns may be reordered.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from core.campaign import CampaignConfig
from models.forms import ATTACHMENT_KINDS, FIELDS, OWNERSHIP
from models.honours import COLUMNS as HONOUR_COLUMNS
from models.honours import FIRST_YEAR, LAST_YEAR, LEVELS, Honours
from tasks.intake_checks import required_attachments
from tasks.intake_guide import write_guide

DATA_SHEET, LISTS_SHEET = "申报信息", "_lists"
UNIT_HEADER, DIRECTION_HEADER = "推荐单位代码", "方向"
ATTACHMENT_HEADERS = {kind: f"{kind} {name}（文件路径）" for kind, name in ATTACHMENT_KINDS.items()}
HASH_HEADERS = {kind: f"{kind} sha256（可选）" for kind in ATTACHMENT_KINDS}
KEYWORD = "tuijian-intake"
FORMATTED_ROWS = 300  # rows given text/date formats in the empty template
VALIDATED_ROWS = 2000
WIDTHS = {"text": 40, "str": 22, "date": 13, "bool": 10, "choice": 14, "uscc": 22, "email": 24, "sha256": 30, "honour": 14}
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
OPTIONAL_FILL = PatternFill("solid", fgColor="5B7FA6")
THIN = Side(style="thin", color="999999")


def sheet_headers() -> list[str]:
    """Return the intake sheet's column headers in template order."""
    attachments = [h for kind in ATTACHMENT_KINDS for h in (ATTACHMENT_HEADERS[kind], HASH_HEADERS[kind])]
    fields = [h for f in FIELDS for h in (HONOUR_COLUMNS.values() if f.kind == "honours" else [f.label])]
    return [UNIT_HEADER, DIRECTION_HEADER, *fields, *attachments]


def write_intake_sheet(config: CampaignConfig, path: Path, rows: Iterable[Mapping] = ()) -> Path:
    """Write the intake workbook for a campaign, with `rows` (intake records by key) filled in."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    _write_header(ws, config)
    write_guide(wb.create_sheet("填写说明"), config)
    _write_lists(wb, config)
    _add_validations(ws, config)
    count = 0
    for count, record in enumerate(rows, start=1):
        _write_row(ws, count + 1, record, config)
    if count == 0:
        _format_empty_rows(ws)
    wb.properties.title = f"{config.name} 申报信息表"
    wb.properties.keywords = f"{KEYWORD};campaign={config.slug}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _write_header(ws: Worksheet, config: CampaignConfig) -> None:
    by_label = {f.label: f for f in FIELDS}
    required_paths = {ATTACHMENT_HEADERS[kind] for kind in required_attachments(config, None)}
    hash_headers = set(HASH_HEADERS.values())
    honour_parts = {h for k, h in HONOUR_COLUMNS.items() if k != "honours.other"}
    for col, header in enumerate(sheet_headers(), start=1):
        cell = ws.cell(row=1, column=col, value=header)
        field = by_label.get(header)
        required = field.required is True if field else col <= 2 or header in required_paths
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL if required else OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
        kind = field.kind if field else ("str" if col <= 2 else "sha256" if header in hash_headers
                                         else "honour" if header in honour_parts else "text")
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS.get(kind, 16)
    ws.row_dimensions[1].height = 48
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet_headers()))}1"


def _write_lists(wb: Workbook, config: CampaignConfig) -> None:
    lists = wb.create_sheet(LISTS_SHEET)
    for i, d in enumerate(config.directions.values(), start=1):
        lists.cell(row=i, column=1, value=d.name)
    for i, unit in enumerate(accepting_units(config), start=1):
        lists.cell(row=i, column=2, value=unit.code)
    lists.sheet_state = "hidden"


def accepting_units(config: CampaignConfig) -> list:
    """Return the units that accept applications, in campaign order."""
    return [u for u in config.units if u.accepts_applications]


def _add_validations(ws: Worksheet, config: CampaignConfig) -> None:
    letters = {h: get_column_letter(i) for i, h in enumerate(sheet_headers(), start=1)}
    lists = quote_sheetname(LISTS_SHEET)
    n_units = max(len(accepting_units(config)), 1)
    _list_validation(ws, letters[UNIT_HEADER], f"{lists}!$B$1:$B${n_units}", "请从下拉列表选择推荐单位代码")
    _list_validation(ws, letters[DIRECTION_HEADER], f"{lists}!$A$1:$A${len(config.directions)}",
                     "请从下拉列表选择申报方向")
    for key, header in HONOUR_COLUMNS.items():
        if key.endswith(".level"):
            _list_validation(ws, letters[header], '"' + ",".join(LEVELS) + '"', "请选择“国家级”或“省市级”")
        elif key.endswith(".year"):
            dv = DataValidation(type="whole", operator="between", formula1=str(FIRST_YEAR), formula2=str(LAST_YEAR),
                                allow_blank=True, showErrorMessage=True, errorTitle="年份 / year",
                                error=f"请填写 {FIRST_YEAR}–{LAST_YEAR} 之间的年份，如 2020")
            dv.add(f"{letters[header]}2:{letters[header]}{VALIDATED_ROWS}")
            ws.add_data_validation(dv)
    for field in FIELDS:
        col = letters.get(field.label)
        if field.kind == "choice":
            _list_validation(ws, col, '"' + ",".join(OWNERSHIP) + '"', "请从下拉列表选择单位性质")
        elif field.kind == "bool":
            _list_validation(ws, col, '"是,否"', "请填写“是”或“否”")
        elif field.kind == "date":
            dv = DataValidation(type="date", operator="between", formula1="DATE(1900,1,1)",
                                formula2="DATE(2100,12,31)", showErrorMessage=True,
                                errorTitle="日期 / date", error="请填写日期，如 2023-05-01")
            dv.add(f"{col}2:{col}{VALIDATED_ROWS}")
            ws.add_data_validation(dv)


def _list_validation(ws: Worksheet, col: str, formula: str, message: str) -> None:
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                        errorTitle="请选择 / choose", error=message)
    dv.add(f"{col}2:{col}{VALIDATED_ROWS}")
    ws.add_data_validation(dv)


def _format_empty_rows(ws: Worksheet) -> None:
    """Give the template's rows text format where Excel would mangle digits, date format for dates."""
    for col, header in enumerate(sheet_headers(), start=1):
        fmt = _number_format(header)
        if fmt:
            for row in range(2, FORMATTED_ROWS + 2):
                ws.cell(row=row, column=col).number_format = fmt


def _number_format(header: str) -> str | None:
    field = next((f for f in FIELDS if f.label == header), None)
    if header in (UNIT_HEADER, *HASH_HEADERS.values()) or field and field.kind in ("phone", "uscc", "str"):
        return "@"
    return "yyyy-mm-dd" if field and field.kind == "date" else None


def _write_row(ws: Worksheet, row: int, record: Mapping, config: CampaignConfig) -> None:
    direction = record.get("direction")
    spec = config.directions.get(direction) if isinstance(direction, str) else None
    values = {UNIT_HEADER: record.get("unit"), DIRECTION_HEADER: spec.name if spec else direction}
    for field in FIELDS:
        if field.kind == "honours":
            values |= honour_cells(record.get(field.key))
        else:
            values[field.label] = record.get(field.key)
    for kind in ATTACHMENT_KINDS:
        refs = [a for a in record.get("attachments", []) if a.get("kind") == kind]
        values[ATTACHMENT_HEADERS[kind]] = "\n".join(a["path"] for a in refs) or None
        if refs and all(a.get("sha256") for a in refs):  # hashes only when every path has one
            values[HASH_HEADERS[kind]] = "\n".join(a["sha256"] for a in refs)
    for col, header in enumerate(sheet_headers(), start=1):
        value = values.get(header)
        cell = ws.cell(row=row, column=col, value=cell_value(value))
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        elif _number_format(header) == "@":
            cell.number_format = "@"


def honour_cells(value: object) -> dict[str, object]:
    """Return the 相关荣誉 columns of a record's honours (parts by key, or text as the other honours)."""
    if isinstance(value, Honours):
        value = value.plain()
    if isinstance(value, str):
        return {HONOUR_COLUMNS["honours.other"]: value}
    if not isinstance(value, Mapping):
        return {}
    cells = {HONOUR_COLUMNS["honours.other"]: value.get("other")}
    for part, held in value.items():
        if isinstance(held, Mapping):
            cells |= {HONOUR_COLUMNS.get(f"honours.{part}.{attr}", attr): v for attr, v in held.items()}
    return cells


def cell_value(value: object) -> object:
    """Return how a typed value is written into a cell (是/否 for yes/no, numbers as numbers)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value
