"""Re-running a stage's documents: byte-identical files, upserted rows, 发文字号 reused or
allocated max+1; and the HTML preview, escaped."""

import zipfile
from pathlib import Path

from docx import Document as open_docx
from sqlmodel import select

from core.clock import to_utc
from core.db import session_scope
from models import AuditLog, Document, LetterNumber
from tasks.documents import write_stage_documents
from tasks.letter import render_letter_html
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support import documents as f


def _snapshot(docs: list[Document]) -> dict:
    return {(d.kind, d.direction): (d.id, d.sha256, to_utc(d.generated_at), Path(d.path).read_bytes()) for d in docs}


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_regenerating_an_unchanged_stage_gives_identical_files(db):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        stage_id = f.mini_province(s).id
        first = _snapshot(write_stage_documents(s, stage_id))
        parts = {k: _parts(Path(d.path)) for d in s.exec(select(Document))
                 for k in [(d.kind, d.direction)] if d.path.endswith((".xlsx", ".docx"))}
    with session_scope() as s:
        again = write_stage_documents(s, stage_id)
        assert _snapshot(again) == first
        for d in again:
            if d.path.endswith((".xlsx", ".docx")):
                assert _parts(Path(d.path)) == parts[(d.kind, d.direction)]
        assert len(s.exec(select(Document)).all()) == 4
        writes = s.exec(select(AuditLog).where(AuditLog.action == "documents.write")).all()
        assert len(writes) == 1  # the unchanged re-run recorded nothing new


def test_documents_are_dated_from_the_approval(db):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        docs = write_stage_documents(s, f.mini_province(s).id)
    letter = open_docx(next(d.path for d in docs if d.kind == "letter"))
    assert letter.core_properties.created.isoformat().startswith("2031-06-18T07:30:00")
    assert letter.core_properties.modified == letter.core_properties.created
    for d in docs:
        if d.path.endswith((".xlsx", ".docx")):
            stamps = {i.date_time for i in zipfile.ZipFile(d.path).infolist()}
            assert stamps == {(2031, 6, 18, 15, 30, 0)}  # 15:30 in Asia/Shanghai


def test_a_changed_stage_updates_its_documents_in_place(db):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        stage = f.mini_province(s)
        first = _snapshot(write_stage_documents(s, stage.id))
        app = f.application(s, "mini-test", unit_code="110200", direction="platform",
                            enterprise="乙市新增科技有限公司", project="新增平台")
        f.entry(s, app, unit_code="110000", rank=3, from_unit="110200")
        again = _snapshot(write_stage_documents(s, stage.id))
    assert again[("summary", "")][0] == first[("summary", "")][0]  # same row, updated
    assert again[("summary", "")][1] != first[("summary", "")][1]
    assert "乙市新增科技有限公司".encode() in again[("letter_html", "")][3]


def test_letter_number_is_reused_on_rerun_and_unique_per_unit_and_year(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    second = tmp_path / "second.toml"
    second.write_text(MINI_CAMPAIGN.read_text(encoding="utf-8").replace(
        'slug = "mini-test"', 'slug = "mini-second"'), encoding="utf-8")
    databases.install(second)
    with session_scope() as s:
        province = f.mini_province(s).id
        city = f.stage(s, "mini-test", "110100").id
        write_stage_documents(s, province)
        write_stage_documents(s, province)
        write_stage_documents(s, city)
        other = f.stage(s, "mini-second", "110000").id
        write_stage_documents(s, other)
        numbers = {(n.stage_id): n.text for n in s.exec(select(LetterNumber))}
    assert numbers == {province: "甲工信函〔2031〕1号", city: "甲市函〔2031〕1号",
                       other: "甲工信函〔2031〕2号"}
    with session_scope() as s:
        write_stage_documents(s, other)
        assert len(s.exec(select(LetterNumber)).all()) == 3


def test_html_preview_escapes_applicant_text_and_shows_a_draft_number(db):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        stage = f.stage(s, "mini-test", "110200")
        app = f.application(s, "mini-test", unit_code="110200", direction="platform",
                            enterprise="<script>alert(1)</script>有限公司", project="A&B平台")
        f.entry(s, app, unit_code="110200", rank=1)
        preview = render_letter_html(s, stage.id)
        assert s.exec(select(LetterNumber)).all() == []  # a preview allocates no number
        docs = write_stage_documents(s, stage.id)
        final = render_letter_html(s, stage.id)
    assert "<script>" not in preview
    assert "&lt;script&gt;alert(1)&lt;/script&gt;有限公司：A&amp;B平台" in preview
    assert "乙市函〔2031〕  号" in preview and "乙市函〔2031〕1号" in final
    written = Path(next(d.path for d in docs if d.kind == "letter_html")).read_text(encoding="utf-8")
    assert written == final
    assert "附件：汇总表.xlsx" in final and "乙市联系人" in final


def test_switching_to_per_direction_tables_drops_the_old_table(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        stage_id = f.mini_province(s).id
        old = Path(next(d.path for d in write_stage_documents(s, stage_id) if d.kind == "summary"))
    assert old.is_file()
    variant = tmp_path / "per-direction.toml"
    variant.write_text(MINI_CAMPAIGN.read_text(encoding="utf-8").replace(
        'name = "测试部"', 'name = "测试部"\nchild_per_direction_tables = true'), encoding="utf-8")
    databases.install(variant)
    with session_scope() as s:
        docs = write_stage_documents(s, stage_id)
        rows = s.exec(select(Document).where(Document.kind == "summary")).all()
    assert sorted(r.direction for r in rows) == ["experience_centre", "platform"]
    assert not old.exists()
    assert sorted(Path(d.path).name for d in docs if d.kind == "summary") == sorted(
        p.name for p in old.parent.glob("汇总表*"))


def test_the_top_unit_writes_its_table_and_export_but_no_letter(db):
    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        docs = write_stage_documents(s, f.stage(s, "mini-test", "M").id)
        assert s.exec(select(LetterNumber)).all() == []
    assert sorted(d.kind for d in docs) == ["export", "summary"]
