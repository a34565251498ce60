"""One bad record per intake rule, written together into one file (JSON or xlsx) with a good one.

Each case: a name, a mutation of a good record, the fields the errors must name, and a
fragment of the Chinese message. The record at `rows["good"]` must draw no error at all.
"""

import random
from decimal import Decimal
from pathlib import Path

from tasks.synthetic import make_uscc
from tests.tasks.intake_factories import attach, good_record, write_json, write_xlsx


def _wrong_check(record: dict) -> None:
    code = record["uscc"]
    record["uscc"] = code[:-1] + ("0" if code[-1] != "0" else "1")


def _elsewhere(record: dict) -> None:
    record["uscc"] = make_uscc(random.Random(7), "440106")


def _drop(*keys):
    return lambda r: [r.pop(k) for k in keys]


def _set(**values):
    return lambda r: r.update(values)


def _platform(**values):
    def mutate(r):
        n = r["_n"]
        r.clear()
        r.update(good_record("platform", n=n) | values)
    return mutate


CASES = [
    ("missing", _drop("contact_name"), ["contact_name"], "未填写"),
    ("listed", _set(listed=True), ["listing_date", "listing_place", "stock_code"], "未填写"),
    ("other", _set(ownership="其他"), ["ownership_other"], "未填写"),
    ("software", _set(is_software_enterprise="是"),
     ["software_product_revenue", "it_service_revenue", "embedded_revenue"], "未填写"),
    ("number", _set(registered_capital="一千万"), ["registered_capital"], "应为数字"),
    ("date", _set(construction_start="去年春天"), ["construction_start"], "应为日期"),
    ("yesno", _set(exports="也许"), ["exports"], "“是”或“否”"),
    ("check_char", _wrong_check, ["uscc"], "校验位"),
    ("uscc_length", _set(uscc="91110102"), ["uscc"], "18 位"),
    ("email", _set(contact_email="zhang.example.com"), ["contact_email"], "电子邮箱"),
    ("mobile", _set(leader_mobile="1380013800"), ["leader_mobile"], "手机号码"),
    ("fax", _set(contact_fax="12-34"), ["contact_fax"], "电话号码"),
    ("choice", _set(ownership="私营"), ["ownership"], "须为以下之一"),
    ("campaign_limit", _set(profile="字" * 301), ["profile"], "超过 300 字"),
    ("catalogue_limit", _set(contact_title="长" * 201), ["contact_title"], "过长"),
    ("mau", _platform(mau=Decimal("0.3")), ["mau"], "0.5亿"),
    ("area", _set(area=Decimal("150")), ["area"], "200平方米"),
    ("negative", _set(investment=Decimal("-5")), ["investment"], "负数"),
    ("end_before_start", _set(construction_end="2020-01-01"), ["construction_end"], "早于"),
    ("region", _elsewhere, ["uscc"], "辖区"),
    ("control", _set(legal_representative="李\x7f四"), ["legal_representative"], "控制字符"),
    ("unknown_unit", _set(unit="999999"), ["unit"], "未知的推荐单位"),
    ("not_accepting", _set(unit="110000"), ["unit"], "不直接受理"),
    ("direction", _set(direction="金融"), ["direction"], "未知的申报方向"),
    ("other_form", _set(mau=Decimal("2")), ["mau"], "不属于本方向"),
    ("honours", _set(honours={"high_tech": {"level": "市级", "year": 1800}, "key_lab": {"level": "国家级"}}),
     ["honours.high_tech.level", "honours.high_tech.year", "honours.key_lab.year"], "授予年份"),
]
ATTACHMENT_CASES = [("no_declaration", ["附3"], "缺少附3"), ("missing_file", ["附1"], "文件不存在"),
                    ("escape", ["附1"], "不在申报文件所在文件夹"), ("sha_mismatch", ["附3"], "sha256")]
BAD_CASES = [(name, fields, fragment) for name, _, fields, fragment in CASES] + ATTACHMENT_CASES + [
    ("duplicate", ["project_name"], "重复")]
JSON_ONLY = [("unknown_key", ["remark"], "未知栏目")]
XLSX_ONLY = [("unknown_column", ["(column 200)"], "未知列名")]


def build_bad_file(folder: Path, config, fmt: str) -> tuple[Path, dict[str, int]]:
    """Write one good record then one bad record per case; return the file and each case's row."""
    first = 1 if fmt == "json" else 2
    records = [attach(good_record(n=1), folder, 1)]
    for n, (_name, mutate, _, _) in enumerate(CASES, start=2):
        record = good_record(n=n) | {"_n": n}
        mutate(record)
        record.pop("_n", None)
        records.append(attach(record, folder, n))
    records += _attachment_records(folder, len(records) + 1)
    duplicate = good_record(n=1) | {"project_name": " 测试1号项目 (虚构) ", "contact_email": "d@example.com"}
    records.append(attach(duplicate, folder, 1))
    names = ["good", *(c[0] for c in CASES), *(c[0] for c in ATTACHMENT_CASES), "duplicate"]
    if fmt == "json":
        records += _json_only(folder, len(records) + 1)
        names += [c[0] for c in JSON_ONLY]
        path = write_json(folder / "bad.json", records)
    else:
        path = _xlsx_with_unknown_column(folder, config, records)
        names += ["unknown_column"]
    rows = {name: first + i for i, name in enumerate(names)}
    rows["unknown_column"] = 1
    return path, rows


def _attachment_records(folder: Path, n: int) -> list[dict]:
    no_declaration = attach(good_record(n=n), folder, n, ("附1",))
    missing = attach(good_record(n=n + 1), folder, n + 1)
    missing["attachments"][0]["path"] = "att/nowhere/附1.pdf"
    escape = attach(good_record(n=n + 2), folder, n + 2)
    (folder.parent / "outside.pdf").write_bytes(b"%PDF outside")
    escape["attachments"][0]["path"] = "../outside.pdf"
    sha = attach(good_record(n=n + 3), folder, n + 3)
    sha["attachments"][1]["sha256"] = "0" * 64  # 附3; in xlsx: the 附3 sha256 column
    return [no_declaration, missing, escape, sha]


def _json_only(folder: Path, n: int) -> list[dict]:
    return [attach(good_record(n=n), folder, n) | {"remark": "备注"}]


def _xlsx_with_unknown_column(folder: Path, config, records: list[dict]) -> Path:
    from openpyxl import load_workbook

    path = write_xlsx(folder / "bad.xlsx", config, records)
    wb = load_workbook(path)
    wb["申报信息"].cell(row=1, column=200, value="备注")
    wb.save(path)
    return path

