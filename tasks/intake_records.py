"""One application as read from an intake file, before any rule is applied.

A record is built from a JSON/YAML object or a spreadsheet row. Keys may be the catalogue
keys (`uscc`) or the Chinese labels of the 申报书 (`统一社会信用代码`); full- and half-width
punctuation, spaces and a leading `*` are ignored when matching them. Unknown keys and
badly shaped attachment lists become problems of the record, reported with the others.
A spreadsheet gives an attachment's sha256 in the optional `附N sha256` column beside its
path column, one hash per path, in the same order.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import FieldError
from models.forms import ATTACHMENT_KINDS, FIELDS
from models.honours import COLUMNS as HONOUR_COLUMNS
from tasks.form_values import describe, printable

META_NAMES = {
    "campaign": ("campaign", "活动", "活动代码"),
    "unit": ("unit", "推荐单位代码", "推荐单位", "受理单位代码"),
    "direction": ("direction", "方向", "申报方向"),
    "attachments": ("attachments", "附件"),
}
EXTRA_LABELS = {"项目名称": "project_name", "平台名称": "project_name", "体验中心名称": "project_name",
                "平台概述": "overview", "体验中心概述": "overview", "体验中心面积": "area"}
ATTACHMENT_HEADER = re.compile(r"^附(?:件)?([123])")
HASH_HEADER = re.compile(r"^附(?:件)?([123]).*sha-?256")
PATH_SEPARATORS = re.compile(r"[\n;；]+")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class AttachmentRef:
    """An attachment named by an intake file: its kind (附1/附2/附3), path and optional sha256."""

    kind: str
    path: str
    sha256: str | None = None


@dataclass
class IntakeRecord:
    """One application as read: raw form values by catalogue key, routing fields, attachments."""

    values: dict[str, object] = field(default_factory=dict)
    campaign: object = None
    unit: object = None
    direction: object = None
    attachments: list[AttachmentRef] = field(default_factory=list)
    file: str | None = None
    row: int | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    problems: list[FieldError] = field(default_factory=list)
    hashes: dict[str, object] = field(default_factory=dict)  # 附N → its sha256 cell, until matched

    def error(self, key: str, zh: str, en: str) -> FieldError:
        """Return a FieldError located at this record's file and row."""
        return FieldError(key, zh, en, file=self.file, row=self.row)


def normalise_header(name: str) -> str:
    """Fold a key or column header for matching: NFKC, no whitespace, no leading '*', lower case."""
    folded = unicodedata.normalize("NFKC", name)
    return "".join(folded.split()).lstrip("*").casefold()


def _aliases() -> dict[str, str]:
    table = {normalise_header(f.key): f.key for f in FIELDS}
    table.update({normalise_header(f.label): f.key for f in FIELDS})
    table.update({normalise_header(label): key for label, key in EXTRA_LABELS.items()})
    for key, label in HONOUR_COLUMNS.items():  # 相关荣誉 by part (xlsx columns)
        table.update({normalise_header(key): key, normalise_header(label): key})
    for meta, names in META_NAMES.items():
        table.update({normalise_header(n): f"@{meta}" for n in names})
    return table


ALIASES = _aliases()


def resolve_key(name: object) -> str | None:
    """Return the catalogue key, '@meta' name, '附N' kind or '附N:sha256' a key/header stands for, else None."""
    if not isinstance(name, str) or len(name) > 200:
        return None
    folded = normalise_header(name)
    if folded in ALIASES:
        return ALIASES[folded]
    match = HASH_HEADER.match(folded)
    if match:
        return f"附{match[1]}:sha256"
    match = ATTACHMENT_HEADER.match(folded)
    return f"附{match[1]}" if match else None


def record_from_mapping(obj: object, *, file: str | None, row: int | None, base_dir: Path) -> IntakeRecord:
    """Build a record from one JSON/YAML object (keys are catalogue keys or Chinese labels)."""
    record = IntakeRecord(file=file, row=row, base_dir=base_dir)
    if not isinstance(obj, dict):
        record.problems.append(record.error("(record)", f"每件申报应为一个对象（键值表），实为{describe(obj)}",
                                            "each application must be an object (a mapping)"))
        return record
    for name, value in obj.items():
        put(record, name, value)
    match_hashes(record)
    return record


