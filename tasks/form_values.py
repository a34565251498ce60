"""Turn one raw value (from JSON, YAML, a spreadsheet cell or the database) into its field's type.

`coerce(field, raw)` returns the typed value, `None` for an empty cell, or raises `BadValue`
with a Chinese and an English message. Pure: no I/O, no database.
"""

import re
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from stdnum.cn import uscc as uscc_number
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from models.forms import OWNERSHIP, FormField

NUMBER_LIMIT = Decimal(10) ** 16  # Application columns are NUMERIC(20, 4)
INT_LIMIT = 2**63 - 1  # BIGINT
FOUR_PLACES = Decimal("0.0001")
YES = {"是", "yes", "y", "true", "1", "有"}
NO = {"否", "no", "n", "false", "0", "无"}
SUFFIXES = {"money": ("万元",), "mau": ("亿",), "registered_users": ("亿",),
            "area": ("平方米", "㎡", "m²", "m2"), "monthly_visitors": ("人次",), "rd_staff": ("人",)}
EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
PHONE = re.compile(r"^(?:\+?86)?(?:1[3-9]\d{9}|0\d{9,11})(?:(?:转|ext\.?|x|#)\d{1,6})?$", re.I)
PHONE_NOISE = re.compile(r"[\s\-()（）]")
DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]0{1,2}:00(?::00)?)?$")


class BadValue(ValueError):
    """A value that does not fit its field; carries the message in Chinese and English."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


def coerce(field: FormField, raw: object) -> object:
    """Return `raw` as the field's type, or None when it is empty; raise BadValue otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = field.kind
    if kind == "honours":
        from tasks.form_honours import to_honours  # it builds on this module

        return to_honours(field, raw)
    if kind in ("money", "decimal"):
        return to_decimal(field, raw)
    if kind == "int":
        return to_int(field, raw)
    if kind == "date":
        return to_date(field, raw)
    if kind == "bool":
        return to_bool(field, raw)
    text = to_text(field, raw)
    if kind == "choice":
        return to_choice(field, text)
    if kind == "email":
        return check_email(field, text)
    if kind == "phone":
        return check_phone(field, text)
    if kind == "uscc":
        return to_uscc(field, text)
    return text


def to_text(field: FormField, raw: object) -> str:
    """Return a cell as text: strings as given, whole numbers written out (phone numbers, codes)."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise BadValue(f"「{field.label}」应填写文字", f"{field.key}: expected text, got {kind_of(raw)}")
    if not isinstance(raw, str):
        raw = str(_whole(field, raw))
    if len(raw) > field.max_length * 4 + 100:  # refuse before scanning a huge string
        raise too_long(field, len(raw))
    check_characters(field, raw)
    text = raw.strip()
    if len(text) > field.max_length:
        raise too_long(field, len(text))
    return text


def too_long(field: FormField, length: int) -> BadValue:
    """The error for text longer than the catalogue allows."""
    return BadValue(f"「{field.label}」过长（{length} 字，上限 {field.max_length} 字）",
                    f"{field.key}: too long ({length} characters, at most {field.max_length})")


# Unicode categories Cc (U+0000–001F, U+007F–009F) and Cs (surrogates), less tab and line breaks.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def check_characters(field: FormField, text: str) -> None:
    """Refuse control characters (other than tab and line breaks) and unpaired surrogates."""
    if (found := CONTROL.search(text)) is not None:
        ch = found.group()
        raise BadValue(f"「{field.label}」含有不可见的控制字符 U+{ord(ch):04X}",
                       f"{field.key}: contains the control character U+{ord(ch):04X}")


def _whole(field: FormField, number: int | float | Decimal) -> int:
    if not Decimal(number).is_finite() or number != int(number):
        raise BadValue(f"「{field.label}」应填写文字，不是小数", f"{field.key}: expected text, not a fraction")
    if abs(number) > 10**60:
        raise too_long(field, 61)
    return int(number)


def to_decimal(field: FormField, raw: object) -> Decimal:
    """Return a non-negative amount with at most four decimal places."""
    value = _number(field, raw)
    if value.is_nan() or not value.is_finite():
        raise not_a_number(field, raw)
    if value < 0:
        raise BadValue(f"「{field.label}」不能为负数", f"{field.key}: must not be negative")
    if value >= NUMBER_LIMIT:
        raise BadValue(f"「{field.label}」数值过大", f"{field.key}: number too large")
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def to_int(field: FormField, raw: object) -> int:
    """Return a non-negative whole number."""
    value = _number(field, raw)
    if value.is_nan() or not value.is_finite() or value != value.to_integral_value():
        raise BadValue(f"「{field.label}」应为整数", f"{field.key}: expected a whole number")
    if value < 0:
        raise BadValue(f"「{field.label}」不能为负数", f"{field.key}: must not be negative")
    if value > INT_LIMIT:
        raise BadValue(f"「{field.label}」数值过大", f"{field.key}: number too large")
    return int(value)


def _number(field: FormField, raw: object) -> Decimal:
    if isinstance(raw, bool):
        raise not_a_number(field, raw)
    if isinstance(raw, int | Decimal):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw)) if raw == raw and abs(raw) != float("inf") else Decimal("NaN")
    if not isinstance(raw, str) or len(raw) > 60:
        raise not_a_number(field, raw)
    text = re.sub(r"[\s,，]", "", raw)
    for suffix in SUFFIXES.get(field.key, SUFFIXES.get(field.kind, ())):
        text = text.removesuffix(suffix)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise not_a_number(field, raw) from None


def not_a_number(field: FormField, raw: object) -> BadValue:
    """The error for a value that is not a number."""
    return BadValue(f"「{field.label}」应为数字，实为{describe(raw)}",
                    f"{field.key}: expected a number, got {kind_of(raw)}")


def to_date(field: FormField, raw: object) -> date:
    """Return a calendar date between 1900 and 2100."""
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        value = raw
    elif isinstance(raw, str) and len(raw) <= 40 and (m := DATE.match(raw.strip())):
        try:
            value = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise _not_a_date(field, raw) from None
    else:
        raise _not_a_date(field, raw)
    if not 1900 <= value.year <= 2100:
        raise BadValue(f"「{field.label}」日期不合理：{value}", f"{field.key}: implausible date {value}")
    return value


def _not_a_date(field: FormField, raw: object) -> BadValue:
    return BadValue(f"「{field.label}」应为日期（如 2023-05-01），实为{describe(raw)}",
                    f"{field.key}: expected a date like 2023-05-01, got {kind_of(raw)}")


def to_bool(field: FormField, raw: object) -> bool:
    """Return 是/否 (also yes/no, true/false, 1/0) as a bool."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower() if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    if word is not None and len(word) <= 10:
        if word in YES:
            return True
        if word in NO:
            return False
    raise BadValue(f"「{field.label}」应填“是”或“否”，实为{describe(raw)}",
                   f"{field.key}: expected 是 (yes) or 否 (no), got {kind_of(raw)}")


