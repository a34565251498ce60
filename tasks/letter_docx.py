"""Lay a 推荐函 out as .docx in the GB/T 9704-2012 信函格式 (python-docx).

A4; margins 37 mm top, 35 mm bottom, 28 mm left, 26 mm right; the organ's name as a red
letterhead over a red double rule; title 方正小标宋简体 二号 (22 pt); body 仿宋_GB2312 三号
(16 pt) at a fixed 28.9 pt line, so 22 lines fill the 225 mm text block, and condensed by a
quarter point per character, so 28 fit its 156 mm width (§5.2.1: 22 lines of 28 characters);
落款 and 成文日期 per §7.3.5. (No w:docGrid: LibreOffice lays a character grid out at about
half that density, so the pitch is set on the characters themselves, which every renderer honours.)
"""

import math
import unicodedata
from datetime import datetime
from io import BytesIO

from docx import Document as new_document
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Length, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from core.clock import to_utc
from tasks.doc_files import stable_zip
from tasks.letter import LetterContent

BODY_FONT, TITLE_FONT, HEADING_FONT, PAGE_FONT = "仿宋_GB2312", "方正小标宋简体", "黑体", "宋体"
BODY_PT, TITLE_PT, LINE_PT, TITLE_LINE_PT = 16, 22, 28.9, 35
RED = RGBColor(0xE6, 0x00, 0x12)
TEXT_WIDTH_MM = 156
CHARS_PER_LINE, LINES_PER_PAGE = 28, 22
RULE_OVERHANG_MM = 7
PPR_AFTER_BORDER = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                    "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                    "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                    "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl",
                    "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")  # the red rules are 170 mm long, 7 mm wider than the text on each side


def char_width(text: str) -> float:
    """Width of text in body characters: CJK and full-width count 1, others 1/2."""
    return sum(1 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)


def signature_indents(organ: str, date: str) -> tuple[float, float]:
    """Right indents (in characters) of 署名 and 成文日期: 署名右空二字, date starts two characters
    to its right; a date longer than that is right-indented two and pushes the 署名 left."""
    shift = char_width(organ) - char_width(date) - 2
    if shift + 2 >= 2:
        return 2.0, 2 + shift
    return 2 - shift, 2.0


def char_spacing(text_width_pt: float, chars: int, font_pt: float) -> int:
    """Character spacing (w:spacing, in twentieths of a point) that fits `chars` of `font_pt` in
    `text_width_pt`: the pitch rounded down, never wider than the line."""
    return min(0, math.floor((text_width_pt / chars - font_pt) * 20))


def letterhead_size(organ: str) -> float:
    """Letterhead font size in points: large, but never wider than the text block."""
    fits = TEXT_WIDTH_MM / 25.4 * 72 * 0.92 / max(char_width(organ), 1)
    return float(min(36, int(fits)))


def build_letter_docx(content: LetterContent, when: datetime) -> bytes:
    """Lay out a letter and return the .docx bytes (stable for equal content and `when`)."""
    doc = new_document()
    _page(doc.sections[0])
    _default_style(doc)
    _head(doc, content)
    for p in content.paragraphs:
        para = _para(doc, p.text, font=HEADING_FONT if p.heading else BODY_FONT)
        para.paragraph_format.first_line_indent = Pt(BODY_PT * 2)
    _attachments(doc, content.attachment_lines)
    _signature(doc, content.signature, content.date)
    if content.contact:
        _blank(doc)
        _para(doc, content.contact).paragraph_format.left_indent = Pt(BODY_PT * 2)
    _properties(doc, content, when)
    buffer = BytesIO()
    doc.save(buffer)
    return stable_zip(buffer.getvalue(), when)


def _page(section: Section) -> None:
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(18)
    section.different_first_page_header_footer = True
    _page_number(section.footer.paragraphs[0])
    rule = section.first_page_footer.paragraphs[0]
    _rule(rule, "top", "thinThickSmallGap")


def _default_style(doc: Document) -> None:
    style = doc.styles["Normal"]
    rpr = style.element.get_or_add_rPr()
    _font(style.font, rpr, BODY_FONT, BODY_PT)
    section = doc.sections[0]
    width_pt = Length(section.page_width - section.left_margin - section.right_margin).pt
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:val"), str(char_spacing(width_pt, CHARS_PER_LINE, BODY_PT)))
    rpr.append(spacing)
    fmt = style.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PT)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.widow_control = False


