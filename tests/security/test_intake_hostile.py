"""Hostile intake, beyond tests/tasks/test_intake_fuzz.py (random documents and cells) and the
size limits of tests/tasks/test_intake_cli.py: text an attacker would type (markup, formulas,
right-to-left override, CR LF, template and SQL syntax, control characters, lone surrogates)
in every text field of a JSON, YAML or xlsx file, and attachment paths that try to leave the
intake file's folder. Each file is filed whole, with every value stored exactly as typed
(trimmed), or refused with errors that name only the fields we touched, writing nothing and
copying no attachment.

Bounded for the suite (TUIJIAN_FUZZ_EXAMPLES, 25 by default, derandomized); `make fuzz`
raises it for a long random search.
"""

import itertools
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlmodel import select

from core.campaign import load_campaign
from core.db import session_scope
from core.errors import FieldError
from core.settings import get_settings
from models import Application
from models.forms import FIELDS
from tasks.intake import intake_file
from tests.conftest import MINI_CAMPAIGN, ROOT
from tests.security import hostile
from tests.support import databases
from tests.tasks.intake_factories import attach, counts, good_record, write_xlsx

EXAMPLES = int(os.environ.get("TUIJIAN_FUZZ_EXAMPLES", "25"))
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 30,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TEXT_FIELDS = [f.key for f in FIELDS if f.kind in ("str", "text") and f.key not in ("ownership_other",)
               and f.forms != ("platform",) and f.required is True]
FRAGMENTS = [hostile.SCRIPT, hostile.IMG, hostile.FORMULA, hostile.PLUS, hostile.AT, hostile.TRAVERSAL,
             hostile.RTL, hostile.CRLF, hostile.MARKDOWN, "{{ 7*7 }}", "${jndi:ldap://x/a}", "%s%n%x",
             "'; DROP TABLE application; --", "\u200b\ufeff", "\x1b[31m红\x1b[0m", "\x00", "\ud800",
             "ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ", "\u0645\u0631\u062d\u0628\u0627", "a" * 300]
hostile_text = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), min_size=1, max_size=4).map("".join)
serial = itertools.count(5000)
PEAK_MB = 256  # Python allocations while reading one file (measured: at most ~100 MB)
MAX_RSS_MB = 768  # the whole intake process, imports included (measured: ~200 MB)


def check(result, before: dict[str, int], touched: dict[str, str]) -> None:
    """Filed whole with the values as typed, or refused on the touched fields with nothing written."""
    if result.ok:
        [filed] = result.filed
        with session_scope() as s:
            app = s.exec(select(Application).where(Application.reference == filed.reference)).one()
            assert {k: getattr(app, k) for k in touched} == {k: v.strip() for k, v in touched.items()}
        assert counts()["Application"] == before["Application"] + 1
        return
    assert counts() == before
    assert all(isinstance(e, FieldError) and e.zh and e.en and e.field.isprintable() for e in result.errors)
    assert {e.field for e in result.errors} <= set(touched), result.errors


def test_hostile_text_in_json_and_yaml_is_stored_exactly_or_refused_whole(db, tmp_path):
    databases.install(MINI_CAMPAIGN)

    @BOUNDED
    @given(values=st.dictionaries(st.sampled_from(TEXT_FIELDS), hostile_text, min_size=1, max_size=3),
           as_yaml=st.booleans())
    def run(values, as_yaml):
        n = next(serial)
        record = attach(good_record(n=n), tmp_path, n) | values
        surrogate = not all(_xml_safe(ch) or ord(ch) < 0x20 for v in values.values() for ch in v)
        as_yaml = as_yaml and not surrogate  # UTF-8 cannot hold a lone surrogate: JSON escapes it
        path = tmp_path / f"h{n}.{'yaml' if as_yaml else 'json'}"
        plain = json.loads(json.dumps([record], default=str))
        text = yaml.safe_dump(plain, allow_unicode=True) if as_yaml else \
            json.dumps(plain, ensure_ascii=surrogate or n % 2 == 0)
        path.write_text(text, encoding="utf-8")
        meant = yaml.safe_load(text)[0] if as_yaml else values  # YAML folds some breaks (NEL) into spaces
        before = counts()
        check(intake_file(path), before, {k: meant[k] for k in values})

    run()


