"""Pure reminder rules: working days (with the 2023 National Day / Mid-Autumn holiday), due times."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.clock import parse_local
from tasks.reminder_rules import (
    approval_overdue,
    days_left,
    due_at,
    has_submitted,
    is_working_day,
    reminder_due,
    step_back,
)


def test_working_days_follow_the_2023_holiday_schedule():
    assert not is_working_day(date(2023, 9, 29))  # 中秋节
    assert not is_working_day(date(2023, 10, 2))  # 国庆节 on a Monday
    assert is_working_day(date(2023, 10, 7)) and is_working_day(date(2023, 10, 8))  # 调休 weekend
    assert not is_working_day(date(2023, 8, 26))  # an ordinary Saturday


def test_years_the_calendar_does_not_know_fall_back_to_monday_to_friday():
    assert is_working_day(date(2031, 6, 16)) and not is_working_day(date(2031, 6, 14))


def test_stepping_back_over_the_golden_week():
    deadline = date(2023, 10, 9)
    assert [step_back(deadline, k, True) for k in (1, 2, 3)] == [
        date(2023, 10, 8), date(2023, 10, 7), date(2023, 9, 28)]
    assert step_back(deadline, 3, False) == date(2023, 10, 6)
    assert days_left(date(2023, 9, 28), deadline, True) == 3
    assert days_left(date(2023, 9, 28), deadline, False) == 11


def test_a_reminder_falls_due_at_the_configured_hour_shanghai_time():
    deadline = parse_local("2023-10-09 17:00")
    assert due_at(deadline, 3, True, 9) == parse_local("2023-09-28 09:00")


def test_only_the_nearest_offset_that_has_come_is_due():
    deadline = parse_local("2023-08-31 17:30")

    def due(when: str) -> int | None:
        return reminder_due(parse_local(when), deadline, [7, 3, 1], False, 9)

    assert due("2023-08-24 08:59") is None
    assert due("2023-08-24 09:00") == 7
    assert due("2023-08-27 12:00") == 7
    assert due("2023-08-28 09:00") == 3
    assert due("2023-08-31 09:00") == 1
    assert due("2023-08-31 17:30") is None  # the deadline has passed


@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2035, 12, 31)),
       st.integers(min_value=1, max_value=15), st.booleans())
def test_the_day_k_days_before_has_k_days_left(day, k, working):
    assert days_left(step_back(day, k, working), day, working) == k


def test_who_has_submitted_and_what_is_overdue():
    assert not has_submitted("collecting", 0) and not has_submitted("awaiting_approval", 0)
    assert has_submitted("forwarded", 0) and has_submitted("closed", 0)
    assert has_submitted("approved", 2)
    since = parse_local("2031-06-01 09:00")
    assert not approval_overdue(since, 48, since + timedelta(hours=47, minutes=59))
    assert approval_overdue(since, 48, since + timedelta(hours=48))
    assert not approval_overdue(None, 48, since)
