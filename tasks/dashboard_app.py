"""The read-only web dashboard (FastAPI): the chain's overview, one page per unit, downloads.

Routes:
  /                              campaigns (straight to the only one)
  /c/{slug}                      overview: state totals, timeline, late units, approvals, tree
  /c/{slug}/u/{code}             one unit: stage, counts, entries, scores, documents, audit
  /c/{slug}/documents/{id}       a generated file, looked up by Document id (never by path)
  /c/{slug}/documents/{id}/preview  the 推荐函's HTML rendering, shown in the browser
  /static/...                    the dashboard's own CSS and JS (no CDN)
"""

from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import select

from core.db import session_scope
from core.errors import NotFound
from models import Campaign, Stage
from tasks.dashboard_views import (
    REFRESH_SECONDS,
    STATIC,
    render,
    state_counts,
    timeline,
    tree_view,
)
from tasks.status import build_status, campaign_head
from tasks.unit_detail import (
    DOCUMENT_KIND_NAMES,
    PREVIEW_KINDS,
    document_file,
    person_names,
    unit_audit,
    unit_documents,
    unit_entries,
    unit_names,
)


def create_app() -> FastAPI:
    """Build the dashboard application (read-only; every page reads the database afresh)."""
    app = FastAPI(title="tuijian 推荐进度看板", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/", campaigns, response_class=HTMLResponse)
    app.add_api_route("/c/{slug}", overview, response_class=HTMLResponse)
    app.add_api_route("/c/{slug}/u/{code}", unit_page, response_class=HTMLResponse)
    app.add_api_route("/c/{slug}/documents/{document_id}", download)
    app.add_api_route("/c/{slug}/documents/{document_id}/preview", preview)
    app.add_exception_handler(NotFound, not_found)
    return app


def campaigns() -> Response:
    """List the stored campaigns; go straight to the only one."""
    with session_scope() as session:
        rows = session.exec(select(Campaign).order_by(Campaign.year.desc(), Campaign.slug)).all()
    if len(rows) == 1:
        return RedirectResponse(f"/c/{rows[0].slug}", status_code=307)
    return HTMLResponse(render("campaigns.html", campaigns=rows))


Refresh = Annotated[int, Query(ge=1, le=3600, description="自动刷新秒数 / seconds between refreshes")]


def overview(slug: str, refresh: Refresh = REFRESH_SECONDS) -> HTMLResponse:
    """The whole chain at the campaign's clock."""
    with session_scope() as session:
        status = build_status(session, campaign_head(session, slug))
    marks, now_at = timeline(status)
    base = f"/c/{slug}"
    return HTMLResponse(render("overview.html", status=status, marks=marks, now_at=now_at,
                               counts=state_counts(status), base=base, late=status.late,
                               awaiting=status.awaiting, tree=tree_view(status, status.roots, base),
                               REFRESH=refresh))


def double_track_gaps(session, stage_id: int) -> list:
    """Paper copies and online registrations still missing at a stage (双轨)."""
    from tasks.double_track import double_track_gaps as gaps

    return gaps(session, stage_id)


def unit_page(slug: str, code: str, refresh: Refresh = REFRESH_SECONDS) -> HTMLResponse:
    """One unit: its stage, counts, entries with scores, documents and audit trail."""
    with session_scope() as session:
        campaign = campaign_head(session, slug)
        status = build_status(session, campaign, subtree=code)
        unit = status.units[code]
        entries = unit_entries(session, campaign.id, code)
        stage = session.get(Stage, unit.stage_id) if unit.stage_id else None
        ancestors = unit.path.split("/")[:-1]
        related = {e.from_unit_code for e in entries} | {e.origin_unit_code for e in entries}
        names = unit_names(session, campaign.id, ancestors + sorted(c for c in related if c))
        audit = unit_audit(session, campaign.id, unit_code=code, stage_id=unit.stage_id,
                           entry_ids=[e.id for e in entries])
        keys = {expert for e in entries for expert, _, _ in e.scores} | {a.actor for a in audit}
        context = {
            "status": status, "unit": unit, "stage": stage, "entries": entries, "audit": audit,
            "people": person_names(session, campaign.id, keys),
            "children": tree_view(status, unit.children, f"/c/{slug}", deep=False),
            "ancestors": [(c, names.get(c, c)) for c in ancestors], "names": names,
            "documents": unit_documents(session, unit.stage_id),
            "gaps": double_track_gaps(session, unit.stage_id) if unit.stage_id else [],
            "base": f"/c/{slug}", "REFRESH": refresh,
        }
    return HTMLResponse(render("unit.html", **context))


def download(slug: str, document_id: int) -> FileResponse:
    """Send a generated file recorded in Document, by id."""
    with session_scope() as session:
        doc, path = document_file(session, campaign_head(session, slug).id, document_id)
    kind = DOCUMENT_KIND_NAMES.get(doc.kind, doc.kind)
    name = f"{doc.unit_code}-{kind}{'-' + doc.direction if doc.direction else ''}{path.suffix}"
    return FileResponse(path, filename=name)


# The letter's page is our own escaped HTML with an inline stylesheet; it may load nothing else.
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def preview(slug: str, document_id: int) -> FileResponse:
    """Show a 推荐函 rendered as HTML in the browser (only documents meant for a preview)."""
    with session_scope() as session:
        doc, path = document_file(session, campaign_head(session, slug).id, document_id)
    if doc.kind not in PREVIEW_KINDS:
        raise NotFound(f"文件 {document_id} 无网页预览", f"document {document_id} has no web preview")
    return FileResponse(path, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": PREVIEW_POLICY, "X-Content-Type-Options": "nosniff"})


def not_found(_request: Request, exc: NotFound) -> HTMLResponse:
    """Show a missing campaign, unit or document as a 404 page in Chinese and English."""
    return HTMLResponse(render("not_found.html", zh=exc.zh, en=exc.en), status_code=404)


app = create_app()
