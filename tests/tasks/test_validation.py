"""The form rules as plain functions: coercion per kind, required fields, limits, hard rules."""

import json
import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from core.campaign import load_campaign
from models import Application
from models.forms import BY_KEY
from tasks.form_values import BadValue, coerce
from tasks.intake_records import record_from_mapping
from tasks.validation import (
    application_values,
    dedup_key,
    normalise_project_name,
    registered_in,
    text_length,
    validate_application,
)
from tests.conftest import CAMPAIGN_2023, MINI_CAMPAIGN, ROOT
from tests.tasks.intake_factories import good_record

MINI = load_campaign(MINI_CAMPAIGN)


def form_values(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("unit", "direction", "campaign", "attachments")}


@pytest.mark.parametrize(("key", "raw", "expected"), [
    ("registered_capital", "1,234.5 万元", Decimal("1234.5000")),
    ("registered_capital", 12, Decimal("12.0000")),
    ("registered_capital", 0.1 + 0.2, Decimal("0.3000")),
    ("mau", "1.2亿", Decimal("1.2000")),
    ("area", "350 ㎡", Decimal("350.0000")),
    ("rd_staff", "1,200人", 1200),
    ("rd_staff", 30.0, 30),
    ("listed", "否", False), ("listed", "是", True), ("listed", "YES", True), ("listed", 0, False),
    ("launch_date", "2019年3月1日", date(2019, 3, 1)),
    ("launch_date", "2019/3/1", date(2019, 3, 1)),
    ("launch_date", datetime(2019, 3, 1), date(2019, 3, 1)),
    ("launch_date", "2019-03-01 00:00:00", date(2019, 3, 1)),
    ("contact_mobile", 13800138000, "13800138000"),
    ("contact_mobile", "+86 138-0013-8000", "+86 138-0013-8000"),
    ("contact_fax", "020-12345678转123", "020-12345678转123"),
    ("uscc", "91110000600037341l", "91110000600037341L"),
    ("stock_code", 600000, "600000"),
    ("contact_name", "  张三 ", "张三"),
    ("profile", "   ", None), ("profile", None, None),
])
def test_values_are_coerced_to_their_kind(key, raw, expected):
    assert coerce(BY_KEY[key], raw) == expected


@pytest.mark.parametrize(("key", "raw", "fragment"), [
    ("registered_capital", "abc", "应为数字"), ("registered_capital", True, "应为数字"),
    ("registered_capital", float("nan"), "应为数字"), ("registered_capital", "Infinity", "应为数字"),
    ("registered_capital", Decimal("1e16"), "过大"), ("registered_capital", -1, "负数"),
    ("rd_staff", 1.5, "整数"), ("rd_staff", 2**63, "过大"),
    ("launch_date", "2019-02-30", "应为日期"), ("launch_date", 43000, "应为日期"),
    ("launch_date", "1800-01-01", "不合理"),
    ("listed", "maybe", "是”或“否"), ("listed", 2, "是”或“否"),
    ("contact_email", "a@b", "电子邮箱"), ("contact_mobile", "02012345678", "手机号码"),
    ("contact_fax", "12345", "电话号码"), ("ownership", "个体", "须为以下之一"),
    ("uscc", "91110000600037341X", "校验位"), ("uscc", "9111000060003734", "18 位"),
    ("uscc", "9111000060003734IL", "无效字符"),
    ("contact_name", ["张三"], "应填写文字"), ("contact_name", {"a": 1}, "应填写文字"),
    ("contact_name", 1.5, "不是小数"), ("contact_name", "张\x00三", "控制字符"),
    ("contact_name", "张\ud800三", "控制字符"), ("contact_name", "长" * 201, "过长"),
    ("contact_name", "x" * 10_000_000, "过长"),
])
def test_bad_values_are_refused_with_both_languages(key, raw, fragment):
    with pytest.raises(BadValue) as caught:
        coerce(BY_KEY[key], raw)
    assert fragment in caught.value.zh
    assert caught.value.en.startswith(key)


