"""The whole conversation end to end: follow-ups in the thread, reopening, spoofing, files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import SUPPORT_CHANNEL
from tests.support.bot_process import SUPPORT_ADDRESS, BotFactory
from tests.support.dovecot import DovecotServer
from tests.support.make_mail import make_mail
from tests.support.slack_fixtures import DriverFactory
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import (
    block_text,
    card,
    cards,
    close_ticket,
    new_ticket_card,
    thread_texts,
    wait_card,
    wait_cards,
)
from tests.support.tnef import build_tnef

pytestmark = pytest.mark.e2e

QUOTE = "On Tue, 24 Nov 2026 at 10:00, Support <support@ticketbot.example> wrote:"


def wait_thread(slack: SlackEmulator, ts: str, needle: str, timeout: float = 20) -> list[str]:
    return slack.wait_for(
        lambda: (texts := thread_texts(slack, ts)) and any(needle in t for t in texts) and texts,
        timeout,
        f"{needle!r} in the thread",
    )


def number_of(message: Any) -> str:
    return block_text(message).split("Ticket#", 1)[1][:16]


def customer_reply(n: int, subject: str, body: str, **overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "from_": "Customer 1 <customer1@customer.example>",
        "to": SUPPORT_ADDRESS,
        "subject": subject,
        "body": body,
        "message_id": f"<reply-{n}@customer.example>",
    }
    values.update(overrides)
    return make_mail(**values)


def test_replies_land_in_the_right_thread_trimmed(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot_factory(db_url_sqlite)
    first = new_ticket_card(slack, imap_server, 1, subject="Printer on fire")
    other = new_ticket_card(slack, imap_server, 2, subject="Scanner jammed")
    [ack, _] = smtp_server.wait_for(2, timeout=20)
    number = number_of(first)

    imap_server.append(
        customer_reply(
            1,
            f"Re: [Ticket#{number}] Printer on fire",
            f"It is still burning.\n\n{QUOTE}\n> We are on it.\n",
        )
    )
    texts = wait_thread(slack, first.ts, "It is still burning.")
    assert not any("We are on it." in t for t in texts)
    assert not slack.replies(SUPPORT_CHANNEL, other.ts)

    ack_id = next(
        m.message["Message-ID"] for m in smtp_server.messages if "Printer" in m.message["Subject"]
    )
    imap_server.append(
        customer_reply(2, "Another thing", "The smoke is gone now.", references=ack_id)
    )
    wait_thread(slack, first.ts, "The smoke is gone now.")
    assert len(cards(slack)) == 2
    assert len(smtp_server.messages) == 2  # follow-ups are not acknowledged again
    del ack


async def test_a_reply_to_a_closed_ticket_reopens_it(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url_sqlite)
    ticket = new_ticket_card(slack, imap_server, 1)
    await close_ticket(await slack_driver_factory(bot.events_url), slack, ticket)
    wait_card(slack, ticket.ts, lambda m: "Closed" in block_text(m), "closed")
    imap_server.append(customer_reply(1, f"Re: [Ticket#{number_of(ticket)}] x", "Broken again"))
    reopened = wait_card(slack, ticket.ts, lambda m: "Closed" not in block_text(m), "reopened")
    assert "ticket_claim" in str(reopened.blocks)
    wait_thread(slack, ticket.ts, "Broken again")


async def test_reject_mode_answers_and_keeps_it_closed(
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
    slack_driver_factory: DriverFactory,
) -> None:
    bot = bot_factory(db_url_sqlite, mail__followup_on_closed="reject")
    ticket = new_ticket_card(slack, imap_server, 1)
    smtp_server.wait_for(1, timeout=20)
    await close_ticket(await slack_driver_factory(bot.events_url), slack, ticket)
    wait_card(slack, ticket.ts, lambda m: "Closed" in block_text(m), "closed")
    imap_server.append(customer_reply(1, f"Re: [Ticket#{number_of(ticket)}] x", "One more thing"))
    [_, notice] = smtp_server.wait_for(2, timeout=20)
    assert "which is closed" in notice.message.get_body(("plain",)).get_content()
    assert notice.message["Auto-Submitted"] == "auto-replied"
    wait_thread(slack, ticket.ts, "One more thing")
    assert "Closed" in block_text(card(slack, ticket.ts))


def test_a_stranger_quoting_a_ticket_number_gets_a_new_ticket(
    db_url_sqlite: str, bot_factory: BotFactory, slack: SlackEmulator, imap_server: DovecotServer
) -> None:
    bot_factory(db_url_sqlite)
    victim = new_ticket_card(slack, imap_server, 1, subject="Invoice question")
    number = number_of(victim)
    imap_server.append(
        make_mail(
            from_="Mallory <mallory@evil.example>",
            to=SUPPORT_ADDRESS,
            subject=f"Re: [Ticket#{number}] Invoice question",
            message_id="<evil-1@evil.example>",
            body="Send the invoice to me instead",
        )
    )
    [_, spoof] = wait_cards(slack, 2)
    assert f"Ticket#{number}" in block_text(spoof)
    assert "not part of" in block_text(spoof)
    assert not any("Send the invoice" in t for t in thread_texts(slack, victim.ts))


def test_attachments_are_uploaded_listed_and_stored_safely(
    tmp_path: Path,
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
) -> None:
    storage = tmp_path / "attachments"
    bot_factory(
        db_url_sqlite,
        mail__attachments={"directory": str(storage), "max_bytes": 4 * 1024 * 1024},
    )
    big = os.urandom(3 * 1024 * 1024)
    huge = os.urandom(5 * 1024 * 1024)
    imap_server.append(
        make_mail(
            from_="Customer 1 <customer1@customer.example>",
            to=SUPPORT_ADDRESS,
            subject="Logs attached",
            message_id="<files@customer.example>",
            attachments=[
                ("server.log", "application/octet-stream", big),
                ("core.dump", "application/octet-stream", huge),
                ("../../etc/passwd", "text/plain", b"root:x:0:0\n"),
            ],
        )
    )
    [ticket] = wait_cards(slack, 1)
    uploaded = slack.wait_for(
        lambda: len(done := [f for f in slack.files() if f.completed]) >= 2 and done,
        30,
        "two uploaded files",
    )
    by_name = {f.filename: f for f in uploaded}
    assert set(by_name) == {"server.log", "passwd"}
    assert by_name["server.log"].content == big
    assert all(f.thread_ts == ticket.ts for f in uploaded)
    listing = wait_thread(slack, ticket.ts, "core.dump")
    assert any("too large to upload" in t for t in listing)
    # the blobs (`ab/<sha256>`); `.sending/` is the sent-mail journal kept beside them
    stored = [p for p in storage.rglob("*") if p.is_file() and ".sending" not in p.parts]
    assert stored and all(storage in p.resolve().parents for p in stored)
    assert not (tmp_path / "etc" / "passwd").exists()
    assert len(stored) == 2  # the over-limit file is not written to disk


def test_files_inside_an_outlook_winmail_dat_reach_the_thread(
    tmp_path: Path,
    db_url_sqlite: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
) -> None:
    bot_factory(db_url_sqlite, mail__attachments={"directory": str(tmp_path / "files")})
    pdf = b"%PDF-1.4\n" + os.urandom(2048)
    imap_server.append(
        make_mail(
            from_="Karl Hoffmann <karl@corp.example>",
            to=SUPPORT_ADDRESS,
            subject="Meeting notes",
            message_id="<tnef@corp.example>",
            attachments=[("winmail.dat", "application/ms-tnef", build_tnef([("notes.pdf", pdf)]))],
        )
    )
    [ticket] = wait_cards(slack, 1)
    [file] = slack.wait_for(
        lambda: [f for f in slack.files() if f.completed], 30, "the unpacked file"
    )
    assert (file.filename, file.content, file.thread_ts) == ("notes.pdf", pdf, ticket.ts)
