"""The SMTP sender's own DATA step: the bytes are aiosmtplib's, and `before_end` runs once,
after the server has everything but the end mark and before it can have taken the mail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from mail.errors import SmtpPermanentError, SmtpTemporaryError
from mail.smtp import SmtpConfig, SmtpSender, data_payload
from tests.support.dovecot import free_port


@pytest.mark.parametrize(
    ("message", "payload"),
    [
        (b"a\r\nb\r\n", b"a\r\nb\r\n"),
        (b"a\nb", b"a\r\nb\r\n"),
        (b"a\rb\r", b"a\r\nb\r\n"),
        (b".\r\n", b"..\r\n"),  # a lone dot inside the mail is not its end
        (b"x\r\n.hidden\r\n..two\r\n", b"x\r\n..hidden\r\n...two\r\n"),
        (b"", b"\r\n"),
        (b"caf\xc3\xa9 . end.", b"caf\xc3\xa9 . end.\r\n"),
    ],
)
def test_data_payload(message: bytes, payload: bytes) -> None:
    assert data_payload(message) == payload


@given(st.binary(max_size=300) | st.text("ab.\r\n ").map(str.encode))
def test_data_payload_is_aiosmtplibs_transformation(message: bytes) -> None:
    theirs = PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))
    assert data_payload(message) == theirs


class Recording:
    """aiosmtpd handler: what arrived, and what the client had said by then."""

    def __init__(self, reply: str = "250 OK") -> None:
        self.reply = reply
        self.lock = threading.Lock()
        self.contents: list[bytes] = []
        self.marks_seen_at_data: list[int] = []
        self.marks: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.marks_seen_at_data.append(len(self.marks))
            self.contents.append(envelope.original_content)
        return self.reply


@pytest.fixture
def handler() -> Recording:
    return Recording()


@pytest.fixture
def sender(handler: Recording) -> Iterator[SmtpSender]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpSender(SmtpConfig("127.0.0.1", port, security="none"))
    finally:
        controller.stop()


def message(body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "support@ticketbot.example"
    mail["To"] = "customer@example.com"
    mail["Subject"] = "Your request"
    mail.set_content(body)
    return mail


async def test_the_mark_comes_before_the_server_has_the_mail_and_the_bytes_are_the_same(
    sender: SmtpSender, handler: Recording
) -> None:
    body = ".leading dot\nGrüße\n" + "long line " * 200 + "\n.\n"
    await sender.send(message(body), sender="support@ticketbot.example", recipients=["c@x.example"])
    await sender.send(
        message(body),
        sender="support@ticketbot.example",
        recipients=["c@x.example"],
        before_end=lambda: handler.marks.append("end"),
    )
    await sender.close()
    assert handler.marks == ["end"]
    assert handler.marks_seen_at_data == [0, 1]  # the second mail: marked before it arrived
    assert handler.contents[0] == handler.contents[1]  # aiosmtplib's DATA and ours agree


async def test_a_large_mail_is_written_out_before_the_mark(
    sender: SmtpSender, handler: Recording
) -> None:
    body = "0123456789abcdef\n" * 400_000  # 6.8 MB: more than the socket takes at once
    await sender.send(
        message(body),
        sender="support@ticketbot.example",
        recipients=["c@x.example"],
        before_end=lambda: handler.marks.append("end"),
    )
    await sender.close()
    assert handler.marks_seen_at_data == [1]
    assert handler.contents[0].count(b"0123456789abcdef\r\n") == 400_000


@pytest.mark.parametrize(
    ("reply", "error"),
    [("554 5.7.1 no thanks", SmtpPermanentError), ("451 4.3.0 later", SmtpTemporaryError)],
)
async def test_a_refusal_of_the_finished_mail_follows_the_mark(
    sender: SmtpSender, handler: Recording, reply: str, error: type[Exception]
) -> None:
    handler.reply = reply
    with pytest.raises(error):
        await sender.send(
            message("hello"),
            sender="support@ticketbot.example",
            recipients=["c@x.example"],
            before_end=lambda: handler.marks.append("end"),
        )
    assert handler.marks == ["end"]
    handler.reply = "250 OK"  # the failed connection was dropped; the next one works
    await sender.send(
        message("again"), sender="support@ticketbot.example", recipients=["c@x.example"]
    )
    await sender.close()
    assert len(handler.contents) == 2
