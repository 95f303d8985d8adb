"""One IMAP connection with a small typed API: the only module that touches aioimaplib.

aioimaplib is untyped and has sharp edges this wrapper files off:
- a command waits forever when the server drops the connection, so every call
  races the command against the connection-lost callback and a timeout;
- STARTTLS is not implemented, so it is done here with `loop.start_tls`;
- LOGIN sends the username unquoted and scrubs only the unquoted password from its
  debug log, so LOGIN is issued here with both quoted and the quoted password scrubbed;
- it drops untagged `* n EXISTS` that arrive outside IDLE (e.g. with a STORE reply), so
  new mail announced between a SEARCH and the next IDLE would wait for the next timed
  poll; a hook on the protocol notes every EXISTS (`new_mail_reported`);
- its errors, and those of ssl and sockets, become `mail.errors` in `translate_error`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import ssl
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import aioimaplib

from mail.errors import ImapAuthError, ImapConnectionError, ImapError
from mail.imap_wire import (
    MailboxStatus,
    Reply,
    encode_mailbox_name,
    parse_fetched_all,
    parse_search,
    parse_select,
    parse_sizes,
    redact_username,
    uid_set,
)

logger = logging.getLogger(__name__)

Security = Literal["ssl", "starttls", "none"]

#: What `translate_error` understands. Anything else is a bug here and propagates as is.
TRANSLATED_ERRORS: tuple[type[BaseException], ...] = (aioimaplib.AioImapException, OSError)

_UNTAGGED_EXISTS = re.compile(rb"\* \d+ EXISTS")
# Longest a polite LOGOUT may take before the socket is simply closed.
_LOGOUT_SECONDS = 5.0


def translate_error(exc: BaseException, action: str) -> ImapError:
    """Map an aioimaplib, ssl or socket error raised while doing `action` to the mail tree."""
    error: ImapError
    if isinstance(exc, ImapError):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        error = ImapConnectionError(
            f"{action}: the server's TLS certificate is not trusted "
            f"({getattr(exc, 'verify_message', None) or exc}); "
            "check mail.imap.host, or make its CA trusted"
        )
    elif isinstance(exc, ssl.SSLError):
        error = ImapConnectionError(
            f"{action}: TLS failed ({getattr(exc, 'reason', None) or exc}); "
            "check mail.imap.security and port"
        )
    elif isinstance(exc, TimeoutError | aioimaplib.CommandTimeout):
        error = ImapConnectionError(f"{action}: no answer from the server in time")
    elif isinstance(exc, socket.gaierror):
        error = ImapConnectionError(
            f"{action}: cannot resolve the host ({exc.strerror}); check mail.imap.host"
        )
    elif isinstance(exc, ConnectionRefusedError):
        error = ImapConnectionError(
            f"{action}: connection refused; is the server up and mail.imap.port right?"
        )
    elif isinstance(exc, OSError):
        error = ImapConnectionError(f"{action}: {exc.strerror or exc or type(exc).__name__}")
    elif isinstance(exc, aioimaplib.AioImapException):
        error = ImapError(f"{action}: IMAP protocol error ({exc or type(exc).__name__})")
    else:
        raise TypeError(f"not an IMAP transport error: {exc!r}") from exc
    return error


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched message: `raw` is cut short when `size` (what the server says) is larger."""

    raw: bytes
    size: int

    @property
    def truncated(self) -> bool:
        return self.size > len(self.raw)


