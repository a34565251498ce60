"""Write fictional intake records as intake files that `tuijian apply` takes, with attachments.

Valid records are grouped by receiving unit, `per_file` to a file, alternating JSON and xlsx
(xlsx needs the campaign config for its drop-downs; without it every file is JSON).
Each flawed record gets a file of its own, named to sort after the valid ones, so the
demo shows one refusal per mistake while everything else is filed (and a duplicate is
refused because its original was filed first).
"""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from core.campaign import CampaignConfig
from tasks.intake_sheet import write_intake_sheet

KIND_NAMES = {"附1": "proof about the applicant", "附2": "proof about the project",
              "附3": "signed declaration of responsibility"}


def write_intake_files(records: list[dict], folder: Path, *, config: CampaignConfig | None = None,
                       per_file: int = 20) -> list[Path]:
    """Write records as intake files (and their attachment files) in `folder`; return the files in filing order."""
    folder.mkdir(parents=True, exist_ok=True)
    for record in records:
        write_attachments(record, folder)
    valid = [r for r in records if "_flaw" not in r]
    flawed = [r for r in records if "_flaw" in r]
    by_unit: dict[str, list[dict]] = {}
    for record in valid:
        by_unit.setdefault(str(record["unit"]), []).append(record)
    chunks = [(unit, rs[i:i + per_file]) for unit, rs in by_unit.items() for i in range(0, len(rs), per_file)]
    paths = [_write(folder / f"1-{i:03d}-{unit}", chunk, config, xlsx=i % 2 == 0)
             for i, (unit, chunk) in enumerate(chunks, start=1)]
    paths += [_write(folder / f"2-{j:03d}", [record], config, xlsx=j % 2 == 0)
              for j, record in enumerate(flawed, start=1)]
    return paths


def _write(stem: Path, records: list[dict], config: CampaignConfig | None, *, xlsx: bool) -> Path:
    plain = [{k: v for k, v in r.items() if not k.startswith("_")} for r in records]
    if xlsx and config is not None:
        return write_intake_sheet(config, stem.with_suffix(".xlsx"), plain)
    path = stem.with_suffix(".json")
    path.write_text(json.dumps(plain, ensure_ascii=False, indent=2, default=json_value), encoding="utf-8")
    return path


def json_value(value: object) -> object:
    """Write Decimal as a JSON number and dates as ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_attachments(record: dict, folder: Path) -> None:
    """Create the record's attachment files: small PDFs and a text file, unique to the record."""
    for item in record.get("attachments", []):
        path = folder / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        ident = path.parent.name
        if path.suffix == ".pdf":
            path.write_bytes(tiny_pdf([
                "FICTIONAL DOCUMENT - for the tuijian demo only",
                f"Application {ident}: {item['kind'].replace('附', 'Annex ')} ({KIND_NAMES[item['kind']]})",
                f"Applicant USCC: {record.get('uscc', '')}",
            ]))
        else:
            path.write_text(f"虚构材料（仅供演示）/ fictional material, demo only\n{ident} {item['kind']}\n"
                            f"{record.get('enterprise_name', '')}\n{record.get('project_name', '')}\n",
                            encoding="utf-8")


def tiny_pdf(lines: list[str]) -> bytes:
    """Return a one-page PDF showing ASCII `lines` in Helvetica."""
    def esc(text: str) -> str:
        return text.encode("ascii", "replace").decode().replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "BT /F1 12 Tf 72 780 Td 18 TL " + " ".join(f"({esc(line)}) '" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream".encode(),
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out
