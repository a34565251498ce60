"""Quotas: how many entries a unit may recommend per direction, and the selection itself.

Pure functions. A unit's allowance per direction has three parts (2023 notices):
- `base`: the ordinary quota (None = 可报尽报, recommend every eligible entry);
- `extra`: a demonstration city's extra recommendations, not counted against the base and
  marked as extra (MIIT: each 信息消费示范城市 may add ≤ 2);
- `direct`: special recommendations that skip the parent's review and go on through it
  (Wuhan's 2 特色项目, sent to MIIT via Hubei).
Selection order in a direction's ranking: the `direct` best first, then `base`, then `extra`.
"""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from core.campaign import CampaignConfig, Quota

KIND_NAMES = {"base": "推荐名额", "extra": "示范城市额外推荐名额", "direct": "特色项目直报名额"}


@dataclass(frozen=True)
class Allowance:
    base: int | None
    extra: int = 0
    direct: int = 0
    min_score: Decimal | None = None

    def limit(self, kind: str) -> int | None:
        return {"base": self.base, "extra": self.extra, "direct": self.direct}[kind]


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    direction: str
    rank: int
    score: Decimal | None = None
    label: str | None = None  # what people call it (the 申报编号); messages fall back to the id

    @property
    def name(self) -> str:
        return self.label or f"条目 {self.entry_id}"


def quota_for(config: CampaignConfig, unit_code: str, direction: str) -> Allowance:
    """Resolve a unit's allowance: its own quota, else its parent's child quota, else 可报尽报."""
    unit = config.unit(unit_code)
    spec: Quota | None = unit.quotas.get(direction)
    if spec is None and unit.parent is not None:
        spec = config.unit(unit.parent).child_quotas.get(direction)
    spec = spec or Quota()
    extra = spec.extra
    if extra is None:
        extra = config.directions[direction].demo_city_extra if config.demo_city(unit_code) else 0
    return Allowance(base=None if spec.unlimited else spec.base, extra=extra,
                     direct=spec.direct, min_score=spec.min_score)


def select(candidates: list[Candidate], allowances: dict[str, Allowance]) -> dict[int, str]:
    """Pick entries per direction from the ranking; return entry id → quota kind."""
    chosen: dict[int, str] = {}
    for direction, allowance in allowances.items():
        ranked = sorted((c for c in candidates if c.direction == direction), key=lambda c: c.rank)
        if allowance.min_score is not None:
            ranked = [c for c in ranked if c.score is not None and c.score >= allowance.min_score]
        for kind in ("direct", "base", "extra"):
            limit = allowance.limit(kind)
            take = ranked if limit is None else ranked[:limit]
            chosen.update((c.entry_id, kind) for c in take)
            ranked = ranked[len(take):]
    return chosen


def check_selection(selection: dict[int, str], candidates: list[Candidate],
                    allowances: dict[str, Allowance]) -> list[tuple[str, str]]:
    """Return (zh, en) problems with a proposed or edited selection; empty when it fits."""
    by_id = {c.entry_id: c for c in candidates}
    problems = [(f"条目 {eid} 不在可推荐范围内", f"entry {eid} cannot be recommended here")
                for eid in selection if eid not in by_id]
    problems += [_below_minimum(by_id[eid], allowances) for eid in selection
                 if eid in by_id and _below_minimum(by_id[eid], allowances) is not None]
    counts = Counter((by_id[eid].direction, kind) for eid, kind in selection.items() if eid in by_id)
    for (direction, kind), n in sorted(counts.items()):
        allowance = allowances.get(direction, Allowance(base=None))
        limit = allowance.limit(kind) if kind in KIND_NAMES else 0
        if limit is not None and n > limit:
            problems.append((f"方向 {direction} 的{KIND_NAMES.get(kind, kind)}为 {limit} 个，所选 {n} 个，超出配额",
                             f"direction {direction}: the {kind} quota is {limit}, the selection has {n}"))
    return problems


def _below_minimum(candidate: Candidate, allowances: dict[str, Allowance]) -> tuple[str, str] | None:
    """The problem when a candidate's score is under its direction's minimum (or missing)."""
    floor = allowances.get(candidate.direction, Allowance(base=None)).min_score
    if floor is None or (candidate.score is not None and candidate.score >= floor):
        return None
    got = "无得分" if candidate.score is None else f"得分 {candidate.score:.2f}"
    return (f"{candidate.name} {got}，低于方向 {candidate.direction} 的最低分 {floor}",
            f"{candidate.label or f'entry {candidate.entry_id}'} scores {candidate.score if candidate.score is not None else 'nothing'}, "
            f"below the minimum {floor} of direction {candidate.direction}")


def top_titles(scored: list[tuple[int, Decimal | None, int]], n: int) -> set[int]:
    """Pick the n best entries (id, score, rank) across directions for a provincial title."""
    ordered = sorted((s for s in scored if s[1] is not None), key=lambda s: (-s[1], s[2], s[0]))
    return {entry_id for entry_id, _, _ in ordered[:n]}