class ImapClient:
    """One connection to one server; discard it after any `ImapError` and connect anew."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self._timeout = timeout
        self._lost = asyncio.Event()
        self._imap: Any = None  # aioimaplib.IMAP4, untyped
        self._new_mail_reported = False

    @classmethod
    async def connect(
        cls,
        host: str,
        port: int,
        security: Security,
        *,
        ssl_context: ssl.SSLContext | None = None,
        command_seconds: float = 30.0,
    ) -> ImapClient:
        """Connect and read the greeting; with `starttls`, upgrade before anything else.

        `command_seconds` bounds connecting and every command (a fetch: every chunk).
        """
        client = cls(host, port, command_seconds)
        try:
            await client._open(security, ssl_context)
        except BaseException:
            await client.abort()
            raise
        return client

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_connected(self) -> bool:
        return self._imap is not None and not self._lost.is_set()

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset(str(c).upper() for c in self._protocol.capabilities)

    @property
    def has_idle(self) -> bool:
        return "IDLE" in self.capabilities

    @property
    def _protocol(self) -> Any:
        return self._imap.protocol

    async def _open(self, security: Security, ssl_context: ssl.SSLContext | None) -> None:
        if security not in ("ssl", "starttls", "none"):
            raise ValueError(f"mail.imap.security must be ssl, starttls or none, not {security!r}")
        context = None
        if security != "none":
            context = ssl_context or ssl.create_default_context()
        self._imap = aioimaplib.IMAP4(
            host=self.host,
            port=self.port,
            timeout=self._timeout,
            conn_lost_cb=self._on_connection_lost,
            ssl_context=context if security == "ssl" else None,
        )
        self._watch_for_new_mail()
        await self._call(f"connecting to {self.where}", self._imap.wait_hello_from_server())
        if security == "starttls":
            assert context is not None
            await self._starttls(context)

    def _watch_for_new_mail(self) -> None:
        """Note every untagged EXISTS, including those aioimaplib would log and drop."""
        protocol = self._protocol
        untagged_response = protocol._untagged_response

        def spy(line: bytes) -> Any:
            if _UNTAGGED_EXISTS.match(line):
                self._new_mail_reported = True
            return untagged_response(line)

        protocol._untagged_response = spy

    @property
    def new_mail_reported(self) -> bool:
        """The server announced messages (EXISTS) since the last SELECT."""
        return self._new_mail_reported

    def _on_connection_lost(self, exc: Exception | None) -> None:
        logger.debug("IMAP connection to %s closed: %s", self.where, exc)
        self._lost.set()

    async def _starttls(self, context: ssl.SSLContext) -> None:
        if "STARTTLS" not in self.capabilities:
            raise ImapConnectionError(
                f"{self.where} does not offer STARTTLS; set mail.imap.security to ssl "
                "(usually port 993), or to none on a trusted network only"
            )
        protocol = self._protocol
        command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        self._check(await self._command("STARTTLS", protocol.execute(command)), "STARTTLS")
        loop = asyncio.get_running_loop()
        protocol.transport = await self._call(
            "TLS handshake",
            loop.start_tls(
                protocol.transport,
                protocol,
                context,
                server_hostname=self.host,
                ssl_handshake_timeout=self._timeout,
            ),
        )
        # RFC 3501 6.2.1: capabilities from before TLS must be forgotten.
        await self._call("CAPABILITY", protocol.capability())

    async def login(self, username: str, password: str) -> None:
        """LOGIN; raises ImapAuthError with the server's reason (never the password)."""
        who = redact_username(username)
        if "LOGINDISABLED" in self.capabilities:
            raise ImapAuthError(
                f"{self.where} refuses LOGIN on this connection (LOGINDISABLED); "
                "set mail.imap.security to starttls or ssl"
            )
        protocol = self._protocol
        secret = aioimaplib.quoted(password)
        try:
            command = aioimaplib.Command(
                "LOGIN", protocol.new_tag(), aioimaplib.quoted(username), secret, loop=protocol.loop
            )
        except ValueError:
            raise ImapAuthError(
                "mail.imap.username or mail.imap.password contains a line break or NUL"
            ) from None
        reply = await self._command(f"login as {who}", protocol.execute(command, scrub=secret))
        if reply.result != "OK":
            raise ImapAuthError(
                f"{self.where} refused the login as {who}: {reply.text}; "
                "check mail.imap.username and mail.imap.password"
            )
        protocol.state = aioimaplib.AUTH
        await self._call("CAPABILITY", protocol.capability())

    async def select(self, folder: str) -> MailboxStatus:
        """SELECT `folder` (read-write, so \\Seen can be set) and read its UIDVALIDITY."""
        reply = await self._command(
            f"SELECT {folder}",
            self._protocol.select(aioimaplib.quoted(encode_mailbox_name(folder))),
        )
        if reply.result != "OK":
            raise ImapError(f"cannot open folder {folder!r}: {reply.text}; check mail.imap.folder")
        status = parse_select(folder, reply.lines)
        if status is None:
            raise ImapError(f"{self.where} sent no UIDVALIDITY for {folder!r}")
        self._new_mail_reported = False  # what SELECT announced, the next SEARCH will find
        return status

    async def uids_from(self, first: int) -> list[int]:
        """UIDs >= `first`, ascending. (`n:*` also matches the highest UID when it is < n.)"""
        reply = await self._command(
            "UID SEARCH",
            self._protocol.search("UID", f"{first}:*", charset=None, by_uid=True),
        )
        self._check(reply, "UID SEARCH")
        return parse_search(reply.lines, first)

    async def first_unseen_uid(self) -> int | None:
        """The lowest UID without \\Seen, or None when every message has been read."""
        reply = await self._command(
            "UID SEARCH",
            self._protocol.search("UNSEEN", charset=None, by_uid=True),
        )
        self._check(reply, "UID SEARCH")
        unseen = parse_search(reply.lines, 1)
        return min(unseen) if unseen else None

    async def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """RFC822.SIZE of each of `uids` that still exists, in one round trip."""
        if not uids:
            return {}
        wanted = uid_set(uids)
        reply = await self._command(
            "UID FETCH RFC822.SIZE",
            self._protocol.fetch(wanted, "(RFC822.SIZE)", by_uid=True, timeout=self._timeout),
        )
        self._check(reply, "UID FETCH RFC822.SIZE")
        found = parse_sizes(reply.lines)
        return {uid: found[uid] for uid in uids if uid in found}

    async def fetch_many(
        self, uids: Sequence[int], max_bytes: int | None = None
    ) -> dict[int, Fetched]:
        """Raw messages (at most `max_bytes` of each) and the sizes the server states for
        them, in one round trip, without setting \\Seen; a UID that no longer exists is
        missing from the answer. The caller bounds how many bytes that is.

        `BODY.PEEK[]<0.max_bytes>` is the whole message when it is smaller, its beginning
        when not, so a 2 GB mail costs no more than the limit. No overall deadline: big
        messages take long on slow links. aioimaplib's per-command timer restarts with
        every chunk received, so a stalled transfer still fails.
        """
        section = "BODY.PEEK[]" if max_bytes is None else f"BODY.PEEK[]<0.{max_bytes}>"
        reply = await self._command(
            f"UID FETCH {len(uids)} messages",
            self._protocol.fetch(
                uid_set(uids), f"(RFC822.SIZE {section})", by_uid=True, timeout=self._timeout
            ),
            limit=None,
        )
        self._check(reply, f"UID FETCH {len(uids)} messages")
        fetched: dict[int, Fetched] = {}
        for uid, (raw, size) in parse_fetched_all(reply.lines).items():
            if uid in uids:
                fetched[uid] = Fetched(raw, len(raw) if size is None else max(size, len(raw)))
        return fetched

    async def mark_seen(self, uid: int | Sequence[int]) -> None:
        """Set \\Seen on one message or on several in one round trip."""
        wanted = str(uid) if isinstance(uid, int) else uid_set(uid)
        reply = await self._command(
            f"UID STORE {wanted}",
            self._protocol.store(wanted, "+FLAGS.SILENT", r"(\Seen)", by_uid=True),
        )
        self._check(reply, f"UID STORE {wanted}")

    async def idle(self, seconds: float, interrupt: asyncio.Event) -> bool:
        """IDLE until new mail (True), `interrupt` is set or `seconds` pass (False).

        Returns True at once when new mail was announced since the last SELECT.
        Raises ImapConnectionError when the server says BYE or the connection drops,
        which is how a server restart shows up while we wait.
        """
        if self._new_mail_reported or interrupt.is_set():
            return self._new_mail_reported
        protocol = self._protocol
        while not protocol.idle_queue.empty():  # stale pushes from an earlier IDLE
            protocol.idle_queue.get_nowait()
        idle: asyncio.Future[Any] = await self._call("IDLE", self._imap.idle_start(seconds + 60))
        try:
            return await self._wait_for_push(idle, seconds, interrupt)
        finally:
            await self._end_idle(idle)

    async def _wait_for_push(
        self, idle: asyncio.Future[Any], seconds: float, interrupt: asyncio.Event
    ) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        queue = self._protocol.idle_queue
        while (remaining := deadline - loop.time()) > 0:
            push = asyncio.ensure_future(queue.get())
            woken = asyncio.ensure_future(interrupt.wait())
            lost = asyncio.ensure_future(self._lost.wait())
            waiters = {push, woken, lost, idle}
            try:
                await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                await _cancel(push, woken, lost)
            if push.done() and not push.cancelled():
                lines: list[bytes] = push.result()
                if any(line.startswith(b"BYE") for line in lines):
                    raise ImapConnectionError(f"{self.where} ended the session while idling")
                if self._new_mail_reported:
                    return True
            if self._lost.is_set():
                raise ImapConnectionError(f"connection to {self.where} lost while idling")
            if idle.done():
                raise ImapError(f"{self.where} ended IDLE unexpectedly")
            if interrupt.is_set():
                return False
        return False

    async def _end_idle(self, idle: asyncio.Future[Any]) -> None:
        if self.is_connected and self._imap.has_pending_idle():
            self._imap.idle_done()  # sends DONE
            await self._call("IDLE DONE", idle)
        else:
            if self._imap._idle_waiter is not None:  # the timer that would end IDLE later
                self._imap._idle_waiter.cancel()
            await _cancel(idle)

    async def logout(self) -> None:
        """LOGOUT politely when the connection still works, then close the socket regardless."""
        try:
            if self.is_connected and self._protocol.state in (
                aioimaplib.NONAUTH,
                aioimaplib.AUTH,
                aioimaplib.SELECTED,
            ):
                with contextlib.suppress(ImapError):
                    await self._call("LOGOUT", self._protocol.logout(), limit=_LOGOUT_SECONDS)
        finally:
            await self.abort()

    async def abort(self) -> None:
        """Close the socket now (no LOGOUT) and wait until asyncio has released it."""
        if self._imap is None:
            return
        connecting = self._imap._client_task
        if not connecting.done():
            await _cancel(connecting)
        elif not connecting.cancelled() and connecting.exception() is None:
            transport = self._protocol.transport
            if transport is not None and not transport.is_closing():  # else: already going
                transport.close()
                try:
                    await asyncio.wait_for(self._lost.wait(), 1.0)
                except TimeoutError:  # a TLS peer that never answers close_notify
                    transport.abort()
        await _cancel(*self._imap.tasks, *self._protocol.tasks)
        self._lost.set()

    async def _call(
        self, action: str, awaitable: Awaitable[Any], *, limit: float | None = -1.0
    ) -> Any:
        """Run one aioimaplib call; fail fast if the connection drops; translate errors.

        `limit`: seconds to wait; -1 means the client's default, None no limit.
        """
        limit = self._timeout if limit == -1.0 else limit
        command = asyncio.ensure_future(awaitable)
        if self._lost.is_set():
            await _cancel(command)
            raise ImapConnectionError(f"{action}: not connected to {self.where}")
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({command, lost}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _cancel(lost, *([] if command.done() else [command]))
        if command.done() and not command.cancelled():
            try:
                return command.result()
            except TRANSLATED_ERRORS as exc:
                raise translate_error(exc, action) from exc
        if self._lost.is_set():
            raise ImapConnectionError(f"{action}: {self.where} closed the connection")
        raise ImapConnectionError(f"{action}: no answer from {self.where} within {limit:g}s")

    async def _command(
        self, action: str, awaitable: Awaitable[Any], *, limit: float | None = -1.0
    ) -> Reply:
        """`_call` for commands that answer with an aioimaplib Response."""
        response = await self._call(action, awaitable, limit=limit)
        return Reply(str(response.result), list(response.lines))

    def _check(self, reply: Reply, action: str) -> None:
        if reply.result != "OK":
            raise ImapError(f"{action} failed on {self.where}: {reply.result} {reply.text}")


async def _cancel(*futures: asyncio.Future[Any]) -> None:
    """Cancel and reap futures so none is left pending or with an unretrieved exception."""
    for future in futures:
        future.cancel()
    if futures:
        await asyncio.gather(*futures, return_exceptions=True)
