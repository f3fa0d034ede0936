"""Is a line open at an instant, and when does it next open or close: scheduling/hours.py.

Pure functions over plain values: no database, no clock. Times are Helsinki wall-clock times.
"""

from datetime import date, datetime, time, timedelta

import holidays
import pytest

from scheduling.hours import (
    HELSINKI,
    UTC,
    DailyHours,
    HoursException,
    hours_on,
    is_open,
    status_at,
)

WEEKDAYS_12_18 = {weekday: DailyHours(time(12), time(18)) for weekday in range(5)}
FINLAND = holidays.Finland(years=range(2024, 2027))


def at(*args, fold=0):
    return datetime(*args, tzinfo=HELSINKI, fold=fold)


def real_duration(start, end):
    # Subtracting two datetimes of the same zone gives the wall-clock difference.
    return end.astimezone(UTC) - start.astimezone(UTC)


def status(moment, week=WEEKDAYS_12_18, exceptions=(), public_holidays=FINLAND):
    return status_at(moment, week, exceptions, public_holidays)


# --- A normal weekday --------------------------------------------------------------------------


def test_weekday_before_opening_is_closed_and_opens_at_noon_today():
    tuesday_morning = at(2024, 6, 11, 9, 30)
    answer = status(tuesday_morning)
    assert not answer.open
    assert answer.opens_at == at(2024, 6, 11, 12)
    assert answer.closes_at is None


def test_weekday_opening_and_closing_instants():
    assert status(at(2024, 6, 11, 12)).open  # opens at 12:00 sharp
    assert status(at(2024, 6, 11, 17, 59, 59)).open
    closing = status(at(2024, 6, 11, 18))  # 18:00 itself is closed
    assert not closing.open
    assert closing.opens_at == at(2024, 6, 12, 12)


def test_open_line_reports_todays_closing_time():
    answer = status(at(2024, 6, 11, 15))
    assert answer.open and answer.opens_at is None
    assert answer.closes_at == at(2024, 6, 11, 18)


def test_instant_in_another_zone_is_read_as_helsinki_time():
    # 09:30 UTC in June is 12:30 in Helsinki (UTC+3).
    assert status(datetime(2024, 6, 11, 9, 30, tzinfo=UTC)).open
    assert not status(datetime(2024, 6, 11, 8, 59, tzinfo=UTC)).open


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        status_at(datetime(2024, 6, 11, 12), WEEKDAYS_12_18)  # noqa: DTZ001 (the point)


# --- Weekends and Finnish public holidays ------------------------------------------------------


def test_friday_evening_next_opening_is_monday_noon():
    answer = status(at(2024, 6, 14, 18, 0))
    assert answer.opens_at == at(2024, 6, 17, 12)


def test_saturday_is_closed_even_at_noon():
    assert not is_open(at(2024, 6, 15, 13), WEEKDAYS_12_18, (), FINLAND)


def test_independence_day_on_a_friday_is_closed_and_next_opening_is_monday():
    friday_6_12_2024 = at(2024, 12, 6, 13)
    answer = status(friday_6_12_2024)
    assert not answer.open
    assert answer.opens_at == at(2024, 12, 9, 12)
    assert status(friday_6_12_2024, public_holidays=()).open  # the holiday is what closes it


def test_christmas_holidays_push_the_next_opening_to_friday():
    monday_evening = at(2024, 12, 23, 18, 30)
    # 24.12 (jouluaatto), 25.12 and 26.12 are holidays in the holidays package's Finland.
    assert status(monday_evening).opens_at == at(2024, 12, 27, 12)


def test_easter_and_spring_dst_change_together():
    # Good Friday 29.3, Easter Sunday 31.3 (summer time starts), Easter Monday 1.4.
    maundy_thursday_evening = at(2024, 3, 28, 18)
    opens = status(maundy_thursday_evening).opens_at
    assert opens == at(2024, 4, 2, 12)
    assert opens.utcoffset() == timedelta(hours=3)
    assert opens.astimezone(UTC).hour == 9  # it was 10:00 UTC before the change


def test_hours_on_names_the_hours_of_a_calendar_day():
    assert hours_on(date(2024, 6, 11), WEEKDAYS_12_18, (), FINLAND) == DailyHours(
        time(12), time(18)
    )
    assert hours_on(date(2024, 6, 21), WEEKDAYS_12_18, (), FINLAND) is None  # juhannusaatto
    assert hours_on(date(2024, 6, 15), WEEKDAYS_12_18, (), FINLAND) is None  # Saturday


