"""推荐函: its wording rendered from `templates/letter/` with Jinja2, as one `LetterContent`
that the .docx layout and the HTML preview both show. A campaign's `letter_body`, when set,
is the opening paragraph (a Jinja2 template with the same variables as opening.txt.j2)."""

from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session

from core.campaign import CampaignConfig, Remarks, UnitSpec
from core.clock import fmt_cn_date, local
from core.settings import PROJECT_ROOT
from models import Entry
from tasks.document_data import StageData, direction_counts, entry_marks, load_stage_data
from tasks.letter_number import format_number, letter_abbr, stage_number
from tasks.summary_table import table_specs

TEMPLATES = PROJECT_ROOT / "templates" / "letter"
CN_DIGITS = "零一二三四五六七八九十"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of the 正文: `heading` paragraphs are set in 黑体."""

    text: str
    heading: bool = False


@dataclass(frozen=True)
class LetterContent:
    """Everything a 推荐函 shows, in reading order."""

    organ: str
    number: str
    title: str
    recipient: str
    paragraphs: list[Paragraph]
    attachments: list[str]
    attachment_lines: list[str]
    signature: str
    date: str
    contact: str


def cn_number(n: int) -> str:
    """Chinese numeral for 1–99 (一, 十, 十二, 二十三) as used in 一、二、 headings."""
    if n <= 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return f"{CN_DIGITS[tens] if tens > 1 else ''}十{CN_DIGITS[ones] if ones else ''}"


@lru_cache(maxsize=1)
def letter_env() -> Environment:
    """The one Jinja2 environment for letters: .html templates escape, every variable is required."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(("html", "html.j2"), default_for_string=False),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["cn"] = cn_number
    return env


def letter_attachment_names(config: CampaignConfig, unit: UnitSpec) -> list[str]:
    """The files the letter lists under 附件: exactly the summary tables sent with it."""
    return [spec.file_name for spec in table_specs(config, unit)]


def self_reference(organ: str) -> str:
    """How the organ names itself in its letter (templates/letter/self_ref.txt.j2): 我厅, 我局 … 我单位."""
    return letter_env().get_template("self_ref.txt.j2").render(organ=organ).strip()


def area_of(unit: UnitSpec) -> str:
    """Where the unit organised the call (templates/letter/area.txt.j2): 本地区, 本集团 …."""
    return letter_env().get_template("area.txt.j2").render(level=unit.level).strip()


def subject_of(config: CampaignConfig) -> str:
    """What is recommended, from the summary title: 2023年新型信息消费示范项目."""
    return config.summary_title.removesuffix("汇总表").removesuffix("推荐项目") or config.name


def letter_marks(entry: Entry, remarks: Remarks, origin_name: str) -> list[str]:
    """The marks after a project in the letter's list (the campaign's extra, direct, title marks)."""
    quota_mark, title_mark = entry_marks(entry, remarks)
    prefix = origin_name if entry.passthrough else ""
    return ([prefix + quota_mark] if quota_mark else []) + ([title_mark] if title_mark else [])


def contact_text(unit: UnitSpec) -> str:
    """The 附注 contact: the unit's letter.contact, else its contacts with their phones."""
    if unit.letter.contact:
        return unit.letter.contact
    return "；".join(f"{p.name}，电话：{p.phone}" if p.phone else p.name for p in unit.contacts)


def letter_context(data: StageData, number: str) -> dict:
    """The variables every letter template sees."""
    unit, config = data.unit, data.config
    organ = unit.letter.organ or unit.organ_name
    directions = []
    for count in direction_counts(data):
        items = [{"no": i, "enterprise": r.app.enterprise_name or "", "project": r.app.project_name or "",
                  "marks": letter_marks(r.entry, config.remarks, data.unit_name(r.entry.origin_unit_code))}
                 for i, r in enumerate(data.recommended(count.key), 1)]
        directions.append({**count.__dict__, "projects": items})
    attachments = letter_attachment_names(config, unit)
    return {
        "organ": organ, "self_ref": self_reference(organ), "unit_name": unit.name,
        "area": area_of(unit),
        "recipient": data.parent.letter.organ or data.parent.organ_name if data.parent else "",
        "subject": subject_of(config), "campaign_name": config.name, "year": local(data.when).year,
        "notice_no": config.notice_no, "notice_title": config.notice_title,
        "directions": directions, "total": sum(d["total"] for d in directions),
        "extra": sum(d["extra"] for d in directions), "direct": sum(d["direct"] for d in directions),
        "titles": sum(d["titles"] for d in directions), "attachments": attachments,
        "number": number, "date": fmt_cn_date(data.when), "contact": contact_text(unit),
    }


def letter_content(data: StageData, number: str) -> LetterContent:
    """Render the letter's wording for a stage with a given 发文字号."""
    env, ctx = letter_env(), letter_context(data, number)
    opening = env.from_string(data.config.letter_body) if data.config.letter_body else env.get_template("opening.txt.j2")
    ctx["opening"] = opening.render(ctx).strip()
    return LetterContent(
        organ=ctx["organ"], number=number, title=_text(env, "title.txt.j2", ctx),
        recipient=ctx["recipient"], paragraphs=_paragraphs(_text(env, "body.txt.j2", ctx)),
        attachments=ctx["attachments"], attachment_lines=_lines(_text(env, "attachments.txt.j2", ctx)),
        signature=ctx["organ"], date=ctx["date"], contact=_text(env, "contact.txt.j2", ctx))


def _text(env: Environment, name: str, ctx: dict) -> str:
    return env.get_template(name).render(ctx).strip()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _paragraphs(text: str) -> list[Paragraph]:
    return [Paragraph(line[3:].strip(), True) if line.startswith("## ") else Paragraph(line)
            for line in _lines(text)]


def draft_number(data: StageData, session: Session) -> str:
    """The stage's 发文字号 if allocated, else the draft form with the number left blank."""
    held = stage_number(session, data.stage.id)
    return held.text if held else format_number(letter_abbr(data.unit), local(data.when).year, None)


def render_letter_html(session: Session, stage_id: int) -> str:
    """Render a stage's 推荐函 as an HTML page (escaped) for screens and e-mail previews."""
    data = load_stage_data(session, stage_id)
    return letter_html(letter_content(data, draft_number(data, session)))


def letter_html(content: LetterContent) -> str:
    """Render letter content with the HTML template."""
    return letter_env().get_template("letter.html.j2").render(letter=content)
