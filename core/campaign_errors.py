"""Turn pydantic's complaints about a campaign file into FieldErrors: the key a person can find, zh + en."""

from core.errors import FieldError

# pydantic error type → Chinese wording (context values such as {ge} come from the error).
ZH_BY_TYPE = {
    "missing": "缺少必填项",
    "extra_forbidden": "未知配置项（可能拼写有误）",
    "greater_than_equal": "须不小于 {ge}",
    "greater_than": "须大于 {gt}",
    "less_than_equal": "须不大于 {le}",
    "less_than": "须小于 {lt}",
    "string_pattern_mismatch": "格式不符（须匹配 {pattern}）",
    "literal_error": "须为以下之一：{expected}",
    "int_parsing": "须为整数", "int_type": "须为整数", "int_from_float": "须为整数",
    "decimal_parsing": "须为数字", "decimal_type": "须为数字",
    "bool_parsing": "须为 true 或 false", "bool_type": "须为 true 或 false",
    "datetime_type": "须为日期时间（如 2023-08-31T17:30:00）",
    "datetime_parsing": "须为日期时间（如 2023-08-31T17:30:00）",
    "datetime_from_date_parsing": "须为日期时间（如 2023-08-31T17:30:00）",
    "string_type": "须为文本", "list_type": "须为列表（[...]）",
    "dict_type": "须为表（{...}）", "model_type": "须为表（{...}）",
    "too_short": "至少需要 {min_length} 项", "string_too_short": "至少需要 {min_length} 个字符",
    "string_too_long": "过长（最多 {max_length} 个字符）",
}


# Keys that moved: the old key is refused with where its setting lives now.
MOVED_KEYS = {
    "per_direction_tables": ("已改为上级单位的 child_per_direction_tables（要求下级分方向报送汇总表的单位设置）",
                             "moved: set child_per_direction_tables on the unit that asks its children for per-direction tables"),
    "summary_notes": ("已改为提出要求的上级单位的 child_summary_notes（注意事项随要求汇总表的单位而定）",
                      "moved: set child_summary_notes on the unit whose notice asks for the table"),
}


def field_error(raw: dict, err: dict, file: str | None) -> FieldError:
    """Describe one pydantic error at the key where it happened."""
    moved = MOVED_KEYS.get(str(err["loc"][-1])) if err["type"] == "extra_forbidden" and err["loc"] else None
    if moved:
        return FieldError(key_path(raw, err["loc"]), *moved, file=file)
    template = ZH_BY_TYPE.get(err["type"])
    try:
        zh = template.format(**err.get("ctx", {})) if template else f"配置项无效：{err['msg']}"
    except (KeyError, IndexError):
        zh = f"配置项无效：{err['msg']}"
    return FieldError(key_path(raw, err["loc"]), zh, f"invalid value: {err['msg']}", file=file)


def key_path(raw: dict, loc: tuple) -> str:
    """Render a pydantic location as a key a person can find, e.g. units[440100].quotas."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and parts:
            element = node[item] if item < len(node) else None
            label = (element.get("code") or element.get("id")) if isinstance(element, dict) else None
            parts[-1] += f"[{label or item}]"
            node = element
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)
