"""Pure rules of deadline reminders: working days, when each reminder falls due, who is late.

Working days follow the State Council's holiday schedule through `chinese_calendar`
(国庆、中秋、春节 and the weekend make-up days 调休). The package only knows the years
the schedule has been published for (2004–2026 in chinesecalendar 1.11). A campaign that
counts working days into another year is refused when it is loaded, unless it says
`weekdays_beyond_calendar = true`: then a working day there is Monday to Friday.
"""

from datetime import date, datetime, timedelta

import chinese_calendar
import pendulum

from core.campaign_content_checks import calendar_years
from core.clock import TZ, local
from tasks.instant import as_utc

SUBMITTED_STATES = ("forwarded", "closed")


KNOWN_YEARS = frozenset(calendar_years())


def is_working_day(day: date) -> bool:
    """Tell whether a day is a working day in mainland China (Mon–Fri outside the years the calendar knows)."""
    if day.year not in KNOWN_YEARS:
        return day.weekday() < 5
    return chinese_calendar.is_workday(day)


def step_back(day: date, count: int, working_days: bool) -> date:
    """Return the day `count` days (or working days) before `day`."""
    if not working_days:
        return day - timedelta(days=count)
    for _ in range(count):
        day -= timedelta(days=1)
        while not is_working_day(day):
            day -= timedelta(days=1)
    return day


def days_left(today: date, deadline_day: date, working_days: bool) -> int:
    """Count the days (or working days) from today up to, not including, the deadline's day."""
    if not working_days:
        return max((deadline_day - today).days, 0)
    count, day = 0, today
    while day < deadline_day:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


def due_at(deadline: datetime, offset: int, working_days: bool, hour: int) -> datetime:
    """Return when the reminder `offset` days before a deadline falls due (aware UTC)."""
    day = step_back(local(deadline).date(), offset, working_days)
    return as_utc(pendulum.datetime(day.year, day.month, day.day, hour, tz=TZ))


def reminder_due(now: datetime, deadline: datetime, offsets: list[int], working_days: bool,
                 hour: int) -> int | None:
    """Return the offset whose reminder is due now (the latest one that has come), or None.

    Reminders that were missed (the flow did not run that day) are not sent late: only the
    nearest offset that has come counts, so a recipient never gets "7 days left" on day 3.
    """
    now, deadline = as_utc(now), as_utc(deadline)
    if now >= deadline:
        return None
    come = [k for k in offsets if k > 0 and due_at(deadline, k, working_days, hour) <= now]
    return min(come) if come else None


def has_submitted(stage_state: str, forwarded_count: int) -> bool:
    """Tell whether a unit has sent anything to its parent (a forward, or a closed stage)."""
    return forwarded_count > 0 or stage_state in SUBMITTED_STATES


def approval_overdue(awaiting_since: datetime | None, timeout_hours: int, now: datetime) -> bool:
    """Tell whether an approval has waited longer than the unit's timeout."""
    if awaiting_since is None:
        return False
    return as_utc(awaiting_since) + timedelta(hours=timeout_hours) <= as_utc(now)
