"""The one clock. Deadlines are Asia/Shanghai at the edges, aware UTC inside.

A campaign may carry a simulated "now" (the demo and tests move it); `TUIJIAN_NOW`
overrides the whole process.
"""

import os
from datetime import UTC, datetime

import pendulum

TZ = "Asia/Shanghai"


def real_now() -> datetime:
    """Return the wall-clock time as aware UTC."""
    env = os.environ.get("TUIJIAN_NOW")
    if env:
        return to_utc(pendulum.parse(env, tz=TZ))
    return datetime.now(UTC)


def campaign_now(clock: datetime | None) -> datetime:
    """Return the campaign's simulated time if set, else the real time (aware UTC)."""
    return to_utc(clock) if clock is not None else real_now()


def to_utc(value: datetime) -> datetime:
    """Make a datetime aware UTC; a naive one is read as stored UTC (SQLite drops tzinfo)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    # always a plain datetime: pendulum instances behave differently under arithmetic
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                    value.microsecond, tzinfo=UTC)


def local(value: datetime) -> pendulum.DateTime:
    """Show a stored instant in Asia/Shanghai."""
    return pendulum.instance(to_utc(value)).in_timezone(TZ)


def parse_local(text: str) -> datetime:
    """Parse a date or date-time typed by a person in Asia/Shanghai into aware UTC."""
    return to_utc(pendulum.parse(text, tz=TZ))


def fmt(value: datetime | None, pattern: str = "YYYY-MM-DD HH:mm") -> str:
    """Format an instant for people, in Asia/Shanghai."""
    return "" if value is None else local(value).format(pattern)


def fmt_cn_date(value: datetime) -> str:
    """Format as a Chinese document date, e.g. 2023年8月29日."""
    d = local(value)
    return f"{d.year}年{d.month}月{d.day}日"
