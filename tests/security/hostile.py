"""Hostile text an applicant might type, and checks that an output shows it only as text.

Each string attacks one kind of output: HTML (script, event handler), spreadsheets (formulas,
DDE), file names (path traversal), terminals and readers (right-to-left override), mail
headers (CR LF injection) and Markdown (table cells, links).
"""

import re
import zipfile
from pathlib import Path

from openpyxl import load_workbook

SCRIPT = '<script>alert("tj")</script>'
IMG = "<img src=x onerror=alert(1)>"
FORMULA = "=cmd|' /C calc'!A0"
PLUS = "+SUM(1,2)"
AT = "@SUM(1)"
TRAVERSAL = "../../x"
RTL = "\u202egnp.exe"
CRLF = "中心\r\nBcc: evil@example.com"
MARKDOWN = "| 单元格 | [点我](javascript:alert(1))"

FIELDS = {  # where each application of the test carries its hostile text
    "enterprise_name": [f"{SCRIPT}有限公司", f"{FORMULA}", f"{IMG}公司", f"{RTL}科技"],
    "project_name": [f"{TRAVERSAL}体验中心", f"{PLUS}平台", CRLF, f"{MARKDOWN}"],
    "contact_name": [AT, "张三", f"{RTL}李四", "<b>王五</b>"],
    "overview": [SCRIPT, FORMULA, IMG, MARKDOWN],
}
RAW_HTML = ("<script>alert", "<img src=x", "<b>王五")  # as typed; the pages have scripts of their own
FORMULA_START = ("=", "+", "-", "@")


def xlsx_problems(path: Path) -> list[str]:
    """Formulas anywhere in a workbook, or hostile text not kept as a plain string."""
    problems = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and re.search(rb"<f[ >]", archive.read(name)):
                problems.append(f"{path.name}:{name}: a formula")
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START) and cell.data_type != "s":
                    problems.append(f"{path.name}:{ws.title}!{cell.coordinate} is {cell.data_type}")
    return problems


def xlsx_text(path: Path) -> str:
    """All cell values of a workbook, joined."""
    return "\n".join(str(c.value) for ws in load_workbook(path).worksheets
                     for row in ws.iter_rows() for c in row if c.value is not None)


def html_problems(where: str, html: str) -> list[str]:
    """Applicant markup that reached HTML unescaped."""
    return [f"{where}: raw {raw!r}" for raw in RAW_HTML if raw in html]


def name_problems(root: Path) -> list[str]:
    """Files whose names carry applicant text that could mislead or escape (RTL, control, '..')."""
    problems = []
    for path in root.rglob("*"):
        name = path.name
        if any(ch in name for ch in ("\u202e", "\u202d", "\r", "\n")) or ".." in name or not path.resolve().is_relative_to(root.resolve()):
            problems.append(str(path))
    return problems
