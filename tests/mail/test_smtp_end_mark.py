"""The SMTP sender's own DATA step: the bytes are aiosmtplib's, and `handed_over` runs once,
when the whole mail is in the kernel and before the server's answer is read."""

from __future__ import annotations

import shutil
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings
from hypothesis import given
from hypothesis import strategies as st

from mail.errors import SmtpPermanentError, SmtpTemporaryError
from mail.smtp import SmtpConfig, SmtpSender, data_payload
from tests.support.dovecot import free_port, make_certificate


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
    """aiosmtpd handler: what arrived; with `wait_for_mark`, it answers only once the client
    said the mail was handed over (or after 5 s), and notes whether it had by then."""

    def __init__(self, reply: str = "250 OK") -> None:
        self.reply = reply
        self.lock = threading.Lock()
        self.contents: list[bytes] = []
        self.wait_for_mark = False
        self.mark = threading.Event()
        self.marked_before_answer: list[bool] = []
        self.marks = 0

    def handed_over(self) -> None:
        self.marks += 1
        self.mark.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.contents.append(envelope.original_content)
        if self.wait_for_mark:
            self.marked_before_answer.append(self.mark.wait(5))  # aiosmtpd's thread
            self.mark.clear()
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


async def send_marked(sender: SmtpSender, handler: Recording, body: str) -> None:
    """One mail with the handler told when it is handed over; then the connection closed."""
    await sender.send(
        message(body),
        sender="support@ticketbot.example",
        recipients=["c@x.example"],
        handed_over=handler.handed_over,
    )
    await sender.close()


def message(body: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "support@ticketbot.example"
    mail["To"] = "customer@example.com"
    mail["Subject"] = "Your request"
    mail.set_content(body)
    return mail


async def test_our_data_step_sends_the_bytes_aiosmtplib_sends(
    sender: SmtpSender, handler: Recording
) -> None:
    body = ".leading dot\nGrüße\n" + "long line " * 200 + "\n.\n"
    await sender.send(message(body), sender="support@ticketbot.example", recipients=["c@x.example"])
    await send_marked(sender, handler, body)
    assert handler.marks == 1
    assert handler.contents[0] == handler.contents[1]  # aiosmtplib's DATA and ours agree


async def test_the_mark_comes_before_the_answer_is_read(
    sender: SmtpSender, handler: Recording
) -> None:
    handler.wait_for_mark = True
    await send_marked(sender, handler, "hello")
    assert handler.marked_before_answer == [True]


async def test_a_large_mail_drains_before_the_mark_and_its_answer(
    sender: SmtpSender, handler: Recording
) -> None:
    handler.wait_for_mark = True
    body = "0123456789abcdef\n" * 400_000  # 6.8 MB: more than the socket takes at once
    await send_marked(sender, handler, body)
    assert handler.marked_before_answer == [True]
    assert handler.contents[0].count(b"0123456789abcdef\r\n") == 400_000


@pytest.mark.parametrize(
    ("reply", "error"),
    [("554 5.7.1 no thanks", SmtpPermanentError), ("451 4.3.0 later", SmtpTemporaryError)],
)
async def test_a_refusal_of_the_handed_over_mail_is_reported(
    sender: SmtpSender, handler: Recording, reply: str, error: type[Exception]
) -> None:
    handler.reply = reply
    with pytest.raises(error):
        await sender.send(
            message("hello"),
            sender="support@ticketbot.example",
            recipients=["c@x.example"],
            handed_over=handler.handed_over,
        )
    assert handler.marks == 1
    handler.reply = "250 OK"  # the failed connection was dropped; the next one works
    await sender.send(
        message("again"), sender="support@ticketbot.example", recipients=["c@x.example"]
    )
    await sender.close()
    assert len(handler.contents) == 2


@pytest.fixture
def tls_sender(
    handler: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SmtpSender]:
    """Implicit TLS (port 465 style) with a throw-away certificate the client trusts."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    make_certificate(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # aiosmtplib's default context reads it
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    try:
        yield SmtpSender(SmtpConfig("127.0.0.1", port, security="ssl"))
    finally:
        controller.stop()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a certificate")
@pytest.mark.parametrize("lines", [1, 400_000])
async def test_over_tls_the_bytes_beneath_the_encryption_are_watched_too(
    tls_sender: SmtpSender, handler: Recording, lines: int
) -> None:
    """asyncio's TLS transport counts only what it has not encrypted yet; if the socket
    beneath could not be read, no mail over TLS would ever be marked (and this fails)."""
    handler.wait_for_mark = True
    await send_marked(tls_sender, handler, "0123456789abcdef\n" * lines)
    assert handler.marks == 1
    assert handler.marked_before_answer == [True]
    assert handler.contents[0].count(b"0123456789abcdef\r\n") == lines
