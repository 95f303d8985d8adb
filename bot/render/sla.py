"""Service levels in words (pure): a clock's due instant and the business time left,
for the card and App Home. The due instant is a `<!date^…>` token, shown in each
reader's time zone and never stale; the time left is as of the card's last update."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from models.sla import SlaClock
from models.sla_state import ClockView

CLOCK_WORDS = {SlaClock.FIRST_RESPONSE: "First response", SlaClock.RESOLUTION: "Resolution"}


def slack_due(instant: datetime) -> str:
    """An instant as Slack's date token: "Mon, Dec 7 at 9:50 AM" in the reader's zone."""
    fallback = instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def business_span(seconds: int) -> str:
    """ "2 h 10 min", "25 min", "less than a minute" (whole minutes, rounded down)."""
    minutes = abs(seconds) // 60
    if minutes == 0:
        return "less than a minute"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def clock_line(view: ClockView) -> str:
    """One running clock: due when and how much business time is left, overrun, or held."""
    name = CLOCK_WORDS[view.clock]
    if view.due_at is None:
        return (
            f":double_vertical_bar: {name} paused while waiting for the customer"
            f" ({business_span(view.left_seconds)} business time left)"
        )
    due = slack_due(view.due_at)
    if view.breached:
        over = f" ({business_span(view.left_seconds)} business time over)"
        return f":rotating_light: {name} breached: was due {due}" + (
            over if view.left_seconds <= -60 else ""
        )
    return f":stopwatch: {name} due {due} ({business_span(view.left_seconds)} business time left)"


def clock_brief(view: ClockView) -> str:
    """One clock in a list line (App Home): how long left, overdue or paused."""
    name = CLOCK_WORDS[view.clock].lower()
    if view.breached:
        return f":rotating_light: {name} overdue"
    if view.due_at is None:
        return f":double_vertical_bar: {name} paused"
    return f":stopwatch: {business_span(view.left_seconds)} left for the {name}"


def clock_lines(views: Sequence[ClockView]) -> str:
    """The card's service-level line(s); empty when no clock runs."""
    return "\n".join(clock_line(view) for view in views)
