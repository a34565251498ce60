"""Intake end to end on real files (JSON, YAML, xlsx) and real databases (SQLite, PostgreSQL)."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from openpyxl import Workbook, load_workbook
from sqlmodel import select

from core.clock import to_utc
from core.db import session_scope
from core.settings import get_settings
from models import Application, Attachment, AuditLog, Campaign, Entry, Stage, Unit
from tasks.audit import verify_chain
from tasks.campaigns import campaign_config, get_campaign
from tasks.intake import intake_file
from tests.support import databases
from tests.tasks.intake_factories import attach, counts, good_record, write_json, write_xlsx
from tests.tasks.intake_rule_cases import BAD_CASES, JSON_ONLY, XLSX_ONLY, build_bad_file


@pytest.fixture
def mini(db):
    """The mini campaign installed in a fresh database of each backend; returns its config."""
    from tests.conftest import MINI_CAMPAIGN

    slug = databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        return campaign_config(get_campaign(s, slug))


def test_good_files_are_filed_with_rows_entries_attachments_and_audit(mini, tmp_path):
    records = [attach(good_record("experience_centre", n=1), tmp_path, 1),
               attach(good_record("platform", n=2, unit="CE01"), tmp_path, 2, ("附1", "附2", "附3"))]
    result = intake_file(write_json(tmp_path / "a.json", records))
    assert result.ok, result.errors
    assert [a.unit_code for a in result.filed] == ["110100", "CE01"]
    assert all(re.fullmatch(r"2031-(110100|CE01)-\d{6}", a.reference) for a in result.filed)
    with session_scope() as s:
        apps = {a.reference: a for a in s.exec(select(Application))}
        centre = apps[result.filed[0].reference]
        assert centre.area == Decimal("800") and centre.registered_capital == Decimal("1000.5")
        assert centre.construction_start == date(2021, 1, 1) and centre.listed is False
        assert centre.source.endswith("a.json:1")
        entries = s.exec(select(Entry)).all()
        assert {(e.unit_code, e.status, e.from_unit_code, e.direction) for e in entries} == {
            ("110100", "received", None, "experience_centre"), ("CE01", "received", None, "platform")}
        attachments = s.exec(select(Attachment).where(Attachment.application_id == centre.id)).all()
        assert sorted(a.kind for a in attachments) == ["附1", "附3"]
        audit = s.exec(select(AuditLog).where(AuditLog.action == "application.file")).all()
        assert sorted(row.after["reference"] for row in audit) == sorted(apps)
        assert verify_chain(s) == []
    for a in attachments:
        stored = get_settings().attachments_dir / a.sha256[:2] / a.sha256
        assert stored.read_bytes() == (tmp_path / "att/1" / a.file_name).read_bytes()


def test_xlsx_and_yaml_files_are_filed_and_references_continue_per_unit(mini, tmp_path):
    xlsx = write_xlsx(tmp_path / "sheet.xlsx", mini, [attach(good_record(n=i), tmp_path, i) for i in (1, 2)])
    first = intake_file(xlsx)
    assert first.ok, first.errors
    labelled = {"推荐单位代码": "110100", "方向": "信息消费体验中心"}
    record = attach(good_record(n=3), tmp_path, 3)
    labelled |= {"统一社会信用代码" if k == "uscc" else k: v for k, v in record.items() if k not in ("unit", "direction")}
    (tmp_path / "one.yaml").write_text(yaml.safe_dump(_plain(labelled), allow_unicode=True), encoding="utf-8")
    second = intake_file(tmp_path / "one.yaml")
    assert second.ok, second.errors
    numbers = [int(a.reference[-6:]) for a in first.filed + second.filed]
    assert numbers == [1, 2, 3]


def test_xlsx_columns_may_be_reordered(mini, tmp_path):
    source = write_xlsx(tmp_path / "sheet.xlsx", mini, [attach(good_record(n=1), tmp_path, 1)])
    ws = load_workbook(source)["申报信息"]
    columns = list(zip(*ws.iter_rows(values_only=True), strict=True))[::-1]
    out = Workbook()
    for row in zip(*columns, strict=True):
        out.active.append(list(row))
    out.save(tmp_path / "reordered.xlsx")
    result = intake_file(tmp_path / "reordered.xlsx", campaign_slug=mini.slug)
    assert result.ok, result.errors
    assert result.filed[0].enterprise == "测试1号信息技术有限公司（虚构）"


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_every_rule_is_reported_at_once_and_nothing_is_written(mini, tmp_path, fmt):
    before = counts()
    path, rows = build_bad_file(tmp_path, mini, fmt)
    result = intake_file(path)
    assert not result.ok
    assert counts() == before
    assert not any(e.row == rows["good"] for e in result.errors), "the good record has no problem"
    for name, fields, fragment in BAD_CASES + (JSON_ONLY if fmt == "json" else XLSX_ONLY):
        found = [e for e in result.errors if e.row == rows[name]]
        assert {e.field for e in found} == set(fields), (name, found)
        assert any(fragment in e.zh for e in found), (name, found)
        assert all(e.file == str(path) and e.en for e in found)


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_deadline_extension_and_closed_stage(mini, tmp_path, fmt):
    def write(name, records):
        if fmt == "json":
            return write_json(tmp_path / f"{name}.json", records)
        return write_xlsx(tmp_path / f"{name}.xlsx", mini, records)

    with session_scope() as s:
        unit = s.exec(select(Unit).where(Unit.code == "110100")).one()
        campaign = s.exec(select(Campaign)).one()
        campaign.clock = to_utc(unit.deadline) + timedelta(hours=1)
        s.add(campaign)
    late_file = write("late", [attach(good_record(n=1), tmp_path, 1)])
    late = intake_file(late_file)
    assert [(e.field, "截止时间" in e.zh, e.file) for e in late.errors] == [("unit", True, str(late_file))]
    _set_stage(extended_until=to_utc(unit.deadline) + timedelta(days=2))
    assert intake_file(late_file).ok
    _set_stage(state="reviewing")
    closed = intake_file(write("closed", [attach(good_record(n=2), tmp_path, 2)]))
    assert [(e.field, "停止受理" in e.zh) for e in closed.errors] == [("unit", True)]


def _set_stage(**changes) -> None:
    with session_scope() as s:
        stage = s.exec(select(Stage).where(Stage.unit_code == "110100")).one()
        for key, value in changes.items():
            setattr(stage, key, value)
        s.add(stage)


def test_same_project_through_another_channel_is_refused(mini, tmp_path):
    assert intake_file(write_json(tmp_path / "a.json", [attach(good_record(n=1), tmp_path, 1)])).ok
    again = good_record(n=1, unit="CE01")
    again["project_name"] = "测试1号 项目(虚构)"
    before = counts()
    result = intake_file(write_xlsx(tmp_path / "b.xlsx", mini, [attach(again, tmp_path, 1)]))
    assert [(e.field, e.row) for e in result.errors] == [("project_name", 2)]
    assert "已申报" in result.errors[0].zh and "2031-110100-000001" in result.errors[0].zh
    assert counts() == before


def test_campaign_must_be_known(mini, tmp_path):
    path = write_json(tmp_path / "a.json", [attach(good_record(n=1, campaign="no-such"), tmp_path, 1)])
    result = intake_file(path)
    assert [e.field for e in result.errors] == ["campaign"]
    assert "未知的申报活动" in result.errors[0].zh
    assert not intake_file(path, campaign_slug=mini.slug).ok  # the file still names another campaign


def test_unreadable_files_are_refused_not_crashed(mini, tmp_path):
    cases = {
        "bad.json": b'{"unit": ', "latin.json": "{\"unit\": \"\xe9\"}".encode("latin-1"),
        "deep.json": b"[" * 100_000, "empty.json": b"[]", "text.xlsx": b"not a zip at all",
        "notes.txt": b"hello", "list.yaml": b"- 1\n- [2]\n",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        result = intake_file(tmp_path / name)
        assert not result.ok and result.errors[0].file == str(tmp_path / name), name
    assert counts()["Application"] == 0


def _plain(values: dict) -> dict:
    """YAML-safe values (Decimal as text, as a person would type them)."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


