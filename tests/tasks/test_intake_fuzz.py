"""Property: no input the intake can receive crashes it. Each file is filed whole, or refused
with field errors and nothing written (rows counted before and after).

Bounded for the suite (30 examples, derandomized); TUIJIAN_FUZZ_EXAMPLES=1000 runs a long,
random search."""

import itertools
import json
import os
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.campaign import load_campaign
from core.errors import FieldError
from models.forms import FIELDS
from tasks.intake import intake_file
from tasks.intake_sheet import sheet_headers
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.tasks.intake_factories import attach, counts, good_record, write_xlsx

EXAMPLES = int(os.environ.get("TUIJIAN_FUZZ_EXAMPLES", "30"))  # `make fuzz` may raise it
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 30,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
XML_ILLEGAL = "".join(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32)))
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=10)
keys = st.sampled_from([f.key for f in FIELDS] + [f.label for f in FIELDS]
                       + ["unit", "direction", "campaign", "attachments", "方向"]) | st.text(max_size=12)
cell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=XML_ILLEGAL), max_size=40)
cell_values = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | cell_text
               | st.floats(allow_nan=False, allow_infinity=False) | st.dates(date(1800, 1, 1))
               | st.datetimes(datetime(1900, 1, 1)))
serial = itertools.count(1000)


def check_outcome(result, before: dict[str, int], filed: int) -> None:
    """Filed whole (`filed` applications more), or refused with field errors and nothing written."""
    after = counts()
    if result.ok:
        assert len(result.filed) == filed
        assert after["Application"] - before["Application"] == filed
        assert after["Entry"] - before["Entry"] == filed
    else:
        assert after == before
        assert all(isinstance(e, FieldError) and e.zh and e.en for e in result.errors)
        assert all(e.field.isprintable() for e in result.errors)  # safe to show in a terminal


def test_random_json_documents_never_crash(db, tmp_path):
    databases.install(MINI_CAMPAIGN)

    @BOUNDED
    @given(document=json_values)
    def run(document):
        path = tmp_path / "random.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        before = counts()
        check_outcome(intake_file(path), before, filed=0)

    run()


def test_a_good_record_with_random_values_is_filed_or_refused_whole(db, tmp_path):
    databases.install(MINI_CAMPAIGN)

    @BOUNDED
    @given(overrides=st.dictionaries(keys, json_values, max_size=3), direction=st.sampled_from(
        ["platform", "experience_centre"]))
    def run(overrides, direction):
        n = next(serial)
        record = attach(good_record(direction, n=n), tmp_path, n) | overrides
        path = tmp_path / f"r{n}.json"
        path.write_text(json.dumps([record], default=str, ensure_ascii=n % 2 == 0), encoding="utf-8")
        before = counts()
        check_outcome(intake_file(path), before, filed=1)

    run()


def test_random_cells_in_an_xlsx_never_crash(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    config = load_campaign(MINI_CAMPAIGN)
    headers = sheet_headers()

    @settings(BOUNDED, max_examples=max(EXAMPLES // 2, 1))
    @given(cells=st.dictionaries(st.integers(1, len(headers) + 2), cell_values, max_size=4),
           header=st.none() | st.tuples(st.integers(1, len(headers)), cell_text))
    def run(cells, header):
        n = next(serial)
        sheet = write_xlsx(tmp_path / f"r{n}.xlsx", config, [attach(good_record(n=n), tmp_path, n)])
        wb = load_workbook(sheet)
        ws = wb["申报信息"]
        for column, value in cells.items():
            ws.cell(row=2, column=column, value=value)
        if header is not None:
            ws.cell(row=1, column=header[0], value=header[1])
        wb.save(sheet)
        before = counts()
        check_outcome(intake_file(sheet), before, filed=1)

    run()


part_names = st.sampled_from(["high_tech", "高新技术企业", "tech_centre", "企业技术中心", "key_lab", "重点实验室",
                              "other", "其他市级以上荣誉"]) | st.text(max_size=6)
title_values = st.dictionaries(st.sampled_from(["level", "级别", "year", "授予年份"]) | st.text(max_size=4),
                               st.sampled_from(["国家级", "省市级", 2020, "2020年", 1800]) | scalars, max_size=3)
honours_values = json_values | st.dictionaries(part_names, title_values | json_values, max_size=4)


@settings(max_examples=max(EXAMPLES, 200), deadline=None, derandomize=EXAMPLES <= 30)
@given(raw=honours_values)
def test_honours_parts_never_crash(raw):
    """相关荣誉: any value is read into valid parts, or refused with an error per part, never a crash."""
    from models.honours import Honours
    from tasks.form_honours import BadValues, to_honours

    field = next(f for f in FIELDS if f.key == "honours")
    try:
        value = to_honours(field, raw)
    except BadValues as bad:
        assert bad.problems and all(k.startswith("honours") and k.isprintable() and zh and en
                                    for k, zh, en in bad.problems)
        return
    assert value is None or Honours.model_validate(value).plain() == value
