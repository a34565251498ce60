"""The final list of demonstration projects, with its history, as xlsx and a published HTML page.

Written to <output_dir>/<campaign>/ once the 公示 closed, and again after every later title
event; recorded as `Document` rows (kinds `final_list`, `final_list_html`, on the top unit's
stage) and in manifest.json. `build_final_list` is pure; dates inside come from the events,
so rewriting an unchanged list gives the same bytes.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.campaign import CampaignConfig
from core.clock import fmt, to_utc
from core.errors import Conflict
from models import Application, Document, Entry, Publicity, Stage, TitleEvent
from tasks.audit import record
from tasks.campaigns import campaign_config, get_campaign
from tasks.doc_files import sha256_hex, write_atomic
from tasks.manifest import campaign_dir, write_manifest
from tasks.publicity import require_publicity
from tasks.title_events import (
    EVENT_NAMES,
    events_by_entry,
    selected_at_root,
    standing,
)

XLSX, HTML = "示范项目名单.xlsx", "示范项目名单.html"


@dataclass(frozen=True)
class ListRow:
    reference: str
    enterprise: str
    project: str
    recommender: str
    remark: str


@dataclass(frozen=True)
class HistoryRow:
    at: str
    event_zh: str
    event_en: str
    reference: str
    enterprise: str
    project: str
    detail: str
    reason: str


@dataclass(frozen=True)
class FinalList:
    title: str
    organ: str
    publicity: str
    published: datetime
    when: datetime  # the newest change: the files' date
    sections: list[tuple[str, list[ListRow]]]
    history: list[HistoryRow]

    @property
    def total(self) -> int:
        """How many projects hold the title."""
        return sum(len(rows) for _, rows in self.sections)


def list_title(config: CampaignConfig) -> str:
    """The list's title: configured, else the campaign name with 申报 turned into 名单."""
    return config.publicity.list_title or config.name.removesuffix("申报") + "名单"


def recommender(config: CampaignConfig, entry: Entry) -> str:
    """Who recommended the entry to the top unit, with the city whose extra it is."""
    name = config.unit(entry.from_unit_code or entry.unit_code).name
    if entry.origin_unit_code and entry.passthrough:
        kind = "额外推荐" if entry.passthrough == "extra" else "特色项目"
        return f"{name}（{config.unit(entry.origin_unit_code).name}{kind}）"
    return name


def _history_row(ev: TitleEvent, app: Application, config: CampaignConfig) -> HistoryRow:
    zh, en = EVENT_NAMES[ev.kind]
    return HistoryRow(fmt(ev.at, "YYYY-MM-DD"), zh, en, app.reference, app.enterprise_name or "",
                      app.project_name or "", config.title_rules.name(ev.detail)[0], ev.reason)


def build_final_list(config: CampaignConfig, publicity: Publicity, rows: list[tuple[Entry, Application]],
                     events: dict[int, list[TitleEvent]]) -> FinalList:
    """Titled entries per direction (remarks for reported changes) and every later event, dated."""
    sections: dict[str, list[ListRow]] = {d.name: [] for d in config.directions.values()}
    history: list[tuple[datetime, int, HistoryRow]] = []
    when = to_utc(publicity.closed_at or publicity.ends_at)
    for entry, app in rows:
        evs = events.get(entry.id, [])
        changes = [f"已报备{config.title_rules.name(e.detail)[0]}（{fmt(e.at, 'YYYY-MM-DD')}）"
                   for e in evs if e.kind == "change_reported"]
        if standing([e.kind for e in evs]) == "titled":
            sections[config.directions[entry.direction].name].append(ListRow(
                app.reference, app.enterprise_name or "", app.project_name or "",
                recommender(config, entry), "；".join(changes)))
        for ev in evs:
            when = max(when, to_utc(ev.at))
            if ev.kind != "awarded":
                history.append((to_utc(ev.at), ev.id, _history_row(ev, app, config)))
    window = f"公示期 / 公示 period：{fmt(publicity.starts_at)} 至 {fmt(publicity.ends_at)}"
    published = to_utc(publicity.closed_at or publicity.ends_at)
    return FinalList(list_title(config), config.root().organ_name, window, published, when,
                     list(sections.items()),
                     [h for _, _, h in sorted(history, key=lambda t: (t[0], t[1]))])


def load_final_list(session: Session, slug: str) -> tuple[FinalList, Publicity]:
    """Read the campaign's list, events and 公示; refuse before the 公示 closed."""
    campaign = get_campaign(session, slug)
    publicity = require_publicity(session, campaign)
    if publicity.state != "closed":
        raise Conflict(f"公示至 {fmt(publicity.ends_at)} 结束后才能发布名单",
                       f"the final list is published after the 公示 ends ({fmt(publicity.ends_at)})")
    data = build_final_list(campaign_config(campaign), publicity, selected_at_root(session, campaign),
                            events_by_entry(session, campaign.id))
    return data, publicity


def write_final_list(session: Session, slug: str) -> list[Document]:
    """Write the xlsx and HTML list, record them as Documents and rewrite manifest.json."""
    from tasks.final_list_files import final_list_html, final_list_xlsx

    data, publicity = load_final_list(session, slug)
    campaign = get_campaign(session, slug)
    folder, docs, changed = campaign_dir(campaign), [], []
    for kind, name, payload in (("final_list", XLSX, final_list_xlsx(data)),
                                ("final_list_html", HTML, final_list_html(data, campaign.name))):
        path = folder / name
        if not path.is_file() or path.read_bytes() != payload:
            write_atomic(path, payload)
        doc, is_new = _upsert(session, publicity, kind, path, sha256_hex(payload), data.when)
        docs.append(doc)
        changed += [kind] if is_new else []
    if changed:
        record(session, actor="system", action="final_list.write", obj=publicity, at=data.when,
               after={"documents": changed, "titled": data.total, "history": len(data.history)},
               campaign_id=campaign.id)
    session.flush()
    write_manifest(session, campaign.id)
    return docs


def _upsert(session: Session, publicity: Publicity, kind: str, path, sha: str, when: datetime) -> tuple[Document, bool]:
    doc = session.exec(select(Document).where(Document.stage_id == publicity.stage_id, Document.kind == kind,
                                              Document.direction == "")).first()
    if doc is not None and doc.sha256 == sha and doc.path == str(path):
        return doc, False
    unit_code = session.get(Stage, publicity.stage_id).unit_code
    doc = doc or Document(campaign_id=publicity.campaign_id, stage_id=publicity.stage_id, unit_code=unit_code,
                          kind=kind, direction="", path="", sha256="", generated_at=when)
    doc.path, doc.sha256, doc.generated_at = str(path), sha, when
    session.add(doc)
    session.flush()
    return doc, True
