"""Where things sit in a score sheet (评分表): shared by the writer and the importer.

Sheet "评分表": row 1 title, row 2 instructions, row 3 (hidden) the machine key of each
column, row 4 the column headings, rows 5.. one entry each. A very hidden sheet holds
the header that makes the file self-describing (campaign, unit, stage, expert, criteria).
"""

from openpyxl.utils import get_column_letter

from core.campaign import Rubric

SHEET = "评分表"
META = "tuijian"
FORMAT = "tuijian-score-sheet/1"
TITLE_ROW, NOTE_ROW, KEY_ROW, HEAD_ROW, FIRST_ROW = 1, 2, 3, 4, 5
INFO_KEYS = ("reference", "enterprise", "project", "direction")
INFO_HEADS = ("申报编号\nReference", "申报单位\nApplicant", "项目名称\nProject", "方向\nDirection")
YES, NO = "是", "否"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000


def column_keys(rubric: Rubric) -> list[str]:
    """The machine key of every column, left to right."""
    return [*INFO_KEYS, *(c.key for c in rubric.criteria), "conflict", "note"]


def column_of(rubric: Rubric, key: str) -> str:
    """The column letter holding `key` ("" when there is none)."""
    keys = column_keys(rubric)
    return get_column_letter(keys.index(key) + 1) if key in keys else ""


def column_label(rubric: Rubric, key: str) -> str:
    """Name a column for an error message, e.g. "E列/demo"."""
    letter = column_of(rubric, key)
    return f"{letter}列/{key}" if letter else key