def put(record: IntakeRecord, name: object, value: object) -> None:
    """Store one key/value (or column/cell) in a record, noting unknown or repeated keys."""
    key = resolve_key(name)
    if key is None:
        record.problems.append(record.error(printable(name), f"未知栏目 “{printable(name, 20)}”", "unknown field"))
    elif key.startswith("honours."):
        put_honour_part(record, key, value)
    elif key.endswith(":sha256"):
        kind = key.removesuffix(":sha256")
        if kind in record.hashes:
            record.problems.append(record.error(f"{kind} sha256", f"{kind} sha256 重复填写", f"{kind} sha256 is given twice"))
        record.hashes[kind] = value
    elif key.startswith("附"):
        add_attachment_paths(record, key, value)
    elif key == "@attachments":
        record.attachments.extend(attachment_list(record, value))
    elif key.startswith("@") and getattr(record, key[1:]) is None:
        setattr(record, key[1:], value)
    elif key in record.values or key.startswith("@"):
        plain = key.lstrip("@")
        record.problems.append(record.error(plain, f"栏目 {plain} 重复填写", f"{plain} is given twice"))
    else:
        record.values[key] = value


def add_attachment_paths(record: IntakeRecord, kind: str, cell: object) -> None:
    """Add the paths of one spreadsheet attachment cell (several separated by line breaks or ;)."""
    if cell is None or (isinstance(cell, str) and not cell.strip()):
        return
    if not isinstance(cell, str):
        record.problems.append(record.error(kind, f"{kind} 应填写文件路径", f"{kind}: expected a file path"))
        return
    for part in PATH_SEPARATORS.split(cell):
        if part.strip():
            record.attachments.append(AttachmentRef(kind, part.strip()))


def put_honour_part(record: IntakeRecord, key: str, value: object) -> None:
    """Store one 相关荣誉 column (`honours.high_tech.level`, `honours.other`, ...) in the nested value."""
    honours = record.values.setdefault("honours", {})
    _, part, *attr = key.split(".")
    target = honours.setdefault(part, {}) if attr and isinstance(honours, dict) else honours
    name = attr[0] if attr else part
    if not isinstance(target, dict) or name in target:
        record.problems.append(record.error(key, f"栏目 {key} 重复填写", f"{key} is given twice"))
    else:
        target[name] = value


def match_hashes(record: IntakeRecord) -> None:
    """Give the paths of each 附N column the hashes of its sha256 column, line by line (optional)."""
    for kind, cell in record.hashes.items():
        if cell is None or isinstance(cell, str) and not cell.strip():
            continue
        key = f"{kind} sha256"
        parts = [p.strip().lower() for p in PATH_SEPARATORS.split(cell)] if isinstance(cell, str) else []
        parts = [p for p in parts if p]
        if not parts or not all(SHA256.match(p) for p in parts):
            record.problems.append(record.error(key, f"{kind} sha256 应为 64 位十六进制数，多个用换行分隔",
                                                f"{kind} sha256: expected 64 hex digits, one per line"))
            continue
        refs = [r for r in record.attachments if r.kind == kind and r.sha256 is None]
        if len(parts) != len(refs):
            record.problems.append(record.error(
                key, f"{kind} 填了 {len(parts)} 个 sha256，但有 {len(refs)} 个文件路径（应逐行对应）",
                f"{kind}: {len(parts)} sha256 values for {len(refs)} file paths (one per path, in order)"))
            continue
        for ref, sha in zip(refs, parts, strict=True):
            ref.sha256 = sha
    record.hashes.clear()


def attachment_list(record: IntakeRecord, value: object) -> list[AttachmentRef]:
    """Read `attachments: [{kind, path, sha256?}]`; shape problems become record problems."""
    if not isinstance(value, list):
        record.problems.append(record.error("attachments", "附件应为列表：[{kind, path, sha256}]",
                                            "attachments must be a list of {kind, path, sha256}"))
        return []
    refs = []
    for i, item in enumerate(value, start=1):
        ref = _attachment(item)
        if ref is None:
            record.problems.append(record.error(f"attachments[{i}]", "附件项应含 kind（附1/附2/附3）与 path",
                                                "an attachment needs kind (附1/附2/附3) and path"))
        else:
            refs.append(ref)
    return refs


def _attachment(item: object) -> AttachmentRef | None:
    if not isinstance(item, dict) or set(item) - {"kind", "path", "sha256"}:
        return None
    kind, path, sha = item.get("kind"), item.get("path"), item.get("sha256")
    if not isinstance(kind, str) or not isinstance(path, str) or not path.strip():
        return None
    if sha is not None and not isinstance(sha, str):
        return None
    kind = kind.strip().replace("附件", "附")
    if kind not in ATTACHMENT_KINDS:
        return None
    return AttachmentRef(kind, path.strip(), sha.strip().lower() if sha else None)
