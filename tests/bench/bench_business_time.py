"""What business-time arithmetic costs as the amount grows (issue 13).

    python -m tests.bench.bench_business_time [--repeat 200]

For each calendar and amount of business minutes, prints the median time of `add` and of
`between` over the same stretch, and the days the stretch covers; then one SLA
evaluation (two clocks, due and warning instants) of a ticket paused ten times. Whole
weeks without a holiday or clock change are skipped, so a year costs about 52 steps,
not 365 days (nor 500 000 minutes). No pass/fail: the figures are for reading.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.business_time import BusinessCalendar, Holidays, LocalInterval
from models.sla import Pause, SlaClock, evaluate

BERLIN = ZoneInfo("Europe/Berlin")


def _week(hours: dict[int, str]) -> tuple[tuple[LocalInterval, ...], ...]:
    return tuple(
        tuple(LocalInterval.parse(part) for part in hours.get(day, "").split()) for day in range(7)
    )


CALENDARS = {
    "9-17 Mon-Fri": BusinessCalendar(BERLIN, _week(dict.fromkeys(range(5), "09:00-17:00"))),
    "split + holidays": BusinessCalendar(
        BERLIN,
        _week(dict.fromkeys(range(5), "08:00-12:00 13:00-17:00")),
        Holidays(
            dates=frozenset(date(2027, 1, 1) + timedelta(days=n * 30) for n in range(40)),
            yearly=frozenset({(1, 1), (5, 1), (12, 24), (12, 25), (12, 26)}),
        ),
    ),
    "nights 22-06 daily": BusinessCalendar(BERLIN, _week(dict.fromkeys(range(7), "22:00-06:00"))),
}
AMOUNTS = (60, 480, 10_000, 100_000, 1_000_000)


def _median(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    start = datetime(2026, 12, 4, 15, 50, 17, tzinfo=UTC)
    print(f"{'calendar':<20} {'minutes':>9} {'days':>7} {'add µs':>9} {'between µs':>11}")
    for name, calendar in CALENDARS.items():
        for minutes in AMOUNTS:
            due = calendar.add(start, minutes)
            repeat = max(3, args.repeat // (1 + minutes // 10_000))
            took_add = _median(lambda c=calendar, m=minutes: c.add(start, m), repeat)
            took_between = _median(lambda c=calendar, d=due: c.between(start, d), repeat)
            days = (due - start).days
            print(
                f"{name:<20} {minutes:>9} {days:>7} "
                f"{took_add * 1e6:>9.1f} {took_between * 1e6:>11.1f}"
            )
    office = CALENDARS["split + holidays"]
    pauses = [
        Pause(start + timedelta(hours=20 * n), start + timedelta(hours=20 * n + 5))
        for n in range(10)
    ]

    def both_clocks() -> None:
        for clock, target in ((SlaClock.FIRST_RESPONSE, 60), (SlaClock.RESOLUTION, 2400)):
            evaluate(
                office,
                clock,
                target,
                created_at=start,
                now=start + timedelta(days=9),
                pauses=pauses,
            )

    took = _median(both_clocks, args.repeat)
    print(f"SLA evaluation, 2 clocks, 10 pauses: {took * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
