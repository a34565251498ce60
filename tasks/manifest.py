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
    names = {u.code: u.name for u in session.exec(select(Unit).where(Unit.campaign_id == campaign.id))}
    docs = session.exec(select(Document).where(Document.campaign_id == campaign.id)
                        .order_by(Document.unit_code, Document.kind, Document.direction))
    return [{
        "unit_code": d.unit_code, "unit_name": names.get(d.unit_code, ""), "stage_id": d.stage_id,
        "kind": d.kind, "direction": d.direction, "file": _relative(Path(d.path), base),
        "sha256": d.sha256, "generated_at": to_utc(d.generated_at).isoformat(),
    } for d in docs]


def write_manifest(session: Session, campaign_id: int) -> Path:
    """Rewrite <campaign dir>/manifest.json from the Document table (temp file + rename)."""
    campaign = session.get(Campaign, campaign_id, options=[defer(Campaign.config)])
    body = {"campaign": campaign.slug, "name": campaign.name, "year": campaign.year,
            "documents": manifest_entries(session, campaign)}
    path = campaign_dir(campaign) / MANIFEST
    text = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    write_atomic(path, text.encode("utf-8"))
    return path


def _relative(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()
