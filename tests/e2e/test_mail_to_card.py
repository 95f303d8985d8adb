"""End to end: `ticketbot run` as a subprocess, real Dovecot, SMTP, Slack emulator, database."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request

import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.signer import BAD_SIGNATURE, STALE, signed_headers
from tests.support.bot_process import SUPPORT_ADDRESS, BotFactory, wait_outbox_drained
from tests.support.dovecot import DovecotServer
from tests.support.make_mail import make_mail
from tests.support.slack_fixtures import SIGNING_SECRET
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import (
    block_text,
    cards,
    customer_mail,
    wait_cards,
    work_buttons,
)

pytestmark = pytest.mark.e2e

CARD_ACTIONS = ["ticket_claim", "ticket_reply", "ticket_note", "ticket_close"]
NUMBER = re.compile(r"Ticket#(\d{16})")


def sentinel(imap: DovecotServer, slack: SlackEmulator, expected_cards: int) -> None:
    """Append one more ordinary mail and wait for its card: everything before it is done."""
    imap.append(customer_mail(999, subject="sentinel"))
    wait_cards(slack, expected_cards)


def test_a_customer_mail_becomes_one_card_one_acknowledgement_and_is_seen(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot_factory(db_url)
    uid = imap_server.append(customer_mail(1, subject="Printer on fire"))

    [card] = wait_cards(slack, 1)
    number = NUMBER.search(card.text)
    assert number, card.text
    assert "Printer on fire" in card.text
    assert work_buttons(card) == CARD_ACTIONS
    assert number.group(1) in block_text(card)
    assert card.bot_id

    [ack] = smtp_server.wait_for(1, timeout=20)
    assert ack.rcpt_tos == ("customer1@customer.example",)
    assert ack.message["Subject"] == f"[Ticket#{number.group(1)}] Printer on fire"
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["In-Reply-To"] == "<request-1@customer.example>"
    assert ack.message["Message-ID"].endswith("@ticketbot.example>")

    imap_server_flags = _wait_seen(imap_server, uid)
    assert "\\Seen" in imap_server_flags

    sentinel(imap_server, slack, 2)
    smtp_server.wait_for(2, timeout=20)
    assert len(cards(slack)) == 2
    assert [m.rcpt_tos for m in smtp_server.messages].count(("customer1@customer.example",)) == 1


def _wait_seen(imap: DovecotServer, uid: int) -> set[str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        flags = imap.flags(uid)
        if "\\Seen" in flags:
            return flags
        time.sleep(0.1)  # polling a condition with a deadline
    raise AssertionError(f"message {uid} never marked \\Seen: {imap.flags(uid)}")


def test_the_same_message_appended_twice_is_one_ticket(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot_factory(db_url_sqlite)
    raw = customer_mail(1)
    imap_server.append(raw)
    imap_server.append(raw)
    sentinel(imap_server, slack, 2)
    smtp_server.wait_for(2, timeout=20)
    assert [c.text for c in cards(slack)].count(cards(slack)[0].text) == 1
    assert len(cards(slack)) == 2
    assert len(smtp_server.messages) == 2


def test_automatic_mail_gets_no_acknowledgement(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot_factory(db_url_sqlite)
    imap_server.append(
        customer_mail(1, headers={"Auto-Submitted": "auto-replied"}, subject="Out of office")
    )
    imap_server.append(customer_mail(2, headers={"Precedence": "bulk"}, subject="Newsletter"))
    bounce = make_mail(
        from_="Mail Delivery System <MAILER-DAEMON@mx.customer.example>",
        to=SUPPORT_ADDRESS,
        subject="Undelivered Mail Returned to Sender",
        message_id="<bounce-1@mx.customer.example>",
        headers={"Return-Path": "<>", "Auto-Submitted": "auto-replied"},
        body="This is the mail system. Your message could not be delivered.",
    )
    imap_server.append(bounce)
    sentinel(imap_server, slack, 3)  # two automatic mails are tickets; the bounce is not
    [ack] = smtp_server.wait_for(1, timeout=20)
    assert ack.rcpt_tos == ("customer999@customer.example",)
    subjects = [c.text for c in cards(slack)]
    assert not any("Undelivered" in s for s in subjects)


def test_customer_text_cannot_ping_or_disguise_links(
    db_url_sqlite: str, bot_factory: BotFactory, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    bot_factory(db_url_sqlite)
    imap_server.append(
        customer_mail(
            1,
            subject="<!channel> urgent <@U123>",
            body="Hi <!channel> and <@U123>, see <https://x|y> & more\n",
        )
    )
    [card] = wait_cards(slack, 1)
    everything = card.text + "\n" + block_text(card)
    for raw in ("<!channel>", "<@U123>", "<https://x|y>"):
        assert raw not in everything
    assert "&lt;!channel&gt;" in card.text
    assert "&lt;https://x|y&gt; &amp; more" in block_text(card)


def test_rate_limited_card_posts_arrive_exactly_once(
    db_url_sqlite: str, bot_factory: BotFactory, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    fault = slack.faults.add(method="chat.postMessage", status=429, retry_after=1, times=3)
    bot_factory(db_url_sqlite)
    imap_server.append(customer_mail(1))
    wait_cards(slack, 1, timeout=30)
    assert fault.hits == 3
    sentinel(imap_server, slack, 2)
    assert len(cards(slack)) == 2
    posts = [c for c in slack.calls("chat.postMessage")]
    assert len(posts) == 5  # three refused, then one per ticket


def test_a_card_whose_answer_was_lost_arrives_exactly_once(
    db_url_sqlite: str, bot_factory: BotFactory, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    """Slack posted the card but answered 500, then a dropped connection: the bot finds
    its card in the channel instead of posting another."""
    first = slack.faults.add(method="chat.postMessage", status=500, after_apply=True)
    bot_factory(db_url_sqlite)
    imap_server.append(customer_mail(1))
    wait_cards(slack, 1, timeout=30)
    assert first.hits == 1
    slack.faults.add(method="chat.postMessage", disconnect=True, after_apply=True)
    imap_server.append(customer_mail(2))
    wait_cards(slack, 2, timeout=30)
    sentinel(imap_server, slack, 3)
    wait_outbox_drained(db_url_sqlite, timeout=30)  # both retries are done
    assert len(cards(slack)) == 3
    assert len(slack.calls("conversations.history")) == 2
    assert len(slack.calls("chat.update")) == 2  # each adopted card shown as it is now


def test_killed_and_restarted_bot_loses_and_repeats_nothing(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot = bot_factory(db_url)
    imap_server.append(customer_mail(1))
    wait_cards(slack, 1)
    smtp_server.wait_for(1, timeout=20)
    # Killed while idle. (A kill between the SMTP server's "250" and our commit would send
    # that one mail again on restart: delivery is at-least-once for the item in flight.)
    wait_outbox_drained(db_url)
    bot.kill()

    imap_server.append(customer_mail(2))
    imap_server.append(customer_mail(3))
    bot.start()
    wait_cards(slack, 3)
    smtp_server.wait_for(3, timeout=20)
    sentinel(imap_server, slack, 4)
    smtp_server.wait_for(4, timeout=20)
    texts = [c.text for c in cards(slack)]
    assert len(texts) == len(set(texts)) == 4
    recipients = sorted(m.rcpt_tos[0] for m in smtp_server.messages)
    assert recipients == sorted({f"customer{n}@customer.example" for n in (1, 2, 3, 999)})


def test_forged_requests_get_401_and_health_answers(
    db_url_sqlite: str, bot_factory: BotFactory
) -> None:
    bot = bot_factory(db_url_sqlite)
    body = json.dumps({"type": "url_verification", "challenge": "abc", "token": "t"}).encode()

    def post(headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(bot.events_url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    status, answer = post(
        {"Content-Type": "application/json", **signed_headers(SIGNING_SECRET, body)}
    )
    assert status == 200 and json.loads(answer) == {"challenge": "abc"}
    for tamper in (BAD_SIGNATURE, STALE):
        status, _ = post(
            {"Content-Type": "application/json", **signed_headers(SIGNING_SECRET, body, tamper)}
        )
        assert status == 401
    with urllib.request.urlopen(f"{bot.base}/healthz", timeout=5) as response:
        health = json.loads(response.read())
    assert (health["status"], health["database"]) == ("ok", "ok")
    assert set(health) == {"status", "database", "imap", "outbox"}  # tests/e2e/test_operations.py


def test_socket_mode_connects_and_still_ingests(
    db_url_sqlite: str, bot_factory: BotFactory, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    bot_factory(db_url_sqlite, slack__app_token="xapp-1-A0APP00001-test")
    slack.wait_for(lambda: slack.socket_connections() >= 1, timeout=20, what="socket connection")
    assert slack.calls("apps.connections.open")
    imap_server.append(customer_mail(1))
    wait_cards(slack, 1)
