"""Instants as plain aware UTC datetimes, safe for arithmetic.

`core.clock.to_utc` may hand back a pendulum DateTime carrying the stdlib UTC zone; adding a
timedelta to one drops the zone (pendulum 3.3), which would store a naive time. Everything
here that adds to an instant goes through `as_utc` first.
"""

from datetime import UTC, datetime

from core.clock import to_utc


def as_utc(value: datetime) -> datetime:
    """Return the same instant as a standard-library aware datetime in UTC."""
    v = to_utc(value)
    return datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tzinfo=UTC)
