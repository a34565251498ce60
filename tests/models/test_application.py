"""`Application` has one column per field of the 申报书 catalogue (`models.forms.FIELDS`), typed
as the form says: money in 万元 and users in 亿 as exact decimals, dates as dates, long texts
unbounded, short texts no shorter than the catalogue allows."""

from datetime import UTC
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, Boolean, Date, Float, Numeric, String, Text, TypeDecorator

from models import Application
from models.forms import FIELDS

ROUTING = {"id", "campaign_id", "direction", "unit_code", "dedup_key", "reference", "filed_at", "source"}
COLUMN_TYPES = {
    "money": Numeric, "decimal": Numeric, "int": BigInteger, "date": Date, "bool": Boolean, "text": Text,
    "str": String, "choice": String, "email": String, "phone": String, "uscc": String,
    "honours": Text,  # JSON text of models.honours.Honours (HonoursJSON)
}
COLUMNS = Application.__table__.columns


def test_one_column_per_form_field_and_nothing_else():
    assert set(COLUMNS.keys()) - ROUTING == {f.key for f in FIELDS}


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.key)
def test_each_column_has_the_type_of_its_form_field(field):
    column = COLUMNS[field.key]
    kind = sql_type(column)
    assert column.nullable, "a column of the form may be empty (conditional fields, returned drafts)"
    assert isinstance(kind, COLUMN_TYPES[field.kind]), (field.key, column.type)
    assert not isinstance(kind, Float), "amounts are exact decimals, never floats"
    if field.kind in ("money", "decimal"):
        assert kind.asdecimal and kind.scale == 4 and kind.precision == 20
        assert Application.model_fields[field.key].annotation == Decimal | None
    if COLUMN_TYPES[field.kind] is String:
        assert not isinstance(kind, Text), field.key
        assert kind.length >= field.max_length, (field.key, kind.length, field.max_length)


def sql_type(column):
    """The column's SQL type, seen through a TypeDecorator (sqlmodel's AutoString)."""
    return column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type


def test_amounts_in_wanyuan_and_users_in_yi_are_decimals():
    money = {f.key for f in FIELDS if "（万元）" in f.label}
    users = {f.key for f in FIELDS if "（亿）" in f.label}
    assert money == {f.key for f in FIELDS if f.kind == "money"} and len(money) == 8
    assert users == {"registered_users", "mau"}
    for key in money | users:
        assert isinstance(sql_type(COLUMNS[key]), Numeric) and sql_type(COLUMNS[key]).asdecimal, key
    dates = {f.key for f in FIELDS if f.kind == "date"}
    assert dates == {"listing_date", "launch_date", "construction_start", "construction_end"}
    assert all(isinstance(sql_type(COLUMNS[key]), Date) for key in dates)


def test_a_filed_value_round_trips_exactly(db):
    """万元 amounts keep four decimals and 亿 users keep theirs on both backends."""
    from datetime import date, datetime

    from sqlmodel import select

    from core.db import session_scope
    from models import Campaign
    from tests.conftest import MINI_CAMPAIGN
    from tests.support import databases

    databases.install(MINI_CAMPAIGN)
    with session_scope() as s:
        campaign = s.exec(select(Campaign)).one()
        s.add(Application(campaign_id=campaign.id, direction="platform", unit_code="110100", dedup_key="k",
                          reference="2031-110100-000001", filed_at=datetime(2031, 5, 1, tzinfo=UTC),
                          registered_capital=Decimal("1234567890.1234"), mau=Decimal("1.2345"),
                          launch_date=date(2019, 3, 1), rd_staff=10**10,
                          honours={"high_tech": {"level": "国家级", "year": 2020}, "other": "荣誉（虚构）"}))
    with session_scope() as s:
        app = s.exec(select(Application)).one()
        assert app.registered_capital == Decimal("1234567890.1234") and isinstance(app.registered_capital, Decimal)
        assert app.mau == Decimal("1.2345") and app.launch_date == date(2019, 3, 1) and app.rd_staff == 10**10
        assert app.honours == {"high_tech": {"level": "国家级", "year": 2020}, "other": "荣誉（虚构）"}


def test_honours_are_typed_parts_and_nothing_else_is_stored():
    from pydantic import ValidationError

    from models.honours import HonoursJSON

    column = HonoursJSON()
    assert isinstance(COLUMNS["honours"].type, HonoursJSON)
    stored = column.process_bind_param({"key_lab": {"level": "省市级", "year": 2019}}, None)
    assert column.process_result_value(stored, None) == {"key_lab": {"level": "省市级", "year": 2019}}
    assert column.process_bind_param({}, None) is None
    for bad in ({"key_lab": {"level": "市级", "year": 2019}}, {"award": "x"}, "free text",
                {"high_tech": {"level": "国家级", "year": 1800}}):
        with pytest.raises(ValidationError):
            column.process_bind_param(bad, None)
