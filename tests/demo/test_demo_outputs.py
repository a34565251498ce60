"""`tuijian demo` run once for real, then checked from its outputs alone.

The rules below are written out from the 2023 notices (not read from the campaign file or
computed by tuijian), so the check is independent of the code that produced the outputs:
- MIIT 四(二): ≤ 5 experience centres per recommending unit, each demonstration city ≤ 2
  extra; platforms 可报尽报.
- Guangdong 一: Guangzhou and Foshan ≤ 4 (their extras not counted), other cities ≤ 2.
- Wuhan 三(三): 2 special projects go directly to MIIT through the province; the rest to Hubei.
- Hubei 三(四): 20 provincial demonstration projects.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from docx import Document as Docx

from tests.support.smtp import free_port

pytestmark = pytest.mark.slow
SLUG = "2023-xinxi-xiaofei"
EXTRA, DIRECT, TITLE = "示范城市额外推荐", "特色项目，经省直报工信部", "省级示范项目"
GUANGDONG_CITIES = {"440100", "440200", "440400", "440500", "440600", "440700", "440800", "440900",
                    "441200", "441300", "441400", "441500", "441600", "441700", "441800", "441900",
                    "442000", "445100", "445200", "445300"}
DIRECT_TO_MIIT = {"110000", "120000", "310000", "500000", "210200", "370200", "330200", "350200", "440300"}


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """Run `tuijian demo` in a fresh home, as a person would; return that home."""
    home = tmp_path_factory.mktemp("demo")
    run_demo(home, "--stop-server")
    return home


def run_demo(home: Path, *args: str) -> str:
    """`tuijian demo --applications 80 ARGS` with `home` as TUIJIAN_HOME; its output (also in demo.log)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUIJIAN_", "PREFECT_API"))}
    env |= {"TUIJIAN_HOME": str(home), "TUIJIAN_SMTP_PORT": str(free_port()),
            "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "WARNING",
            "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}
    tuijian = Path(sys.executable).parent / "tuijian"
    done = subprocess.run([str(tuijian), "demo", "--applications", "80", *args], env=env,
                          cwd=home, capture_output=True, text=True, timeout=600)
    (home / "demo.log").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout + done.stderr


def tables(out: Path) -> dict[str, list[dict]]:
    """Every unit's 汇总表 rows: unit code → [{direction, unit, project, remark}]."""
    manifest = json.loads((out / SLUG / "manifest.json").read_text())
    found: dict[str, list[dict]] = {}
    for doc in manifest["documents"]:
        if doc["kind"] == "summary":
            found.setdefault(doc["unit_code"], []).extend(read_table(out / SLUG / doc["file"]))
    return found


def read_table(path: Path) -> list[dict]:
    ws = openpyxl.load_workbook(path).active
    direction = "experience_centre" if "体验中心" in str(ws["A1"].value) else "platform"
    rows = []
    for number, company, project, _contact, remark in ws.iter_rows(min_row=4, max_col=5, values_only=True):
        if isinstance(number, str) and number.startswith(("一、", "二、")):
            direction = "experience_centre" if "体验中心" in number else "platform"
        elif isinstance(number, int):
            rows.append({"direction": direction, "unit": company, "project": project, "remark": remark or ""})
    return rows


def centres(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["direction"] == "experience_centre"]


def test_the_demo_files_good_applications_and_refuses_bad_files_with_every_error(demo):
    log = (demo / "demo.log").read_text()
    summary = re.search(r"已受理 / filed: (\d+) 份申报；被退回的文件 / refused files: (\d+)", log)
    assert summary, log[-2000:]
    filed, refused = int(summary[1]), int(summary[2])
    assert filed > 0 and refused > 0
    heads = list(re.finditer(r"(?m)^  ✗ (\S+\.(?:json|xlsx)): (\d+) 处问题 / problems$", log))
    assert len(heads) == refused
    fields = set()
    for head, after in zip(heads, [*heads[1:], summary], strict=True):
        lines = re.findall(r"(?m)^      - (\S+):(\d+) \[([^\]]+)\] (.+) / (.+)$", log[head.end():after.start()])
        assert len(lines) == int(head[2]) >= 1, head[0]  # every error of the file, not only the first
        assert all(file.endswith(head[1]) for file, *_ in lines)
        fields |= {field for _, _, field, _, _ in lines}
    assert {"附3", "uscc", "project_name"} <= fields, fields  # the missing 附3, a USCC typo, a duplicate


def test_the_demo_writes_every_document_it_lists(demo):
    manifest = json.loads((demo / "out" / SLUG / "manifest.json").read_text())
    assert len(manifest["documents"]) > 50
    for doc in manifest["documents"]:
        path = demo / "out" / SLUG / doc["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == doc["sha256"], doc["file"]
    assert (demo / "out" / SLUG / "示范项目名单.xlsx").exists()
    assert len(list((demo / "out" / "mail").glob("*.eml"))) > 50


def test_one_official_is_refused_an_over_quota_list_then_approves(demo):
    import sqlite3

    with sqlite3.connect(demo / "var" / "tuijian.db") as db:
        refused = db.execute("SELECT object_id FROM auditlog WHERE action = 'approval.refused.over_quota'").fetchall()
        approved = {r[0] for r in db.execute("SELECT object_id FROM auditlog WHERE action = 'approval.approve'")}
    assert len(refused) == 1 and refused[0][0] in approved
    assert "超额" in (demo / "demo.log").read_text()


def test_guangdong_city_quotas_hold(demo):
    sent = tables(demo / "out")
    assert GUANGDONG_CITIES & set(sent)
    for code in GUANGDONG_CITIES & set(sent):
        rows = centres(sent[code])
        extras = [r for r in rows if EXTRA in r["remark"]]
        base = [r for r in rows if not r["remark"]]
        assert len(base) <= (4 if code in ("440100", "440600") else 2), code
        assert len(extras) <= (2 if code in ("440100", "440600") else 0), code
    # the demo gives Guangzhou 8 centres: its 4 + 2 extras are used and marked
    assert len(centres(sent["440100"])) == 6
    assert sum(EXTRA in r["remark"] for r in sent["440100"]) == 2


def test_every_recommending_unit_respects_the_ministry_quota(demo):
    sent = tables(demo / "out")
    to_miit = (DIRECT_TO_MIIT | {"440000", "420000"}) & set(sent)
    assert {"440000", "420000", "440300"} <= to_miit
    for code in to_miit:
        rows = centres(sent[code])
        base = [r for r in rows if not r["remark"] or r["remark"] == TITLE]
        assert len(base) <= 5, code
        per_city = Counter(re.search(r"（(.+?)）", r["remark"]).group(1) if "（" in r["remark"] else code
                           for r in rows if EXTRA in r["remark"] or DIRECT in r["remark"])
        assert all(n <= 2 for n in per_city.values()), (code, per_city)


def test_wuhan_sends_two_special_projects_through_hubei(demo):
    sent = tables(demo / "out")
    special = [r["project"] for r in centres(sent["420100"]) if DIRECT in r["remark"]]
    assert len(special) == 2
    hubei = {r["project"]: r["remark"] for r in sent["420000"]}
    assert all(DIRECT in hubei[p] for p in special)
    assert sum(TITLE in r["remark"] for r in sent["420000"]) <= 20


def test_every_qualifying_platform_goes_up(demo):
    sent = tables(demo / "out")
    for child, parent in [(c, "440000") for c in GUANGDONG_CITIES & set(sent)] + [("420100", "420000")]:
        up = {r["project"] for r in sent[parent] if r["direction"] == "platform"}
        assert {r["project"] for r in sent[child] if r["direction"] == "platform"} <= up, child


def test_shenzhen_reports_directly_to_the_ministry(demo):
    letter = Docx(str(demo / "out" / SLUG / "440300-深圳市" / "推荐函.docx"))
    text = [p.text for p in letter.paragraphs]
    assert "工业和信息化部：" in text
    assert not any(t.startswith("广东省") and t.endswith("：") for t in text)


def test_dashboard_shows_the_demo_campaign(demo, monkeypatch):
    """What a person sees on the demo's dashboard, checked against the database and the 汇总表.

    The demo ends with every stage closed, so no unit is late: the late list must say so.
    (An overdue mark cannot be shown from this state — the status is built at the campaign's
    stored clock, with no `now` to pass, and closed stages are never overdue; the overdue
    marks are covered by tests/tasks/test_dashboard.py.)
    """
    import sqlite3

    from fastapi.testclient import TestClient

    from core.settings import get_settings
    from tasks.dashboard_app import create_app
    from tests.support import databases

    with sqlite3.connect(demo / "var" / "tuijian.db") as db:
        states = Counter(dict(db.execute("SELECT state, count(*) FROM stage GROUP BY state").fetchall()))
        units = db.execute("SELECT count(*) FROM unit").fetchone()[0]
    states["open"] += units - sum(states.values())  # a unit without a stage row shows as open
    url = f"sqlite:///{demo / 'var' / 'tuijian.db'}"
    databases.use(monkeypatch, url, demo)
    try:
        client = TestClient(create_app())
        page = client.get(f"/c/{SLUG}")
        unit = client.get(f"/c/{SLUG}/u/440100")
    finally:
        databases.dispose(url)
        get_settings.cache_clear()
    assert page.status_code == 200 and unit.status_code == 200
    cards = {key: int(n) for key, n in re.findall(r'class="card st-([a-z_]+)"><b>(\d+)</b>', page.text)}
    assert +Counter(cards) == +states  # every non-empty state card equals the database's count
    assert re.search(r'class="card late"><b>0</b>', page.text)
    assert "没有逾期单位" in page.text  # consistent with every stage being closed
    waiting = states["awaiting_approval"]
    assert ("没有待审批的推荐" in page.text) == (waiting == 0)
    assert re.search(rf'待审批 <small>Waiting approvals</small> <span class="count">{waiting}</span>', page.text)
    # 广州市's line in the tree: its quota cells carry the numbers its 汇总表 shows
    rows = tables(demo / "out")["440100"]
    line = re.search(r'<a href="/c/[^"]+/u/440100">广州市</a>(.*?)(?:</li>|</summary>)', page.text, re.S).group(1)
    cells = dict(re.findall(r'<span class="q[^"]*">(\S+) (\d+/(?:\d+|不限))', line))
    centre_label = next(k for k in cells if "体验中心" in k)
    base = [r for r in centres(rows) if not r["remark"]]
    assert cells[centre_label] == f"{len(base)}/4"  # [GD] 一: Guangzhou ≤ 4
    extras = sum(EXTRA in r["remark"] for r in centres(rows))
    assert re.search(rf"额外 {extras}/2", line)  # [MIIT] 四(二): ≤ 2 extras for a demonstration city
    platforms = [r for r in rows if r["direction"] == "platform"]
    platform_label = next(k for k in cells if k != centre_label)
    assert cells[platform_label] == f"{len(platforms)}/不限"  # 大平台: 可报尽报
    sent = {r["project"] for r in rows}
    assert all(p in unit.text for p in sent)
    assert "纸质材料与网上登记" in unit.text and "无缺失" in unit.text  # every copy was received


def test_the_ministry_end_publishes_the_final_list_without_the_upheld_objection(demo):
    """cli/demo.py:_publicity lodges one objection against a listed project and upholds it."""
    import sqlite3

    folder = demo / "out" / SLUG
    html, xlsx = folder / "示范项目名单.html", folder / "示范项目名单.xlsx"
    assert html.is_file() and xlsx.is_file()
    with sqlite3.connect(demo / "var" / "tuijian.db") as db:
        actions = Counter(a for (a,) in db.execute(
            "SELECT action FROM auditlog WHERE action LIKE 'objection.%' OR action LIKE 'publicity.%'"))
        (removed,) = db.execute(
            "SELECT a.project_name FROM objection o JOIN entry e ON e.id = o.entry_id "
            "JOIN application a ON a.id = e.application_id WHERE o.state = 'upheld'").fetchall()
    assert actions == {"objection.lodge": 1, "objection.uphold": 1, "publicity.open": 1, "publicity.close": 1}
    book = openpyxl.load_workbook(xlsx)
    listed = [r[1] for r in book["示范项目名单"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    history = list(book["名单变动记录"].iter_rows(min_row=3, values_only=True))
    assert listed and removed[0] not in listed
    assert [h for h in history if h[2] == removed[0]], history  # the removal is in the list's history
    listing, _, changes = html.read_text().partition('<section id="history">')
    assert removed[0] not in listing and removed[0] in changes


# Written out from the notices, like the quotas above: who reports straight to MIIT (MIIT 四:
# 各省、自治区、直辖市及计划单列市、新疆生产建设兵团工业和信息化主管部门, 有关中央企业) and by when
# each addressee wants the 推荐函 (MIIT 四(三) 9月8日; Guangdong 二 8月31日; Wuhan 三(二) 8月29日).
MUNICIPALITIES = {"110000", "120000", "310000", "500000"}
PLANNED_CITIES = {"210200", "370200", "330200", "350200", "440300"}
CORPS = "660000"
ADDRESSEE_DEADLINE = {"工业和信息化部": (2023, 9, 8), "广东省工业和信息化厅": (2023, 8, 31),
                      "武汉市经济和信息化局": (2023, 8, 29)}
WUHAN_DISTRICTS = {"420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112", "420113",
                   "420114", "420115", "420116", "420117"}


def manifest_docs(out: Path) -> list[dict]:
    return json.loads((out / SLUG / "manifest.json").read_text())["documents"]


def letter(out: Path, unit: str) -> list[str]:
    """The non-empty paragraphs of a unit's 推荐函."""
    doc = next(d for d in manifest_docs(out) if d["unit_code"] == unit and d["kind"] == "letter")
    return [p.text for p in Docx(str(out / SLUG / doc["file"])).paragraphs if p.text.strip()]


def addressee(paragraphs: list[str]) -> str:
    return next(p for p in paragraphs if p.endswith("：") and len(p) < 40)[:-1]


def direct_units(out: Path) -> set[str]:
    present = {d["unit_code"] for d in manifest_docs(out) if d["kind"] == "letter"}
    return {u for u in present if u in MUNICIPALITIES | PLANNED_CITIES | {CORPS} or u.startswith("CE-")}


def test_direct_units_report_straight_to_the_ministry(demo):
    direct = direct_units(demo / "out")
    assert direct & MUNICIPALITIES and direct & PLANNED_CITIES and any(u.startswith("CE-") for u in direct)
    for unit in direct:  # 直辖市, 计划单列市, the 兵团 and central enterprises present in the demo
        assert addressee(letter(demo / "out", unit)) == "工业和信息化部", unit


def test_no_recommending_unit_sends_more_centres_than_base_and_extras(demo):
    sent = tables(demo / "out")
    to_miit = (direct_units(demo / "out") | {"440000", "420000"} | {u for u in sent if u.endswith("0000")}) & set(sent)
    assert {"440000", "420000"} | direct_units(demo / "out") <= to_miit
    for code in to_miit:
        rows = centres(sent[code])  # every row counts, whatever its remark says
        cities = Counter(re.search(r"（(.+?)）", r["remark"]).group(1) if "（" in r["remark"] else code
                         for r in rows if EXTRA in r["remark"] or DIRECT in r["remark"])
        assert len(rows) <= 5 + sum(min(n, 2) for n in cities.values()), (code, len(rows), cities)
    for code in GUANGDONG_CITIES & set(sent):
        limit = 4 + 2 if code in ("440100", "440600") else 2
        assert len(centres(sent[code])) <= limit, code


def test_platforms_go_up_whenever_they_qualify(demo):
    """可报尽报: every platform a Wuhan district recommends reaches 武汉市, and from there 湖北省."""
    sent = tables(demo / "out")
    districts = WUHAN_DISTRICTS & set(sent)
    assert districts
    wuhan = {r["project"] for r in sent["420100"] if r["direction"] == "platform"}
    hubei = {r["project"] for r in sent["420000"] if r["direction"] == "platform"}
    from_districts = {r["project"] for d in districts for r in sent[d] if r["direction"] == "platform"}
    assert from_districts and from_districts <= wuhan <= hubei
    guangdong = {r["project"] for r in sent["440000"] if r["direction"] == "platform"}
    assert {r["project"] for c in GUANGDONG_CITIES & set(sent) for r in sent[c] if r["direction"] == "platform"} \
        <= guangdong


def test_wuhan_applicants_are_registered_in_wuhan(demo):
    import sqlite3

    sent = tables(demo / "out")
    projects = {r["project"] for d in WUHAN_DISTRICTS & set(sent) for r in sent[d]}
    with sqlite3.connect(demo / "var" / "tuijian.db") as db:
        codes = dict(db.execute("SELECT project_name, uscc FROM application WHERE unit_code LIKE '4201%'"))
    assert projects and projects <= set(codes)
    assert all(codes[p][2:6] == "4201" for p in projects), {p: codes[p] for p in projects}


def test_wuhans_special_projects_stay_outside_hubeis_twenty(demo):
    sent = tables(demo / "out")
    special = {r["project"] for r in centres(sent["420100"]) if DIRECT in r["remark"]}
    hubei = {r["project"]: r["remark"] for r in sent["420000"]}
    assert len(special) == 2
    assert not any(TITLE in hubei[p] for p in special)
    titled = [p for p, remark in hubei.items() if TITLE in remark]
    assert len(titled) <= 20 and not set(titled) & special


def test_every_letter_is_dated_by_its_addressees_deadline(demo):
    from datetime import date

    checked = 0
    for unit in {d["unit_code"] for d in manifest_docs(demo / "out") if d["kind"] == "letter"}:
        paragraphs = letter(demo / "out", unit)
        to = addressee(paragraphs)
        if to not in ADDRESSEE_DEADLINE:
            continue  # 湖北省: no notice here gives the date it wants 武汉市's letter by
        dated = [re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", p) for p in paragraphs]
        written = [date(*map(int, m.groups())) for m in dated if m][-1]  # 成文日期, after the 署名
        assert written <= date(*ADDRESSEE_DEADLINE[to]), (unit, to, written)
        checked += 1
    assert checked >= 30


def test_wuhan_districts_write_one_table_per_direction(demo):
    summaries = [d for d in manifest_docs(demo / "out") if d["kind"] == "summary" and d["unit_code"] in WUHAN_DISTRICTS]
    if not any(d["direction"] for d in summaries):
        pytest.skip("the districts still write one combined 汇总表 (Wuhan's per-direction tables not built yet)")
    by_unit: dict[str, list[str]] = {}
    for d in summaries:
        by_unit.setdefault(d["unit_code"], []).append(d["direction"])
        title = str(openpyxl.load_workbook(demo / "out" / SLUG / d["file"]).active["A1"].value)
        assert ("体验中心" in title) == (d["direction"] == "experience_centre"), (d["file"], title)
    assert all(sorted(dirs) == ["experience_centre", "platform"] for dirs in by_unit.values()), by_unit


def outputs(home: Path) -> tuple[dict[str, str], list[tuple]]:
    """What a demo run produced: each document's hash by file, and the final list's rows (mail aside:
    its one-time codes are random)."""
    docs = {d["file"]: d["sha256"] for d in manifest_docs(home / "out")}
    book = openpyxl.load_workbook(home / "out" / SLUG / "示范项目名单.xlsx")
    return docs, list(book["示范项目名单"].iter_rows(values_only=True))


def test_a_second_demo_stops_the_first_ones_server_and_gives_the_same_outputs(demo, tmp_path_factory):
    """What an earlier demo leaves behind (its Prefect server still serving var/prefect, its pid in
    var/, its out/) is stopped and wiped; the fresh run gives the session demo's outputs again."""
    from cli.demo import PID_FILE
    from core.prefect_server import start_server

    home = tmp_path_factory.mktemp("demo-twice")
    left = start_server(home / "var" / "prefect")  # as cli.demo starts it; not stopped by anyone here
    (home / "var" / PID_FILE).write_text(f"{left.process.pid}\n")
    (home / "out").mkdir()
    (home / "out" / "stale.txt").write_text("an earlier run's output")
    try:
        run_demo(home, "--stop-server")
        assert left.process.wait(timeout=30) is not None  # the demo stopped it (reaped here, its parent)
    finally:
        left.stop()
    assert not (home / "var" / PID_FILE).exists() and not (home / "out" / "stale.txt").exists()
    assert outputs(home) == outputs(demo)


def test_keep_continues_the_last_demo_with_its_state(demo, tmp_path):
    import shutil
    import sqlite3

    home = tmp_path / "kept"
    shutil.copytree(demo, home)  # the finished demo's var/ and out/ (its server was stopped)
    before, mail = outputs(home), sorted(p.name for p in (home / "out" / "mail").glob("*.eml"))
    with sqlite3.connect(home / "var" / "tuijian.db") as db:
        filed = db.execute("SELECT count(*) FROM application").fetchone()[0]
    log = run_demo(home, "--keep", "--stop-server")
    assert "继续上次的演示" in log and "公示已结束" in log
    assert outputs(home) == before  # nothing filed, run or published again
    assert sorted(p.name for p in (home / "out" / "mail").glob("*.eml")) == mail
    with sqlite3.connect(home / "var" / "tuijian.db") as db:
        assert db.execute("SELECT count(*) FROM application").fetchone()[0] == filed > 0