def test_hostile_text_in_xlsx_cells_is_stored_exactly_or_refused_whole(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    config = load_campaign(MINI_CAMPAIGN)

    @settings(BOUNDED, max_examples=max(EXAMPLES // 2, 1))
    @given(values=st.dictionaries(st.sampled_from(TEXT_FIELDS), hostile_text.filter(_xml_safe), min_size=1,
                                  max_size=3))
    def run(values):
        n = next(serial)
        sheet = write_xlsx(tmp_path / f"h{n}.xlsx", config, [attach(good_record(n=n), tmp_path, n)])
        wb = load_workbook(sheet)
        ws = wb["申报信息"]
        columns = {_key(c.value): c.column for c in ws[1]}
        for key, value in values.items():
            cell = ws.cell(row=2, column=columns[key])
            cell.value, cell.data_type = value, "s"  # typed text, even when it starts with "="
        wb.save(sheet)
        before = counts()
        check(intake_file(sheet), before, values)

    run()


def _xml_safe(text: str) -> bool:
    """Text an xlsx cell can hold at all (XML 1.0 characters)."""
    return all(ch in "\t\n\r" or (ord(ch) >= 0x20 and not 0xD800 <= ord(ch) <= 0xDFFF) for ch in text)


def _key(header: object) -> str | None:
    from tasks.intake_records import resolve_key

    return resolve_key(str(header)) if header else None


ESCAPES = ["../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "att/../../outside.pdf",
           "att/%2e%2e/%2e%2e/x.pdf", "~/.ssh/id_rsa", "C:\\Windows\\win.ini", "file:///etc/passwd",
           "att/\x00.pdf", "link-out.pdf", "att", "a" * 2000, "att/" + "../" * 50 + "etc/passwd"]


def test_attachment_paths_that_leave_the_folder_are_refused_and_nothing_is_copied(db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    inside = tmp_path / "in"
    inside.mkdir()
    (tmp_path / "outside.pdf").write_bytes(b"%PDF outside the intake folder")
    (inside / "link-out.pdf").symlink_to(tmp_path / "outside.pdf")
    store = get_settings().attachments_dir
    stored_before = sorted(store.rglob("*")) if store.exists() else []
    for i, escape in enumerate(ESCAPES):
        record = attach(good_record(n=7000 + i), inside, 7000 + i)
        record["attachments"].append({"kind": "附2", "path": escape})
        path = inside / f"escape{i}.json"
        path.write_text(json.dumps([record], ensure_ascii=False, default=str), encoding="utf-8")
        before = counts()
        result = intake_file(path)
        assert not result.ok and counts() == before, escape
        assert {e.field for e in result.errors} == {"附2"}, (escape, result.errors)
    assert (sorted(store.rglob("*")) if store.exists() else []) == stored_before


def bomb_files(folder: Path) -> dict[str, str]:
    """Files built to exhaust a reader, and the error field each must be refused with."""
    folder.mkdir()
    laughs = "a0: &a0 ['lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol', 'lol']\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    files = {
        "laughs.yaml": laughs,  # 9**10 strings once expanded
        "deep.json": "[" * 200_000 + "]" * 200_000,
        "digits.json": "[" + "9" * 100_000 + "]",
        "many.json": json.dumps([{"unit": "110100"}] * 5001),
        "wide.json": json.dumps([0] * 5_000_000),  # 15 MB of numbers, under the 16 MB cap
        "long.json": json.dumps([{"profile": "长" * 5_000_000}], ensure_ascii=False),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    _zip_bomb(folder / "bomb.xlsx")
    _many_rows(folder / "rows.xlsx", 6000)
    return {"laughs.yaml": "a0", "deep.json": "(file)", "digits.json": "(file)", "many.json": "(file)",
            "wide.json": "(file)", "long.json": "profile", "bomb.xlsx": "(file)", "rows.xlsx": "(file)"}


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, \
            archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
        for _ in range(200):  # 200 MB of zeros in well under 1 MB
            member.write(b"\0" * (1 << 20))


def _many_rows(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("申报信息")
    ws.append(["单位名称", "项目名称"])
    for i in range(rows):
        ws.append([f"企业{i}", f"项目{i}"])
    wb.save(path)


def test_files_built_to_exhaust_the_reader_are_refused_within_bounded_memory(sqlite_db, tmp_path):
    databases.install(MINI_CAMPAIGN)
    expected = bomb_files(tmp_path / "bombs")
    before = counts()
    done = subprocess.run([sys.executable, "-m", "tests.security.intake_bounds",
                           *(str(tmp_path / "bombs" / n) for n in expected)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    outcomes = {r["file"]: r for r in lines[:-1]}
    assert {n: r["ok"] for n, r in outcomes.items()} == dict.fromkeys(expected, False)
    assert {n: f for n, f in expected.items() if f not in outcomes[n]["fields"]} == {}
    assert all(r["worded"] for r in outcomes.values())  # every error in Chinese and English
    assert {n: r["peak_mb"] for n, r in outcomes.items() if r["peak_mb"] > PEAK_MB} == {}
    assert lines[-1]["max_rss_mb"] < MAX_RSS_MB
    assert counts() == before
