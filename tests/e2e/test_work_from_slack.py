"""Agents work tickets from Slack: signed requests to the running bot, as Slack sends them."""

from __future__ import annotations

import asyncio

import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import ALICE, BOB, CAROL, SUPPORT_CHANNEL
from bot.sandbox.emulator.state import Message
from bot.sandbox.signer import BAD_SIGNATURE, STALE, SlackDriver
from tests.support.bot_process import BotFactory
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import DriverFactory
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import (
    action_ids,
    block_text,
    card,
    cards,
    close_ticket,
    history,
    new_ticket_card,
    owner_of,
    state_of,
    wait_card,
    work_buttons,
)

pytestmark = pytest.mark.e2e


def ephemerals_to(slack: SlackEmulator, text: str) -> list[str]:
    return [
        str(post.body.get("text", ""))
        for post in slack.response_posts()
        if text in str(post.body.get("text", ""))
    ]


@pytest.fixture
async def driver(
    db_url_sqlite: str, bot_factory: BotFactory, slack_driver_factory: DriverFactory
) -> SlackDriver:
    """Signed requests to a `ticketbot run` on SQLite (most tests here need one database)."""
    return await slack_driver_factory(bot_factory(db_url_sqlite).events_url)


async def claim_and_wait(
    driver: SlackDriver, slack: SlackEmulator, card: Message, user: str
) -> None:
    """`user` claims the card; returns once the card shows an owner."""
    assert (await driver.click(card, "ticket_claim", user=user)).status == 200
    wait_card(slack, card.ts, lambda m: "_unclaimed_" not in block_text(m), f"{user}'s claim")


async def test_concurrent_claims_have_one_winner_each_round(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url)
    driver = await slack_driver_factory(bot.events_url)
    ticket = new_ticket_card(slack, imap_server, 1)
    for round_ in range(20):
        message = card(slack, ticket.ts)
        first, second = await asyncio.gather(
            driver.click(message, "ticket_claim", user=ALICE),
            driver.click(message, "ticket_claim", user=BOB),
        )
        assert first.status == second.status == 200
        assert first.acked_in_time and second.acked_in_time
        refusals = slack.wait_for(
            lambda seen=round_: (
                len(ephemerals_to(slack, "is claimed by")) > seen
                and ephemerals_to(slack, "is claimed by")
            ),
            timeout=10,
            what="the loser's ephemeral",
        )
        assert len(refusals) == round_ + 1, refusals
        updated = wait_card(slack, ticket.ts, lambda m: "_unclaimed_" not in block_text(m), "owner")
        winner = owner_of(slack, updated.ts)
        assert winner in (ALICE, BOB)
        assert f"<@{winner}>" in refusals[-1]
        release = await driver.click(card(slack, ticket.ts), "ticket_release", user=winner)
        assert release.status == 200
        wait_card(slack, ticket.ts, lambda m: "_unclaimed_" in block_text(m), "released")


async def test_outsiders_and_forgers_change_nothing(
    db_url_sqlite: str,
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
) -> None:
    ticket = new_ticket_card(slack, imap_server, 1)
    updates_before = len(slack.calls("chat.update"))

    outsider = await driver.click(ticket, "ticket_claim", user=CAROL)
    assert outsider.status == 200
    [refusal] = slack.wait_for(
        lambda: ephemerals_to(slack, "Only members of"), timeout=10, what="refusal"
    )
    assert f"<#{SUPPORT_CHANNEL}>" in refusal
    for tamper in (BAD_SIGNATURE, STALE):
        forged = await driver.click(ticket, "ticket_claim", user=ALICE, tamper=tamper)
        assert forged.status == 401
    # A legitimate click afterwards proves the earlier ones left the ticket unclaimed.
    await driver.click(ticket, "ticket_claim", user=BOB)
    wait_card(slack, ticket.ts, lambda m: f"<@{BOB}>" in block_text(m), "Bob owns it")
    assert len(slack.calls("chat.update")) == updates_before + 1
    assert history(db_url_sqlite) == ["created", "claimed"]

    # Carol joins the channel: the membership event lets her act at once (no stale cache).
    assert (await driver.member_joined_channel(SUPPORT_CHANNEL, CAROL)).status == 200
    await driver.click(card(slack, ticket.ts), "ticket_release", user=BOB)
    wait_card(slack, ticket.ts, lambda m: "_unclaimed_" in block_text(m), "released")
    await driver.click(card(slack, ticket.ts), "ticket_claim", user=CAROL)
    wait_card(slack, ticket.ts, lambda m: f"<@{CAROL}>" in block_text(m), "Carol owns it")


