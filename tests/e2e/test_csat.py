"""Customer satisfaction end to end, on SQLite and PostgreSQL: `ticketbot run` with
`csat.enabled`, Dovecot, the SMTP recorder, the Slack emulator and signed requests.
An agent closes; the customer's mail has three links; one GET on the running listener
records the rating, the thread shows it and `ticketbot report` counts it; a reused,
forged or expired link gets a clear page and changes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import yaml

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import ALICE, SUPPORT_CHANNEL
from models.csat_token import derive_key, make_token, read_token
from tests.e2e.test_cli import ticketbot
from tests.support.bot_process import BotFactory, BotProcess, query, wait_outbox_drained
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import SIGNING_SECRET, DriverFactory
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import close_ticket, new_ticket_card, number_of, thread_texts

pytestmark = pytest.mark.e2e

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/csat/[A-Za-z0-9_-]+)\?rating=(good|okay|bad)")


def csat_bot(bot_factory: BotFactory, db_url: str) -> BotProcess:
    """A bot whose public URL is its own listener (customers reach it there)."""
    bot = bot_factory(db_url, start=False, csat={"enabled": True})
    config = yaml.safe_load(bot.config_path.read_text())
    config["slack"]["public_url"] = bot.base
    bot.config_path.write_text(yaml.safe_dump(config))
    bot.start()
    return bot


def body_of(received: Any) -> str:
    return str(received.message.get_body(("plain",)).get_content()).replace("\r\n", "\n")


async def get(url: str, **kwargs: Any) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as answer:
        return answer.status, await answer.text()


async def post(url: str, data: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=data) as answer:
        return answer.status, await answer.text()


def thread_has(slack: SlackEmulator, ts: str, words: str) -> bool:
    return any(words in text for text in thread_texts(slack, ts))


def ratings(db_url: str) -> list[tuple[Any, ...]]:
    return query(db_url, "SELECT rating, comment FROM csat_request ORDER BY id")


async def test_close_mail_click_thread_and_report(
    db_url: str,
    bot_factory: BotFactory,
    slack_driver_factory: DriverFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot = csat_bot(bot_factory, db_url)
    driver = await slack_driver_factory(bot.events_url)
    ticket = new_ticket_card(slack, imap_server, 1, from_="Eva Müller <eva@customer.example>")
    smtp_server.wait_for(1, timeout=20)  # the acknowledgement
    closed = await close_ticket(driver, slack, ticket)
    assert closed.status == 200

    [_, asked] = smtp_server.wait_for(2, timeout=20)
    number = number_of(ticket)
    assert asked.rcpt_tos == ("eva@customer.example",)
    assert asked.message["Subject"] == f"[Ticket#{number}] How did we do?"
    assert asked.message["Auto-Submitted"] == "auto-generated"  # no out-of-office answers
    text = body_of(asked)
    links = LINK.findall(text)
    assert [rating for _, rating in links] == ["good", "okay", "bad"]
    [page] = {url for url, _ in links}
    assert page.startswith(f"{bot.base}/csat/")
    assert "<img" not in str(asked.message) and "http" not in text.replace(page, "")

    status, shown = await get(f"{page}?rating=good")
    assert status == 200 and "You rated our help as <strong>good</strong>" in shown
    slack.wait_for(
        lambda: thread_has(slack, ticket.ts, "rated the help on this ticket: *good*"),
        20,
        "the rating in the thread",
    )
    status, shown = await post(page, {"token": page.rsplit("/", 1)[1], "comment": "Fast <&> kind"})
    assert status == 200 and "Thank you for your comment" in shown
    slack.wait_for(
        lambda: thread_has(slack, ticket.ts, "Fast &lt;&amp;&gt; kind"),
        20,
        "the comment in the thread, escaped",
    )

    # reused, forged, expired: a clear page each, and nothing changes
    token = page.rsplit("/", 1)[1]
    facts = read_token(derive_key(SIGNING_SECRET), token)
    assert facts is not None  # the key comes from the signing secret when csat.secret is unset
    expired = make_token(
        derive_key(SIGNING_SECRET),
        facts.request_id,
        facts.ticket_id,
        datetime.now(UTC) - timedelta(minutes=1),
    )
    forged = token[:20] + ("B" if token[20] == "A" else "A") + token[21:]
    base = page.rsplit("/", 1)[0]
    for url, expected, words in [
        (f"{page}?rating=bad", 409, "already answered"),
        (f"{base}/{forged}?rating=bad", 404, "This link is not valid"),
        (f"{base}/{expired}?rating=bad", 410, "This link has expired"),
    ]:
        status, shown = await get(url)
        assert (status, words in shown) == (expected, True), url
    wait_outbox_drained(db_url)
    assert ratings(db_url) == [("good", "Fast <&> kind")]
    [(rated,)] = query(db_url, "SELECT COUNT(*) FROM ticket_history WHERE event = 'csat_rated'")
    assert rated == 1

    report = ticketbot("report", "--config", str(bot.config_path), "--format", "json")
    assert report.returncode == 0, report.stderr
    satisfaction = json.loads(report.stdout)["satisfaction"]
    assert satisfaction["ratings"] == 1 and satisfaction["good"] == 1
    assert satisfaction["share"] == {"good": 1.0, "okay": 0.0, "bad": 0.0}
    assert [(a["user"], a["good"]) for a in satisfaction["agents"]] == [(ALICE, 1)]
    asked = await driver.slash_command("report today", user=ALICE, channel=SUPPORT_CHANNEL)
    assert asked.status == 200 and asked.acked_in_time
    shown = slack.wait_for(
        lambda: next(
            (str(p.body) for p in slack.response_posts() if "Customer satisfaction" in str(p.body)),
            None,
        ),
        30,
        "the report in Slack",
    )
    assert "(1 rating)\\nGood 100 % · Okay 0 % · Bad 0 %" in shown, shown
    assert f"<@{ALICE}> — Good 100 % · Okay 0 % · Bad 0 % (1)" in shown, shown
    table = ticketbot("report", "--config", str(bot.config_path))
    assert re.search(rf"{ALICE}\s+1\s+0\s+0\s+1\s+100\s+0\s+0", table.stdout), table.stdout


def test_csat_without_a_public_url_is_refused_at_start(
    db_url_sqlite: str, bot_factory: BotFactory
) -> None:
    bot = bot_factory(db_url_sqlite, start=False, csat={"enabled": True})
    result = ticketbot("run", "--config", str(bot.config_path))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("ticketbot: config error: csat.enabled: the rating links need slack.public_url")
    )
