"""The sandbox's own parts without a browser: its data directory, the mails customers write,
the inbox fed by a real SMTP client, the page's forms turned into Slack's state values."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path

import aiosmtplib
import pytest

from bot.sandbox.app import MARKER, SandboxError, prepare_data
from bot.sandbox.mail_loop import Attachment, CustomerMail, Inbox, build_mail, start_smtp
from bot.sandbox.page import inbox_html
from bot.sandbox.samples import SAMPLES
from bot.sandbox.web import _state_values
from mail.parse import parse_mail


def test_a_fresh_directory_is_made_and_marked(tmp_path: Path) -> None:
    data = prepare_data(tmp_path / "new")
    assert data.is_absolute() and (data / MARKER).exists()


def test_an_earlier_sandbox_is_emptied_but_anyone_elses_directory_is_refused(
    tmp_path: Path,
) -> None:
    ours = prepare_data(tmp_path / "ours")
    (ours / "ticketbot.sqlite3").write_bytes(b"old")
    (ours / "attachments").mkdir()
    (ours / "attachments" / "ab").write_bytes(b"blob")
    prepare_data(ours)
    assert sorted(p.name for p in ours.iterdir()) == [MARKER]

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("years of work")
    with pytest.raises(SandboxError, match="not made by the sandbox"):
        prepare_data(theirs)
    assert (theirs / "thesis.tex").read_text() == "years of work"


def test_a_customer_mail_is_a_real_mail_the_parser_reads() -> None:
    mail = CustomerMail(
        sender="Jürgen Müller <juergen@example.de>",
        subject="Grüße und eine Frage",
        text="Hallo,\nwie geht es?\n",
        attachments=(Attachment("a.csv", "text/csv", b"x;y\n1;2\n"),),
        in_reply_to="<ack-1@example.com>",
        references="<first@example.de>",
    )
    raw = build_mail(mail, "support@example.com")
    parsed = parse_mail(raw)
    assert parsed.sender is not None and parsed.sender.email == "juergen@example.de"
    assert parsed.sender.name == "Jürgen Müller"
    assert parsed.subject == "Grüße und eine Frage"
    assert parsed.text.startswith("Hallo,\nwie geht es?")
    assert [(a.filename, a.content) for a in parsed.attachments] == [("a.csv", b"x;y\n1;2\n")]
    assert parsed.in_reply_to == ("<ack-1@example.com>",)
    assert list(parsed.references) == ["<first@example.de>", "<ack-1@example.com>"]


def test_the_samples_are_one_german_one_with_a_file_and_one_automatic() -> None:
    parsed = [parse_mail(build_mail(sample, "support@example.com")) for sample in SAMPLES]
    assert "Drucker" in parsed[0].subject
    assert [len(p.attachments) for p in parsed] == [0, 1, 0]
    assert [p.is_automatic for p in parsed] == [False, False, True]


async def test_the_inbox_keeps_what_the_smtp_server_accepts() -> None:
    inbox = Inbox()
    server, port = await start_smtp(inbox)
    try:
        message = BytesParser(policy=policy.default).parsebytes(
            b"From: Support <support@example.com>\r\nTo: maria@example.net\r\n"
            b"Subject: [Ticket#1] Hi\r\nAuto-Submitted: auto-replied\r\n\r\nThanks <b>!\r\n"
        )
        await aiosmtplib.send(
            message,
            hostname="127.0.0.1",
            port=port,
            sender="support@example.com",
            recipients=["maria@example.net"],
        )
    finally:
        server.close()
        await server.wait_closed()
    [sent] = inbox.snapshot()
    assert sent.rcpt_tos == ("maria@example.net",)
    assert sent.header("auto-submitted") == "auto-replied"
    assert sent.text.strip() == "Thanks <b>!"
    shown = inbox_html(inbox.snapshot())
    assert "Thanks &lt;b&gt;!" in shown and "<b>!" not in shown


def test_form_fields_become_slack_state_values() -> None:
    form = {
        "reply/text": "Hello",
        "options/close": ["close"],
        "minutes/minutes": "15",
        "no-slash": "ignored",
    }
    assert _state_values(form) == {
        "reply": {"text": "Hello"},
        "options": {"close": ["close"]},
        "minutes": {"minutes": "15"},
    }
    assert _state_values(["not", "a", "dict"]) == {}
