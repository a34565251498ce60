"""Expert scoring rules as plain functions: rubric maths, conflicts of interest, ranking.

An expert's total for one entry is the weighted share of the rubric's maximum, on a
0–100 scale:

    total = 100 × Σ(weightᵢ × scoreᵢ / max_scoreᵢ) / Σ weightᵢ

so weights need not add up to 1 and criteria may have different maxima. An entry's
aggregate is the mean of its experts' totals, or (``aggregation = "trimmed_mean"``) the
mean after dropping one highest and one lowest total when at least ``trim_min_experts``
experts scored it. Every result is rounded half-up to 4 decimal places (the precision
the database keeps).
"""

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from core.campaign import Expert, Rubric
from core.clock import to_utc
from core.errors import FieldError, ValidationFailed

PLACES = Decimal("0.0001")
HUNDRED = Decimal(100)


def score_errors(scores: dict[str, Decimal | None], rubric: Rubric) -> list[FieldError]:
    """Return every problem with one expert's scores for one entry (empty when valid)."""
    known = {c.key for c in rubric.criteria}
    errors = [FieldError(key, f"评分细则中没有指标 {key}", f"the rubric has no criterion {key}")
              for key in scores if key not in known]
    for c in rubric.criteria:
        problem = value_problem(scores.get(c.key), c.max_score)
        if problem is not None:
            errors.append(FieldError(c.key, f"{c.name}：{problem[0]}", f"{c.key}: {problem[1]}"))
    return errors


def value_problem(value: Decimal | None, max_score: Decimal) -> tuple[str, str] | None:
    """Say (zh, en) why a single score is unacceptable, or None when it is fine."""
    if value is None:
        return "未打分", "no score given"
    if not isinstance(value, Decimal) or not value.is_finite():
        return f"分值 {value} 不是数字", f"score {value} is not a number"
    if value < 0 or value > max_score:
        return f"分值 {value} 超出范围 0–{max_score}", f"score {value} is outside 0–{max_score}"
    if value != value.quantize(PLACES, rounding=ROUND_HALF_UP):
        return f"分值 {value} 小数位过多（最多4位）", f"score {value} has more than 4 decimal places"
    return None


def weighted_total(criteria_scores: dict[str, Decimal], rubric: Rubric) -> Decimal:
    """Return one expert's total for one entry on a 0–100 scale; raise ValidationFailed if invalid."""
    errors = score_errors(dict(criteria_scores), rubric)
    if errors:
        raise ValidationFailed(errors, zh="评分有误", en="invalid scores")
    weights = sum(c.weight for c in rubric.criteria)
    share = sum(c.weight * criteria_scores[c.key] / c.max_score for c in rubric.criteria)
    return (HUNDRED * share / weights).quantize(PLACES, rounding=ROUND_HALF_UP)


def trims(count: int, rubric: Rubric) -> bool:
    """Whether the highest and lowest of `count` totals are dropped."""
    return rubric.aggregation == "trimmed_mean" and count >= rubric.trim_min_experts


def aggregate(totals: list[Decimal], rubric: Rubric) -> Decimal | None:
    """Return the entry's aggregate of its experts' totals, or None when nobody scored it."""
    if not totals:
        return None
    kept = sorted(totals)[1:-1] if trims(len(totals), rubric) else list(totals)
    return (sum(kept) / Decimal(len(kept))).quantize(PLACES, rounding=ROUND_HALF_UP)


def normalise(text: str | None) -> str:
    """Fold a USCC or enterprise name for comparison (NFKC, no spaces, upper case)."""
    return "".join(unicodedata.normalize("NFKC", text or "").split()).upper()


def conflicted(expert: Expert, *, uscc: str | None, enterprise_name: str | None) -> str | None:
    """Return why `expert` may not score this applicant (zh / en), or None when they may."""
    own, name = normalise(uscc), normalise(enterprise_name)
    if own and normalise(expert.uscc) == own:
        return f"专家与申报单位为同一单位（{uscc}） / the expert works for the applicant ({uscc})"
    listed = {normalise(item) for item in expert.conflicts}
    if own and own in listed:
        return f"专家申明与申报单位 {uscc} 存在利益关联 / the expert declared a relation with {uscc}"
    if name and name in listed:
        return (f"专家申明与申报单位“{enterprise_name}”存在利益关联 / "
                f"the expert declared a relation with {enterprise_name}")
    return None


@dataclass(frozen=True)
class RankItem:
    """One entry to rank; `score` is None where the stage has no expert review."""

    entry_id: int
    reference: str
    arrived_at: datetime
    score: Decimal | None = None
    experts: int = 0
    first_criterion: Decimal | None = None
    rank: int | None = None


def rank_key(item: RankItem) -> tuple:
    """Sort key of `rank` (smaller sorts first)."""
    return (item.score is None, -(item.score or 0), -item.experts,
            item.first_criterion is None, -(item.first_criterion or 0),
            to_utc(item.arrived_at), item.reference, item.entry_id)


def rank(items: list[RankItem]) -> list[RankItem]:
    """Rank entries 1..n, best first, with a total, deterministic order.

    Ties are broken, in turn, by: higher aggregate score (entries without one last);
    more experts who scored; higher mean score on the rubric's first criterion; earlier
    arrival at the unit; the application reference (申报编号) in code-point order; and
    finally the entry id, so the order never depends on the order of the input.
    """
    ids = [item.entry_id for item in items]
    if len(set(ids)) != len(ids):
        raise ValueError("rank() needs distinct entry ids")
    ordered = sorted(items, key=rank_key)
    return [replace(item, rank=position) for position, item in enumerate(ordered, start=1)]
