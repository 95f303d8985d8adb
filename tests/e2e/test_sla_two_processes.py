"""Service levels with two `ticketbot run` processes on one PostgreSQL database: each
process runs the escalation job (at its start, both at once, and every minute), and every
ticket still gets its warning or breach notice exactly once.

Time: the processes run on the real clock, so the tickets are created (by the domain, in
this process, before the bots start) with their creation in the past: three two hours
ago (past their 60-minute first-response target: breached) and three 50 minutes ago
(past 80 % = 48 minutes: warned, with ten minutes to spare before their breach)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import SUPPORT_CHANNEL
from models.business_time import BusinessCalendar
from models.policy import Policy, QueueRoute
from models.priority import Priority
from models.sla import SlaPolicy, Targets
from models.store import db
from tests.support.bot_process import SUPPORT_ADDRESS, BotFactory, query
from tests.support.intake import ingest
from tests.support.ticket_flow import cards, customer_mail, thread_texts, wait_cards

pytestmark = pytest.mark.e2e
GROUP = "S0TEAM0001"
POLICY = Policy(
    queues=(
        QueueRoute(
            "Support", SUPPORT_CHANNEL, frozenset({SUPPORT_ADDRESS}), escalation_group=GROUP
        ),
    ),
    address=SUPPORT_ADDRESS,
    sla=SlaPolicy(
        calendar=BusinessCalendar.always(),
        targets={Priority.NORMAL: Targets(first_response_minutes=60)},
    ),
)


async def create_tickets(db_url: str, tmp_path: Path) -> None:
    await db.init(db_url)
    try:
        now = datetime.now(UTC)
        policy = Policy(
            queues=POLICY.queues,
            address=POLICY.address,
            sla=POLICY.sla,
            attachments_dir=str(tmp_path / "attachments"),
        )
        for n in range(6):
            created = now - timedelta(minutes=120 if n < 3 else 50)
            result = await ingest(customer_mail(n), policy, clock=lambda c=created: c)
            assert result.outcome == "new_ticket"
    finally:
        await db.close()


async def test_two_processes_announce_each_warning_and_breach_once(
    tmp_path: Path, db_url_postgres: str, bot_factory: BotFactory, slack: SlackEmulator
) -> None:
    await create_tickets(db_url_postgres, tmp_path)
    config = {
        "mail__attachments__directory": str(tmp_path / "attachments"),
        "sla": {"targets": {"normal": {"first_response_minutes": 60}}},
        "queues": [
            {
                "name": "Support",
                "channel": SUPPORT_CHANNEL,
                "addresses": [SUPPORT_ADDRESS],
                "escalation_group": GROUP,
            }
        ],
    }
    bots = [bot_factory(db_url_postgres, start=False, **config) for _ in range(2)]
    await asyncio.gather(*(asyncio.to_thread(bot.start) for bot in bots))  # both at once

    wait_cards(slack, 6, timeout=60)

    def announced() -> list[list[str]]:
        return [
            [t for t in thread_texts(slack, card.ts) if "first response" in t.lower()]
            for card in cards(slack)
        ]

    slack.wait_for(
        lambda: all(len(texts) >= 1 for texts in announced()),
        timeout=60,
        what="a service-level notice in every ticket's thread",
    )
    rows = query(
        db_url_postgres,
        "SELECT event, count(*), count(DISTINCT ticket_id) FROM ticket_history "
        "WHERE event LIKE 'sla_%' GROUP BY event ORDER BY event",
    )
    assert [tuple(r) for r in rows] == [("sla_breached", 3, 3), ("sla_warned", 3, 3)]
    # every ticket's thread: exactly one notice, breach or warning, naming the group
    notices = [texts for texts in announced()]
    assert all(len(texts) == 1 for texts in notices), notices
    assert all(f"<!subteam^{GROUP}>" in texts[0] for texts in notices)
    kinds = sorted("overdue" in texts[0] for texts in notices)
    assert kinds == [False, False, False, True, True, True]
    outbox = query(
        db_url_postgres,
        "SELECT count(*) FROM outbox WHERE kind = 'slack.thread.notice'",
    )
    assert outbox[0][0] == 6