async def test_reply_through_the_modal_mails_the_customer(
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    ticket = new_ticket_card(
        slack, imap_server, 1, subject="Printer on fire", references="<earlier@customer.example>"
    )
    smtp_server.wait_for(1, timeout=20)  # the acknowledgement
    number = block_text(ticket).split("Ticket#", 1)[1][:16]

    click = await driver.click(ticket, "ticket_reply", user=ALICE)
    assert click.status == 200
    [view] = slack.wait_for(lambda: slack.views(callback_id="ticket_reply"), 10, "reply modal")
    assert view.user_id == ALICE

    empty = await driver.submit_view(view.id, {"text": {"value": "   "}})
    assert empty.json()["response_action"] == "errors"
    assert "Write something" in empty.json()["errors"]["text"]

    sent = await driver.submit_view(
        view.id, {"text": {"value": "Please unplug it."}, "minutes": {"value": "12"}}
    )
    assert (sent.status == 200 and sent.body in (b"", b"{}")) or sent.json() in ({}, None)
    [_, answer] = smtp_server.wait_for(2, timeout=20)
    mail = answer.message
    assert answer.rcpt_tos == ("customer1@customer.example",)
    assert mail["Subject"] == f"Re: [Ticket#{number}] Printer on fire"
    assert mail["In-Reply-To"] == "<request-1@customer.example>"
    assert mail["References"] == "<earlier@customer.example> <request-1@customer.example>"
    assert mail["Message-ID"] not in (mail["In-Reply-To"], None)
    assert "Auto-Submitted" not in mail
    assert "Alice Agent" in mail["From"] and "support@ticketbot.example" in mail["From"]
    assert "Please unplug it." in mail.get_body(("plain",)).get_content()

    replies = slack.wait_for(
        lambda: [
            r
            for r in slack.replies(SUPPORT_CHANNEL, ticket.ts)
            if "Please unplug it." in block_text(r)
        ],
        10,
        "the reply in the thread",
    )
    assert replies
    updated = wait_card(slack, ticket.ts, lambda m: "Pending" in block_text(m), "pending")
    assert owner_of(slack, updated.ts) == ALICE
    assert state_of(slack, updated.ts) == "Pending"


async def test_thread_messages_become_notes_but_bot_posts_do_not(
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    ticket = new_ticket_card(slack, imap_server, 1)
    number = block_text(ticket).split("Ticket#", 1)[1][:16]

    delivery = await driver.user_message(
        SUPPORT_CHANNEL, BOB, "Customer called: it is the toner", thread_ts=ticket.ts
    )
    assert delivery.status == 200
    note = slack.wait_for(
        lambda: next(
            (r for r in slack.replies(SUPPORT_CHANNEL, ticket.ts) if r.reactions.get("memo")), None
        ),
        10,
        "the :memo: reaction",
    )
    assert note.user == BOB
    again = await driver.deliver_message(note)  # Slack retries the same event
    assert again.status == 200

    await driver.click(card(slack, ticket.ts), "ticket_claim", user=ALICE)
    await close_ticket(driver, slack, ticket)
    bot_post = slack.wait_for(
        lambda: next(
            (
                r
                for r in slack.replies(SUPPORT_CHANNEL, ticket.ts)
                if r.bot_id and "Closed by" in r.text
            ),
            None,
        ),
        10,
        "the bot's 'Closed by' notice",
    )
    assert (await driver.deliver_message(bot_post)).status == 200

    shown = await driver.slash_command(f"show {number}", user=ALICE, channel=SUPPORT_CHANNEL)
    text = "\n".join(str(t) for t in [shown.json().get("text")]) + str(shown.json().get("blocks"))
    assert text.count("Customer called: it is the toner") == 1
    assert text.count("Internal note by") == 1
    assert "Closed by" not in text
    assert len(smtp_server.messages) == 1  # only the acknowledgement: notes are never mailed


async def test_close_then_reopen_round_trips(
    db_url_sqlite: str,
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
) -> None:
    ticket = new_ticket_card(slack, imap_server, 1)

    done = await close_ticket(
        driver,
        slack,
        ticket,
        {"text": {"value": "Duplicate of another ticket"}, "minutes": {"value": "2"}},
    )
    assert done.status == 200
    closed = wait_card(slack, ticket.ts, lambda m: "Closed" in block_text(m), "closed card")
    assert work_buttons(closed) == ["ticket_reopen", "ticket_note"]

    await driver.click(closed, "ticket_reopen", user=BOB)
    reopened = wait_card(slack, ticket.ts, lambda m: "Closed" not in block_text(m), "reopened")
    assert "ticket_claim" in action_ids(reopened)
    assert history(db_url_sqlite) == ["created", "closed", "reopened"]
    notices = [r.text for r in slack.replies(SUPPORT_CHANNEL, ticket.ts)]
    assert any("Closed by" in t for t in notices)
    assert any("Reopened by" in t for t in notices)


async def test_search_answers_members_with_matching_tickets_only(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url)
    driver = await slack_driver_factory(bot.events_url)
    toner = new_ticket_card(slack, imap_server, 1, body="The toner <b>light</b> blinks.\n")
    new_ticket_card(slack, imap_server, 2, body="The scanner is fine.\n")
    toner_number = block_text(toner).split("Ticket#", 1)[1][:16]

    def answers() -> list[str]:
        return [
            str(p.body.get("blocks"))
            for p in slack.response_posts()
            if str(p.body.get("text")).startswith("Search:")
        ]

    delivery = await driver.slash_command(
        'search "toner <b>light" blinks', user=ALICE, channel=SUPPORT_CHANNEL
    )
    assert delivery.status == 200 and delivery.acked_in_time
    [found] = slack.wait_for(answers, timeout=10, what="the search answer")
    assert toner_number in found and "Request 1" in found and "Request 2" not in found
    assert "toner &lt;b&gt;light" in found  # the words are shown escaped

    await driver.slash_command("search toner", user=CAROL, channel=SUPPORT_CHANNEL)
    second = slack.wait_for(lambda: answers()[1:], timeout=10, what="Carol's answer")
    assert toner_number not in second[0] and "No ticket in your queues matches" in second[0]


async def test_opening_the_home_tab_shows_the_agents_tickets_and_the_backlog(
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
) -> None:
    mine = new_ticket_card(slack, imap_server, 1)
    new_ticket_card(slack, imap_server, 2)
    await claim_and_wait(driver, slack, mine, ALICE)

    delivery = await driver.app_home_opened(ALICE)
    assert delivery.status == 200 and delivery.acked_in_time
    home = await slack.wait_for_async(lambda: slack.home_view(ALICE), what="Alice's Home")
    shown = str(home.view["blocks"])
    assert "Request 1" in shown and "Request 2" not in shown
    assert "1 unclaimed" in shown

    second = cards(slack)[1]
    assert (await driver.click(second, "ticket_claim", user=ALICE)).status == 200

    def alice_home() -> str:
        return str((slack.home_view(ALICE) or home).view["blocks"])

    await slack.wait_for_async(lambda: "Request 2" in alice_home(), what="Home after her claim")
    assert "nothing unclaimed" in alice_home()

    await driver.app_home_opened(CAROL)
    carol = await slack.wait_for_async(lambda: slack.home_view(CAROL), what="Carol's Home")
    assert "Request" not in str(carol.view["blocks"])


async def test_a_lead_gets_the_report_and_nobody_else_does(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url, slack__leads=[ALICE])
    driver = await slack_driver_factory(bot.events_url)
    first = new_ticket_card(slack, imap_server, 1)
    new_ticket_card(slack, imap_server, 2)
    await claim_and_wait(driver, slack, first, BOB)

    def reports() -> list[str]:
        return [
            str(p.body.get("blocks"))
            for p in slack.response_posts()
            if str(p.body.get("text", "")).startswith("Report")
        ]

    refused = await driver.slash_command("report", user=BOB, channel=SUPPORT_CHANNEL)
    assert refused.json()["text"] == "Reports are for leads."

    asked = await driver.slash_command("report today", user=ALICE, channel=SUPPORT_CHANNEL)
    assert asked.status == 200 and asked.acked_in_time
    [shown] = slack.wait_for(reports, timeout=10, what="the report")
    assert "Times in Europe/Berlin" in shown
    assert "*Created*\\n2" in shown and "*Backlog*\\n2" in shown
    assert f"<@{BOB}> — 1 claim · 0 replies · 0 closes · 0 min" in shown

    await driver.slash_command("report yesterday", user=ALICE, channel=SUPPORT_CHANNEL)
    wrong = slack.wait_for(
        lambda: [
            str(p.body.get("text"))
            for p in slack.response_posts()
            if "use today" in str(p.body.get("text"))
        ],
        timeout=10,
        what="the period error",
    )
    assert wrong == ["Report: use today, week, month or YYYY-MM-DD..YYYY-MM-DD."]


async def test_the_queue_lists_unclaimed_tickets_to_agents_only(
    driver: SlackDriver,
    slack: SlackEmulator,
    imap_server: DovecotServer,
) -> None:
    first = new_ticket_card(slack, imap_server, 1)
    new_ticket_card(slack, imap_server, 2)
    await claim_and_wait(driver, slack, first, BOB)

    agent = await driver.slash_command("queue", user=ALICE, channel=SUPPORT_CHANNEL)
    shown = str(agent.json()["blocks"])
    assert "Request 2" in shown and "Request 1" not in shown
    mine = await driver.slash_command("mine", user=BOB, channel=SUPPORT_CHANNEL)
    assert "Request 1" in str(mine.json()["blocks"])

    outsider = await driver.slash_command("queue", user=CAROL, channel=SUPPORT_CHANNEL)
    assert "Request" not in str(outsider.json()["blocks"])
    assert "Nothing here" in str(outsider.json()["blocks"])
