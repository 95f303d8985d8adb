"""The `sla:` section of app.yaml (and `queues[].sla`): business hours, holidays, targets.

Written for an admin, read into `models.business_time` / `models.sla` by the composition
root (`bot.app.wiring.build_sla`). Every mistake is reported at start-up with its key, so
a calendar that the bot cannot count with never reaches a ticket:

```yaml
sla:
  business_hours:
    timezone: Europe/Berlin           # an IANA name
    days:                             # a day or a range of days → one or more intervals
      mon-fri: ["09:00-12:30", "13:30-17:00"]
      sat: "10:00-14:00"              # one interval, or several separated by commas
  holidays: ["12-24..12-26", "01-01", "2026-04-03", "2026-12-28..2026-12-31"]
  targets:                            # business minutes per priority
    urgent: {first_response_minutes: 60, resolution_minutes: 480}
    normal: {first_response_minutes: 240}
```

Holidays: `YYYY-MM-DD` is one date, `MM-DD` the same date every year, and `A..B` every
day from A to B inclusive (both of the same kind; a yearly range may run over New Year).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    field_validator,
    model_validator,
)

from models.business_time import (
    DAY_NAMES,
    BusinessCalendar,
    CalendarError,
    Holidays,
    LocalInterval,
    week_problems,
)
from models.sla import DEFAULT_WARN_PERCENT, PRIORITIES, Priority, Targets

__all__ = [
    "BusinessHoursSettings",
    "QueueSlaSettings",
    "SlaSettings",
    "TargetSettings",
    "TargetsSettings",
    "parse_holiday",
]

MAX_RANGE_DAYS: Final = 366  # a longer closure is more likely a typo in the year
_FULL_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_YEARLY = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_LEAP_YEAR: Final = 2000  # every month-day exists in it


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _split(value: Any) -> Any:
    """One string may hold several items: "09:00-12:00, 13:00-17:00"."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _interval(value: Any) -> LocalInterval:
    if isinstance(value, LocalInterval):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an interval like 09:00-17:00")  # noqa: TRY004 (pydantic reports ValueError)
    return LocalInterval.parse(value)  # CalendarError is a ValueError: named by pydantic


Interval = Annotated[LocalInterval, PlainValidator(_interval)]
Intervals = Annotated[list[Interval], BeforeValidator(_split)]


def _day_range(key: str) -> list[int]:
    """ "mon" → [0]; "mon-fri" → [0..4]; "fri-mon" → [4, 5, 6, 0] (through the weekend)."""
    first, sep, last = key.strip().lower().partition("-")
    names = [first, last] if sep else [first]
    if any(name not in DAY_NAMES for name in names):
        raise ValueError(
            f"{key!r} is not a day: write mon, tue, wed, thu, fri, sat, sun or a range "
            "such as mon-fri"
        )
    start, end = DAY_NAMES.index(names[0]), DAY_NAMES.index(names[-1])
    return [(start + n) % 7 for n in range((end - start) % 7 + 1)]


class BusinessHoursSettings(_Section):
    timezone: str
    days: dict[str, Intervals]

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known time zone: use an IANA name such as Europe/Berlin "
                "or America/New_York"
            ) from None
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: dict[str, list[LocalInterval]]) -> dict[str, list[LocalInterval]]:
        seen: dict[int, str] = {}
        for key in value:
            for day in _day_range(key):
                if day in seen:
                    raise ValueError(f"{DAY_NAMES[day]} is given twice ({seen[day]!r} and {key!r})")
                seen[day] = key
        problems = week_problems(_week(value))
        if problems:
            raise ValueError("; ".join(problems))
        return value

    def week(self) -> tuple[tuple[LocalInterval, ...], ...]:
        return _week(self.days)


def _week(days: dict[str, list[LocalInterval]]) -> tuple[tuple[LocalInterval, ...], ...]:
    week: list[list[LocalInterval]] = [[] for _ in DAY_NAMES]
    for key, intervals in days.items():
        for day in _day_range(key):
            week[day].extend(intervals)
    return tuple(tuple(sorted(day)) for day in week)


def _one_date(text: str) -> date | tuple[int, int]:
    if match := _FULL_DATE.match(text):
        return date(int(match[1]), int(match[2]), int(match[3]))
    if match := _YEARLY.match(text):
        month, day = int(match[1]), int(match[2])
        date(_LEAP_YEAR, month, day)  # raises for 02-30, 13-01…
        return (month, day)
    raise ValueError("not a date")


