"""Service levels in words: the card's time-left line, App Home's brief, the escalation
notices' mentions and dates — pure, and valid Block Kit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.render.blocks import build_ticket_card
from bot.render.notices import notice_text
from bot.render.sla import business_span, clock_brief, clock_line, slack_due
from bot.sandbox.emulator.validation import validate_message_blocks
from models.events import Notice
from models.sla import SlaClock
from models.sla_state import ClockView
from tests.bot.render.test_blocks import summary

DUE = datetime(2026, 12, 7, 8, 50, tzinfo=UTC)  # Monday 09:50 in Berlin
TOKEN = f"<!date^{int(DUE.timestamp())}^{{date_short_pretty}} {{time}}|2026-12-07 08:50 UTC>"


def view(
    left: int,
    *,
    due: datetime | None = DUE,
    paused: bool = False,
    breached: bool = False,
    clock: SlaClock = SlaClock.FIRST_RESPONSE,
) -> ClockView:
    return ClockView(clock, due, left, paused, breached)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "less than a minute"),
        (59, "less than a minute"),
        (60, "1 min"),
        (25 * 60 + 59, "25 min"),
        (2 * 3600, "2 h"),
        (2 * 3600 + 10 * 60, "2 h 10 min"),
        (-(25 * 60), "25 min"),
        (30 * 3600 + 60, "30 h 1 min"),
    ],
)
def test_business_spans_are_hours_and_minutes(seconds: int, words: str) -> None:
    assert business_span(seconds) == words


def test_a_due_instant_is_a_slack_date_with_a_utc_fallback() -> None:
    assert slack_due(DUE) == TOKEN


@pytest.mark.parametrize(
    ("clock_view", "line"),
    [
        (
            view(2 * 3600 + 600),
            f":stopwatch: First response due {TOKEN} (2 h 10 min business time left)",
        ),
        (
            view(-25 * 60, breached=True, clock=SlaClock.RESOLUTION),
            f":rotating_light: Resolution breached: was due {TOKEN} (25 min business time over)",
        ),
        # past a Friday 17:00 deadline on Saturday: breached, no business minute over yet
        (view(0, breached=True), f":rotating_light: First response breached: was due {TOKEN}"),
        (
            view(3000, due=None, paused=True, clock=SlaClock.RESOLUTION),
            ":double_vertical_bar: Resolution paused while waiting for the customer"
            " (50 min business time left)",
        ),
    ],
)
def test_the_cards_clock_line(clock_view: ClockView, line: str) -> None:
    assert clock_line(clock_view) == line


def test_app_homes_brief() -> None:
    assert clock_brief(view(600)) == ":stopwatch: 10 min left for the first response"
    assert clock_brief(view(-60, breached=True)) == ":rotating_light: first response overdue"
    assert (
        clock_brief(view(60, due=None, paused=True))
        == ":double_vertical_bar: first response paused"
    )


def test_the_card_shows_the_running_clocks_and_stays_valid() -> None:
    clocks = (view(600), view(-120, breached=True, clock=SlaClock.RESOLUTION))
    blocks = build_ticket_card(summary(clocks=clocks), "Ticket#")
    assert validate_message_blocks(blocks) == []
    lines = [b["elements"][0]["text"] for b in blocks if b["type"] == "context" and "due" in str(b)]
    assert lines == [clock_line(clocks[0]) + "\n" + clock_line(clocks[1])]
    plain = build_ticket_card(summary(), "Ticket#")
    assert not any("due" in str(b) for b in plain if b["type"] == "context")


def test_a_warning_mentions_the_owner_or_else_the_escalation_group() -> None:
    due = str(int(DUE.timestamp()))
    owned = notice_text(
        Notice.SLA_FIRST_RESPONSE_WARNING,
        {"owner": "U0ALICE", "group": "", "due": due, "minutes": "60"},
    )
    assert owned == (
        f":hourglass_flowing_sand: The first response is due {TOKEN} and not sent yet"
        " (target: 60 business minutes). <@U0ALICE>"
    )
    unclaimed = notice_text(
        Notice.SLA_RESOLUTION_BREACHED,
        {"owner": "", "group": "S0TEAM", "due": due, "minutes": "480"},
    )
    assert unclaimed.startswith(":rotating_light: Resolution overdue")
    assert unclaimed.endswith("minutes). <!subteam^S0TEAM>")
    nobody = notice_text(
        Notice.SLA_FIRST_RESPONSE_BREACHED, {"owner": "", "group": "", "due": due, "minutes": "60"}
    )
    assert nobody == (
        f":rotating_light: First response overdue: it was due {TOKEN} (target: 60 business"
        " minutes)."
    )
    assert "<!" not in nobody.replace(TOKEN, "")
    forged = notice_text(
        Notice.SLA_RESOLUTION_WARNING,
        {"owner": "", "group": "<!channel>", "due": "soon", "minutes": "1"},
    )
    assert "<!channel>" not in forged and "<!date" not in forged