@pytest.mark.postgres
def test_concurrent_intakes_keep_references_unique_and_refuse_the_duplicate(postgres_db, tmp_path):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tests.conftest import MINI_CAMPAIGN

    databases.install(MINI_CAMPAIGN)
    files = [write_json(tmp_path / f"{n}.json", [attach(good_record(n=n), tmp_path, n)]) for n in (1, 2)]
    files.append(write_json(tmp_path / "again.json", [attach(good_record(n=1), tmp_path, 1)]))
    barrier = Barrier(len(files))

    def run(path):
        barrier.wait()
        return intake_file(path)

    with ThreadPoolExecutor(len(files)) as pool:
        results = list(pool.map(run, files))
    filed = sorted(a.reference for r in results for a in r.filed)
    assert filed == ["2031-110100-000001", "2031-110100-000002"]
    refused = [r for r in results if not r.ok]
    assert len(refused) == 1 and [e.field for e in refused[0].errors] == ["project_name"]
    assert counts()["Application"] == 2


def test_xlsx_sha256_columns_are_read_line_by_line_with_the_paths(mini, tmp_path):
    from tasks.attachments import sha256_file

    record = attach(good_record(n=1), tmp_path, 1, ("附1", "附3"))
    second = tmp_path / "att/1/附1-第二份.pdf"
    second.write_bytes(b"%PDF-1.4 second")
    record["attachments"].insert(1, {"kind": "附1", "path": "att/1/附1-第二份.pdf"})
    for ref in record["attachments"]:
        ref["sha256"] = sha256_file(tmp_path / ref["path"])[0]
    good = write_xlsx(tmp_path / "good.xlsx", mini, [record])
    ws = load_workbook(good)["申报信息"]
    headers = [c.value for c in ws[1]]
    assert ws.cell(2, headers.index("附1 sha256（可选）") + 1).value.split("\n") == [
        record["attachments"][0]["sha256"], record["attachments"][1]["sha256"]]
    result = intake_file(good)
    assert result.ok, result.errors
    with session_scope() as s:
        stored = sorted((a.kind, a.sha256) for a in s.exec(select(Attachment)))
    assert stored == sorted((r["kind"], r["sha256"]) for r in record["attachments"])

    wb = load_workbook(good)
    ws = wb["申报信息"]
    col = headers.index("附1 sha256（可选）") + 1
    ws.cell(2, col).value = record["attachments"][0]["sha256"]  # one hash for two paths
    ws.cell(2, headers.index("附3 sha256（可选）") + 1).value = "not-a-hash"
    ws.cell(2, headers.index("项目名称（平台名称/体验中心名称）") + 1).value = "另一项目（虚构）"
    wb.save(tmp_path / "bad.xlsx")
    before = counts()
    bad = intake_file(tmp_path / "bad.xlsx")
    assert sorted((e.field, e.row) for e in bad.errors) == [("附1 sha256", 2), ("附3 sha256", 2)]
    assert "1 个 sha256，但有 2 个文件路径" in next(e.zh for e in bad.errors if e.field == "附1 sha256")
    assert counts() == before


