"""The report's Block Kit (pure): valid by Slack's rules, untrusted text escaped, durations
and the text chart readable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.render.report import build_report_blocks, chart, duration
from bot.sandbox.emulator.validation import validate_message_blocks
from models.priority import Priority
from models.report import AgentLine, Durations, Period, Report
from models.report_sla import SlaCount

START = datetime(2026, 10, 5, tzinfo=UTC)


def report(days: int = 3, team: int = 2, **changes: object) -> Report:
    fields: dict[str, object] = {
        "period": Period(START, START + timedelta(days=days), "5 Oct – 7 Oct 2026", False),
        "created": 3,
        "closed": 3,
        "reopened": 1,
        "backlog": 2,
        "unanswered": 1,
        "first_response": Durations.of([1800.0, 3600.0]),
        "resolution": Durations.of([2700.0, 86400.0, 273600.0]),
        "agents": [AgentLine(f"U0AGENT{n:02d}", 1, n % 2, 1, 15) for n in range(team)],
        "customers": [("Mallory <!channel> <m@x.example>", 2), ("ben@x.example", 1)],
        "subjects": [("Printer *broken* <https://evil.example|click>", 2)],
        "daily": [(date(2026, 10, 5) + timedelta(days=n), n, 1) for n in range(days)],
        "by_priority": {"urgent": 1, "high": 0, "normal": 2, "low": 0},
    }
    fields.update(changes)
    return Report(**fields)  # type: ignore[arg-type]


def text(blocks: list[dict[str, object]]) -> str:
    return str(blocks)


def test_a_report_is_valid_block_kit_with_untrusted_text_escaped() -> None:
    blocks = build_report_blocks(report(), "Europe/Berlin")
    assert validate_message_blocks(blocks) == []
    shown = text(blocks)
    assert "Report: 5 Oct – 7 Oct 2026" in shown and "Times in Europe/Berlin" in shown
    assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
    assert "<https://evil.example" not in shown
    assert "median 30 min, p90 1 h 00 min (2 timed, 1 unanswered)" in shown
    assert "median 1 d 0 h, p90 3 d 4 h (3 timed)" in shown
    assert "<@U0AGENT01> — 1 claim · 1 reply · 1 close · 15 min" in shown
    assert "<@U0AGENT00> — 1 claim · 0 replies · 1 close · 15 min" in shown
    assert "*Created by priority*\\nUrgent 1 · High 0 · Normal 2 · Low 0" in shown


def test_many_agents_and_a_long_period_still_fit() -> None:
    blocks = build_report_blocks(report(days=400, team=40), "UTC")
    assert validate_message_blocks(blocks) == []
    shown = text(blocks)
    assert "… and 25 more" in shown
    assert "week of" in shown


def test_an_empty_period_reads_as_such() -> None:
    empty = report(
        created=0,
        closed=0,
        reopened=0,
        unanswered=0,
        first_response=Durations.of([]),
        resolution=Durations.of([]),
        agents=[],
        customers=[],
        subjects=[],
    )
    blocks = build_report_blocks(empty, "UTC")
    assert validate_message_blocks(blocks) == []
    assert "none yet" in text(blocks) and "_no activity_" in text(blocks)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "–"),
        (12, "< 1 min"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h 00 min"),
        (86399, "23 h 59 min"),
        (90000, "1 d 1 h"),
    ],
)
def test_durations(seconds: float | None, shown: str) -> None:
    assert duration(seconds) == shown


def test_chart_scales_to_the_busiest_day() -> None:
    drawn = chart([(date(2026, 10, 5), 10, 5), (date(2026, 10, 6), 0, 0)])
    first, second = drawn.strip("`").splitlines()
    assert first.count("█") == 30 and "+10" in first and "-5" in first
    assert "█" not in second


@pytest.mark.parametrize(
    ("queues", "said"),
    [
        (None, "All queues."),
        (("Support",), "Queue: Support."),
        (("Support", "<!here> Billing"), "Queues: Support, &lt;!here&gt; Billing."),
    ],
)
def test_the_report_says_which_queues_it_counts(queues: tuple[str, ...] | None, said: str) -> None:
    blocks = build_report_blocks(report(queues=queues), "UTC")
    assert validate_message_blocks(blocks) == []
    assert said in text(blocks)


def test_breaches_and_where_the_files_went_are_shown() -> None:
    blocks = build_report_blocks(
        report(breaches=4, first_response_minutes=60), "UTC", "The chart image is in your DM."
    )
    assert validate_message_blocks(blocks) == []
    shown = text(blocks)
    assert "*Breaches* (first response > 60 min)\\n4" in shown
    assert "The chart image is in your DM." in shown
    assert "Breaches" not in text(build_report_blocks(report(), "UTC"))


def test_service_levels_are_shown_per_queue_and_priority_only_with_sla() -> None:
    lines = [
        SlaCount("Billing <!here>", Priority.URGENT, 4, 1, 2, 3),
        SlaCount("Support", Priority.LOW, 0, 0, 5, 0),
    ]
    blocks = build_report_blocks(report(sla=lines), "UTC")
    assert validate_message_blocks(blocks) == []
    shown = text(blocks)
    assert "*Service levels*" in shown
    assert (
        "• Billing &lt;!here&gt; · Urgent — first response 4 met, 1 breached · resolution"
        " 2 met, 3 breached" in shown
    )
    assert "Support · Low — first response 0 met, 0 breached" in shown
    assert "nothing measured" in text(build_report_blocks(report(sla=[]), "UTC"))
    assert "Service levels" not in text(build_report_blocks(report(), "UTC"))
