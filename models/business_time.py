"""Business time: when the helpdesk is open, and how much of it lies between two instants.

A `BusinessCalendar` is an IANA time zone, one list of local wall-clock intervals per
week day and a set of holidays. Instants go in and out as aware datetimes (returned in
UTC); the intervals are read on the local clock of the zone, day by day, so "09:00-17:00"
stays nine to five across daylight-saving changes.

The rules, where a calendar has to choose:

- An interval belongs to the day it starts on. "22:00-06:00" on Monday runs into Tuesday
  morning; a holiday drops the intervals *starting* that day (so the night shift that
  began the evening before a holiday is worked to its end).
- Intervals are half-open: 09:00-17:00 contains 09:00, not 17:00. "00:00-24:00" is a
  whole day; an end at or before the start means the interval runs overnight.
- A wall time that does not exist (in the spring-forward gap) is the instant the clocks
  jumped: on the last Sunday of March in Berlin, 02:30 means 03:00 CEST. A wall time that
  exists twice (in the autumn fold) is its first occurrence. Both rules keep the local →
  UTC mapping monotonic, so non-overlapping intervals never overlap in real time; an
  interval that falls wholly into a gap is empty that day.
- Business time is real elapsed time inside the intervals: a night shift 22:00-06:00 is
  seven hours on the spring-forward night and nine on the autumn one.
- `add(s, n)` is the earliest instant t ≥ s with `between(s, t) == n`. So `add(s, 0)` is
  `s` itself, even outside business hours (nothing has to elapse), and a positive n
  that ends exactly at closing time ends there (Friday 16:50 + 10 min = Friday 17:00),
  not at the next opening. `next_open(s)` gives the next instant that is business time.

Cost: a week without a holiday and without a UTC offset change is skipped whole, so
adding a year of business minutes walks about 52 weeks, not 500 000 minutes; the other
days cost a few time zone conversions each, once: a calendar remembers the UTC spans of
the last few thousand days it worked out (`_CACHE_DAYS`). A calendar without any
business time in the week (or whose yearly holidays cover every day of the year) is
refused when it is built, and every loop stops after `MAX_IDLE_DAYS` days without
business time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Final
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_NAMES",
    "MAX_IDLE_DAYS",
    "BusinessCalendar",
    "CalendarError",
    "Holidays",
    "LocalInterval",
    "week_problems",
]

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY: Final = 24 * 60
MAX_IDLE_DAYS: Final = 146_097  # 400 Gregorian years: the calendar repeats after that
_CACHE_DAYS: Final = 4096  # days (and weeks) remembered per calendar, then forgotten at once
_DAY: Final = timedelta(days=1)
_WEEK: Final = timedelta(days=7)
_MINUTE: Final = timedelta(minutes=1)
_SECOND: Final = timedelta(seconds=1)
_HHMM = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class CalendarError(ValueError):
    """The calendar cannot be used: no business time, overlapping intervals, a bad time."""


@dataclass(frozen=True, slots=True, order=True)
class LocalInterval:
    """Minutes after local midnight: `start` in [0, 1440), `end` in (start, start + 1440].

    An `end` past 1440 runs into the next day (an overnight shift).
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < MINUTES_PER_DAY:
            raise CalendarError(f"an interval starts between 00:00 and 23:59, not {self}")
        if not self.start < self.end <= self.start + MINUTES_PER_DAY:
            raise CalendarError(f"an interval lasts from one minute to 24 hours, not {self}")

    @classmethod
    def from_wall(cls, start: time, end: time | None) -> LocalInterval:
        """Wall-clock times as people write them; `end` None = 24:00, at or before start =
        the next day ("22:00-06:00"). The same start and end is refused as ambiguous."""
        first = start.hour * 60 + start.minute
        last = MINUTES_PER_DAY if end is None else end.hour * 60 + end.minute
        if last == first:
            raise CalendarError(
                f"{_hhmm(first)}-{_hhmm(last)} is empty or a whole day: write 00:00-24:00 "
                "for a whole day"
            )
        if last < first:
            last += MINUTES_PER_DAY
        return cls(first, last)

    @classmethod
    def parse(cls, text: str) -> LocalInterval:
        """ "09:00-17:00", "22:00-06:00" (overnight), "00:00-24:00" (the whole day)."""
        start, sep, end = text.strip().partition("-")
        times = [_HHMM.match(part.strip()) for part in (start, end)]
        if not sep or times[0] is None or times[1] is None:
            raise CalendarError(f"{text!r} is not an interval like 09:00-17:00")
        first, last = (int(m[1]) * 60 + int(m[2]) for m in times if m is not None)
        if first >= MINUTES_PER_DAY or last > MINUTES_PER_DAY:
            raise CalendarError(f"{text!r}: times run from 00:00 to 24:00 (24:00 only as an end)")
        if last == MINUTES_PER_DAY:
            return cls.from_wall(_time(first), None)
        return cls.from_wall(_time(first), _time(last))

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end % MINUTES_PER_DAY or MINUTES_PER_DAY)}"


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def week_problems(week: Sequence[Sequence[LocalInterval]]) -> list[str]:
    """What is wrong with a week (Monday first): overlaps, also an overnight interval
    running into the next day's first one, and a week without any business time."""
    if len(week) != 7:
        return [f"a week has 7 days, not {len(week)}"]
    problems: list[str] = []
    for index, intervals in enumerate(week):
        ordered = sorted(intervals)
        for before, after in pairwise(ordered):
            if after.start < before.end:
                problems.append(f"{DAY_NAMES[index]}: {before} and {after} overlap")
        if ordered:
            tomorrow = sorted(week[(index + 1) % 7])
            spill = ordered[-1].end - MINUTES_PER_DAY
            if tomorrow and spill > tomorrow[0].start:
                problems.append(
                    f"{DAY_NAMES[index]} {ordered[-1]} runs into "
                    f"{DAY_NAMES[(index + 1) % 7]} {tomorrow[0]}"
                )
    if not any(week):
        problems.append("no business hours on any day of the week")
    return problems


