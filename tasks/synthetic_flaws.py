"""The mistakes real applicants make, applied to fictional records for the demo.

Each flaw turns a valid record into one the intake must refuse, and marks it with
`_flaw`: the missing 附3, a typo in the 统一社会信用代码, MAU written in 万 (so below the
minimum in 亿), a 250 m² centre, a 简介 over its limit, an applicant registered outside
the receiving unit's region, and the same project filed twice.
"""

import random
from decimal import Decimal

from stdnum.cn import uscc as uscc_number

from core.campaign import CampaignConfig
from tasks.synthetic_text import padded_prose

FLAWS = ("missing_declaration", "uscc_typo", "mau_in_wan", "small_area", "long_profile",
         "outside_region", "duplicate_project")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FORM_SPECIFIC = ("mau", "registered_users", "launch_date", "sec_collaboration", "area", "centre_address",
                 "monthly_visitors", "construction_start", "construction_end", "sec_team")


def usable_flaws(config: CampaignConfig) -> list[str]:
    """Return the flaws this campaign's rules can catch (e.g. no area flaw without an area rule)."""
    out = []
    for flaw in FLAWS:
        if flaw == "mau_in_wan" and not _rule_direction(config, "mau"):
            continue
        if flaw == "small_area" and not _rule_direction(config, "area"):
            continue
        if flaw == "long_profile" and not any("profile" in d.text_limits for d in config.directions.values()):
            continue
        if flaw == "outside_region" and not any(u.region and u.accepts_applications for u in config.units):
            continue
        out.append(flaw)
    return out


def _rule_direction(config: CampaignConfig, field: str) -> str | None:
    return next((k for k, d in config.directions.items()
                 if any(r.field == field and r.min is not None for r in d.rules)), None)


def fits(config: CampaignConfig, records: list[dict], index: int, flaw: str) -> bool:
    """Whether records[index] can carry `flaw` (a MAU flaw needs a platform, and so on)."""
    record = records[index]
    spec = config.directions[record["direction"]]
    if flaw in ("mau_in_wan", "small_area"):
        field = "mau" if flaw == "mau_in_wan" else "area"
        return any(r.field == field and r.min is not None for r in spec.rules)
    if flaw == "long_profile":
        return "profile" in spec.text_limits
    if flaw == "outside_region":
        return bool(config.unit(record["unit"]).region)
    if flaw == "duplicate_project":
        return any("_flaw" not in r for r in records[:index])
    return True


def apply_flaw(config: CampaignConfig, rng: random.Random, records: list[dict], index: int, flaw: str) -> None:
    """Spoil records[index] with `flaw` (which must fit it) and mark it with `_flaw`."""
    record = records[index]
    if flaw == "missing_declaration":
        record["attachments"] = [a for a in record["attachments"] if a["kind"] != "附3"]
    elif flaw == "uscc_typo":
        record["uscc"] = uscc_typo(rng, record["uscc"])
    elif flaw in ("mau_in_wan", "small_area"):
        _below_minimum(config, rng, record, "mau" if flaw == "mau_in_wan" else "area")
    elif flaw == "long_profile":
        limit = config.directions[record["direction"]].text_limits["profile"]
        record["profile"] = padded_prose(rng, length=limit + rng.randint(20, 120))
    elif flaw == "outside_region":
        _outside_region(config, record)
    elif flaw == "duplicate_project":
        _duplicate(records, index)
    record["_flaw"] = flaw


def uscc_typo(rng: random.Random, code: str) -> str:
    """Change one character of the organisation code: the check character then no longer fits."""
    pos = rng.randrange(8, 17)
    wrong = rng.choice([c for c in USCC_ALPHABET if c != code[pos]])
    return code[:pos] + wrong + code[pos + 1:]


def _below_minimum(config: CampaignConfig, rng: random.Random, record: dict, field: str) -> None:
    """MAU of 6000万 written as 0.6 (亿) is below 1; a 250 m² centre is below 300."""
    spec = config.directions[record["direction"]]
    rule = next(r for r in spec.rules if r.field == field and r.min is not None)
    factor = Decimal(str(round(rng.uniform(0.3, 0.9), 2))) if field == "mau" else Decimal("0.8333")
    record[field] = (rule.min * factor).quantize(Decimal("0.01"))
    if field == "mau":
        record["registered_users"] = record[field] * 3


def _outside_region(config: CampaignConfig, record: dict) -> None:
    """Register the applicant in another province than the unit's region."""
    region = config.unit(record["unit"]).region or ""
    elsewhere = "440106" if not region.startswith("44") else "420102"
    body = record["uscc"][:2] + elsewhere + record["uscc"][8:17]
    record["uscc"] = body + uscc_number.calc_check_digit(body)


def _duplicate(records: list[dict], index: int) -> None:
    """Re-file an earlier valid record's project (same enterprise, the name retyped)."""
    original = next(r for r in reversed(records[:index]) if "_flaw" not in r)
    record = records[index]
    for key in FORM_SPECIFIC:
        record.pop(key, None)
    same = ("enterprise_name", "uscc", "unit", "direction", "registered_address", "office_address",
            "profile", "overview",
            *(k for k in FORM_SPECIFIC if k in original))
    record.update({k: original[k] for k in same})
    record["project_name"] = original["project_name"].replace("（", " (").replace("）", ")")
