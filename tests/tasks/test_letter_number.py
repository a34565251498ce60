"""发文字号 allocation: one sequence per unit and year across campaigns, safe under concurrent
allocation (threads, each with its own session and transaction) on SQLite and PostgreSQL."""

import threading
from pathlib import Path

from sqlmodel import select

from core.campaign import load_campaign
from core.db import session_scope
from models import LetterNumber, Stage
from tasks.letter_number import allocate_letter_number
from tests.conftest import MINI_CAMPAIGN
from tests.support import databases
from tests.support import documents as f

THREADS = 6


def _campaigns(tmp_path: Path, count: int) -> list[str]:
    """Install `count` copies of the mini campaign (same unit codes, different slugs)."""
    slugs = []
    for i in range(count):
        path = tmp_path / f"c{i}.toml"
        path.write_text(MINI_CAMPAIGN.read_text(encoding="utf-8").replace(
            'slug = "mini-test"', f'slug = "mini-{i}"'), encoding="utf-8")
        slugs.append(databases.install(path))
    return slugs


def _allocate(stage_id: int, year: int) -> str:
    with session_scope() as s:
        stage = s.get(Stage, stage_id)
        unit = load_campaign(MINI_CAMPAIGN).unit(stage.unit_code)
        return allocate_letter_number(s, stage, unit, year).text


def test_two_campaigns_share_one_sequence_per_unit_and_year(db, tmp_path):
    first, second = _campaigns(tmp_path, 2)
    with session_scope() as s:
        a, b = f.stage(s, first, "110000").id, f.stage(s, second, "110000").id
        city = f.stage(s, second, "110100").id
    assert [_allocate(a, 2031), _allocate(b, 2031), _allocate(a, 2031)] == [
        "甲工信函〔2031〕1号", "甲工信函〔2031〕2号", "甲工信函〔2031〕1号"]  # a keeps its number
    assert _allocate(city, 2031) == "甲市函〔2031〕1号"  # another unit, its own sequence
    with session_scope() as s:
        rows = s.exec(select(LetterNumber).where(LetterNumber.unit_code == "110000")).all()
    assert sorted((r.campaign_id != rows[0].campaign_id, r.number) for r in rows) == [(False, 1), (True, 2)]


def test_concurrent_allocations_never_repeat_a_number(db, tmp_path):
    slugs = _campaigns(tmp_path, THREADS)
    with session_scope() as s:
        stages = [f.stage(s, slug, "110000").id for slug in slugs]
    start, results, errors = threading.Barrier(THREADS), {}, []

    def run(stage_id: int) -> None:
        try:
            start.wait(timeout=60)
            results[stage_id] = _allocate(stage_id, 2031)
        except Exception as exc:  # collected: the assertion below names it
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(sid,)) for sid in stages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(results) == THREADS
    assert sorted(results.values()) == sorted(f"甲工信函〔2031〕{n}号" for n in range(1, THREADS + 1))
    with session_scope() as s:
        numbers = [n.number for n in s.exec(select(LetterNumber))]
    assert sorted(numbers) == list(range(1, THREADS + 1))