# --- Exceptions entered by a coordinator -------------------------------------------------------


def closed(first, last=None):
    return HoursException(first, last or first, None)


def test_closure_of_one_day_closes_the_line_all_day():
    friday = date(2024, 6, 14)  # an ordinary Friday
    answer = status(at(2024, 6, 14, 13), exceptions=[closed(friday)])
    assert not answer.open
    assert answer.opens_at == at(2024, 6, 17, 12)
    assert status(at(2024, 6, 14, 13)).open  # without the closure it is open


def test_closed_friday_before_midsummer_when_it_is_no_holiday():
    # "closed Fri 21.6.2024": the coordinator's entry closes it even without the holiday list.
    answer = status(
        at(2024, 6, 21, 12, 30), exceptions=[closed(date(2024, 6, 21))], public_holidays=()
    )
    assert not answer.open
    assert answer.opens_at == at(2024, 6, 24, 12)  # Monday; the weekend is closed anyway


def test_closure_of_a_range_moves_the_next_opening_past_it():
    holidays_week = closed(date(2024, 7, 8), date(2024, 7, 12))
    assert status(at(2024, 7, 5, 18), exceptions=[holidays_week]).opens_at == at(2024, 7, 15, 12)


def test_summer_hours_range_on_weekdays_only():
    summer = HoursException(
        date(2024, 7, 1), date(2024, 8, 2), DailyHours(time(12), time(15)), weekdays_only=True
    )
    answer = status(at(2024, 7, 10, 13), exceptions=[summer])
    assert answer.open and answer.closes_at == at(2024, 7, 10, 15)
    assert not status(at(2024, 7, 10, 15, 30), exceptions=[summer]).open
    assert not status(at(2024, 7, 13, 13), exceptions=[summer]).open  # Saturday
    # The last day of the range keeps summer hours, the next Monday is back to 12–18.
    assert status(at(2024, 8, 2, 14, 59), exceptions=[summer]).open
    assert not status(at(2024, 8, 2, 15), exceptions=[summer]).open
    assert status(at(2024, 8, 2, 15), exceptions=[summer]).opens_at == at(2024, 8, 5, 12)
    assert status(at(2024, 8, 5, 17), exceptions=[summer]).open


def test_other_hours_on_weekdays_only_skip_public_holidays():
    may = HoursException(date(2024, 4, 29), date(2024, 5, 3), DailyHours(time(10), time(14)))
    assert not status(at(2024, 5, 1, 11), exceptions=[may]).open  # vappu
    assert status(at(2024, 5, 2, 11), exceptions=[may]).open


def test_other_hours_for_every_day_open_a_weekend():
    weekend_event = HoursException(
        date(2024, 6, 15), date(2024, 6, 16), DailyHours(time(10), time(12)), weekdays_only=False
    )
    assert status(at(2024, 6, 15, 11), exceptions=[weekend_event]).open


def test_later_exception_wins_where_ranges_overlap():
    summer = HoursException(date(2024, 7, 1), date(2024, 8, 2), DailyHours(time(12), time(15)))
    closure = closed(date(2024, 7, 10))
    assert not status(at(2024, 7, 10, 13), exceptions=[summer, closure]).open
    assert status(at(2024, 7, 11, 13), exceptions=[summer, closure]).open


def test_no_opening_within_the_lookahead_gives_no_time():
    forever = closed(date(2024, 1, 1), date(2030, 1, 1))
    answer = status(at(2024, 6, 11, 13), exceptions=[forever])
    assert not answer.open and answer.opens_at is None


# --- Daylight saving time ----------------------------------------------------------------------

EVERY_DAY_22_TO_MIDNIGHT = {weekday: DailyHours(time(22), time(0)) for weekday in range(7)}


