"""End to end: the bot is SIGKILLed at the moment the SMTP server has taken its mail —
after the end of DATA, before the 250 reaches the bot, so the database never learns that
the mail went. After the restart the mail is not sent again (mail/sent_journal.py)."""

from __future__ import annotations

import contextlib

import pytest

from bot.sandbox.emulator import SlackEmulator
from tests.support.bot_process import BotFactory, poll_until, query, wait_outbox_drained
from tests.support.dovecot import DovecotServer
from tests.support.smtp_server import SmtpServer
from tests.support.ticket_flow import customer_mail, wait_cards

pytestmark = pytest.mark.e2e


def test_a_mail_the_server_took_as_the_bot_died_is_not_sent_again(
    db_url: str,
    bot_factory: BotFactory,
    slack: SlackEmulator,
    imap_server: DovecotServer,
    smtp_server: SmtpServer,
) -> None:
    bot = bot_factory(db_url)
    process = bot.proc
    assert process is not None

    journals = bot.workdir / "data" / "attachments" / ".sending"

    def marked() -> bool:
        return any(b"+ " in path.read_bytes() for path in journals.glob("*.journal"))

    def crash() -> None:
        smtp_server.handler.before_reply = None
        # The bot writes its line microseconds after the mail left it; on a loaded machine
        # this server could get here first, which is the gap the journal leaves open.
        with contextlib.suppress(AssertionError):
            poll_until(marked, 5, lambda: "no journal line")
        process.kill()  # SIGKILL: no shutdown code runs
        process.wait(10)

    smtp_server.handler.before_reply = crash
    imap_server.append(customer_mail(1, subject="Printer on fire"))
    poll_until(lambda: process.poll() is not None, 30, lambda: "the bot still runs")
    [taken] = smtp_server.wait_for(1, timeout=10)
    assert taken.rcpt_tos == ("customer1@customer.example",)
    [(sent_at,)] = query(db_url, "SELECT sent_at FROM article WHERE kind = 'email_out'")
    assert sent_at is None  # the database never heard the server's 250

    bot.start()
    imap_server.append(customer_mail(2, subject="sentinel"))
    smtp_server.wait_for(2, timeout=30)
    wait_cards(slack, 2)
    wait_outbox_drained(db_url)

    recipients = [message.rcpt_tos for message in smtp_server.messages]
    assert recipients.count(("customer1@customer.example",)) == 1, recipients
    assert recipients.count(("customer2@customer.example",)) == 1, recipients
    assert query(
        db_url, "SELECT COUNT(*) FROM article WHERE sent_at IS NULL AND kind = 'email_out'"
    ) == [(0,)]
    assert "1 mails may have reached the SMTP server just before this bot stopped" in bot.log()
