"""The business-time calculator: table cases a person can check on a calendar, properties
over many instants, and a minute-by-minute count as an independent oracle."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.business_time import (
    BusinessCalendar,
    CalendarError,
    Holidays,
    LocalInterval,
    week_problems,
)

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEW_YORK = ZoneInfo("America/New_York")


def week(**days: str) -> tuple[tuple[LocalInterval, ...], ...]:
    """week(mon="09:00-12:00 13:00-17:00", ...) → the calendar's week, Monday first."""
    return tuple(
        tuple(LocalInterval.parse(part) for part in days.get(name, "").split()) for name in DAYS
    )


def weekdays(hours: str) -> tuple[tuple[LocalInterval, ...], ...]:
    return week(mon=hours, tue=hours, wed=hours, thu=hours, fri=hours)


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


OFFICE = BusinessCalendar(BERLIN, weekdays("09:00-17:00"))
SPLIT = BusinessCalendar(BERLIN, weekdays("08:00-12:00 13:00-17:00"))
NIGHTS = BusinessCalendar(
    BERLIN, week(**dict.fromkeys(("mon", "tue", "sat", "sun"), "22:00-06:00"))
)
NY_ALWAYS = BusinessCalendar.always(NEW_YORK)
CHRISTMAS = BusinessCalendar(
    BERLIN,
    weekdays("09:00-17:00"),
    Holidays(dates=frozenset({date(2026, 12, 25)}), yearly=frozenset({(12, 24)})),
)


# --- table cases -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "minutes", "due"),
    [
        # the scenario: Friday 16:50, 9-17, 60 minutes → Monday 09:50
        (OFFICE, at(BERLIN, 2026, 12, 4, 16, 50), 60, at(BERLIN, 2026, 12, 7, 9, 50)),
        # a ticket created on a Saturday night waits for Monday's opening
        (OFFICE, at(BERLIN, 2026, 12, 5, 23, 30), 60, at(BERLIN, 2026, 12, 7, 10, 0)),
        # ten minutes to closing: due at closing time, not at the next opening
        (OFFICE, at(BERLIN, 2026, 12, 4, 16, 50), 10, at(BERLIN, 2026, 12, 4, 17, 0)),
        # split shift: the lunch hour does not count
        (SPLIT, at(BERLIN, 2026, 12, 2, 11, 30), 60, at(BERLIN, 2026, 12, 2, 13, 30)),
        (SPLIT, at(BERLIN, 2026, 12, 2, 12, 15), 30, at(BERLIN, 2026, 12, 2, 13, 30)),
        # a week and a day of business time skips the weekend
        (OFFICE, at(BERLIN, 2026, 12, 1, 9, 0), 6 * 480, at(BERLIN, 2026, 12, 8, 17, 0)),
        # holidays: 24 Dec every year, 25 Dec 2026; Wednesday 16:00 + 2 h → Monday 10:00
        (CHRISTMAS, at(BERLIN, 2026, 12, 23, 16, 0), 120, at(BERLIN, 2026, 12, 28, 10, 0)),
        # the yearly holiday also in 2027 (a Friday), the one-off 25 Dec not needed then
        (CHRISTMAS, at(BERLIN, 2027, 12, 23, 16, 30), 60, at(BERLIN, 2027, 12, 27, 9, 30)),
        # DST in Berlin, last Sunday of March: Friday 16:00 + 2 h → Monday 10:00 CEST
        (OFFICE, at(BERLIN, 2026, 3, 27, 16, 0), 120, at(BERLIN, 2026, 3, 30, 10, 0)),
        # ... and of October: 10:00 CET on Monday
        (OFFICE, at(BERLIN, 2026, 10, 23, 16, 0), 120, at(BERLIN, 2026, 10, 26, 10, 0)),
        # overnight interval: Monday 23:00 + 3 h → Tuesday 02:00
        (NIGHTS, at(BERLIN, 2026, 12, 7, 23, 0), 180, at(BERLIN, 2026, 12, 8, 2, 0)),
        # Tuesday's night shift ends Wednesday 06:00; the next starts Saturday 22:00
        (NIGHTS, at(BERLIN, 2026, 12, 9, 5, 0), 120, at(BERLIN, 2026, 12, 12, 23, 0)),
        # the spring-forward night shift is 7 real hours: 22:00 + 7 h = 06:00 CEST
        (NIGHTS, at(BERLIN, 2026, 3, 28, 22, 0), 420, at(BERLIN, 2026, 3, 29, 6, 0)),
        # the autumn one is 9: 22:00 CEST + 9 h = 06:00 CET
        (NIGHTS, at(BERLIN, 2026, 10, 24, 22, 0), 540, at(BERLIN, 2026, 10, 25, 6, 0)),
        # New York, second Sunday of March: around the clock, Saturday 12:00 + 24 h of
        # business time is Sunday 13:00 on the wall clock (the night was an hour short)
        (NY_ALWAYS, at(NEW_YORK, 2026, 3, 7, 12, 0), 24 * 60, at(NEW_YORK, 2026, 3, 8, 13, 0)),
        # ... first Sunday of November: Sunday 11:00
        (NY_ALWAYS, at(NEW_YORK, 2026, 10, 31, 12, 0), 24 * 60, at(NEW_YORK, 2026, 11, 1, 11, 0)),
    ],
)
def test_add_and_between_agree_with_the_calendar(
    calendar: BusinessCalendar, start: datetime, minutes: int, due: datetime
) -> None:
    assert calendar.add(start, minutes) == due
    assert calendar.between(start, due) == minutes


