"""A lead's report files arrive in their DM with the app, through `ticketbot run`, the outbox
and the emulator's upload steps; `ticketbot report` prints the same report on a terminal."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.sandbox.emulator import GENERAL_CHANNEL, LENA, SlackEmulator, UploadedFile
from tests.e2e.test_cli import ticketbot
from tests.support.bot_process import BotFactory
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import DriverFactory
from tests.support.ticket_flow import new_ticket_card, number_of

pytestmark = pytest.mark.e2e

CSV_HEADER = [
    "number",
    "queue",
    "state",
    "customer",
    "created",
    "first response",
    "closed",
    "owner",
    "minutes",
]


def files_in_dm(slack: SlackEmulator, user: str) -> list[UploadedFile]:
    dm = slack.im_channel_id(user)
    return [f for f in slack.files() if f.completed and f.channel == dm]


async def test_the_chart_and_the_csv_arrive_in_the_leads_dm(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url, slack__leads=[LENA])
    driver = await slack_driver_factory(bot.events_url)
    numbers = [
        number_of(new_ticket_card(slack, imap_server, 1)),
        number_of(new_ticket_card(slack, imap_server, 2, headers={"X-Priority": "1 (Highest)"})),
    ]  # the second one marked important: it starts as high

    asked = await driver.slash_command("report month csv", user=LENA, channel=GENERAL_CHANNEL)
    assert asked.status == 200 and asked.acked_in_time
    files = slack.wait_for(
        lambda: len(files_in_dm(slack, LENA)) == 2 and files_in_dm(slack, LENA),
        timeout=30,
        what="the chart and the CSV in Lena's DM",
    )
    by_type = {f.filetype: f for f in files}
    assert set(by_type) == {"png", "csv"}
    chart, table = by_type["png"], by_type["csv"]
    assert chart.filename.endswith(".png") and chart.mimetype == "image/png"
    assert chart.content is not None and len(chart.content) > 5000
    assert table.content is not None
    rows = list(csv.reader(io.StringIO(table.content.decode("utf-8"))))
    assert rows[0] == CSV_HEADER
    assert sorted(row[0] for row in rows[1:]) == sorted(numbers)
    assert all(row[1] == "Support" and row[2] == "new" for row in rows[1:])
    dm = slack.im_channel_id(LENA)
    shared = [m for m in slack.messages(dm) if m.files]
    assert sorted(fid for m in shared for fid in m.files) == sorted(f.id for f in files)
    calls = [
        c.method for c in slack.calls() if c.method.startswith(("files.", "conversations.open"))
    ]
    assert calls.count("files.getUploadURLExternal") == 2
    assert calls.count("files.completeUploadExternal") == 2
    answer = [p for p in slack.response_posts() if "DM with me" in json.dumps(p.body)]
    assert answer, "the report says where the chart went"

    # the same report on the command line, from the same database
    config = bot.config_path
    table_out = ticketbot("report", "--config", str(config), "--period", "month")
    assert table_out.returncode == 0, table_out.stderr
    lines = table_out.stdout.splitlines()
    assert lines[0].startswith("Report: This month")
    assert any(line.split()[:2] == ["created", "2"] for line in lines)
    assert any(line.split() == ["high", "1"] for line in lines)
    assert any(line.split() == ["normal", "1"] for line in lines)
    csv_out = ticketbot("report", "--config", str(config), "--format", "csv", "--queue", "support")
    assert csv_out.returncode == 0, csv_out.stderr
    cli_rows = list(csv.reader(io.StringIO(csv_out.stdout)))
    assert cli_rows[0] == CSV_HEADER and sorted(r[0] for r in cli_rows[1:]) == sorted(numbers)
    json_out = ticketbot("report", "--config", str(config), "--format", "json", "--period", "today")
    assert json_out.returncode == 0, json_out.stderr
    data = json.loads(json_out.stdout)
    assert (data["created"], data["backlog"], data["queues"]) == (2, 2, None)
    assert data["created_by_priority"] == {"urgent": 0, "high": 1, "normal": 1, "low": 0}
    assert data["first_response"] == {"count": 0, "median_minutes": None, "p90_minutes": None}
    unknown = ticketbot("report", "--config", str(config), "--queue", "Nowhere")
    assert unknown.returncode == 2 and "queues with tickets: Support" in unknown.stderr
    bad = ticketbot("report", "--config", str(config), "--period", "yesterday")
    assert bad.returncode == 2 and "today, week, month" in bad.stderr
