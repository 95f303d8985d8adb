"""The SMTP sender keeps connections open between mails, and replaces one that went stale."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mail.errors import SmtpTemporaryError
from mail.smtp import SmtpConfig, SmtpSender
from tests.support.dovecot import free_port


class Counting:
    """aiosmtpd handler that counts sessions (EHLO) and messages."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions = 0
        self.subjects: list[str] = []

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.subjects.append(_subject(envelope.content))
        return "250 OK"


def _subject(content: bytes) -> str:
    for line in content.split(b"\r\n"):
        if line.startswith(b"Subject: "):
            return line[9:].decode()
    return ""


class Server:
    """A loopback SMTP server that can be restarted on the same port (dropping sessions)."""

    def __init__(self) -> None:
        self.handler = Counting()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[Server]:
    server = Server()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _message(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "support@ticketbot.example"
    message["To"] = "customer@example.com"
    message["Subject"] = subject
    message.set_content("Thanks, we have your request.\n")
    return message


async def _send(sender: SmtpSender, subject: str) -> None:
    await sender.send(
        _message(subject), sender="support@ticketbot.example", recipients=["customer@example.com"]
    )


async def test_mails_in_a_row_share_one_connection(server: Server) -> None:
    sender = SmtpSender(SmtpConfig("127.0.0.1", server.port, "none"), clock=Clock())
    try:
        for n in range(5):
            await _send(sender, f"ack {n}")
    finally:
        await sender.close()
    assert server.handler.subjects == [f"ack {n}" for n in range(5)]
    assert server.handler.sessions == 1


async def test_a_connection_the_server_dropped_while_idle_is_replaced(server: Server) -> None:
    clock = Clock()
    sender = SmtpSender(SmtpConfig("127.0.0.1", server.port, "none"), clock=clock)
    try:
        await _send(sender, "first")
        server.stop()  # the server restarts: the kept session is gone
        server.start()
        clock.now += SmtpSender.TRUSTED_SECONDS + 1  # idle long enough to be checked
        await _send(sender, "second")
    finally:
        await sender.close()
    assert server.handler.subjects == ["first", "second"]
    assert server.handler.sessions == 2


async def test_a_connection_that_broke_unnoticed_fails_once_then_a_new_one_is_used(
    server: Server,
) -> None:
    sender = SmtpSender(SmtpConfig("127.0.0.1", server.port, "none"), clock=Clock())
    try:
        await _send(sender, "first")
        server.stop()
        server.start()
        try:  # used a moment ago, so taken unchecked: it may fail (the outbox retries)
            await _send(sender, "second")
        except SmtpTemporaryError:
            await _send(sender, "second")
    finally:
        await sender.close()
    assert server.handler.subjects == ["first", "second"]


async def test_connections_idle_too_long_are_closed_not_reused(server: Server) -> None:
    clock = Clock()
    sender = SmtpSender(SmtpConfig("127.0.0.1", server.port, "none"), clock=clock)
    try:
        await _send(sender, "first")
        clock.now += SmtpSender.IDLE_SECONDS + 1
        await _send(sender, "second")
    finally:
        await sender.close()
    assert server.handler.sessions == 2
