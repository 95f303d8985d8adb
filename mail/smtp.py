"""Send mail over SMTP with aiosmtplib; failures are sorted into temporary and permanent."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal, cast

import aiosmtplib
from aiosmtplib.protocol import PERIOD_REGEX, SMTPProtocol, normalize_message_line_endings
from aiosmtplib.typing import Default, SMTPStatus

from mail.errors import SmtpError, SmtpPermanentError, SmtpTemporaryError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """`mail.smtp`; the password stays out of repr() and so out of logs and tracebacks."""

    host: str
    port: int
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0


def translate_smtp_error(exc: BaseException) -> SmtpError:
    """The one mapping from aiosmtplib/OS errors to ours: 5xx is permanent, the rest may pass."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        if codes and all(500 <= c < 600 for c in codes):
            return SmtpPermanentError(f"all recipients refused: {exc}")
        return SmtpTemporaryError(f"recipients refused for now: {exc}")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SmtpTemporaryError(
            f"SMTP login refused ({exc.code}): check mail.smtp.username/password"
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 500 <= exc.code < 600:
            return SmtpPermanentError(f"SMTP server refused the mail ({exc.code} {exc.message})")
        return SmtpTemporaryError(f"SMTP server deferred the mail ({exc.code} {exc.message})")
    if isinstance(exc, aiosmtplib.SMTPException | OSError | TimeoutError | ssl.SSLError):
        return SmtpTemporaryError(f"cannot talk to the SMTP server: {type(exc).__name__}: {exc}")
    return SmtpTemporaryError(f"unexpected {type(exc).__name__}: {exc}")


END_OF_DATA = b".\r\n"


def data_payload(message: bytes) -> bytes:
    """What DATA carries before its end mark, made by aiosmtplib's own helpers: CRLF line
    ends, the message ending in one, a leading dot doubled (RFC 5321 4.5.2)."""
    return PERIOD_REGEX.sub(b"..", normalize_message_line_endings(message))


class _HandOverSMTP(aiosmtplib.SMTP):
    """aiosmtplib's client, whose DATA calls `handed_over` as soon as the whole mail, end
    mark included, is in the kernel: from then on it reaches the server even if this
    process dies, so what `handed_over` records (synchronously) is true whatever follows,
    and it comes before the server's answer can be read (mail/sent_journal.py)."""

    handed_over: Callable[[], None] | None = None

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: float | Literal[Default.token] | None = Default.token,  # noqa: ASYNC109 (aiosmtplib's signature)
    ) -> aiosmtplib.SMTPResponse:
        handed_over, protocol = self.handed_over, self.protocol
        if handed_over is None or protocol is None:
            return await super().data(message, timeout=timeout)
        seconds = self.timeout if timeout is Default.token else timeout
        if isinstance(message, str):
            message = message.encode("ascii")
        try:
            start = await protocol.execute_command(b"DATA", timeout=seconds)
            if start.code != SMTPStatus.start_input:
                raise aiosmtplib.SMTPDataError(start.code, start.message)
            protocol.write(data_payload(message) + END_OF_DATA)
            if _held_back(protocol) == 0:  # the usual case: the socket took it all at once
                handed_over()
                response = await protocol.read_response(timeout=seconds)
            else:  # a large mail or a slow server: read the answer while it drains
                answer = asyncio.ensure_future(protocol.read_response(timeout=seconds))
                try:
                    if await _drained(protocol, answer):
                        handed_over()
                    response = await answer
                finally:
                    answer.cancel()
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
            self.close()
            raise
        if response.code != SMTPStatus.completed:
            raise aiosmtplib.SMTPDataError(response.code, response.message)
        return response


def _held_back(protocol: SMTPProtocol) -> int | None:
    """Bytes written but still in this process (lost if it dies); None: cannot tell. Over
    TLS asyncio counts only what is not yet encrypted, so the socket's own buffer beneath
    is added (its attribute is asyncio's, hence the care)."""
    transport = cast(asyncio.WriteTransport | None, protocol.transport)
    if transport is None or transport.is_closing():
        return None
    held = transport.get_write_buffer_size()
    if transport.get_extra_info("ssl_object") is None:
        return held
    inner = getattr(getattr(transport, "_ssl_protocol", None), "_transport", None)
    if not isinstance(inner, asyncio.WriteTransport):
        return None
    return held + inner.get_write_buffer_size()


