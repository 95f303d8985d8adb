"""Two `ticketbot run` processes on one PostgreSQL database, one mailbox, one Slack: every
mail becomes one ticket with one card and one acknowledgement, and a claim race
between the two processes still has one winner (SPEC: "nothing is handled twice")."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

import asyncpg
import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import ALICE, BOB
from tests.support.bot_process import BotFactory
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import DriverFactory
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import (
    block_text,
    cards,
    customer_mail,
    owner_of,
    wait_card,
    wait_cards,
)

pytestmark = pytest.mark.e2e
MAILS = 12


async def scalar(db_url: str, sql: str) -> int:
    connection = await asyncpg.connect(db_url)
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


async def outbox_drained(db_url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    sql = "SELECT count(*) FROM outbox WHERE status = 'pending'"
    while await scalar(db_url, sql):
        assert time.monotonic() < deadline, "outbox still has pending rows"
        await asyncio.sleep(0.05)  # polling a condition with a deadline


async def test_two_processes_share_the_work_and_do_nothing_twice(
    tmp_path: Path,
    db_url_postgres: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
    slack_driver_factory: DriverFactory,
) -> None:
    shared = {"mail__attachments__directory": str(tmp_path / "attachments")}
    bots = [bot_factory(db_url_postgres, **shared) for _ in range(2)]
    uids = [imap_server.append(customer_mail(n)) for n in range(MAILS)]

    wait_cards(slack, MAILS, timeout=60)
    smtp_server.wait_for(MAILS, timeout=30)
    await outbox_drained(db_url_postgres)
    assert len(cards(slack)) == MAILS
    acks = Counter((*m.rcpt_tos, str(m.message["Subject"])) for m in smtp_server.messages)
    assert len(acks) == MAILS and set(acks.values()) == {1}, acks
    assert all("\\Seen" in imap_server.flags(uid) for uid in uids)

    drivers = [await slack_driver_factory(bot.events_url) for bot in bots]
    races = cards(slack)[:5]
    for message in races:
        first, second = await asyncio.gather(
            drivers[0].click(message, "ticket_claim", user=ALICE),
            drivers[1].click(message, "ticket_claim", user=BOB),
        )
        assert first.status == second.status == 200
    for message in races:
        wait_card(slack, message.ts, lambda m: "_unclaimed_" not in block_text(m), "an owner")
        assert owner_of(slack, message.ts) in (ALICE, BOB)
    refusals = slack.wait_for(
        lambda: (
            len(found := [p for p in slack.response_posts() if "is claimed by" in str(p.body)])
            >= len(races)
            and found
        ),
        timeout=10,
        what="one refusal per race",
    )
    assert len(refusals) == len(races)
    claimed = "SELECT count(*) FROM ticket_history WHERE event = 'claimed'"
    assert await scalar(db_url_postgres, claimed) == len(races)
    await outbox_drained(db_url_postgres)
    assert len(cards(slack)) == MAILS