def to_choice(field: FormField, text: str) -> str:
    """Return one of the fixed 单位性质 options."""
    if text not in OWNERSHIP:
        raise BadValue(f"「{field.label}」须为以下之一：{'、'.join(OWNERSHIP)}",
                       f"{field.key}: must be one of the listed options")
    return text


def check_email(field: FormField, text: str) -> str:
    """Return an e-mail address of the usual form name@domain.tld."""
    if not EMAIL.match(text):
        raise BadValue(f"「{field.label}」不是有效的电子邮箱地址", f"{field.key}: not a valid e-mail address")
    return text


def check_phone(field: FormField, text: str) -> str:
    """Return a mainland mobile number (for 手机 fields) or a landline/mobile number."""
    compact = PHONE_NOISE.sub("", text)
    mobile = "手机" in field.label
    if not (MOBILE if mobile else PHONE).match(compact):
        zh = "不是有效的手机号码（11 位）" if mobile else "不是有效的电话号码（如 020-12345678）"
        en = "not a valid 11-digit mobile number" if mobile else "not a valid phone number (e.g. 020-12345678)"
        raise BadValue(f"「{field.label}」{zh}", f"{field.key}: {en}")
    return text


def to_uscc(field: FormField, text: str) -> str:
    """Return an 18-character 统一社会信用代码 whose check character (GB 32100-2015) is right."""
    try:
        return uscc_number.validate(text)
    except InvalidLength:
        zh, en = "应为 18 位", "must have 18 characters"
    except InvalidChecksum:
        zh, en = "校验位不正确（可能有错字）", "the check character is wrong (a typo?)"
    except ValidationError:
        zh, en = "含有无效字符", "contains characters a USCC cannot have"
    raise BadValue(f"「{field.label}」{zh}", f"{field.key}: {en}")


def kind_of(raw: object) -> str:
    """Name a value's type in English without printing the value."""
    return {bool: "yes/no", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object", datetime: "a date-time", date: "a date"}.get(type(raw), type(raw).__name__)


def printable(raw: object, limit: int = 50) -> str:
    """Return a value as short text with unprintable characters shown as '?' (safe in a terminal)."""
    text = raw if isinstance(raw, str) else str(raw) if isinstance(raw, int | float | bool) else type(raw).__name__
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit]) + ("…" if len(text) > limit else "")


def describe(raw: object) -> str:
    """Show a short, safe excerpt of a value for a message."""
    if isinstance(raw, str):
        return f"“{printable(raw, 20)}”"
    if isinstance(raw, bool | int | float | Decimal | date):
        return f"“{str(raw)[:24]}”"
    return {list: "列表", dict: "对象"}.get(type(raw), type(raw).__name__)
