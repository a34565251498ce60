"""The 推荐函's type area (GB/T 9704-2012 §5.2.1): 22 lines of 28 characters of 三号 on the
156 × 225 mm text block, read back from the .docx (section, Normal style's spacing and line)."""

import io
from datetime import UTC, datetime

from docx import Document as open_docx
from docx.oxml.ns import qn
from docx.shared import Length

from tasks.letter import LetterContent, Paragraph
from tasks.letter_docx import build_letter_docx, char_spacing


def _letter() -> bytes:
    content = LetterContent(
        organ="广东省工业和信息化厅", number="粤工信函〔2023〕1号", title="关于推荐2023年新型信息消费示范项目的函",
        recipient="工业和信息化部", paragraphs=[Paragraph("根据通知要求，现推荐项目如下。" * 8)],
        attachments=["汇总表.xlsx"], attachment_lines=["附件：汇总表.xlsx"], signature="广东省工业和信息化厅",
        date="2023年9月5日", contact="（联系人：邓健，电话：020-83134279）")
    return build_letter_docx(content, datetime(2023, 9, 5, 2, 0, tzinfo=UTC))


def test_letter_body_is_22_lines_of_28_characters():
    doc = open_docx(io.BytesIO(_letter()))
    section = doc.sections[0]
    assert section._sectPr.find(qn("w:docGrid")) is None or \
        section._sectPr.find(qn("w:docGrid")).get(qn("w:type")) in (None, "default")  # no character grid
    normal = doc.styles["Normal"]
    body_pt = normal.font.size.pt
    assert body_pt == 16  # 三号
    spacing = normal.element.rPr.find(qn("w:spacing"))
    pitch = body_pt + int(spacing.get(qn("w:val"))) / 20
    width = Length(section.page_width - section.left_margin - section.right_margin)
    assert round(width.mm) == 156
    assert 28 * pitch <= width.pt < 29 * pitch  # exactly 28 characters a line, not 27
    line = normal.paragraph_format.line_spacing.pt  # the fixed body line
    height = Length(section.page_height - section.top_margin - section.bottom_margin)
    assert round(height.mm) == 225
    assert 22 * line <= height.pt < 23 * line  # 22 lines a page


def test_char_spacing_rounds_the_pitch_down_and_never_widens():
    assert char_spacing(442.2047, 28, 16) == -5  # 15.75 pt: 28 × 三号 on 156 mm
    assert char_spacing(21 * 10, 10, 11) == 0  # room to spare: the characters keep their width