def test_new_york_office_hours_follow_the_wall_clock_across_dst() -> None:
    office = BusinessCalendar(NEW_YORK, weekdays("09:00-17:00"))
    friday = at(NEW_YORK, 2026, 3, 6, 16, 0)  # EST
    due = office.add(friday, 120)
    assert due == at(NEW_YORK, 2026, 3, 9, 10, 0)  # EDT
    assert due.tzinfo is UTC and due.hour == 14  # returned in UTC: 10:00 EDT is 14:00Z
    assert office.between(friday, due) == 120


def test_a_wall_time_in_the_spring_gap_is_the_moment_the_clocks_jumped() -> None:
    sundays = BusinessCalendar(BERLIN, week(sun="02:30-04:00"))
    sunday = at(BERLIN, 2026, 3, 29, 0, 0)
    # 02:30 does not exist that night: business starts at 03:00 CEST (01:00Z)
    assert sundays.next_open(sunday) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert sundays.between(sunday, at(BERLIN, 2026, 3, 29, 12, 0)) == 60


def test_an_interval_wholly_in_the_gap_is_empty_that_day() -> None:
    sundays = BusinessCalendar(BERLIN, week(sun="02:00-03:00"))
    sunday = at(BERLIN, 2026, 3, 29, 0, 0)
    assert sundays.between(sunday, at(BERLIN, 2026, 3, 30, 0, 0)) == 0
    assert sundays.next_open(sunday) == at(BERLIN, 2026, 4, 5, 2, 0)


def test_a_wall_time_in_the_autumn_fold_is_its_first_occurrence() -> None:
    sundays = BusinessCalendar(BERLIN, week(sun="02:00-03:00"))
    sunday = at(BERLIN, 2026, 10, 25, 0, 0)
    # 02:00 CEST (00:00Z) to 03:00 CET (02:00Z): the repeated hour is worked twice
    assert sundays.next_open(sunday) == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    assert sundays.between(sunday, at(BERLIN, 2026, 10, 26, 0, 0)) == 120


def test_a_day_that_never_happened_has_no_business_time() -> None:
    """Samoa skipped 30 December 2011 (UTC-10 → UTC+14): the whole day is one gap."""
    apia = ZoneInfo("Pacific/Apia")
    always = BusinessCalendar.always(apia)
    assert always.between(at(apia, 2011, 12, 29), at(apia, 2011, 12, 31)) == 24 * 60
    assert always.add(at(apia, 2011, 12, 29, 12, 0), 12 * 60) == at(apia, 2011, 12, 31, 0, 0)
    fridays = BusinessCalendar(apia, week(fri="09:00-17:00", sat="09:00-10:00"))
    assert fridays.next_open(at(apia, 2011, 12, 29, 18, 0)) == at(apia, 2011, 12, 31, 9, 0)


def test_a_half_hour_clock_change() -> None:
    """Lord Howe Island moves its clocks by 30 minutes at 02:00."""
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    nights = BusinessCalendar(lord_howe, week(sun="01:00-03:00"))
    # 5 April 2026: 02:00 becomes 01:30 again, so 01:30-02:00 happens twice
    assert nights.between(at(lord_howe, 2026, 4, 5), at(lord_howe, 2026, 4, 6)) == 150
    # 4 October 2026: 02:00 becomes 02:30
    assert nights.between(at(lord_howe, 2026, 10, 4), at(lord_howe, 2026, 10, 5)) == 90


def test_a_holiday_drops_the_intervals_starting_that_day() -> None:
    tuesday_off = BusinessCalendar(
        NIGHTS.zone, NIGHTS.week, Holidays(dates=frozenset({date(2026, 12, 8)}))
    )
    monday_night = at(BERLIN, 2026, 12, 7, 22, 0)
    # Monday's shift runs into the holiday until 06:00; Tuesday's is not worked
    assert tuesday_off.between(monday_night, at(BERLIN, 2026, 12, 9, 12, 0)) == 8 * 60
    monday_off = BusinessCalendar(
        NIGHTS.zone, NIGHTS.week, Holidays(dates=frozenset({date(2026, 12, 7)}))
    )
    assert monday_off.between(monday_night, at(BERLIN, 2026, 12, 9, 12, 0)) == 8 * 60
    assert monday_off.next_open(monday_night) == at(BERLIN, 2026, 12, 8, 22, 0)


