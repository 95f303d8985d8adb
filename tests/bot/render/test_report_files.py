"""The report's files (pure): the chart is a PNG per day or per week with the backlog line,
the CSV is RFC 4180 with times in the asker's zone and no formula cells, the CLI's table and
JSON hold every number."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.render.report_files import (
    CSV_COLUMNS,
    build_chart_png,
    csv_header,
    csv_lines,
    report_json,
    report_table,
    series,
)
from models.priority import Priority
from models.report_queries import TicketRow
from models.report_sla import SlaCount
from tests.bot.render.test_report import report

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_chart_is_a_png_per_day_or_per_week() -> None:
    short = report(days=3, backlog_daily=[5, 6, 4])
    assert build_chart_png(short, "Europe/Berlin").startswith(PNG)
    days, made, shut, backlog, weekly = series(short)
    assert (len(days), made, shut, backlog, weekly) == (3, [0, 1, 2], [1, 1, 1], [5, 6, 4], False)
    long = report(days=60, backlog_daily=list(range(60)))
    weeks, made, shut, backlog, weekly = series(long)
    assert weekly and all(week.weekday() == 0 for week in weeks)
    assert sum(made) == sum(range(60)) and sum(shut) == 60
    assert backlog[-1] == 59  # the backlog at the end of the last week
    assert build_chart_png(long, "UTC").startswith(PNG)


def test_csv_rows_are_quoted_zoned_and_never_formulas() -> None:
    created = datetime(2026, 10, 5, 7, 30, tzinfo=UTC)
    rows = [
        TicketRow("2026100510000017", "Support", "closed", 'odd,"name"@x.example', created,
                  created + timedelta(minutes=30), created + timedelta(days=1), "U0ALICE", 45),
        TicketRow("2026100510000028", "Billing", "new", "=cmd|' /C calc'!A0@x.example", created,
                  None, None, "", 0),
    ]  # fmt: skip
    text = csv_header() + csv_lines(rows, ZoneInfo("Europe/Berlin"))
    assert "\r\n" in text
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == list(CSV_COLUMNS)
    assert parsed[1] == [
        "2026100510000017",
        "Support",
        "closed",
        'odd,"name"@x.example',
        "2026-10-05T09:30:00+02:00",
        "2026-10-05T10:00:00+02:00",
        "2026-10-06T09:30:00+02:00",
        "U0ALICE",
        "45",
    ]
    assert parsed[2][3].startswith("'=") and parsed[2][5:8] == ["", "", ""]


def test_the_command_line_report_holds_every_number() -> None:
    shown = report(breaches=2, first_response_minutes=60, backlog_daily=[3, 2, 2])
    data = json.loads(report_json(shown, "Europe/Berlin"))
    assert (data["created"], data["closed"], data["reopened"], data["backlog"]) == (3, 3, 1, 2)
    assert data["breaches"] == 2 and data["first_response"]["median_minutes"] == 30.0
    assert data["daily"][0] == {"day": "2026-10-05", "created": 0, "closed": 1, "backlog": 3}
    assert data["agents"][0]["user"] == "U0AGENT00"
    assert data["created_by_priority"] == {"urgent": 1, "high": 0, "normal": 2, "low": 0}
    table = report_table(shown, "Europe/Berlin")
    assert table.startswith("Report: 5 Oct – 7 Oct 2026 (all queues; days in Europe/Berlin)")
    assert "breaches (> 60 min)" in table and "median 30.0 min, p90 60.0 min (2 timed)" in table
    assert "2026-10-07" in table and date(2026, 10, 7).isoformat() in table
    assert re.search(r"^priority +created$", table, re.M)
    assert re.search(r"^urgent +1$", table, re.M) and re.search(r"^normal +2$", table, re.M)


def test_the_command_line_report_holds_the_service_levels() -> None:
    lines = [SlaCount("Support", Priority.HIGH, 7, 2, 3, 1)]
    data = json.loads(report_json(report(sla=lines), "UTC"))
    assert data["service_levels"] == [
        {
            "queue": "Support",
            "priority": "high",
            "first_response_met": 7,
            "first_response_breached": 2,
            "resolution_met": 3,
            "resolution_breached": 1,
        }
    ]
    assert json.loads(report_json(report(), "UTC"))["service_levels"] is None
    table = report_table(report(sla=lines), "UTC")
    assert re.search(
        r"^queue +priority +first met +first breached +res\. met +res\. breached$", table, re.M
    )
    assert re.search(r"^Support +high +7 +2 +3 +1$", table, re.M)
    assert "first breached" not in report_table(report(), "UTC")
