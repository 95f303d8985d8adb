"""An aiosmtpd server on a free loopback port that records what it receives.

Modelled on aiosmtpd's own test kit: a threaded `Controller` with a recording
handler. The server runs its own event loop in a thread, so tests may send with
aiosmtplib from their loop and wait here without deadlocking: `wait_for` blocks the
calling thread (fine from sync code and from a thread), `wait` is its async twin.

Fault mode: `fail_next(n)` answers the next `n` DATA commands with a temporary
failure (451 by default), for retry and backoff tests. `before_reply` (a callable) runs
once a message is complete and before its 250 goes back: the moment a real server has
taken the mail, e.g. to kill the sender there.

Optional AUTH: pass `users={"login": "password"}`; AUTH PLAIN/LOGIN is then offered
without TLS (loopback only), and each message records who authenticated.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.dovecot import free_port

HOST = "127.0.0.1"
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, please try again later"


@dataclass(frozen=True)
class ReceivedMessage:
    """One accepted message, as the server saw it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    auth_login: str | None = None


Predicate = Callable[[list[ReceivedMessage]], bool]


class RecordingHandler:
    """aiosmtpd handler: keeps every accepted message; thread-safe."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._messages: list[ReceivedMessage] = []
        self._fail_next = 0
        self._fail_reply = TEMPORARY_FAILURE
        self.rejected = 0
        self.before_reply: Callable[[], None] | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        with self._changed:
            if self._fail_next > 0:
                self._fail_next -= 1
                self.rejected += 1
                self._changed.notify_all()
                return self._fail_reply
            message = BytesParser(policy=policy.default).parsebytes(raw)
            assert isinstance(message, EmailMessage)
            login = session.auth_data.login.decode() if session.auth_data else None
            self._messages.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    raw=raw,
                    message=message,
                    auth_login=login,
                )
            )
            self._changed.notify_all()
        if self.before_reply is not None:
            self.before_reply()
        return "250 2.0.0 OK: queued"

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._changed:
            return list(self._messages)

    def fail_next(self, count: int, reply: str = TEMPORARY_FAILURE) -> None:
        with self._changed:
            self._fail_next = count
            self._fail_reply = reply

    def reset(self) -> None:
        with self._changed:
            self._messages.clear()
            self._fail_next = 0
            self._fail_reply = TEMPORARY_FAILURE
            self.rejected = 0

    def wait_for(self, condition: int | Predicate, timeout: float) -> list[ReceivedMessage]:
        """Block until `condition` (a count or a predicate on the messages) holds."""
        predicate: Predicate = (
            condition if callable(condition) else (lambda msgs: len(msgs) >= condition)
        )
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._messages), timeout):
                raise TimeoutError(
                    f"SMTP test server: condition not met within {timeout}s; "
                    f"received {len(self._messages)} message(s), rejected {self.rejected}"
                )
            return list(self._messages)


class _Authenticator:
    def __init__(self, users: dict[str, str]) -> None:
        self._users = users

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login, password = auth_data.login.decode(), auth_data.password.decode()
            if self._users.get(login) == password:
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """The threaded server plus the recorder's API; `start()`/`stop()` are idempotent."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.host = HOST
        self.port = free_port()
        self.users = dict(users or {})
        self.handler = RecordingHandler()
        auth: dict[str, Any] = {}
        if self.users:
            auth = {"authenticator": _Authenticator(self.users), "auth_require_tls": False}
        self._controller = Controller(
            self.handler, hostname=self.host, port=self.port, ready_timeout=10, **auth
        )
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._controller.start()
            self._started = True

    def stop(self) -> None:
        if self._started:
            self._controller.stop()
            self._started = False

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages

    def reset(self) -> None:
        self.handler.reset()

    def fail_next(self, count: int, reply: str = TEMPORARY_FAILURE) -> None:
        """Answer the next `count` messages with `reply` (a 4xx or 5xx line) instead of 250."""
        self.handler.fail_next(count, reply)

    def wait_for(
        self, condition: int | Predicate = 1, timeout: float = 5.0
    ) -> list[ReceivedMessage]:
        return self.handler.wait_for(condition, timeout)

    async def wait(
        self, condition: int | Predicate = 1, timeout: float = 5.0
    ) -> list[ReceivedMessage]:
        """`wait_for` without blocking the caller's event loop (the client may run on it)."""
        return await asyncio.to_thread(self.handler.wait_for, condition, timeout)
