"""Read an intake file (JSON, YAML or the xlsx sheet) into records, within fixed bounds.

Sizes are checked before parsing: a text file over 16 MB, an xlsx over 20 MB, or an xlsx
whose zip declares more than 64 MB uncompressed (a zip bomb) is refused at once; the xlsx
is read with openpyxl in read-only mode, never past `MAX_RECORDS` rows or `MAX_COLUMNS`
columns. A file that cannot be read raises `ValidationFailed` with one file-level error.
"""

import json
import zipfile
from decimal import Decimal
from pathlib import Path

import yaml

from core.errors import FieldError, ValidationFailed
from tasks.form_values import printable
from tasks.intake_records import IntakeRecord, match_hashes, put, record_from_mapping, resolve_key
from tasks.intake_sheet import DATA_SHEET, KEYWORD

MAX_TEXT_BYTES = 16 << 20
MAX_XLSX_BYTES = 20 << 20
MAX_UNZIPPED_BYTES = 64 << 20
MAX_ZIP_MEMBERS = 1000
MAX_RECORDS = 5000
MAX_COLUMNS = 200
SUFFIXES = (".json", ".yaml", ".yml", ".xlsx")


def intake_paths(paths: list[Path]) -> list[Path]:
    """Expand folders into the intake files directly inside them, in name order."""
    out = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            out.append(path)
    return out


def refuse(path: Path, zh: str, en: str) -> ValidationFailed:
    """Return the error for a file that cannot be taken at all."""
    return ValidationFailed([FieldError("(file)", zh, en, file=str(path))],
                            zh="无法读取申报文件", en="cannot read the intake file")