def test_spring_forward_shortens_a_night_that_is_open_across_the_change():
    # 31.3.2024 03:00 EET -> 04:00 EEST. Open 01:00–06:00 that Sunday: five wall hours, four real.
    night = HoursException(
        date(2024, 3, 31), date(2024, 3, 31), DailyHours(time(1), time(6)), weekdays_only=False
    )
    before = status(at(2024, 3, 31, 2, 59), exceptions=[night])
    after = status(at(2024, 3, 31, 4, 0), exceptions=[night])
    assert before.open and after.open
    assert before.closes_at == after.closes_at == at(2024, 3, 31, 6)
    assert real_duration(at(2024, 3, 31, 1), before.closes_at) == timedelta(hours=4)


def test_opening_inside_the_spring_gap_moves_to_the_first_real_instant():
    gap = HoursException(
        date(2024, 3, 31), date(2024, 3, 31), DailyHours(time(3, 30), time(6)), weekdays_only=False
    )
    opens = status(at(2024, 3, 31, 1), exceptions=[gap]).opens_at
    assert opens.astimezone(UTC) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)  # 04:30 EEST


def test_repeated_autumn_hour_is_compared_by_instant_not_wall_clock():
    # 27.10.2024 04:00 EEST -> 03:00 EET: 03:00–04:00 happens twice. Open from the first 03:15.
    early = HoursException(
        date(2024, 10, 27),
        date(2024, 10, 27),
        DailyHours(time(3, 15), time(5)),
        weekdays_only=False,
    )
    first_0310 = at(2024, 10, 27, 3, 10, fold=0)  # 00:10 UTC, before opening
    second_0310 = at(2024, 10, 27, 3, 10, fold=1)  # 01:10 UTC, after opening
    assert not status(first_0310, exceptions=[early]).open
    assert status(second_0310, exceptions=[early]).open
    closes = status(second_0310, exceptions=[early]).closes_at
    # 03:15 (first) to 05:00 is 2 h 45 min: an hour longer than the wall clock says.
    assert real_duration(at(2024, 10, 27, 3, 15), closes) == timedelta(hours=2, minutes=45)


def test_weekly_hours_keep_wall_clock_time_across_the_autumn_change():
    friday = status(at(2024, 10, 25, 18, 30)).opens_at  # Friday evening, summer time
    assert friday == at(2024, 10, 28, 12)
    assert friday.astimezone(UTC) == datetime(2024, 10, 28, 10, tzinfo=UTC)  # UTC+2 again


def test_evening_line_open_through_the_autumn_change_night():
    assert status(at(2024, 10, 26, 23, 30), week=EVERY_DAY_22_TO_MIDNIGHT).open
    assert not status(at(2024, 10, 27, 3, 30), week=EVERY_DAY_22_TO_MIDNIGHT).open


# --- Midnight ----------------------------------------------------------------------------------


def test_line_closing_at_midnight_is_open_until_the_stroke_of_midnight():
    answer = status(at(2024, 6, 14, 23, 59, 59), week=EVERY_DAY_22_TO_MIDNIGHT)
    assert answer.open
    assert answer.closes_at == at(2024, 6, 15, 0, 0)


def test_midnight_itself_is_closed_and_the_next_opening_is_that_evening():
    answer = status(at(2024, 6, 15, 0, 0), week=EVERY_DAY_22_TO_MIDNIGHT)
    assert not answer.open
    assert answer.opens_at == at(2024, 6, 15, 22)


def test_hours_closing_at_midnight_on_a_friday_still_count_after_midnight_on_saturday():
    friday_only = {4: DailyHours(time(20), time(0))}
    assert status(at(2024, 6, 14, 23, 0), week=friday_only).open
    saturday_0001 = status(at(2024, 6, 15, 0, 1), week=friday_only)
    assert not saturday_0001.open
    # Friday 21.6.2024 is juhannusaatto, a holiday: the next Friday evening is 28.6.
    assert saturday_0001.opens_at == at(2024, 6, 28, 20)


def test_open_around_the_clock_reports_the_real_closing_not_each_midnight():
    around_the_clock = HoursException(
        date(2024, 6, 10), date(2024, 6, 12), DailyHours(time(0), time(0)), weekdays_only=False
    )
    answer = status(at(2024, 6, 10, 23, 0), exceptions=[around_the_clock])
    assert answer.open
    assert answer.closes_at == at(2024, 6, 13, 0, 0)


def test_closing_before_opening_is_refused():
    with pytest.raises(ValueError):
        DailyHours(time(18), time(12))
    DailyHours(time(18), time(0))  # closing at midnight is fine