def test_required_attachments_are_campaign_configuration_per_direction(db, tmp_path):
    from tests.conftest import MINI_CAMPAIGN

    text = MINI_CAMPAIGN.read_text(encoding="utf-8")
    centre = text.index("[directions.experience_centre]")
    changed = text[:centre] + text[centre:].replace('required_attachments = ["附3"]',
                                                    'required_attachments = ["附2"]', 1)
    assert changed != text
    (tmp_path / "campaign.toml").write_text(changed, encoding="utf-8")
    databases.install(tmp_path / "campaign.toml")
    records = [attach(good_record(n=1), tmp_path, 1, ("附1", "附3")),  # a centre without 附2
               attach(good_record(n=2), tmp_path, 2, ("附2",)),  # a centre without 附3: fine here
               attach(good_record("platform", n=3), tmp_path, 3, ("附1",))]  # a platform still needs 附3
    result = intake_file(write_json(tmp_path / "a.json", records))
    assert sorted((e.row, e.field) for e in result.errors) == [(1, "附2"), (3, "附3")]
    assert "缺少附2：申报项目相关证明材料" in result.errors[0].zh
    records = [records[1], attach(good_record("platform", n=3), tmp_path, 3, ("附3",))]
    assert intake_file(write_json(tmp_path / "b.json", records)).ok


def test_an_unknown_required_attachment_is_refused_naming_the_key(tmp_path):
    from core.campaign import load_campaign
    from core.errors import ConfigError
    from tests.conftest import MINI_CAMPAIGN

    text = MINI_CAMPAIGN.read_text(encoding="utf-8").replace('required_attachments = ["附3"]',
                                                             'required_attachments = ["附4"]', 1)
    (tmp_path / "campaign.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_campaign(tmp_path / "campaign.toml")
    assert [e.field for e in caught.value.errors] == ["directions.platform.required_attachments[0]"]


@pytest.mark.parametrize("fmt", ["json", "yaml", "xlsx"])
def test_honours_are_filed_by_part(mini, tmp_path, fmt):
    honours = {"high_tech": {"level": "国家级", "year": 2020}, "key_lab": {"level": "省市级", "year": 2018},
               "other": "省级“专精特新”企业（虚构）"}
    record = attach(good_record(n=1) | {"honours": honours}, tmp_path, 1)
    if fmt == "xlsx":
        path = write_xlsx(tmp_path / "a.xlsx", mini, [record])
        ws = load_workbook(path)["申报信息"]
        cells = dict(zip([c.value for c in ws[1]], [c.value for c in ws[2]], strict=True))
        assert cells["相关荣誉·高新技术企业（级别）"] == "国家级" and cells["相关荣誉·重点实验室（授予年份）"] == 2018
        assert cells["相关荣誉·企业技术中心（级别）"] is None
    elif fmt == "yaml":  # Chinese names, a year as people write it, and an empty title
        record["相关荣誉"] = {"高新技术企业": {"级别": "国家级", "授予年份": "2020年"}, "企业技术中心": None,
                          "重点实验室": {"级别": "省市级", "授予年份": 2018}, "其他市级以上荣誉": honours["other"]}
        del record["honours"]
        path = tmp_path / "a.yaml"
        path.write_text(yaml.safe_dump(_plain(record), allow_unicode=True), encoding="utf-8")
    else:
        path = write_json(tmp_path / "a.json", [record])
    result = intake_file(path)
    assert result.ok, result.errors
    with session_scope() as s:
        assert s.exec(select(Application)).one().honours == honours


def test_plain_text_honours_are_the_other_part(mini, tmp_path):
    record = attach(good_record(n=1) | {"honours": "市级荣誉（虚构）"}, tmp_path, 1)
    assert intake_file(write_json(tmp_path / "a.json", [record])).ok
    with session_scope() as s:
        assert s.exec(select(Application)).one().honours == {"other": "市级荣誉（虚构）"}