def read_intake(path: Path) -> list[IntakeRecord]:
    """Return the records of one intake file; raise ValidationFailed if it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise refuse(path, f"不支持的文件类型 {suffix or '（无后缀）'}，请使用 .json / .yaml / .xlsx",
                     "unsupported file type; use .json, .yaml or .xlsx")
    if not path.is_file():
        raise refuse(path, "文件不存在", "no such file")
    if suffix == ".xlsx":
        return read_xlsx(path)
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise refuse(path, f"文件过大（上限 {MAX_TEXT_BYTES >> 20} MB）",
                     f"file too large (at most {MAX_TEXT_BYTES >> 20} MB)")
    document = _parse_text(path, suffix)
    return records_from_document(document, file=str(path), base_dir=path.parent)


def _parse_text(path: Path, suffix: str) -> object:
    try:
        text = path.read_bytes().decode("utf-8-sig")
        if suffix == ".json":
            return json.loads(text, parse_float=Decimal)
        return yaml.load(text, Loader=yaml.CSafeLoader)  # noqa: S506 - the C *safe* loader
    except UnicodeDecodeError:
        raise refuse(path, "文件不是 UTF-8 编码", "the file is not UTF-8 encoded") from None
    except RecursionError:
        raise refuse(path, "文件嵌套层数过深", "the file is nested too deeply") from None
    except (ValueError, yaml.YAMLError) as exc:
        detail = printable(str(exc).splitlines()[0], 200) if str(exc) else type(exc).__name__
        raise refuse(path, f"文件格式错误：{detail}", f"malformed file: {detail}") from None


def records_from_document(document: object, *, file: str, base_dir: Path) -> list[IntakeRecord]:
    """Turn a parsed JSON/YAML document (one object or a list of objects) into records."""
    items = document if isinstance(document, list) else [document]
    if not items or document is None:
        raise refuse(Path(file), "文件中没有申报", "the file holds no application")
    if len(items) > MAX_RECORDS:
        raise refuse(Path(file), f"申报过多（上限 {MAX_RECORDS} 件）", f"too many applications (at most {MAX_RECORDS})")
    return [record_from_mapping(item, file=file, row=i, base_dir=base_dir)
            for i, item in enumerate(items, start=1)]


def check_zip(path: Path) -> None:
    """Refuse an xlsx that is too big, not a zip, or declares too much uncompressed data."""
    if path.stat().st_size > MAX_XLSX_BYTES:
        raise refuse(path, f"文件过大（上限 {MAX_XLSX_BYTES >> 20} MB）",
                     f"file too large (at most {MAX_XLSX_BYTES >> 20} MB)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise refuse(path, "不是有效的 xlsx 文件", "not a valid xlsx file") from None
    declared = sum(m.file_size for m in members)
    if len(members) > MAX_ZIP_MEMBERS or declared > MAX_UNZIPPED_BYTES:
        raise refuse(path, "xlsx 解压后过大（疑似压缩炸弹）", "the xlsx expands to too much data (a zip bomb?)")


def read_xlsx(path: Path) -> list[IntakeRecord]:
    """Read the intake sheet: header row, then one application per non-empty row."""
    from openpyxl import load_workbook

    check_zip(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for malformed files  # noqa: BLE001
        raise refuse(path, "无法打开 xlsx 文件", "cannot open the xlsx file") from None
    try:
        ws = wb[DATA_SHEET] if DATA_SHEET in wb.sheetnames else wb.worksheets[0]
        header = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
        width = max((i for i, v in enumerate(header, start=1) if _filled(v)), default=1)
        rows = [header[:width], *ws.iter_rows(min_row=2, max_row=MAX_RECORDS + 2, max_col=width, values_only=True)]
        campaign = _campaign_of(wb.properties.keywords)
    except Exception:  # noqa: BLE001 - same: a damaged sheet may fail while being read
        raise refuse(path, "xlsx 文件内容已损坏", "the xlsx content is damaged") from None
    finally:
        wb.close()
    return records_from_rows(rows, file=str(path), base_dir=path.parent, campaign=campaign)


def _campaign_of(keywords: str | None) -> str | None:
    parts = (keywords or "").split(";")
    if KEYWORD not in parts:
        return None
    return next((p.removeprefix("campaign=") for p in parts if p.startswith("campaign=")), None)


def records_from_rows(rows: list[tuple], *, file: str, base_dir: Path, campaign: str | None) -> list[IntakeRecord]:
    """Turn sheet rows (header first) into records, one per non-empty row."""
    if not rows or not any(_filled(v) for v in rows[0]):
        raise refuse(Path(file), "第 1 行应为表头", "row 1 must hold the column headers")
    if len(rows) > MAX_RECORDS + 1 and any(_filled(v) for v in rows[-1]):
        raise refuse(Path(file), f"申报过多（上限 {MAX_RECORDS} 行）", f"too many rows (at most {MAX_RECORDS})")
    headers = list(rows[0])
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if any(_filled(v) for v in row):
            records.append(_record_from_row(headers, row, number, file, base_dir, campaign))
    if not records:
        raise refuse(Path(file), "表格中没有申报（第 2 行起每行一件）", "the sheet holds no application (one per row from row 2)")
    records[0].problems[:0] = _header_problems(headers, file)
    return records


def _record_from_row(headers: list, row: tuple, number: int, file: str, base_dir: Path,
                     campaign: str | None) -> IntakeRecord:
    record = IntakeRecord(file=file, row=number, base_dir=base_dir)
    for header, value in zip(headers, row, strict=False):
        if not _filled(value) or resolve_key(header) is None and _filled(header):
            continue  # unknown headers are reported once for the file by _header_problems
        if not _filled(header):
            record.problems.append(record.error("(column)", "有数据的列缺少表头", "a column with data has no header"))
            continue
        put(record, header, value)
    match_hashes(record)
    if record.campaign is None:
        record.campaign = campaign
    return record


def _header_problems(headers: list, file: str) -> list[FieldError]:
    out = []
    for col, header in enumerate(headers, start=1):
        if _filled(header) and resolve_key(header if isinstance(header, str) else str(header)) is None:
            shown = printable(header, 40)
            out.append(FieldError(f"(column {col})", f"未知列名“{shown}”", "unknown column header", file=file, row=1))
    return out


def _filled(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())
