"""Simulated officials and experts for the demo and benchmarks.

They act exactly as people would: experts submit the ScoresInput form of a waiting stage
run, officials read their one-time code from the e-mail they received (an .eml in the
mail sink's folder) and submit the approval form, both through Prefect's API.
"""

import email
import email.policy
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from core.db import session_scope
from core.mailsink import INDEX, INDEX_COLUMNS
from tasks.receipts import record_all_receipts
from tasks.score_stage import assignment_of, missing_scores, scorable_entries
from tasks.stages import load_stage
from tasks.waiting import WaitingRun, resume, waiting_stage_runs

CODE = re.compile(r"--code ([A-Z2-9]{8,32})")  # [approval] code_length


@dataclass
class Actors:
    slug: str
    mail_dir: Path
    seed: int = 2023
    greedy_unit: str | None = None  # units starting with this: the first official facing more than the quota tries it
    log: list[str] = field(default_factory=list)
    _tried: set[str] = field(default_factory=set)
    _answered: set[tuple[str, str]] = field(default_factory=set)

    def _mailbox(self) -> "Mailbox":
        if "_box" not in self.__dict__:
            self.__dict__["_box"] = Mailbox(self.mail_dir)
        return self.__dict__["_box"]

    async def act_once(self, client=None) -> int:
        """Answer every run that waits now; return how many inputs were sent."""
        sent = 0
        for run in await waiting_stage_runs(self.slug, client):
            if (run.flow_run_id, run.key) in self._answered:
                continue
            value = self._scores(run) if run.kind == "scores" else self._approval(run)
            if value is None:
                continue
            accepted, reason = await resume(run.flow_run_id, value, client)
            self._answered.add((run.flow_run_id, run.key))
            sent += accepted
            if not accepted:
                self.log.append(f"{run.unit}: 输入被服务器拒绝 / input rejected by the server: {reason}")
        return sent

    def _scores(self, run: WaitingRun) -> dict | None:
        with session_scope() as session:
            ctx = load_stage(session, self.slug, run.unit)
            missing = missing_scores(session, ctx.stage.id)
            if not missing:
                return None
            expert = missing[0][1]
            refs = {e.id: a.reference for e, a in scorable_entries(session, ctx.stage)}
            todo = [eid for eid, ex in missing if ex == expert]
            rng = random.Random(f"{self.seed}-{run.unit}-{expert}")
            rows = [{"reference": refs[eid], "conflict": False, "note": "",
                     **{c.key: rng.randint(55, 98) for c in ctx.config.rubric.criteria}} for eid in todo]
        return {"expert": expert, "rows": rows, "sheets_imported": False}

    def _approval(self, run: WaitingRun) -> dict | None:
        with session_scope() as session:
            ctx = load_stage(session, self.slug, run.unit)
            official = ctx.spec.officials[0]
            record_all_receipts(session, ctx.stage.id, by=f"{ctx.unit.name}收文（模拟）")  # 双轨 first
            eligible = [a.reference for e, a in scorable_entries(session, ctx.stage)]
            over = len(eligible) > len(ctx.stage.proposal or [])
        code = self._mailbox().latest_code(official.email, run.unit)
        if code is None:
            return None
        if over and not self._tried and self.greedy_unit is not None and run.unit.startswith(self.greedy_unit):
            self._tried.add(run.unit)
            self.log.append(f"{run.unit}: 审批人先提交超额名单 / the official first submits an over-quota list")
            return {"official": official.id, "code": code, "decision": "edit", "reason": "全部推荐", "selection": eligible}
        return {"official": official.id, "code": code, "decision": "approve", "reason": ""}


class Mailbox:
    """The officials' inboxes: the mail sink's folder, read through its index.

    The index (one line per delivered copy, appended whole) is read on from where the last
    look stopped, and each new message is parsed once, so a look costs what arrived since.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._offset = 0
        self._texts: dict[str, list[str]] = {}  # recipient -> plain texts, oldest first

    def latest_code(self, address: str, unit: str) -> str | None:
        """The newest one-time code mailed to an official for a unit."""
        self._read_new()
        for text in reversed(self._texts.get(address.lower(), ())):  # in the sink's order: newest last
            if f"tuijian approve {unit} " in text and (m := CODE.search(text)):
                return m.group(1)
        return None

    def _read_new(self) -> None:
        index = self.folder / INDEX
        if not index.exists():
            return
        with index.open("rb") as f:
            f.seek(self._offset)
            chunk = f.read()
        whole = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(whole)
        for line in whole.decode("utf-8").splitlines():
            row = dict(zip(INDEX_COLUMNS, line.split("\t"), strict=False))
            if not row.get("number", "").isdigit():
                continue  # the header line
            msg = email.message_from_bytes((self.folder / row["file"]).read_bytes(), policy=email.policy.default)
            body = msg.get_body(preferencelist=("plain",))
            self._texts.setdefault(row["recipient"].lower(), []).append(body.get_content() if body else "")


def waiting_summary(slug: str) -> list[str]:
    """Units still waiting for a person (for progress display)."""
    from models import Stage

    with session_scope() as session:
        rows = session.exec(select(Stage.unit_code, Stage.state).where(Stage.state.in_(("scoring", "awaiting_approval"))))
        return [f"{u}:{s}" for u, s in rows]


__all__ = ["Actors", "Mailbox", "assignment_of", "waiting_summary"]
