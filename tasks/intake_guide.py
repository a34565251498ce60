"""The 填写说明 (how to fill in) sheet of the intake workbook: one line per column, then the units."""

from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from core.campaign import CampaignConfig
from core.clock import fmt
from models.forms import ATTACHMENT_KINDS, FIELDS, OWNERSHIP, FormField
from models.honours import COLUMNS as HONOUR_COLUMNS
from models.honours import FIRST_YEAR, LAST_YEAR, LEVELS, OTHER_MAX_LENGTH

KIND_NAMES = {
    "str": "文字 / text", "text": "长文本 / long text", "money": "金额（万元） / amount in 10k yuan",
    "decimal": "数字 / number", "int": "整数 / whole number", "date": "日期 / date (2023-05-01)",
    "bool": "是/否 / yes-no", "choice": "下拉选择 / choice", "email": "电子邮箱 / e-mail",
    "phone": "电话 / phone", "uscc": "统一社会信用代码 / USCC (18)",
}
FORM_NAMES = {"platform": "平台", "experience_centre": "体验中心"}
BOLD = Font(bold=True)


def write_guide(ws: Worksheet, config: CampaignConfig) -> None:
    """Fill the guide sheet: what each column means, its type, when required, its limits."""
    ws.append([f"{config.name} — 申报信息表填写说明 / how to fill in the intake sheet"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"活动 / campaign: {config.slug}；每行一件申报 / one application per row；"
               "除另有说明外栏目不得空缺 / every column is required unless stated otherwise"])
    ws.append([])
    ws.append(["列名 / column", "字段键 / key", "类型 / type", "必填 / required", "适用方向 / form", "说明 / notes"])
    _bold_row(ws)
    for row in column_rows(config):
        ws.append(row)
    ws.append([])
    ws.append(["推荐单位代码 / unit", "单位名称 / name", "层级 / level", "截止时间 / deadline",
               "注册地要求 / registered in"])
    _bold_row(ws)
    for unit in config.units:
        if unit.accepts_applications:
            ws.append([unit.code, unit.name, unit.level, fmt(unit.deadline), unit.region or ""])
    for col, width in zip("ABCDEF", (34, 24, 26, 26, 16, 70), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _bold_row(ws: Worksheet) -> None:
    for cell in ws[ws.max_row]:
        cell.font = BOLD


def column_rows(config: CampaignConfig) -> list[list[str]]:
    """Return one guide line per intake column."""
    directions = "；".join(f"{d.name}" for d in config.directions.values())
    rows = [
        ["推荐单位代码", "unit", "文字 / text", "是 / yes", "全部 / all",
         "受理本申报的单位代码，见下表 / code of the receiving unit, see the table below"],
        ["方向", "direction", "下拉选择 / choice", "是 / yes", "全部 / all", f"可选 / one of: {directions}"],
    ]
    for f in FIELDS:
        rows += honour_rows() if f.kind == "honours" else [_field_row(f, config)]
    for kind, name in ATTACHMENT_KINDS.items():
        rows.append([f"{kind} {name}（文件路径）", kind, "文件路径 / file path", _attachment_need(kind, config),
                     "全部 / all", "相对于本表格所在文件夹；多个文件用换行或分号分隔 / relative to this workbook's "
                     "folder; several files separated by line breaks or ;"])
        rows.append([f"{kind} sha256（可选）", f"{kind} sha256", "64 位十六进制 / 64 hex digits", "否 / no",
                     "全部 / all", "可选：与左列文件路径逐行对应的 SHA-256，受理时核对 / optional: the SHA-256 of each "
                     "path in the column to the left, line by line; checked on intake"])
    return rows


def _attachment_need(kind: str, config: CampaignConfig) -> str:
    needing = [d.name for d in config.directions.values() if kind in d.required_attachments]
    if len(needing) == len(config.directions):
        return "是 / yes"
    return "、".join(needing) + "必填 / required for these directions" if needing else "否 / no"


def honour_rows() -> list[list[str]]:
    """Return the guide lines of the 相关荣誉 columns: per title its level and year, then the rest."""
    rows = []
    for key, header in HONOUR_COLUMNS.items():
        if key.endswith(".level"):
            rows.append([header, key, "下拉选择 / choice", "否 / no", "全部 / all",
                         "持有该称号时填写，可选 / if held, one of: " + "、".join(LEVELS)])
        elif key.endswith(".year"):
            rows.append([header, key, "年份 / year", "填写级别时必填 / if the level is given", "全部 / all",
                         f"授予年份，如 2020（{FIRST_YEAR}–{LAST_YEAR}） / the year granted, e.g. 2020"])
        else:
            rows.append([header, key, KIND_NAMES["text"], "否 / no", "全部 / all",
                         f"自行添加的其他市级以上荣誉；最长 {OTHER_MAX_LENGTH} 字 / other honours at city "
                         f"level or above; at most {OTHER_MAX_LENGTH} characters"])
    return rows


def _field_row(field: FormField, config: CampaignConfig) -> list[str]:
    forms = "、".join(FORM_NAMES[f] for f in field.forms)
    return [field.label, field.key, KIND_NAMES[field.kind], _required_text(field), forms,
            "；".join(field_notes(field, config))]


def _required_text(field: FormField) -> str:
    if field.required is True:
        return "是 / yes"
    if field.required is False:
        return "否 / no"
    condition = field.required.removeprefix("if:")
    if condition == "ownership=其他":
        return "单位性质为“其他”时必填 / if ownership is 其他"
    label = next(f.label for f in FIELDS if f.key == condition)
    return f"“{label}”为“是”时必填 / if {condition} is yes"


def field_notes(field: FormField, config: CampaignConfig) -> list[str]:
    """Return the limits and rules that apply to one field in this campaign."""
    notes = []
    if field.kind == "choice":
        notes.append("可选 / one of: " + "、".join(OWNERSHIP))
    for d in config.directions.values():
        if d.form in field.forms and field.key in d.text_limits:
            notes.append(f"{d.name}：不超过 {d.text_limits[field.key]} 字 / at most "
                         f"{d.text_limits[field.key]} characters")
        notes += [f"{d.name}：{r.zh} / {r.en}" for r in d.rules if r.field == field.key]
    if field.kind in ("str", "text"):
        notes.append(f"最长 {field.max_length} 字 / at most {field.max_length} characters")
    if field.kind == "phone":
        notes.append("11 位手机号 / 11-digit mobile" if "手机" in field.label else "如 / e.g. 020-12345678")
    return notes