@dataclass(frozen=True, slots=True)
class Holidays:
    """Days without business time: single dates, and (month, day) pairs every year."""

    dates: frozenset[date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()

    def __post_init__(self) -> None:
        for month, day in self.yearly:
            date(2000, month, day)  # a leap year: 02-29 is valid (and then only in leap years)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and (day in self.dates or (day.month, day.day) in self.yearly)

    @property
    def covers_every_day(self) -> bool:
        return len(self.yearly) >= 366


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """When the helpdesk counts time. Built once from the configuration; immutable."""

    zone: ZoneInfo
    week: tuple[tuple[LocalInterval, ...], ...]  # Monday first, each sorted
    holidays: Holidays = field(default_factory=Holidays)
    # per local day: its UTC spans, and (Mondays) whether the week is regular. The same
    # days come back again and again (every ticket of a week, every tick of a job).
    _days: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _weeks: dict[date, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = week_problems(self.week)
        if self.holidays.covers_every_day:
            problems.append("the yearly holidays cover every day of the year")
        if problems:
            raise CalendarError("; ".join(problems))
        object.__setattr__(self, "week", tuple(tuple(sorted(day)) for day in self.week))

    @classmethod
    def always(cls, zone: ZoneInfo | None = None) -> BusinessCalendar:
        """Around the clock: business time is wall-clock time."""
        whole = (LocalInterval(0, MINUTES_PER_DAY),)
        return cls(zone or ZoneInfo("UTC"), (whole,) * 7)

    @property
    def week_minutes(self) -> int:
        """Business minutes of a week without holidays or clock changes."""
        return sum(interval.minutes for day in self.week for interval in day)

    # --- the public arithmetic -------------------------------------------------

    def add(self, start: datetime, minutes: int) -> datetime:
        """The earliest instant with `minutes` business minutes after `start` (module doc)."""
        return self.advance(start, timedelta(minutes=minutes))

    def between(self, start: datetime, end: datetime) -> int:
        """Whole business minutes from `start` to `end` (rounded down); 0 if end ≤ start."""
        return self.elapsed(start, end) // _MINUTE

    def advance(self, start: datetime, amount: timedelta) -> datetime:
        """`add` with a timedelta, for seconds-exact arithmetic (SLA pauses)."""
        start = _utc(start)
        if amount < timedelta(0):
            raise ValueError("business time only moves forward: amount must be ≥ 0")
        if not amount:
            return start
        remaining = amount
        week = timedelta(minutes=self.week_minutes)
        day = self._local_date(start) - _DAY  # yesterday's night shift may still run
        idle = 0
        while True:
            if remaining > week and self._skippable(day, start, None):
                remaining -= week
                day += _WEEK
                idle = 0
                continue
            spans = self._spans(day)
            for opens, end in spans:
                if end <= start:
                    continue
                begin = max(opens, start)
                if remaining <= end - begin:
                    return begin + remaining
                remaining -= end - begin
            idle = 0 if spans else idle + 1
            self._check_idle(idle, start)
            day += _DAY

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` as a timedelta; zero if end ≤ start."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        week = timedelta(minutes=self.week_minutes)
        day = self._local_date(start) - _DAY
        last = self._local_date(end)
        while day <= last:
            if self._skippable(day, start, end):
                total += week
                day += _WEEK
                continue
            for begin, finish in self._spans(day):
                low, high = max(begin, start), min(finish, end)
                if high > low:
                    total += high - low
            day += _DAY
        return total

    def is_open(self, instant: datetime) -> bool:
        """Whether `instant` lies inside business time."""
        instant = _utc(instant)
        return any(begin <= instant < end for begin, end in self._spans_around(instant))

    def next_open(self, instant: datetime) -> datetime:
        """`instant` itself when it is business time, else the next opening."""
        instant = _utc(instant)
        for begin, end in self._spans_from(instant):
            if end > instant:
                return max(begin, instant)
        raise AssertionError("unreachable: _spans_from raises when idle too long")

    # --- days and instants -----------------------------------------------------

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def _instant(self, wall: datetime) -> datetime:
        """A naive local wall time → its UTC instant (gap: the jump; fold: the first)."""
        aware = wall.replace(tzinfo=self.zone, fold=0)
        instant = aware.astimezone(UTC)
        if instant.astimezone(self.zone).replace(tzinfo=None) == wall:
            return instant
        # In a gap: fold=0 reads it with the offset before the jump (instant, after the
        # jump), fold=1 with the offset after it (before the jump); find the jump itself.
        low = wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC)
        high = instant
        after = high.astimezone(self.zone).utcoffset()
        while high - low > _SECOND:
            middle = low + (high - low) / 2
            if middle.astimezone(self.zone).utcoffset() == after:
                high = middle
            else:
                low = middle
        return high.replace(microsecond=0)

    def _midnight(self, day: date) -> datetime:
        return self._instant(datetime.combine(day, time()))

    def _spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC spans of the intervals starting on local `day`, in order."""
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) >= _CACHE_DAYS:
                self._days.clear()
            cached = self._days[day] = self._compute_spans(day)
        return cached

    def _compute_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        midnight = datetime.combine(day, time())
        spans = []
        for interval in self.week[day.weekday()]:
            begin = self._instant(midnight + timedelta(minutes=interval.start))
            end = self._instant(midnight + timedelta(minutes=interval.end))
            if end > begin:  # empty when it lies wholly in a spring-forward gap
                spans.append((begin, end))
        return spans

    def _spans_around(self, instant: datetime) -> Iterable[tuple[datetime, datetime]]:
        today = self._local_date(instant)
        return [*self._spans(today - _DAY), *self._spans(today)]

    def _spans_from(self, instant: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = self._local_date(instant) - _DAY
        idle = 0
        while True:
            spans = self._spans(day)
            yield from spans
            idle = 0 if spans else idle + 1
            self._check_idle(idle, instant)
            day += _DAY

    def _skippable(self, day: date, start: datetime, end: datetime | None) -> bool:
        """Whether the week from Monday `day` counts exactly `week_minutes`, all of it after
        `start` (and before `end`): no holiday, the same UTC offset from its first midnight
        to the one after its Sunday night shift."""
        if day.weekday() != 0 or self._midnight(day) < start:
            return False
        if end is not None and self._midnight(day + timedelta(days=8)) > end:
            return False
        regular = self._weeks.get(day)
        if regular is None:
            if len(self._weeks) >= _CACHE_DAYS:
                self._weeks.clear()
            regular = self._weeks[day] = self._is_regular_week(day)
        return regular

    def _is_regular_week(self, day: date) -> bool:
        if any(day + timedelta(days=n) in self.holidays for n in range(7)):
            return False
        offsets = {
            datetime.combine(day + timedelta(days=n), time(), tzinfo=self.zone).utcoffset()
            for n in range(9)
        }
        return len(offsets) == 1

    def _check_idle(self, idle: int, start: datetime) -> None:
        if idle > MAX_IDLE_DAYS:
            raise CalendarError(f"no business time in the 400 years after {start.isoformat()}")


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, not the naive {instant.isoformat()}")
    return instant.astimezone(UTC)
