"""Generate sample documents from a throw-away database and render their first pages to PNG.

Used by `make check-documents`: installs the 2023 campaign (or, if absent, the mini test
campaign) into a fresh SQLite file, inserts fictional approved stages, writes their
documents, converts one 汇总表 and one 推荐函 with LibreOffice and keeps page 1 as PNG.

    python docs/render_documents.py [--work DIR] [--png-dir docs]
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN_2023 = ROOT / "campaigns" / "2023-xinxi-xiaofei" / "campaign.toml"
MINI = ROOT / "tests" / "data" / "mini-campaign.toml"
# The official fonts are not free; map them to the nearest Noto CJK face for the preview.
FONT_MAP = {"仿宋_GB2312": "Noto Serif CJK SC", "仿宋": "Noto Serif CJK SC", "宋体": "Noto Serif CJK SC",
            "方正小标宋简体": "Noto Serif CJK SC:bold", "黑体": "Noto Sans CJK SC"}


def generate(work: Path) -> list[Path]:
    """Build the sample database and documents under `work`; return the generated files."""
    os.environ["TUIJIAN_HOME"] = str(work)
    os.environ["TUIJIAN_DATABASE_URL"] = f"sqlite:///{work / 'var' / 'sample.db'}"
    sys.path.insert(0, str(ROOT))
    from core.db import session_scope
    from core.settings import get_settings
    from tasks.documents import write_stage_documents
    from tests.support import databases, documents

    get_settings.cache_clear()
    databases.migrate(os.environ["TUIJIAN_DATABASE_URL"])
    real = CAMPAIGN_2023.is_file()
    slug = databases.install(CAMPAIGN_2023 if real else MINI)
    paths = []
    with session_scope() as session:
        stages = documents.sample_2023(session, slug) if real else [documents.mini_province(session, slug)]
        for stage in stages:
            paths += [Path(d.path) for d in write_stage_documents(session, stage.id)]
    return paths


def font_config(work: Path) -> Path:
    """Write a fontconfig file that substitutes Noto CJK faces for the official fonts."""
    rules = []
    for family, target in FONT_MAP.items():
        name, _, style = target.partition(":")
        weight = '<edit name="weight" mode="assign"><const>bold</const></edit>' if style else ""
        rules.append(f'<match target="pattern"><test name="family"><string>{family}</string></test>'
                     f'<edit name="family" mode="assign" binding="strong"><string>{name}</string></edit>'
                     f"{weight}</match>")
    path = work / "fonts.conf"
    path.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    + "".join(rules) + "</fontconfig>\n", encoding="utf-8")
    return path


def to_png(source: Path, png: Path, work: Path) -> None:
    """Convert a document to PDF with LibreOffice and keep its first page as PNG."""
    pdf_dir = work / "pdf"
    png.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FONTCONFIG_FILE": str(font_config(work))}
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{work / 'lo-profile'}",
                    "--convert-to", "pdf", "--outdir", str(pdf_dir), str(source)],
                   check=True, capture_output=True, timeout=300, env=env)
    pdf = pdf_dir / f"{source.stem}.pdf"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(png.with_suffix(""))], check=True, timeout=120)


def from_demo(out: Path) -> dict[str, Path]:
    """Pick the 2023 demo's own documents: Guangdong's table and letter, and the 体验中心 table
    of the first Wuhan district that wrote one (武汉 asks its districts for one per direction)."""
    import json

    folder = out / "2023-xinxi-xiaofei"
    files = {(d["unit_code"], d["kind"], d["direction"]): folder / d["file"]
             for d in json.loads((folder / "manifest.json").read_text())["documents"]}
    district = min(code for code, kind, direction in files
                   if code.startswith("4201") and code != "420100" and (kind, direction) == ("summary", "experience_centre"))
    return {"summary-table.png": files[("440000", "summary", "")],
            "letter.png": files[("440000", "letter", "")],
            "summary-table-per-direction.png": files[(district, "summary", "experience_centre")]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "check-documents")
    parser.add_argument("--png-dir", type=Path, default=ROOT / "docs")
    parser.add_argument("--demo-out", type=Path, default=None,
                        help="render the documents of a finished `make demo` (its out/ folder) instead")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    (args.work / "var").mkdir(parents=True)
    if args.demo_out is not None:
        for name, source in from_demo(args.demo_out).items():
            to_png(source, args.png_dir / name, args.work)
            print(f"{source} -> {args.png_dir / name}")
        return
    paths = generate(args.work)
    picks = {
        "summary-table.png": next(p for p in paths if p.name.startswith("汇总表")),
        "letter.png": next(p for p in paths if p.name == "推荐函.docx"),
    }
    if len([p for p in paths if p.name.startswith("汇总表")]) > 1:
        picks["summary-table-per-direction.png"] = [p for p in paths if p.name.startswith("汇总表")][-1]
    for name, source in picks.items():
        to_png(source, args.png_dir / name, args.work)
        print(f"{source.relative_to(args.work)} -> {args.png_dir / name}")


if __name__ == "__main__":
    main()
