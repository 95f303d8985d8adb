"""SLA clocks: due and warning instants in business time, pauses, met or breached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.business_time import BusinessCalendar, LocalInterval
from models.sla import (
    PRIORITIES,
    Pause,
    SlaClock,
    SlaLevel,
    SlaPolicy,
    Targets,
    counted,
    due_instant,
    evaluate,
    normalise_pauses,
)

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = (LocalInterval.parse("09:00-17:00"),)
OFFICE = BusinessCalendar(BERLIN, (NINE_TO_FIVE,) * 5 + ((), ()))
FIRST = SlaClock.FIRST_RESPONSE


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in December 2026 (the 7th is a Monday)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def test_friday_afternoon_urgent_ticket_is_due_monday_morning() -> None:
    status = evaluate(OFFICE, FIRST, 60, created_at=berlin(4, 16, 50), now=berlin(4, 16, 55))
    assert status.due_at == berlin(7, 9, 50)
    assert status.warn_at == berlin(7, 9, 38)  # 80 % = 48 minutes: 10 on Friday, 38 Monday
    assert status.level is SlaLevel.OK
    assert status.used == timedelta(minutes=5)
    assert status.left == timedelta(minutes=55)
    assert status.met is None


@pytest.mark.parametrize(
    ("now", "level", "used"),
    [
        (berlin(7, 9, 37), SlaLevel.OK, 47),
        (berlin(7, 9, 38), SlaLevel.WARNING, 48),
        (berlin(7, 9, 50), SlaLevel.WARNING, 60),
        (berlin(7, 9, 51), SlaLevel.BREACHED, 61),
        (berlin(7, 18, 0), SlaLevel.BREACHED, 10 + 480),
    ],
)
def test_levels_as_time_goes_by(now: datetime, level: SlaLevel, used: int) -> None:
    status = evaluate(OFFICE, FIRST, 60, created_at=berlin(4, 16, 50), now=now)
    assert status.level is level
    assert status.used == timedelta(minutes=used)


def test_pending_time_does_not_count() -> None:
    pending = [Pause(berlin(7, 9, 30), berlin(7, 11, 0))]
    status = evaluate(
        OFFICE,
        SlaClock.RESOLUTION,
        60,
        created_at=berlin(7, 9, 0),
        now=berlin(7, 11, 10),
        pauses=pending,
    )
    assert status.due_at == berlin(7, 11, 30)
    assert status.warn_at == berlin(7, 11, 18)  # 30 minutes before the pause, 18 after
    assert status.used == timedelta(minutes=40)
    assert status.level is SlaLevel.OK


def test_a_pause_outside_business_hours_changes_nothing() -> None:
    weekend = [Pause(berlin(5, 10, 0), berlin(6, 20, 0))]
    plain = evaluate(OFFICE, FIRST, 60, created_at=berlin(4, 16, 50), now=berlin(7, 9, 0))
    paused = evaluate(
        OFFICE, FIRST, 60, created_at=berlin(4, 16, 50), now=berlin(7, 9, 0), pauses=weekend
    )
    assert paused == plain


def test_an_open_pause_holds_the_clock() -> None:
    created = berlin(7, 9, 0)
    held = evaluate(
        OFFICE,
        FIRST,
        60,
        created_at=created,
        now=berlin(8, 12, 0),
        pauses=[Pause(berlin(7, 9, 30))],
    )
    assert held.due_at is None and held.warn_at is None and held.held
    assert held.used == timedelta(minutes=30)
    assert held.level is SlaLevel.OK
    # paused after the warning: the warning stands, the deadline is held
    warned = evaluate(
        OFFICE,
        FIRST,
        60,
        created_at=created,
        now=berlin(8, 12, 0),
        pauses=[Pause(berlin(7, 9, 50))],
    )
    assert warned.warn_at == berlin(7, 9, 48) and warned.due_at is None
    assert warned.level is SlaLevel.WARNING
    # paused after the breach: still breached
    late = evaluate(
        OFFICE,
        FIRST,
        60,
        created_at=created,
        now=berlin(8, 12, 0),
        pauses=[Pause(berlin(7, 10, 30))],
    )
    assert late.due_at == berlin(7, 10, 0)
    assert late.level is SlaLevel.BREACHED


@pytest.mark.parametrize(
    ("stopped", "met", "level"),
    [
        (berlin(7, 9, 30), True, SlaLevel.OK),
        (berlin(7, 9, 50), True, SlaLevel.WARNING),  # at the due instant: still met
        (berlin(7, 9, 51), False, SlaLevel.BREACHED),
    ],
)
def test_a_stopped_clock_met_or_breached(stopped: datetime, met: bool, level: SlaLevel) -> None:
    status = evaluate(
        OFFICE, FIRST, 60, created_at=berlin(4, 16, 50), now=berlin(9, 12, 0), stopped_at=stopped
    )
    assert status.met is met
    assert status.level is level


def test_a_deadline_at_closing_time_is_missed_by_a_reply_on_saturday() -> None:
    status = evaluate(
        OFFICE,
        FIRST,
        10,
        created_at=berlin(4, 16, 50),
        now=berlin(9, 9, 0),
        stopped_at=berlin(5, 10, 0),
    )
    assert status.due_at == berlin(4, 17, 0)
    assert status.used == timedelta(minutes=10)  # no business minute passed since…
    assert status.met is False  # …but the promised instant did


def test_pauses_are_clipped_sorted_and_merged() -> None:
    created = berlin(7, 9, 0)
    pauses = [
        Pause(berlin(7, 13, 0), berlin(7, 14, 0)),
        Pause(berlin(4, 9, 0), berlin(4, 10, 0)),  # before the ticket: ignored
        Pause(berlin(7, 8, 0), berlin(7, 9, 30)),  # clipped to the creation
        Pause(berlin(7, 13, 30), berlin(7, 15, 0)),  # overlaps: merged
        Pause(berlin(7, 16, 0)),  # open: swallows what follows
        Pause(berlin(7, 16, 30), berlin(7, 16, 45)),
    ]
    assert normalise_pauses(pauses, created) == [
        Pause(created, berlin(7, 9, 30)),
        Pause(berlin(7, 13, 0), berlin(7, 15, 0)),
        Pause(berlin(7, 16, 0)),
    ]
    # 09:30-13:00 and 15:00-16:00 count
    assert counted(OFFICE, created, berlin(8, 12, 0), pauses) == timedelta(minutes=270)


def test_a_pause_must_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends after it starts"):
        Pause(berlin(7, 10, 0), berlin(7, 9, 0))


def test_policy_targets_per_priority_and_queue() -> None:
    policy = SlaPolicy(
        OFFICE,
        targets={
            "urgent": Targets(first_response_minutes=60, resolution_minutes=480),
            "normal": Targets(first_response_minutes=240),
        },
        queue_targets={"Billing": {"urgent": Targets(first_response_minutes=30)}},
    )
    assert policy.targets_for("Support", "urgent") == Targets(60, 480)
    assert policy.targets_for("Billing", "urgent") == Targets(30, None)
    assert policy.targets_for("Billing", "normal") == Targets(240, None)
    assert policy.targets_for("Support", "low") == Targets()
    kwargs = {"created_at": berlin(4, 16, 50), "now": berlin(4, 17, 0)}
    status = policy.evaluate(FIRST, queue="Support", priority="urgent", **kwargs)
    assert status is not None and status.due_at == berlin(7, 9, 50)
    assert (
        policy.evaluate(SlaClock.RESOLUTION, queue="Billing", priority="urgent", **kwargs) is None
    )
    assert policy.evaluate(FIRST, queue="Support", priority="low", **kwargs) is None
    assert set(PRIORITIES) == {"low", "normal", "high", "urgent"}


def test_policy_checks_its_numbers() -> None:
    with pytest.raises(ValueError, match="between 1 and 99"):
        SlaPolicy(OFFICE, warn_percent=100)
    with pytest.raises(ValueError, match="at least one minute"):
        Targets(first_response_minutes=0)


# --- properties --------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@st.composite
def closed_pauses(draw: st.DrawFn, since: datetime) -> list[Pause]:
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        start = since + timedelta(minutes=draw(st.integers(-600, 20_000)))
        pauses.append(Pause(start, start + timedelta(minutes=draw(st.integers(0, 5_000)))))
    return pauses


@settings(max_examples=100, deadline=None)
@given(instants, st.integers(1, 5_000), st.data())
def test_the_due_instant_counts_exactly_the_target(
    created: datetime, minutes: int, data: st.DataObject
) -> None:
    pauses = data.draw(closed_pauses(created))
    due = due_instant(OFFICE, created, timedelta(minutes=minutes), pauses)
    assert due is not None and due >= created
    assert counted(OFFICE, created, due, pauses) == timedelta(minutes=minutes)
    later = due_instant(OFFICE, created, timedelta(minutes=minutes + 1), pauses)
    assert later is not None and later > due
    status = evaluate(OFFICE, FIRST, minutes, created_at=created, now=due, pauses=pauses)
    assert status.warn_at is not None and status.warn_at <= due
    assert status.level is SlaLevel.WARNING
