"""The campaign's manifest.json: every generated document, rebuilt from the Document table."""

import json
from pathlib import Path

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from core.clock import to_utc
from core.settings import get_settings
from models import Campaign, Document, Unit
from tasks.doc_files import safe_component, write_atomic

MANIFEST = "manifest.json"


def campaign_dir(campaign: Campaign) -> Path:
    """The folder holding a campaign's documents: <output_dir>/<slug>."""
    return get_settings().output_dir / safe_component(campaign.slug)


def manifest_entries(session: Session, campaign: Campaign) -> list[dict]:
    """One record per Document row of the campaign, in unit, kind and direction order."""
    base = campaign_dir(campaign)
    prefix = f"{base.as_posix()}/"
    names = dict(session.exec(select(Unit.code, Unit.name).where(Unit.campaign_id == campaign.id)).all())
    docs = session.exec(select(Document.unit_code, Document.stage_id, Document.kind, Document.direction,
                               Document.path, Document.sha256, Document.generated_at)
                        .where(Document.campaign_id == campaign.id)
                        .order_by(Document.unit_code, Document.kind, Document.direction))
    return [{
        "unit_code": unit, "unit_name": names.get(unit, ""), "stage_id": stage_id,
        "kind": kind, "direction": direction, "file": _relative(path, base, prefix),
        "sha256": sha, "generated_at": to_utc(generated_at).isoformat(),
    } for unit, stage_id, kind, direction, path, sha, generated_at in docs]


def write_manifest(session: Session, campaign_id: int) -> Path:
    """Rewrite <campaign dir>/manifest.json from the Document table (temp file + rename)."""
    campaign = session.get(Campaign, campaign_id, options=[defer(Campaign.config)])
    body = {"campaign": campaign.slug, "name": campaign.name, "year": campaign.year,
            "documents": manifest_entries(session, campaign)}
    path = campaign_dir(campaign) / MANIFEST
    text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    write_atomic(path, text.encode("utf-8"))
    return path


def _relative(path: str, base: Path, prefix: str) -> str:
    """The file's path below the campaign folder (POSIX), or the whole path when it is elsewhere."""
    if path.startswith(prefix) and "//" not in path and "/./" not in path and not path.endswith(("/", "/.")):
        return path[len(prefix):]  # already normal: what Path.relative_to gives, without building Paths
    try:
        return Path(path).relative_to(base).as_posix()
    except ValueError:
        return Path(path).as_posix()
