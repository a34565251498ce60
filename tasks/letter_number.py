"""发文字号 `<机关代字>〔year〕N号`: allocated once per stage, never repeated for a unit and year.

The number belongs to the issuing organ, so N counts every letter the unit has numbered in
that year (across campaigns held in this database); re-running a stage reuses its number.
UNIQUE(stage_id) and the unique index on (unit_code, year, number) back this in the database.
Allocations are serialised before the max is read, so concurrent ones never collide: on
PostgreSQL by an advisory lock per unit and year, on SQLite by taking the database's write
lock (a no-op UPDATE) — both held until the task's transaction ends. Should an insert still
meet the unique index, the savepoint is rolled back and the next number tried.
"""

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from core.campaign import UnitSpec
from core.errors import Conflict
from models import LetterNumber, Stage

ATTEMPTS = 3


def letter_abbr(unit: UnitSpec) -> str:
    """The unit's 机关代字 from its letter settings, else one made from its name."""
    return unit.letter.abbr or f"{unit.name}函"


def format_number(abbr: str, year: int, number: int | None) -> str:
    """Render a 发文字号; a draft without a number keeps the blank, e.g. 粤工信函〔2023〕  号."""
    return f"{abbr}〔{year}〕{number if number is not None else '  '}号"


def stage_number(session: Session, stage_id: int) -> LetterNumber | None:
    """Return the number a stage already holds, if any."""
    return session.exec(select(LetterNumber).where(LetterNumber.stage_id == stage_id)).first()


def allocate_letter_number(session: Session, stage: Stage, unit: UnitSpec, year: int) -> LetterNumber:
    """Return the stage's 发文字号, allocating max+1 for the unit and year the first time."""
    for _ in range(ATTEMPTS):
        held = stage_number(session, stage.id)
        if held is not None:
            return held
        _lock(session, unit.code, year)
        last = session.exec(select(func.max(LetterNumber.number)).where(
            LetterNumber.unit_code == unit.code, LetterNumber.year == year)).one()
        number = (last or 0) + 1
        row = LetterNumber(campaign_id=stage.campaign_id, unit_code=unit.code, year=year,
                           number=number, stage_id=stage.id,
                           text=format_number(letter_abbr(unit), year, number))
        try:
            with session.begin_nested():
                session.add(row)
            return row
        except IntegrityError:
            continue
    raise Conflict(f"{unit.name} 的发文字号分配冲突，请重试",
                   f"could not allocate a letter number for {unit.code}; try again", unit=unit.code)


def _lock(session: Session, unit_code: str, year: int) -> None:
    """Hold off other allocations for the unit and year until this transaction ends."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.connection().execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                     {"key": f"letter-number:{unit_code}:{year}"})
    elif dialect == "sqlite":  # a write statement takes SQLite's one write lock, even if it changes nothing
        session.connection().execute(text("UPDATE letternumber SET number = number WHERE 0 = 1"))
