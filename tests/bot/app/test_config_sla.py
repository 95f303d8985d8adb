"""The `sla:` section: what an admin writes, what the domain gets, and every mistake named
by its key (exit 2, one line)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.app.config import VERB_NEEDS, ConfigError, parse_settings
from bot.app.config_sla import parse_holiday
from bot.app.wiring import build_policy, build_sla
from models.business_time import Holidays, LocalInterval
from models.sla import SlaClock, Targets
from tests.bot.app.test_config import APP_YAML, ENV, shipped

EXAMPLE = """
business_hours:
  timezone: Europe/Berlin
  days:
    mon-fri: ["09:00-12:30", "13:30-17:00"]
    sat: 10:00-14:00
holidays: [12-24..12-26, 2026-04-03, "2026-12-28..2026-12-31"]
targets:
  urgent: {first_response_minutes: 60, resolution_minutes: 480}
  normal: {first_response_minutes: 240}
"""


def with_sla(sla: Any, queue_sla: Any = None) -> dict[str, Any]:
    document = shipped()
    document["sla"] = sla
    if queue_sla is not None:
        document["queues"][0]["sla"] = queue_sla
    return document


def problem(document: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(document, ENV)
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


def test_without_sla_nothing_changes() -> None:
    settings = parse_settings(shipped(), ENV)
    assert settings.sla is None
    assert build_sla(settings) is None
    assert build_policy(settings).sla is None


def test_the_policy_carries_the_service_levels_and_escalation_groups() -> None:
    document = with_sla(yaml.safe_load(EXAMPLE))
    document["queues"][0]["escalation_group"] = "S0TEAM0001"
    settings = parse_settings(document, ENV)
    policy = build_policy(settings)
    assert policy.sla == build_sla(settings) is not None
    assert policy.queues[0].escalation_group == "S0TEAM0001"


def test_the_example_becomes_the_domains_calendar_and_targets() -> None:
    policy = build_sla(parse_settings(with_sla(yaml.safe_load(EXAMPLE)), ENV))
    assert policy is not None
    calendar = policy.calendar
    assert calendar.zone == ZoneInfo("Europe/Berlin")
    split = (LocalInterval.parse("09:00-12:30"), LocalInterval.parse("13:30-17:00"))
    assert calendar.week == (*(split,) * 5, (LocalInterval.parse("10:00-14:00"),), ())
    assert date(2027, 12, 26) in calendar.holidays
    assert date(2026, 4, 3) in calendar.holidays and date(2027, 4, 3) not in calendar.holidays
    assert date(2026, 12, 31) in calendar.holidays and date(2027, 12, 31) not in calendar.holidays
    assert policy.targets == {
        "urgent": Targets(first_response_minutes=60, resolution_minutes=480),
        "normal": Targets(first_response_minutes=240),
    }
    assert policy.warn_percent == 80
    # Friday 16:50, urgent: 10 minutes on Friday, 50 in Saturday's hours
    friday = datetime(2026, 12, 4, 16, 50, tzinfo=ZoneInfo("Europe/Berlin"))
    status = policy.evaluate(
        SlaClock.FIRST_RESPONSE, queue="Support", priority="urgent", created_at=friday, now=friday
    )
    assert status is not None
    assert status.due_at == datetime(2026, 12, 5, 10, 50, tzinfo=ZoneInfo("Europe/Berlin"))


def test_queue_targets_override_clock_by_clock() -> None:
    queue_sla = {
        "targets": {
            "urgent": {"first_response_minutes": 30},
            "normal": {"first_response_minutes": None},  # written null: not measured here
            "low": {"resolution_minutes": 4800},
        }
    }
    document = with_sla(yaml.safe_load(EXAMPLE), queue_sla)
    document["queues"].append({"name": "Sales", "channel": "C0SALES1"})
    policy = build_sla(parse_settings(document, ENV))
    assert policy is not None
    assert policy.targets_for("Support", "urgent") == Targets(30, 480)
    assert policy.targets_for("Support", "normal") == Targets(None, None)
    assert policy.targets_for("Support", "low") == Targets(None, 4800)
    assert policy.targets_for("Sales", "urgent") == Targets(60, 480)
    assert policy.targets_for("Sales", "low") == Targets()


def test_an_empty_sla_section_counts_around_the_clock() -> None:
    policy = build_sla(
        parse_settings(with_sla({"targets": {"normal": {"resolution_minutes": 60}}}), ENV)
    )
    assert policy is not None
    assert policy.calendar.week_minutes == 7 * 24 * 60
    assert policy.calendar.zone == ZoneInfo("UTC")


def test_values_from_environment_strings() -> None:
    sla = {
        "business_hours": {
            "timezone": "America/New_York",
            "days": {"fri-mon": "08:00-12:00, 22:00-02:00"},
        },
        "holidays": "07-04, 2026-11-26",
    }
    policy = build_sla(parse_settings(with_sla(sla), ENV))
    assert policy is not None
    night = (LocalInterval.parse("08:00-12:00"), LocalInterval.parse("22:00-02:00"))
    assert policy.calendar.week == (night, (), (), (), night, night, night)
    assert policy.calendar.holidays == Holidays(
        dates=frozenset({date(2026, 11, 26)}), yearly=frozenset({(7, 4)})
    )


@pytest.mark.parametrize(
    ("text", "dates", "yearly"),
    [
        ("2026-12-25", {date(2026, 12, 25)}, set()),
        ("12-25", set(), {(12, 25)}),
        ("2-29", set(), {(2, 29)}),
        (
            "2026-12-30..2027-01-02",
            {date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)},
            set(),
        ),
        ("12-31..01-01", set(), {(12, 31), (1, 1)}),
        (" 02-28 .. 03-01 ", set(), {(2, 28), (2, 29), (3, 1)}),
    ],
)
def test_holiday_syntax(text: str, dates: set[date], yearly: set[tuple[int, int]]) -> None:
    assert parse_holiday(text) == Holidays(dates=frozenset(dates), yearly=frozenset(yearly))


@pytest.mark.parametrize(
    ("sla", "queue_sla", "line"),
    [
        (
            {"business_hours": {"timezone": "Europe/Berln", "days": {"mon": "09:00-17:00"}}},
            None,
            "sla.business_hours.timezone: 'Europe/Berln' is not a known time zone: use an IANA",
        ),
        (
            {"business_hours": {"timezone": "../etc/passwd", "days": {"mon": "09:00-17:00"}}},
            None,
            "sla.business_hours.timezone: '../etc/passwd' is not a known time zone",
        ),
        (
            {"business_hours": {"days": {"mon": "09:00-17:00"}}},
            None,
            "sla.business_hours.timezone: is required",
        ),
        (
            {"business_hours": {"timezone": "UTC", "days": {"mon": ["09:00-17:00", "9-17"]}}},
            None,
            "sla.business_hours.days.mon.1: '9-17' is not an interval like 09:00-17:00",
        ),
        (
            {"business_hours": {"timezone": "UTC", "days": {"tue": "08:00-08:00"}}},
            None,
            "sla.business_hours.days.tue.0: 08:00-08:00 is empty or a whole day: write 00:00-24:00",
        ),
        (
            {"business_hours": {"timezone": "UTC", "days": {"monday": "09:00-17:00"}}},
            None,
            "sla.business_hours.days: 'monday' is not a day: write mon, tue",
        ),
        (
            {"business_hours": {"timezone": "UTC", "days": {"sat": [], "sun": []}}},
            None,
            "sla.business_hours.days: no business hours on any day of the week",
        ),
        (
            {"business_hours": {"timezone": "UTC", "days": {}}},
            None,
            "sla.business_hours.days: no business hours on any day of the week",
        ),
        (
            {
                "business_hours": {
                    "timezone": "UTC",
                    "days": {"mon-fri": "09:00-17:00", "fri": "18:00-20:00"},
                }
            },
            None,
            "sla.business_hours.days: fri is given twice ('mon-fri' and 'fri')",
        ),
        (
            {"business_hours": {"timezone": "UTC", "days": {"mon": "09:00-13:00, 12:00-17:00"}}},
            None,
            "sla.business_hours.days: mon: 09:00-13:00 and 12:00-17:00 overlap",
        ),
        (
            {
                "business_hours": {
                    "timezone": "UTC",
                    "days": {"sun": "22:00-06:00", "mon": "05:00-12:00"},
                }
            },
            None,
            "sla.business_hours.days: sun 22:00-06:00 runs into mon 05:00-12:00",
        ),
        (
            {"holidays": ["12-24", "2026-02-30"]},
            None,
            "sla.holidays.1: '2026-02-30' is not a holiday",
        ),
        (
            {"holidays": ["12-24..2026-12-31"]},
            None,
            "sla.holidays.0: '12-24..2026-12-31': both ends",
        ),
        ({"holidays": ["2026-01-01..2027-12-31"]}, None, "over at most 366 days"),
        (
            {"holidays": ["01-01..12-31"]},
            None,
            "sla: the yearly holidays cover every day of the year",
        ),
        (
            {"targets": {"critical": {"first_response_minutes": 5}}},
            None,
            "sla.targets.critical: is not a known key",
        ),
        (
            {"targets": {"urgent": {"first_response_minutes": 0}}},
            None,
            "sla.targets.urgent.first_response_minutes",
        ),
        (
            {"targets": {"urgent": {"response_minutes": 5}}},
            None,
            "sla.targets.urgent.response_minutes: is not a known key",
        ),
        ({"warn_percent": 100}, None, "sla.warn_percent"),
        ({"hours": {}}, None, "sla.hours: is not a known key"),
        (None, {"targets": {}}, "queues.0.sla: per-queue targets need the sla: section"),
        (
            {},
            {"targets": {"urgent": {"resolution_minutes": -5}}},
            "queues.0.sla.targets.urgent.resolution_minutes",
        ),
    ],
)
def test_mistakes_name_their_key(sla: Any, queue_sla: Any, line: str) -> None:
    assert line in problem(with_sla(sla, queue_sla))


def test_each_verb_reading_due_times_needs_sla() -> None:
    for verb in ("run", "check", "ingest", "report"):
        needs = VERB_NEEDS[verb]
        assert needs is None or "sla" in needs


def test_cli_bad_sla_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "app.yaml"
    document = with_sla(
        {"business_hours": {"timezone": "Mars/Olympus", "days": {"mon-fri": "09:00-17:00"}}}
    )
    config.write_text(yaml.safe_dump(document))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **ENV},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "ticketbot: config error: sla.business_hours.timezone: 'Mars/Olympus' is not a known "
        "time zone: use an IANA name such as Europe/Berlin or America/New_York"
    ]


def test_the_commented_example_in_app_yaml_is_valid() -> None:
    """app.yaml shows `sla:` commented out; uncommented, it must load as it stands."""
    lines = APP_YAML.read_text().splitlines()
    start = lines.index("# sla:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    document = {**shipped(), **yaml.safe_load("\n".join(block))}
    settings = parse_settings(document, ENV)
    assert settings.sla is not None and settings.sla.business_hours is not None
    assert build_sla(settings) is not None