def _head(doc: Document, content: LetterContent) -> None:
    head = _para(doc, content.organ, font=TITLE_FONT, size=letterhead_size(content.organ),
                 color=RED, align=WD_ALIGN_PARAGRAPH.CENTER)
    head.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    head.paragraph_format.left_indent = head.paragraph_format.right_indent = Mm(-RULE_OVERHANG_MM)
    _rule(head, "bottom", "thickThinSmallGap")
    _para(doc, content.number, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _blank(doc)
    title = _para(doc, content.title, font=TITLE_FONT, size=TITLE_PT, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(TITLE_LINE_PT)
    _blank(doc)
    if content.recipient:
        _para(doc, f"{content.recipient}：")


def _attachments(doc: Document, lines: list[str]) -> None:
    if not lines:
        return
    _blank(doc)
    hang = char_width(lines[0]) - char_width(lines[0].removeprefix("附件："))
    for i, line in enumerate(lines):
        para = _para(doc, line, align=WD_ALIGN_PARAGRAPH.LEFT)
        para.paragraph_format.left_indent = Pt(BODY_PT * (2 + hang))
        if i == 0:
            para.paragraph_format.first_line_indent = Pt(-BODY_PT * hang)


def _signature(doc: Document, organ: str, date: str) -> None:
    organ_indent, date_indent = signature_indents(organ, date)
    _blank(doc)
    _blank(doc)
    for text, indent in ((organ, organ_indent), (date, date_indent)):
        para = _para(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        para.paragraph_format.right_indent = Pt(BODY_PT * indent)


def _para(doc: Document, text: str, *, font: str = BODY_FONT, size: float = BODY_PT,
          color: RGBColor | None = None, align: WD_ALIGN_PARAGRAPH | None = None) -> Paragraph:
    para = doc.add_paragraph()
    run = para.add_run(text)
    _font(run.font, run._r.get_or_add_rPr(), font, size)
    if color is not None:
        run.font.color.rgb = color
    if align is not None:
        para.alignment = align
    return para


def _blank(doc: Document) -> None:
    doc.add_paragraph()


def _font(font, rpr, name: str, size: float) -> None:
    """Name a font for Latin and East Asian text alike (python-docx sets only the Latin one)."""
    font.name, font.size = name, Pt(size)
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _rule(para: Paragraph, side: str, style: str) -> None:
    """Draw a red double rule (thick over thin, or thin over thick) along a paragraph."""
    ppr = para._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    line = OxmlElement(f"w:{side}")
    for key, value in (("w:val", style), ("w:sz", "24"), ("w:space", "4"), ("w:color", "E60012")):
        line.set(qn(key), value)
    borders.append(line)
    ppr.insert_element_before(borders, *PPR_AFTER_BORDER)
    para.paragraph_format.left_indent = para.paragraph_format.right_indent = Mm(-RULE_OVERHANG_MM)


def _page_number(para: Paragraph) -> None:
    """Footer of the pages after the first: — N — in 4号 宋体."""
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for kind, text in (("text", "— "), ("begin", None), ("instr", " PAGE "), ("end", None), ("text", " —")):
        run = para.add_run(text if kind == "text" else None)
        _font(run.font, run._r.get_or_add_rPr(), PAGE_FONT, 14)
        if kind in ("begin", "end"):
            mark = OxmlElement("w:fldChar")
            mark.set(qn("w:fldCharType"), kind)
            run._r.append(mark)
        elif kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)


def _properties(doc: Document, content: LetterContent, when: datetime) -> None:
    props = doc.core_properties
    stamp = to_utc(when).replace(microsecond=0)
    props.author = props.last_modified_by = content.organ
    props.title, props.subject = content.title, content.number
    props.created = props.modified = stamp
    props.last_printed = stamp
    props.revision = 1
    props.comments = props.keywords = props.category = ""
    package_rels = doc.part.package.rels  # drop the stock template's thumbnail picture
    for rel_id in [k for k, rel in package_rels.items() if rel.reltype == RT.THUMBNAIL]:
        package_rels.pop(rel_id)