async def _drained(protocol: SMTPProtocol, answer: asyncio.Future[aiosmtplib.SMTPResponse]) -> bool:
    """Wait until nothing is held back (True), the server answered (True: it had it all),
    or we cannot tell (False); the answer's own timeout bounds the wait."""
    while not answer.done():
        held = _held_back(protocol)
        if held is None:
            return False
        if held == 0:
            return True
        await asyncio.sleep(0.005)  # the socket drains at the server's pace
    return not answer.cancelled() and answer.exception() is None


@dataclass(slots=True)
class _Connection:
    client: _HandOverSMTP
    idle_since: float
    sent: int = 0


async def _quit(client: aiosmtplib.SMTP) -> None:
    """QUIT politely when the connection still works; close it in any case."""
    try:
        if client.is_connected:
            await client.quit()
    except Exception:  # nothing to do about a server that will not say goodbye
        logger.debug("SMTP QUIT failed", exc_info=True)
    finally:
        client.close()


class SmtpSender:
    """Sends over a few kept-open connections: a connection, its greeting and EHLO (and TLS
    and login) cost more than the mail, so a burst of acknowledgements reuses them.

    A connection idle for `IDLE_SECONDS`, or that sent `MAX_MESSAGES_PER_CONNECTION`, is
    closed; one idle for more than `TRUSTED_SECONDS` that no longer answers NOOP is replaced
    before anything is sent on it; one that failed while sending is dropped (the error is
    reported as before, and the outbox retries).
    """

    #: Servers close idle sessions after a few minutes (RFC 5321 4.5.3.2.7: at least 5).
    IDLE_SECONDS = 60.0
    #: Used this recently, a connection is taken as it is; idle longer, NOOP checks it first.
    #: (A connection that died meanwhile fails at MAIL FROM, before anything was sent.)
    TRUSTED_SECONDS = 5.0
    MAX_MESSAGES_PER_CONNECTION = 200
    MAX_IDLE_CONNECTIONS = 8

    def __init__(self, config: SmtpConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._idle: list[_Connection] = []

    async def send(
        self,
        message: EmailMessage,
        *,
        sender: str,
        recipients: list[str],
        handed_over: Callable[[], None] | None = None,
    ) -> None:
        """Send `message` to exactly `recipients` (the envelope is never read from headers:
        aiosmtplib would re-parse a To such as `"a@x,b@y"@z` into several recipients).
        `handed_over` is called once the whole mail is in the kernel (`_HandOverSMTP`): a
        failure after that call may or may not have delivered it."""
        if not recipients:
            raise SmtpPermanentError("no recipients")
        try:
            connection = await self._connection()
            connection.client.handed_over = handed_over
            try:
                await connection.client.send_message(message, sender=sender, recipients=recipients)
            except BaseException:
                connection.client.close()
                raise
            finally:
                connection.client.handed_over = None
        except Exception as exc:
            raise translate_smtp_error(exc) from exc
        connection.sent += 1
        connection.idle_since = self._clock()
        await self._give_back(connection)

    async def close(self) -> None:
        """QUIT the connections kept open (best effort)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await _quit(connection.client)

    async def _connection(self) -> _Connection:
        """A kept connection that still answers, else a new one."""
        now = self._clock()
        while self._idle:
            connection = self._idle.pop()
            idle = now - connection.idle_since
            if idle > self.IDLE_SECONDS or not connection.client.is_connected:
                await _quit(connection.client)
                continue
            if idle > self.TRUSTED_SECONDS:
                try:
                    await connection.client.noop()
                except Exception:  # gone stale: the server closed it or it broke
                    connection.client.close()
                    continue
            return connection
        config = self._config
        client = _HandOverSMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "ssl",
            start_tls=config.security == "starttls",
            username=config.username or None,
            password=config.password or None,
            timeout=config.timeout,
        )
        await client.connect()
        return _Connection(client, now)

    async def _give_back(self, connection: _Connection) -> None:
        spent = connection.sent >= self.MAX_MESSAGES_PER_CONNECTION
        if spent or len(self._idle) >= self.MAX_IDLE_CONNECTIONS:
            await _quit(connection.client)
        else:
            self._idle.append(connection)

    async def check(self) -> str:
        """Connect (and log in when configured) without sending anything, for `ticketbot check`."""
        config = self._config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "ssl",
            start_tls=config.security == "starttls",
            timeout=config.timeout,
        )
        try:
            await client.connect()
            if config.username:
                await client.login(config.username, config.password)
            await client.quit()
        except Exception as exc:
            raise translate_smtp_error(exc) from exc
        return f"{config.host}:{config.port} ({config.security}) accepted the connection"
