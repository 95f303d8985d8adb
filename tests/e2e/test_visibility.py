"""Who may see what, end to end: signed requests to a real `ticketbot run` with two queues
(Support, Billing) and a lead, mail through Dovecot, Slack through the emulator.

The people (see bot/sandbox/emulator/config.py): a guest, a single-channel guest and a
Slack Connect member of another organisation, all in #support; Carol in no queue channel;
Dave, an agent of Billing only; Lena, a lead in no queue channel; Alice and Bob, agents
of Support. Plus the open endpoint itself: oversized and forged requests.
"""

from __future__ import annotations

import io
import json

import aiohttp
import pytest

from bot.sandbox.emulator import (
    ALICE,
    BILLING_CHANNEL,
    BOB,
    CAROL,
    DAVE,
    EXTERNAL,
    GUEST,
    LENA,
    SOLO,
    SUPPORT_CHANNEL,
    SlackEmulator,
)
from bot.sandbox.signer import BAD_SIGNATURE, SlackDriver, signed_headers
from tests.support.bot_process import SUPPORT_ADDRESS, BotFactory
from tests.support.dovecot import DovecotServer
from tests.support.slack_fixtures import SIGNING_SECRET, DriverFactory
from tests.support.ticket_flow import block_text, card, new_ticket_card, number_of, said_through

pytestmark = pytest.mark.e2e

BILLING_ADDRESS = "billing@ticketbot.example"
QUEUES = [
    {"name": "Support", "channel": SUPPORT_CHANNEL, "addresses": [SUPPORT_ADDRESS]},
    {"name": "Billing", "channel": BILLING_CHANNEL, "addresses": [BILLING_ADDRESS]},
]
NOT_AN_AGENT = (
    f"Only members of <#{SUPPORT_CHANNEL}> can work on its tickets, "
    "and only people of this workspace who are not guests."
)
SEES = {  # which queues' requests each one is shown
    GUEST: set(),
    SOLO: set(),
    EXTERNAL: set(),
    CAROL: set(),
    DAVE: {"Billing"},
    LENA: {"Support", "Billing"},
}
CHANNELS = {"Support": SUPPORT_CHANNEL, "Billing": BILLING_CHANNEL}
MARKER = "FORGED-LOG-LINE"


async def command(driver: SlackDriver, slack: SlackEmulator, text: str, user: str) -> str:
    """Everything the asker was shown for a /ticket command: the ack, or what followed it."""
    delivery = await driver.slash_command(text, user=user, channel=SUPPORT_CHANNEL)
    assert delivery.status == 200 and delivery.acked_in_time
    ack = delivery.json() or {}
    if ack.get("text"):
        return f"{ack['text']} {ack.get('blocks', '')}"
    url_id = (delivery.response_url or "").rsplit("/", 1)[1]
    posts = slack.wait_for(
        lambda: [p for p in slack.response_posts() if p.url_id == url_id],
        timeout=10,
        what=f"the answer to {text!r}",
    )
    return " ".join(f"{p.body.get('text')} {p.body.get('blocks', '')}" for p in posts)