def test_a_good_record_passes_for_both_directions():
    for direction in ("platform", "experience_centre"):
        assert validate_application(form_values(good_record(direction)), config=MINI, direction=direction) == []


def test_conditional_requirements_follow_the_answers():
    values = form_values(good_record()) | {"listed": "是", "ownership": "其他", "exports": True}
    fields = {e.field for e in validate_application(values, config=MINI, direction="experience_centre")}
    assert fields == {"listing_date", "listing_place", "stock_code", "ownership_other", "export_destinations"}


def test_every_empty_required_field_is_reported():
    errors = validate_application({}, config=MINI, direction="platform")
    required = {f.key for f in BY_KEY.values() if f.required is True and "platform" in f.forms}
    assert {e.field for e in errors} == required
    assert all("未填写" in e.zh and "required" in e.en for e in errors)


def test_text_limits_count_characters_not_whitespace():
    assert text_length("一二 三\n四") == 4
    values = form_values(good_record()) | {"profile": "字" * 300 + " \n" * 50}
    assert validate_application(values, config=MINI, direction="experience_centre") == []
    values["profile"] += "多"
    [error] = validate_application(values, config=MINI, direction="experience_centre")
    assert (error.field, "超过 300 字" in error.zh) == ("profile", True)


def test_hard_rules_of_the_2023_campaign():
    config = load_campaign(CAMPAIGN_2023)
    platform = [d for d, s in config.directions.items() if s.form == "platform"][0]
    centre = [d for d, s in config.directions.items() if s.form == "experience_centre"][0]
    low_mau = form_values(good_record("platform")) | {"mau": "0.99"}
    assert [e.field for e in validate_application(low_mau, config=config, direction=platform)] == ["mau"]
    small = form_values(good_record()) | {"area": 250}
    assert [e.field for e in validate_application(small, config=config, direction=centre)] == ["area"]
    long_profile = form_values(good_record()) | {"profile": "字" * 501}
    assert [e.field for e in validate_application(long_profile, config=config, direction=centre)] == ["profile"]


def test_unknown_keys_and_directions_are_reported():
    values = form_values(good_record()) | {"备注": "x", "mau": 3}
    errors = validate_application(values, config=MINI, direction="experience_centre")
    assert {e.field for e in errors} == {"备注", "mau"}
    [error] = validate_application(form_values(good_record()), config=MINI, direction="other")
    assert error.field == "direction" and "platform" in error.zh


def test_stored_applications_validate_again():
    record = form_values(good_record("platform"))
    typed = {k: coerce(BY_KEY[k], v) for k, v in record.items()}
    app = Application(campaign_id=1, direction="platform", unit_code="110100", dedup_key="k", reference="r",
                      filed_at=datetime(2031, 1, 1), **typed)
    assert application_values(app) == {k: v for k, v in typed.items() if v is not None}
    assert validate_application(application_values(app), config=MINI, direction="platform") == []


def test_duplicate_keys_ignore_spacing_punctuation_and_width():
    assert normalise_project_name(" 星河 云生活（虚构） ") == normalise_project_name("星河云生活(虚构)")
    assert dedup_key("91110000600037341l", "Ａ平台") == dedup_key("91110000600037341L", "a 平台")
    assert dedup_key("91110000600037341L", "A平台") != dedup_key("91110000600037341L", "B平台")


def test_region_is_the_registration_division_code():
    assert registered_in("91420102MA4K000000", "4201")
    assert not registered_in("91440106MA4K000000", "4201")


def test_the_example_in_docs_intake_is_a_valid_2023_application():
    text = (ROOT / "docs" / "intake.md").read_text(encoding="utf-8")
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S)[1])
    record = record_from_mapping(example, file=None, row=1, base_dir=ROOT)
    assert record.problems == [] and record.unit == "420102"
    config = load_campaign(CAMPAIGN_2023)
    assert validate_application(record.values, config=config, direction=record.direction) == []
    assert registered_in(record.values["uscc"], config.unit("420102").region)
