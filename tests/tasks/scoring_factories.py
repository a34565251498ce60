"""Plain factory functions for the scoring tests: the mini campaign and rows inserted directly.

The mini campaign's p-e2 declares a conflict with 91110100MA0000001X, whose check character
is wrong; `install_mini` installs a copy where it is replaced by a valid USCC (`CONFLICT`).
"""

import hashlib
from datetime import timedelta
from itertools import count
from pathlib import Path

from sqlmodel import Session, select
from stdnum.cn import uscc

from core.clock import parse_local
from core.db import session_scope
from models import Application, Campaign, Entry, Stage
from tests.conftest import MINI_CAMPAIGN
from tests.support.databases import install

_serial = count(1)


def valid_uscc(body: str) -> str:
    """Complete a 17-character USCC body with its GB 32100-2015 check character."""
    code = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(code)
    return code


CONFLICT = valid_uscc("91110100MA0000001")


def install_mini(tmp_path: Path, extra: str = "", replace: dict[str, str] | None = None) -> str:
    """Install the mini campaign (valid conflict USCC, optional edits); return its slug."""
    text = MINI_CAMPAIGN.read_text(encoding="utf-8").replace("91110100MA0000001X", CONFLICT)
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "mini-campaign.toml"
    path.write_text(text + extra, encoding="utf-8")
    return install(path)


def campaign_id(session: Session, slug: str = "mini-test") -> int:
    """The id of an installed campaign."""
    return session.exec(select(Campaign).where(Campaign.slug == slug)).one().id


def application(session: Session, cid: int, *, unit_code: str = "110000", enterprise: str | None = None,
                code: str | None = None, project: str | None = None,
                direction: str = "experience_centre") -> Application:
    """Insert one filed application with a valid USCC."""
    n = next(_serial)
    app = Application(campaign_id=cid, direction=direction, unit_code=unit_code,
                      dedup_key=hashlib.sha256(f"score-{n}".encode()).hexdigest(),
                      reference=f"S{n:06d}", filed_at=parse_local("2031-06-01 10:00"),
                      enterprise_name=enterprise or f"测试企业{n}有限公司",
                      uscc=code or valid_uscc(f"91110000MA{n:07d}"),
                      project_name=project or f"体验中心{n}")
    session.add(app)
    session.flush()
    return app


def entry(session: Session, app: Application, *, unit_code: str = "110000", status: str = "eligible",
          minutes: int = 0, **fields) -> Entry:
    """Insert an application's entry at a unit, arriving `minutes` after a fixed time."""
    row = Entry(campaign_id=app.campaign_id, application_id=app.id, unit_code=unit_code,
                direction=app.direction, status=status,
                arrived_at=parse_local("2031-06-11 09:00") + timedelta(minutes=minutes), **fields)
    session.add(row)
    session.flush()
    return row


def stage(session: Session, cid: int, unit_code: str = "110000", **fields) -> Stage:
    """Return a unit's stage after setting some of its columns (state, flow_run_id, ...)."""
    row = session.exec(select(Stage).where(Stage.campaign_id == cid, Stage.unit_code == unit_code)).one()
    row.sqlmodel_update(fields)
    session.add(row)
    session.flush()
    return row


def province_stage(tmp_path: Path, **extra) -> dict:
    """Install the mini campaign; put four entries at 甲省 (A conflicts with p-e2) and more.

    Returns ids: stage, A, B, C (eligible, scored), D (passthrough), E (ineligible).
    """
    install_mini(tmp_path, **extra)
    with session_scope() as s:
        cid = campaign_id(s)
        a = entry(s, application(s, cid, code=CONFLICT, enterprise="关联企业（北京）有限公司"), minutes=3)
        b = entry(s, application(s, cid), minutes=2)
        c = entry(s, application(s, cid), minutes=1)
        d = entry(s, application(s, cid), passthrough="extra", origin_unit_code="110100")
        e = entry(s, application(s, cid), status="ineligible")
        st = stage(s, cid, state="scoring")
        refs = {k: s.get(Application, v.application_id).reference
                for k, v in {"A": a, "B": b, "C": c, "D": d, "E": e}.items()}
        return {"stage": st.id, "cid": cid, "A": a.id, "B": b.id, "C": c.id, "D": d.id, "E": e.id,
                "ref": refs}