async def test_nobody_but_a_queues_agents_sees_or_works_its_tickets(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url, queues=QUEUES, slack__leads=[LENA])
    driver = await slack_driver_factory(bot.events_url)
    support = new_ticket_card(slack, imap_server, 1, subject="Support widget")
    billing = new_ticket_card(
        slack, imap_server, 2, channel=BILLING_CHANNEL, subject="Billing widget", to=BILLING_ADDRESS
    )
    numbers = {"Support": number_of(support), "Billing": number_of(billing)}
    subjects = {"Support": "Support widget", "Billing": "Billing widget"}

    for user, sees in SEES.items():
        claim = await driver.click(card(slack, support.ts), "ticket_claim", user=user)
        assert claim.status == 200 and claim.acked_in_time
        refusal = slack.wait_for(
            lambda c=claim: said_through(slack, c.response_url), timeout=10, what="refusal"
        )
        assert refusal == [NOT_AN_AGENT], user

        for queue, number in numbers.items():
            shown = await command(driver, slack, f"show {number}", user)
            if queue in sees:
                assert subjects[queue] in shown, (user, queue)
            else:
                assert shown.startswith(f"No ticket {number} in your queues."), (user, queue)
                assert subjects[queue] not in shown and "<#" not in shown
        for text in ("search widget", "queue"):
            shown = await command(driver, slack, text, user)
            assert {q for q, s in subjects.items() if s in shown} == sees, (user, text)

        report = await command(driver, slack, "report today", user)
        if user == LENA:
            assert "All queues." in report and "*Created*\\n2" in report
        else:
            assert report.startswith("Reports are for leads."), user

        assert (await driver.app_home_opened(user)).status == 200
        home = slack.wait_for(lambda u=user: slack.home_view(u), timeout=10, what="Home")
        shown = str(home.view["blocks"])
        assert {q for q, channel in CHANNELS.items() if f"<#{channel}>" in shown} == sees
        assert ("not an agent of any queue" in shown) == (not sees)

    for user in (GUEST, SOLO, EXTERNAL):  # members of #support: their messages do arrive
        await driver.user_message(SUPPORT_CHANNEL, user, f"note by {user}", thread_ts=support.ts)
    await driver.user_message(SUPPORT_CHANNEL, ALICE, "note by Alice", thread_ts=support.ts)
    slack.wait_for(
        lambda: any(
            r.reactions.get("memo") and r.user == ALICE
            for r in slack.replies(SUPPORT_CHANNEL, support.ts)
        ),
        timeout=10,
        what="Alice's note",
    )
    noted = [r.user for r in slack.replies(SUPPORT_CHANNEL, support.ts) if r.reactions.get("memo")]
    assert noted == [ALICE]
    shown = await command(driver, slack, f"show {numbers['Support']}", ALICE)
    assert "note by Alice" in shown and "note by U0" not in shown

    # The queue's own agents work as before: Dave in Billing, Alice in Support.
    await driver.click(billing, "ticket_claim", user=DAVE)
    slack.wait_for(
        lambda: f"<@{DAVE}>" in str(slack.message(BILLING_CHANNEL, billing.ts)),
        timeout=10,
        what="Dave's claim",
    )
    mine = await command(driver, slack, "mine", DAVE)
    assert "Billing widget" in mine and "Support widget" not in mine

    # Slack cannot say who Bob is (first time asked): refused, and said so.
    slack.faults.add("users.info", status=500, times=None)
    claim = await driver.click(card(slack, support.ts), "ticket_claim", user=BOB)
    refusal = slack.wait_for(lambda: said_through(slack, claim.response_url), 10, "refusal")
    assert refusal == ["I cannot check who may work on this ticket right now; please try again."]
    slack.faults.clear()
    assert "_unclaimed_" in block_text(card(slack, support.ts))


async def raw_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=io.BytesIO(body), headers=headers) as response,
    ):
        await response.read()
        return response.status


async def test_oversized_and_forged_requests_are_refused_and_never_logged(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url_sqlite)
    driver = await slack_driver_factory(bot.events_url)
    logged_before = len(bot.log())
    line = f"\nINFO slack_bolt: {MARKER} admin logged in\n"
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    huge = ("payload=" + json.dumps({"type": "block_actions", "text": line * 90_000})).encode()
    assert len(huge) > 4 * 1024 * 1024
    assert await raw_post(bot.events_url, huge, form) == 413

    body = ("payload=" + json.dumps({"type": "block_actions", "text": line * 100})).encode()
    forged = {**form, **signed_headers(SIGNING_SECRET, body, BAD_SIGNATURE)}
    assert await raw_post(bot.events_url, body, forged) == 401
    unsigned = {**form, "X-Slack-Request-Timestamp": "soon"}
    assert await raw_post(bot.events_url, body, unsigned) == 401

    # Still answering Slack itself; then the log holds no trace of those bodies.
    assert (await driver.url_verification("still-here")).json() == {"challenge": "still-here"}
    logged = bot.log()[logged_before:]
    assert MARKER not in logged
    assert len(logged) < 4000, logged[-2000:]