def test_leap_day_as_a_yearly_holiday() -> None:
    calendar = BusinessCalendar.always(BERLIN)
    leap = BusinessCalendar(BERLIN, calendar.week, Holidays(yearly=frozenset({(2, 29)})))
    assert leap.between(at(BERLIN, 2028, 2, 28), at(BERLIN, 2028, 3, 1)) == 24 * 60
    assert leap.between(at(BERLIN, 2027, 2, 28), at(BERLIN, 2027, 3, 1)) == 24 * 60


def test_adding_zero_stays_put_and_next_open_finds_the_opening() -> None:
    saturday_night = at(BERLIN, 2026, 12, 5, 23, 30)
    assert OFFICE.add(saturday_night, 0) == saturday_night
    assert OFFICE.next_open(saturday_night) == at(BERLIN, 2026, 12, 7, 9, 0)
    assert not OFFICE.is_open(saturday_night)
    tuesday = at(BERLIN, 2026, 12, 8, 9, 0)
    assert OFFICE.is_open(tuesday)
    assert OFFICE.next_open(tuesday) == tuesday
    assert not OFFICE.is_open(at(BERLIN, 2026, 12, 8, 17, 0))  # half-open intervals


def test_between_is_zero_backwards_and_counts_whole_minutes() -> None:
    start = at(BERLIN, 2026, 12, 8, 10, 0)
    assert OFFICE.between(start, start - timedelta(hours=1)) == 0
    assert OFFICE.between(start, start + timedelta(seconds=119)) == 1
    assert OFFICE.elapsed(start, start + timedelta(seconds=119)) == timedelta(seconds=119)


def test_large_amounts_skip_whole_weeks_and_stay_exact() -> None:
    start = at(BERLIN, 2026, 12, 4, 16, 50, 30)
    for minutes in (10**5, 10**6):
        due = CHRISTMAS.add(start, minutes)
        assert CHRISTMAS.between(start, due) == minutes
        assert due.astimezone(BERLIN).weekday() < 5


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({}, "no business hours on any day"),
        ({"mon": "09:00-12:00 11:00-17:00"}, "mon: 09:00-12:00 and 11:00-17:00 overlap"),
        ({"mon": "22:00-06:00", "tue": "05:00-13:00"}, "mon 22:00-06:00 runs into tue 05:00-13:00"),
        ({"sun": "20:00-10:00", "mon": "09:00-17:00"}, "sun 20:00-10:00 runs into mon"),
    ],
)
def test_unusable_weeks_are_refused(days: dict[str, str], message: str) -> None:
    assert any(message in problem for problem in week_problems(week(**days)))
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar(BERLIN, week(**days))


def test_touching_intervals_are_fine() -> None:
    assert (
        week_problems(week(mon="09:00-12:00 12:00-17:00", tue="22:00-06:00", wed="06:00-07:00"))
        == []
    )


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("09:00-17:00", LocalInterval(540, 1020)),
        (" 9:30 - 12:00 ", LocalInterval(570, 720)),
        ("22:00-06:00", LocalInterval(1320, 1800)),
        ("22:00-00:00", LocalInterval(1320, 1440)),
        ("22:00-24:00", LocalInterval(1320, 1440)),
        ("00:00-24:00", LocalInterval(0, 1440)),
    ],
)
def test_interval_syntax(text: str, interval: LocalInterval) -> None:
    assert LocalInterval.parse(text) == interval


@pytest.mark.parametrize(
    "text",
    ["9-17", "09:00", "09:00-09:00", "24:00-01:00", "10:00-24:30", "25:00-26:00", "09:60-10:00"],
)
def test_bad_intervals(text: str) -> None:
    with pytest.raises(CalendarError):
        LocalInterval.parse(text)


def test_holidays_that_leave_no_day_are_refused() -> None:
    every_day = frozenset(
        (d.month, d.day) for d in (date(2000, 1, 1) + timedelta(days=n) for n in range(366))
    )
    with pytest.raises(CalendarError, match="cover every day"):
        BusinessCalendar(BERLIN, weekdays("09:00-17:00"), Holidays(yearly=every_day))


def test_naive_datetimes_and_negative_amounts_are_errors() -> None:
    with pytest.raises(ValueError, match="aware"):
        OFFICE.add(datetime(2026, 12, 4, 16, 50), 60)
    with pytest.raises(ValueError, match="forward"):
        OFFICE.add(at(BERLIN, 2026, 12, 4, 16, 50), -1)