def parse_holiday(text: str) -> Holidays:
    """ "2026-12-25", "12-25" (every year), "2026-12-24..2026-12-31", "12-24..01-01"."""
    first, sep, last = text.strip().partition("..")
    try:
        begin = _one_date(first.strip())
        end = _one_date(last.strip()) if sep else begin
    except ValueError:
        raise ValueError(
            f"{text!r} is not a holiday: write 2026-12-25 (one date), 12-25 (every year) "
            "or a range such as 2026-12-24..2026-12-31"
        ) from None
    if isinstance(begin, date) and isinstance(end, date):
        days = (end - begin).days + 1
        if not 1 <= days <= MAX_RANGE_DAYS:
            raise ValueError(f"{text!r}: a range runs forward, over at most {MAX_RANGE_DAYS} days")
        return Holidays(dates=frozenset(begin + timedelta(days=n) for n in range(days)))
    if isinstance(begin, tuple) and isinstance(end, tuple):
        start, stop = date(_LEAP_YEAR, *begin), date(_LEAP_YEAR, *end)
        days = (stop - start).days % 366 + 1
        leap = (date(_LEAP_YEAR, 1, 1) + timedelta(days=n) for n in range(366))
        year = list(leap)
        offset = year.index(start)
        picked = (year[(offset + n) % 366] for n in range(days))
        return Holidays(yearly=frozenset((d.month, d.day) for d in picked))
    raise ValueError(f"{text!r}: both ends of a range are full dates, or both are yearly (MM-DD)")


def _holiday(value: Any) -> str:
    text = str(value)  # YAML reads 2026-12-25 unquoted as a date: str() gives it back
    parse_holiday(text)
    return text


HolidayText = Annotated[str, PlainValidator(_holiday)]
HolidayList = Annotated[list[HolidayText], BeforeValidator(_split)]


class TargetSettings(_Section):
    """Business minutes; a clock left out is not measured."""

    first_response_minutes: int | None = Field(default=None, ge=1)
    resolution_minutes: int | None = Field(default=None, ge=1)

    def over(self, base: Targets | None) -> Targets:
        """These targets, each clock not written here taken from `base` (a written null
        turns that clock off)."""
        written = self.model_fields_set
        base = base or Targets()
        return Targets(
            first_response_minutes=self.first_response_minutes
            if "first_response_minutes" in written
            else base.first_response_minutes,
            resolution_minutes=self.resolution_minutes
            if "resolution_minutes" in written
            else base.resolution_minutes,
        )


class TargetsSettings(_Section):
    low: TargetSettings | None = None
    normal: TargetSettings | None = None
    high: TargetSettings | None = None
    urgent: TargetSettings | None = None

    def by_priority(self, base: dict[Priority, Targets] | None = None) -> dict[Priority, Targets]:
        """The targets per priority, over `base` (the global ones, for a queue)."""
        result = dict(base or {})
        for priority in PRIORITIES:
            written: TargetSettings | None = getattr(self, priority)
            if written is not None:
                result[priority] = written.over(result.get(priority))
        return result


class QueueSlaSettings(_Section):
    """`queues[].sla`: this queue's targets, per priority and clock, over the global ones."""

    targets: TargetsSettings = TargetsSettings()


class SlaSettings(_Section):
    """`sla:`; without it tickets carry no service levels (the default)."""

    business_hours: BusinessHoursSettings | None = None  # None: around the clock, UTC
    holidays: HolidayList = []
    warn_percent: int = Field(default=DEFAULT_WARN_PERCENT, ge=1, le=99)
    targets: TargetsSettings = TargetsSettings()

    @model_validator(mode="after")
    def _usable(self) -> SlaSettings:
        try:
            self.calendar()
        except CalendarError as exc:  # what no single key shows: holidays on every day
            raise ValueError(str(exc)) from None
        return self

    def calendar(self) -> BusinessCalendar:
        hours = self.business_hours
        holidays = [parse_holiday(text) for text in self.holidays]
        merged = Holidays(
            dates=frozenset().union(*(h.dates for h in holidays)),
            yearly=frozenset().union(*(h.yearly for h in holidays)),
        )
        if hours is None:
            always = BusinessCalendar.always()
            return BusinessCalendar(always.zone, always.week, merged)
        return BusinessCalendar(ZoneInfo(hours.timezone), hours.week(), merged)