def test_long_one_off_closures_are_walked_over() -> None:
    closed = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(3 * 366))
    calendar = BusinessCalendar(BERLIN, weekdays("09:00-17:00"), Holidays(dates=closed))
    assert calendar.add(at(BERLIN, 2026, 1, 1), 1) == at(BERLIN, 2029, 1, 3, 9, 1)


# --- an independent oracle: count minute by minute on the local wall clock ---------


def wall_clock_is_open(calendar: BusinessCalendar, instant: datetime) -> bool:
    """Business time by reading the wall clock, with no gap/fold rules: valid while no
    interval boundary lies in a gap or fold (true for the calendars used with it)."""
    local = instant.astimezone(calendar.zone)
    minute = local.hour * 60 + local.minute
    for day, offset in ((local.date(), 0), (local.date() - timedelta(days=1), 1440)):
        if day in calendar.holidays:
            continue
        for interval in calendar.week[day.weekday()]:
            if interval.start <= minute + offset < interval.end:
                return True
    return False


@pytest.mark.parametrize("calendar", [OFFICE, SPLIT, NIGHTS, CHRISTMAS, NY_ALWAYS])
@pytest.mark.parametrize(
    "first",
    [
        datetime(2026, 3, 25, tzinfo=UTC),
        datetime(2026, 10, 22, tzinfo=UTC),
        datetime(2026, 12, 20, tzinfo=UTC),
    ],
)
def test_elapsed_matches_a_minute_by_minute_count(
    calendar: BusinessCalendar, first: datetime
) -> None:
    minutes = [first + timedelta(minutes=n) for n in range(12 * 24 * 60)]
    opened = [wall_clock_is_open(calendar, m) for m in minutes]
    assert calendar.between(first, minutes[-1] + timedelta(minutes=1)) == sum(opened)
    assert [calendar.is_open(m) for m in minutes[::37]] == opened[::37]


# --- properties --------------------------------------------------------------------

CALENDARS = [
    OFFICE,
    SPLIT,
    NIGHTS,
    CHRISTMAS,
    NY_ALWAYS,
    BusinessCalendar(NEW_YORK, week(sat="10:00-14:00", sun="23:00-01:00")),
    # clocks change at midnight (Chile) and by half an hour at 02:00 (Lord Howe Island):
    # interval ends in gaps and folds, where the wall-clock oracle above does not apply
    BusinessCalendar(
        ZoneInfo("America/Santiago"),
        week(**dict.fromkeys(("fri", "sat", "sun", "mon"), "00:00-01:00 23:30-24:00")),
    ),
    BusinessCalendar(ZoneInfo("Australia/Lord_Howe"), week(**dict.fromkeys(DAYS, "01:45-02:15"))),
]
anywhere = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
)
CLOCK_CHANGES = [  # roughly, in UTC: Europe, New York, Santiago, Lord Howe Island
    datetime(2026, month, day, hour, tzinfo=UTC)
    for month, day, hour in [
        (3, 29, 1),
        (10, 25, 1),
        (3, 8, 7),
        (11, 1, 6),
        (4, 5, 3),
        (9, 6, 4),
        (4, 4, 15),
        (10, 3, 15),
    ]
]
near_a_clock_change = st.builds(
    lambda change, minutes: change + timedelta(minutes=minutes),
    st.sampled_from(CLOCK_CHANGES),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
)
instants = st.one_of(anywhere, near_a_clock_change)
amounts = st.integers(min_value=0, max_value=200_000)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CALENDARS), instants, amounts)
def test_measuring_what_was_added_gives_it_back(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    due = calendar.add(start, minutes)
    assert due >= start
    assert calendar.between(start, due) == minutes
    assert calendar.elapsed(start, due) == timedelta(minutes=minutes)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CALENDARS), instants, amounts, amounts)
def test_add_is_monotonic_and_additive(
    calendar: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    middle = calendar.add(start, first)
    assert calendar.add(start, first + second) == calendar.add(middle, second)
    assert calendar.add(start, first + second) >= middle


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CALENDARS), instants, instants, amounts)
def test_a_later_start_is_never_due_earlier(
    calendar: BusinessCalendar, one: datetime, other: datetime, minutes: int
) -> None:
    early, late = sorted((one, other))
    assert calendar.add(early, minutes) <= calendar.add(late, minutes)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CALENDARS), instants, instants, instants)
def test_elapsed_adds_up_over_consecutive_stretches(
    calendar: BusinessCalendar, one: datetime, two: datetime, three: datetime
) -> None:
    a, b, c = sorted((one, two, three))
    assert calendar.elapsed(a, c) == calendar.elapsed(a, b) + calendar.elapsed(b, c)
    assert calendar.elapsed(a, c) <= c - a
